"""Multi-prediction training of a multimodal DBN's joint layer.

Greedy maximum-likelihood training (CD / PCD) makes the joint RBM model each
pathway's top code well, but on the data sizes of image-annotation benchmarks it
learns little of the *link* between them: a view inferred through the joint
layer from the other views comes out near its mean (measured in
``docs/multimodal.md``).  Multi-prediction training (Goodfellow, Mirza, Courville &
Bengio 2013, "Multi-prediction deep Boltzmann machines") trains the Boltzmann
machine for the inference it is used for: for each batch one view is hidden, its
top is inferred from the others by ``steps`` mean-field alternations through the
joint layer (exactly what :meth:`boltz.MultimodalDBN.generate` runs), decoded by
the view's pathway down-pass, and the joint layer's parameters follow the gradient
of the reconstruction loss of the hidden view (back-propagated through the
alternations).  The pathways are left as they are.

Loss per hidden view, on its own data units (the canonical loss of its first
layer's unit, so the gradient at the bottom is always ``mean - target``):

* Bernoulli: cross-entropy;
* Gaussian: half the squared error in standardised units;
* replicated softmax: cross-entropy of the word distribution (counts / length).

Updates use Adam (Kingma & Ba 2015) on the joint weights and biases.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import Backend
from .errors import DivergenceError
from .model import RBMModel
from .trainer import iter_batches, make_progress

logger = logging.getLogger(__name__)

__all__ = ["MultiPredictionTrainer", "ViewDecoder", "rows_to_targets"]


@dataclass
class ViewDecoder:
    """One view's pathway as a fixed decoder: top code -> data (device arrays).

    Attributes
    ----------
    layers : list of RBMModel
        The pathway's layers, bottom first (``layers[0]`` sees the data); empty for a
        :class:`boltz.Passthrough` view (the top is the data: Bernoulli units).
    backend : Backend
        The backend of the joint layer (all arrays are moved there).
    """

    layers: Sequence[RBMModel]
    backend: Backend

    def __post_init__(self) -> None:
        be = self.backend
        self._params = []
        for m in self.layers:
            p = {k: be.asarray(m.backend.to_host(v)) for k, v in m.params.items()}
            self._params.append(p)
        self.unit = self.layers[0].groups[0].unit if self.layers else None

    def forward(self, top: Any) -> tuple[Any, list[Any]]:
        """Deterministic down-pass; returns the data-space mean and the upper activations.

        The first layer's softmax mean is returned as word probabilities (length 1).
        """
        be, xp = self.backend, self.backend.xp
        acts = [top]
        if not self.layers:
            return top, acts
        h = top
        for i in range(len(self.layers) - 1, -1, -1):
            p = self._params[i]
            a = be.matmul(h, p["weights"].T) + p["visible_bias"]
            if i > 0:
                h = be.sigmoid(a)
                acts.append(h)
                continue
            name = self.unit.name
            if name == "bernoulli":
                return be.sigmoid(a), acts
            if name == "gaussian":
                if "log_sigma" in p:
                    s = xp.exp(p["log_sigma"])
                    a = (a - p["visible_bias"]) * s + p["visible_bias"]
                return a, acts
            a = a - a.max(axis=1, keepdims=True)
            e = xp.exp(a)
            return e / e.sum(axis=1, keepdims=True), acts
        raise AssertionError("a pathway has at least one layer")  # pragma: no cover

    def loss_and_preact_grad(self, top: Any, target: Any, weight: Any) -> tuple[float, Any]:
        """Summed loss and its gradient w.r.t. the pre-activation of ``top``.

        ``top`` is a Bernoulli mean ``sigmoid(z)`` (the joint layer's inferred visible
        group); the gradient is w.r.t. ``z``.  For a layerless (Passthrough) view the
        top is the data and this is the exact cross-entropy gradient ``top - target``.
        """
        if not self.layers:
            xp = self.backend.xp
            m = xp.clip(top, 1e-7, 1 - 1e-7)
            ce = -(target * xp.log(m) + (1 - target) * xp.log(1 - m))
            loss = float((ce * weight[:, None]).sum())
            return loss, (top - target) * weight[:, None]
        loss, g = self.loss_and_top_grad(top, target, weight)
        return loss, g * top * (1 - top)

    def loss_and_top_grad(self, top: Any, target: Any, weight: Any) -> tuple[float, Any]:
        """Summed loss over rows (weighted) and its gradient w.r.t. ``top``.

        Parameters
        ----------
        top : array, shape (n, H_top)
        target : array, shape (n, V)
            Data in the first layer's units (standardised; frequencies for softmax).
        weight : array, shape (n,)
            Row weights (0 for an empty document).
        """
        be, xp = self.backend, self.backend.xp
        mean, acts = self.forward(top)
        d = (mean - target) * weight[:, None]
        tiny = 1e-7
        name = self.unit.name
        if name == "gaussian":
            loss = 0.5 * float(((mean - target) ** 2 * weight[:, None]).sum())
            p0 = self._params[0]
            if "log_sigma" in p0:
                d = d * xp.exp(-p0["log_sigma"])
        elif name == "bernoulli":
            m = xp.clip(mean, tiny, 1 - tiny)
            ce = -(target * xp.log(m) + (1 - target) * xp.log(1 - m))
            loss = float((ce * weight[:, None]).sum())
        else:
            ce = -(target * xp.log(xp.maximum(mean, tiny))).sum(axis=1)
            loss = float((ce * weight).sum())
        # d is the gradient at the first layer's pre-activation; go up the layers
        for i in range(len(self.layers)):
            g = be.matmul(d, self._params[i]["weights"])  # gradient w.r.t. hidden act of layer i
            act = acts[len(acts) - 1 - i]
            if i == len(self.layers) - 1:
                return loss, g
            d = g * act * (1 - act)
        raise AssertionError  # pragma: no cover


class MultiPredictionTrainer:
    """Runs multi-prediction epochs on a joint :class:`RBMModel` (parameters in place).

    Parameters
    ----------
    joint : RBMModel
        The joint layer, one Bernoulli visible group per pathway (its ``params`` are
        updated in place).
    decoders : dict of str -> ViewDecoder
        The pathway of every view, keyed like the joint's groups.
    steps : int
        Mean-field alternations joint <-> hidden view (the same number
        :meth:`boltz.MultimodalDBN.generate` uses by default afterwards).
    learning_rate : float
        Adam step size.
    batch_size : int
    rng : numpy.random.Generator
        Batch order and the choice of the hidden view.
    weight_decay : float
        L2 on the joint weights.
    targets : sequence of str, optional
        The views that may be hidden (and are scored on validation); default all.
        A tagger only ever infers its tags: ``targets=["tags"]``.
    average : float, default 0
        Polyak averaging: with ``0 < average < 1`` an exponential moving average of
        the joint parameters (this decay per update, started at the pretrained
        values) is what validation scores and what the trainer leaves in place;
        0 leaves the last (or best validation) iterate of Adam.
    """

    def __init__(
        self,
        joint: RBMModel,
        decoders: dict[str, ViewDecoder],
        steps: int,
        learning_rate: float,
        batch_size: int,
        rng: np.random.Generator,
        weight_decay: float = 0.0,
        targets: Sequence[str] | None = None,
        average: float = 0.0,
    ) -> None:
        if not 0.0 <= float(average) < 1.0:
            raise ValueError(f"average must be in [0, 1); got {average!r}.")
        self.average = float(average)
        names = [g.name for g in joint.groups]
        if targets is None:
            targets = names
        unknown = [t for t in targets if t not in names]
        if unknown or not targets:
            raise ValueError(f"targets must be a non-empty subset of {names}; got {targets!r}.")
        self.targets = [g for g in joint.groups if g.name in set(targets)]
        self.joint = joint
        self.decoders = decoders
        self.steps = int(steps)
        self.learning_rate = float(learning_rate)
        self.batch_size = int(batch_size)
        self.rng = rng
        self.weight_decay = float(weight_decay)
        xp = joint.backend.xp
        names = ("weights", "visible_bias", "hidden_bias")
        self._m = {k: xp.zeros_like(joint.params[k]) for k in names}
        self._v = {k: xp.zeros_like(joint.params[k]) for k in names}
        self._t = 0

    # ------------------------------------------------------------------ math
    def _forward(self, tops: Any, missing: Any) -> tuple[Any, list[Any], list[Any]]:
        """Mean-field alternations with the group ``missing`` inferred from its bias."""
        be, p = self.joint.backend, self.joint.params
        sl = missing.slice
        v = tops.copy()
        v[:, sl] = be.sigmoid(p["visible_bias"][sl])
        vs, hs = [], []
        Wm = p["weights"][sl]
        for _ in range(self.steps):
            vs.append(v)
            h = be.sigmoid(be.matmul(v, p["weights"]), bias=p["hidden_bias"])
            hs.append(h)
            vm = be.sigmoid(be.matmul(h, Wm.T), bias=p["visible_bias"][sl])
            v = v.copy()
            v[:, sl] = vm
        return v[:, sl], vs, hs

    def infer(self, tops: Any, missing: Any) -> Any:
        """The inferred top of the group ``missing`` (the others clamped), shape (n, size)."""
        return self._forward(tops, missing)[0]

    def _gradients(self, vs: list[Any], hs: list[Any], dz: Any, missing: Any) -> dict[str, Any]:
        """Back-propagate ``dz`` (w.r.t. the pre-activation of the last inferred top).

        The start of the hidden group (``sigmoid`` of its bias) is treated as a constant.
        """
        be, p = self.joint.backend, self.joint.params
        xp = be.xp
        sl = missing.slice
        Wm = p["weights"][sl]
        gW = xp.zeros_like(p["weights"])
        gb = xp.zeros_like(p["visible_bias"])
        gc = xp.zeros_like(p["hidden_bias"])
        for t in range(self.steps - 1, -1, -1):
            h = hs[t]
            gW[sl] += be.matmul(dz.T, h)
            gb[sl] += dz.sum(axis=0)
            dh = be.matmul(dz, Wm)
            dh *= h * (1 - h)
            gW += be.matmul(vs[t].T, dh)
            gc += dh.sum(axis=0)
            if t > 0:
                prev = vs[t][:, sl]  # the top inferred at step t - 1
                dz = be.matmul(dh, Wm.T) * prev * (1 - prev)
        return {"weights": gW, "visible_bias": gb, "hidden_bias": gc}

    def _adam(self, grads: dict[str, Any]) -> None:
        xp = self.joint.backend.xp
        self._t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        lr = self.learning_rate * math.sqrt(1 - b2**self._t) / (1 - b1**self._t)
        for k, g in grads.items():
            if k == "weights" and self.weight_decay:
                g = g + self.weight_decay * self.joint.params[k]
            m, v = self._m[k], self._v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            self.joint.params[k] -= lr * m / (xp.sqrt(v) + eps)

    def batch_loss(self, tops: Any, target: Any, weight: Any, missing: Any, train: bool) -> float:
        """Summed loss of inferring ``missing`` on one batch (one update when ``train``)."""
        vm, vs, hs = self._forward(tops, missing)
        dec = self.decoders[missing.name]
        loss, dz = dec.loss_and_preact_grad(vm, target, weight)
        if train:
            n = tops.shape[0]
            grads = self._gradients(vs, hs, dz / n, missing)
            self._adam(grads)
        return loss

    # ------------------------------------------------------------------ loops
    def fit(
        self,
        tops_fn: Any,
        target_fn: Any,
        n_rows: int,
        epochs: int,
        val: tuple[Any, Any, int] | None = None,
        history: list[dict[str, float]] | None = None,
        progress: Any = "auto",
    ) -> list[dict[str, float]]:
        """Train ``epochs`` epochs; keep the parameters of the best validation epoch.

        Parameters
        ----------
        tops_fn : callable
            ``tops_fn(idx)`` -> the concatenated pathway tops of training rows ``idx``
            (device array, shape (len(idx), V_joint)).
        target_fn : callable
            ``target_fn(idx, view)`` -> ``(target, weight)`` of that view's rows
            (see :func:`rows_to_targets`).
        n_rows : int
        epochs : int
        val : (tops_fn, target_fn, n_val), optional
            Validation rows; with them the parameters of the epoch with the lowest
            validation loss (every view hidden in turn) are kept at the end.
        history : list, optional
            One record per epoch is appended: ``loss`` (mean per row), ``loss_val``,
            ``best`` (1 on the kept epoch), ``seconds``.
        progress : "auto" or bool

        Returns
        -------
        list of dict
        """
        history = [] if history is None else history
        groups = self.targets
        xp = self.joint.backend.xp
        best, best_params = math.inf, None
        params = self.joint.params
        d = self.average
        avg = {k: v.copy() for k, v in params.items()} if d else None

        def put(src: dict[str, Any]) -> None:
            for k, v in src.items():
                params[k][...] = v

        with make_progress(epochs * n_rows, "MultimodalDBN multi-prediction", progress) as bar:
            for epoch in range(epochs):
                t0 = time.perf_counter()
                order = self.rng.permutation(n_rows)
                total = 0.0
                for idx in iter_batches(n_rows, self.batch_size, order):
                    missing = groups[int(self.rng.integers(len(groups)))]
                    target, weight = target_fn(idx, missing.name)
                    total += self.batch_loss(tops_fn(idx), target, weight, missing, train=True)
                    if avg is not None:
                        for k, a in avg.items():
                            a *= d
                            a += (1 - d) * params[k]
                    bar.update(len(idx))
                rec = {"epoch": float(epoch), "loss": total / n_rows}
                if not all(bool(xp.isfinite(v).all()) for v in self.joint.params.values()):
                    raise DivergenceError(
                        f"multi-prediction training diverged at epoch {epoch + 1} (non-finite "
                        "joint parameters). Lower multiprediction_learning_rate (now "
                        f"{self.learning_rate:g}; try {self.learning_rate / 10:g})."
                    )
                if val is not None and val[2] > 0:
                    live = None
                    if avg is not None:  # score the averaged parameters
                        live = {k: v.copy() for k, v in params.items()}
                        put(avg)
                    v_tops, v_target, n_val = val
                    lv = 0.0
                    for idx in iter_batches(n_val, 4096):
                        tops = v_tops(idx)
                        for g in groups:  # every view hidden in turn: a deterministic score
                            target, weight = v_target(idx, g.name)
                            lv += self.batch_loss(tops, target, weight, g, train=False)
                    rec["loss_val"] = lv / (n_val * len(groups))
                    if rec["loss_val"] < best:
                        best = rec["loss_val"]
                        best_params = {k: v.copy() for k, v in params.items()}
                        rec["best"] = 1.0
                    if live is not None:
                        put(live)
                rec["seconds"] = time.perf_counter() - t0
                history.append(rec)
                logger.info(
                    "multi-prediction epoch %d/%d %s",
                    epoch + 1,
                    epochs,
                    " ".join(f"{k}={v:.4g}" for k, v in rec.items() if k != "epoch"),
                )
        final = best_params if best_params is not None else avg
        if final is not None:
            put(final)
        return history


def rows_to_targets(first: Any, rows: Any, backend: Backend) -> tuple[Any, Any]:
    """Host rows of a view -> (target in the first layer's units, row weights) on ``backend``.

    Parameters
    ----------
    first : boltz.layer.FittedLayer or boltz.RBM
        The pathway's first (fitted) layer (an RBM stands for its ``layer_``).
    rows : array-like or sparse, shape (n, V)

    Returns
    -------
    target : array, shape (n, V)
        Standardised values (Gaussian), frequencies (softmax) or the values.
    weight : array, shape (n,)
        1, or 0 for an empty document.
    """
    xp = backend.xp
    layer = first.layer_ if hasattr(first, "layer_") else first
    x = layer.standardize(rows)
    x = backend.asarray(layer.backend.to_host(x.toarray() if hasattr(x, "toarray") else x))
    n = x.shape[0]
    if layer.unit.name == "softmax":
        length = x.sum(axis=1)
        w = (length > 0).astype(x.dtype)
        return x / xp.maximum(length, 1)[:, None], w
    return x, xp.ones((n,), dtype=x.dtype)
