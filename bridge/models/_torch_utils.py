"""Torch machinery shared by the autoencoder and DCCA models of :mod:`bridge.models`.

Private to :mod:`bridge.models.bimodal_ae`, :mod:`~bridge.models.corr_ae`,
:mod:`~bridge.models.dcca` and :mod:`~bridge.models.flickr_ae`:

* :class:`Encoder` / :class:`Decoder` -- one view's stack of layers, built from a small
  JSON-able *spec* (so a checkpoint can rebuild the module without the training data),
  either a plain MLP or the layers of a boltz DBN unrolled by :func:`bridge.unroll`.
* :func:`train_loop` -- seeded minibatch Adam with reshuffling, weight decay on weights
  only, early stopping on a validation score, a tqdm bar; data-parallel
  (``DistributedDataParallel``) under an initialised ``torch.distributed`` process
  group, see :mod:`bridge.distributed`.
* :class:`TorchMultiViewModel` -- the :class:`bridge.base.MultiViewModel` glue: input
  standardisation, seeding, device, ``fit``/``transform`` plumbing, ``save``/``load``
  (boltz's checkpoint container, see :mod:`bridge.models._checkpoint`).

Determinism: every model trains inside :func:`torch.random.fork_rng` after
``torch.manual_seed(seed)`` (parameter initialisation), and draws minibatch orders and
random masks from its own ``torch.Generator`` seeded with the same seed, so the global
torch RNG of the caller is left untouched and the same seed gives the same model on
the CPU.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import numbers
import os
import sys
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from boltz.checkpoint import need
from boltz.container import CONTENT_ERRORS, read_container, write_container
from boltz.errors import CheckpointError, ConfigError, DataError, DeviceError, DivergenceError

from ..base import MultiViewModel, Views
from ._checkpoint import (
    build_checked,
    check_header,
    check_widths,
    header,
    need_views,
    state_arrays,
    sub_tensors,
)

logger = logging.getLogger(__name__)

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "linear": nn.Identity,
}
OUTPUT_UNITS = ("gaussian", "bernoulli", "softmax")


# ----------------------------------------------------------------------------- checks


def check_activation(value: Any, name: str = "activation") -> str:
    """Return ``value`` if it names an activation in :data:`ACTIVATIONS`."""
    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise ConfigError(f"{name} must be one of {sorted(ACTIVATIONS)}; got {value!r}.")
    return value


def check_int(value: Any, name: str, lo: int = 1) -> int:
    """An integer >= ``lo`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ConfigError(f"{name} must be an integer >= {lo}; got {value!r}.")
    return int(value)


def check_float(value: Any, name: str, lo: float = 0.0, *, strict: bool = False) -> float:
    """A finite real number >= ``lo`` (> ``lo`` with ``strict``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < lo or (strict and value == lo):
        op = ">" if strict else ">="
        raise ConfigError(f"{name} must be a finite number {op} {lo}; got {value!r}.")
    return float(value)


def check_hidden(value: Any, name: str = "hidden") -> tuple[int, ...]:
    """A non-empty sequence of layer widths (one int is read as one layer)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) == 0:
        raise ConfigError(
            f"{name} must be a non-empty sequence of layer widths, e.g. (256,); got {value!r}."
        )
    return tuple(check_int(v, f"{name}[{i}]") for i, v in enumerate(value))


def resolve_seed(random_state: Any) -> int:
    """An int seed: ``random_state`` itself, or a fresh one drawn from the OS when None."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ConfigError(f"random_state must be None or an integer; got {random_state!r}.")
    if random_state < 0:
        raise ConfigError(f"random_state must be >= 0; got {random_state!r}.")
    return int(random_state)


def resolve_device(device: Any) -> torch.device:
    """``"cpu"``, ``"cuda"`` (error if absent) or ``"auto"`` (CUDA when available)."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        logger.info("device='auto': no CUDA device, using the CPU")
        return torch.device("cpu")
    if device == "cpu":
        return torch.device("cpu")
    if isinstance(device, str) and device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device={device!r} but torch sees no CUDA device; use device='cpu' or 'auto'."
            )
        return torch.device(device)
    raise ConfigError(f"device must be 'cpu', 'cuda' or 'auto'; got {device!r}.")


def progress_enabled(progress: bool | None) -> bool:
    """``progress`` itself, or (None) whether stderr is a terminal."""
    if progress is None:
        return bool(getattr(sys.stderr, "isatty", lambda: False)())
    return bool(progress)


def dist_rank() -> int:
    """This process's ``torch.distributed`` rank (0 without an initialised group)."""
    d = torch.distributed
    return d.get_rank() if d.is_available() and d.is_initialized() else 0


# ----------------------------------------------------------------------------- layers


def mlp(sizes: Sequence[int], activation: str, *, last: str | None = None) -> nn.Sequential:
    """``Linear`` layers between consecutive ``sizes``, each followed by ``activation``.

    ``last`` (when given) replaces the activation after the final layer.  Submodules
    are named ``0, 1, ...`` in the ``nn.Sequential`` way.
    """
    layers: list[nn.Module] = []
    n = len(sizes) - 1
    for i in range(n):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        act = activation if (i < n - 1 or last is None) else last
        layers.append(ACTIVATIONS[act]())
    return nn.Sequential(*layers)


def encoder_from_spec(spec: Mapping[str, Any]) -> nn.Sequential:
    """Build an encoder from its spec (see :func:`mlp_encoder_spec`, :func:`dbn_specs`).

    ``{"kind": "mlp", "sizes": [d, h1, ..., hk], "activation": a}``: Linear + a per layer.
    ``{"kind": "rbm", "layers": [...]}``: one :class:`bridge.export.RBMLayer` per entry
    (placeholder values, to be filled by ``load_state_dict``).
    """
    if spec["kind"] == "mlp":
        return mlp(spec["sizes"], spec["activation"])
    from ..export import RBMLayer

    layers = []
    for s in spec["layers"]:
        v, h = int(s["n_visible"]), int(s["n_hidden"])
        one = np.zeros(1)
        lay = RBMLayer(
            np.zeros((1, 1)),
            one,
            unit=s["unit"],
            mean=one if s["norm"] else None,
            scale=np.ones(1) if s["norm"] else None,
            log_sigma=one if s["log_sigma"] else None,
        )
        # the real sizes through torch factories, so that a build on the "meta" device
        # (checkpoint validation) allocates nothing
        lay.weight = nn.Parameter(torch.zeros(h, v))
        lay.bias = nn.Parameter(torch.zeros(h))
        if s["norm"]:
            lay.input_mean = torch.zeros(v)
            lay.input_scale = torch.ones(v)
        if s["log_sigma"]:
            lay.log_sigma = nn.Parameter(torch.zeros(v))
        layers.append(lay)
    return nn.Sequential(*layers)


def encoder_width(spec: Mapping[str, Any]) -> int:
    """Width of the top layer of an encoder spec."""
    if spec["kind"] == "mlp":
        return int(spec["sizes"][-1])
    return int(spec["layers"][-1]["n_hidden"])


def mlp_encoder_spec(n_in: int, hidden: Sequence[int], activation: str) -> dict[str, Any]:
    """Spec of an MLP encoder ``n_in -> hidden[0] -> ... -> hidden[-1]``."""
    return {"kind": "mlp", "sizes": [int(n_in), *map(int, hidden)], "activation": activation}


def mlp_decoder_spec(n_out: int, hidden: Sequence[int], activation: str) -> dict[str, Any]:
    """Spec of the mirror decoder ``hidden[-1] -> ... -> hidden[0] -> n_out`` (linear out)."""
    sizes = [*map(int, reversed(hidden)), int(n_out)]
    return {"sizes": sizes, "activation": activation, "unit": "gaussian", "output_norm": False}


class Decoder(nn.Module):
    """One view's decoder: ``Linear`` layers with ``activation`` between them.

    Parameters
    ----------
    sizes : sequence of int
        ``[h_k, ..., h_1, d]``: input width (an *activated* hidden layer) to output width.
    activation : str
        Between layers (not after the last).
    unit : {"gaussian", "bernoulli", "softmax"}, default "gaussian"
        Output unit, which sets the reconstruction loss (per sample, summed over features):
        gaussian -- squared error in standardised units; bernoulli -- cross-entropy of a
        sigmoid output; softmax -- multinomial cross-entropy ``-sum_j x_j log q_j`` of the
        counts ``x`` under word probabilities ``q`` (a replicated-softmax view).
    output_norm : bool, default False
        Gaussian output carries ``output_mean`` / ``output_scale`` buffers: the last layer
        is in standardised units, ``forward`` returns data units (as a DBN unrolled from a
        Gaussian RBM does).

    Attributes
    ----------
    layers : nn.ModuleList of nn.Linear
        Named ``layers.0, layers.1, ...`` (the layout of ``UnrolledAutoencoder.decoder``).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str,
        unit: str = "gaussian",
        output_norm: bool = False,
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)
        )
        self.act = ACTIVATIONS[activation]()
        self.unit = unit
        if output_norm:
            self.register_buffer("output_mean", torch.zeros(sizes[-1]))
            self.register_buffer("output_scale", torch.ones(sizes[-1]))
        else:
            self.output_mean = None
            self.output_scale = None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Decoder:
        return cls(spec["sizes"], spec["activation"], spec["unit"], spec["output_norm"])

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Output layer before the output unit (standardised units for gaussian)."""
        for i, lin in enumerate(self.layers):
            h = lin(h)
            if i < len(self.layers) - 1:
                h = self.act(h)
        return h

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Reconstruction in data units, shape (n, d)."""
        z = self.logits(h)
        if self.unit == "bernoulli":
            return torch.sigmoid(z)
        if self.unit == "softmax":
            return torch.softmax(z, dim=1)
        if self.output_mean is not None:
            return z * self.output_scale + self.output_mean
        return z

    def loss(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction error of target ``x`` (data units) per sample, shape (n,)."""
        z = self.logits(h)
        if self.unit == "bernoulli":
            return nn.functional.binary_cross_entropy_with_logits(z, x, reduction="none").sum(1)
        if self.unit == "softmax":
            return -(x * torch.log_softmax(z, dim=1)).sum(1)
        if self.output_mean is not None:
            x = (x - self.output_mean) / self.output_scale
        return (z - x).pow(2).sum(1)


def dbn_specs(dbn: Any) -> tuple[dict[str, Any], dict[str, Any], dict, dict]:
    """Encoder and decoder specs and initial state dicts from a fitted ``boltz.DBN``.

    The DBN is unrolled by :func:`bridge.unroll` (Hinton & Salakhutdinov 2006): the
    encoder is its up-pass (one ``RBMLayer`` per RBM, with the bottom RBM's input
    standardisation), the decoder the transposed weights and visible biases, its output
    unit that of the bottom RBM's visible units.

    Returns
    -------
    encoder_spec, decoder_spec : dict
    encoder_state, decoder_state : dict of str -> Tensor
    """
    from ..export import unroll

    ae = unroll(dbn)
    layers = []
    for lay in ae.encoder:
        layers.append(
            {
                "n_visible": int(lay.weight.shape[1]),
                "n_hidden": int(lay.weight.shape[0]),
                "unit": lay.unit,
                "norm": lay.input_mean is not None,
                "log_sigma": lay.log_sigma is not None,
            }
        )
    enc_spec = {"kind": "rbm", "layers": layers}
    sizes = [int(ae.decoder[0].in_features), *(int(lin.out_features) for lin in ae.decoder)]
    dec_spec = {
        "sizes": sizes,
        "activation": "sigmoid",
        "unit": ae.output_unit,
        "output_norm": ae.output_mean is not None,
    }
    enc_state = {k: v.detach().clone() for k, v in ae.encoder.state_dict().items()}
    dec_state = {f"layers.{k}": v.detach().clone() for k, v in ae.decoder.state_dict().items()}
    if ae.output_mean is not None:
        dec_state["output_mean"] = ae.output_mean.detach().clone()
        dec_state["output_scale"] = ae.output_scale.detach().clone()
    return enc_spec, dec_spec, enc_state, dec_state


def build_or_explain(build: Callable[[], nn.Module], owner: str) -> nn.Module:
    """``build()``, with a clear MemoryError when the network does not fit in memory.

    torch reports a failed allocation as a ``RuntimeError`` from inside ``nn.Linear``;
    this counts the parameters first (on the ``meta`` device, free) and names them.
    """
    try:
        return build()
    except (RuntimeError, MemoryError) as e:
        if isinstance(e, RuntimeError) and "alloc" not in str(e).lower():
            raise
        with torch.device("meta"):
            n = sum(p.numel() for p in build().state_dict().values())
        raise MemoryError(
            f"{owner}: the network has {n:,} parameters ({n * 4 / 2**30:.1f} GiB as float32) "
            "and torch could not allocate them; use smaller layers (hidden=, n_components=, "
            "code=, ...)."
        ) from e


# ----------------------------------------------------------------------------- training


def minibatches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """A fresh random order of ``range(n)`` cut into batches of ``batch_size`` rows.

    A last batch smaller than ``batch_size`` is merged into the one before it, so every
    batch has at least ``min(n, batch_size)`` rows (the DCCA covariances need many).
    """
    perm = torch.randperm(n, generator=generator)
    n_batches = max(1, n // batch_size)
    bounds = [i * batch_size for i in range(n_batches)] + [n]
    return [perm[bounds[i] : bounds[i + 1]] for i in range(n_batches)]


def weight_penalty(module: nn.Module) -> torch.Tensor:
    """``0.5 * sum ||W||_F^2`` over the weight matrices (parameters with ndim >= 2)."""
    terms = [p.pow(2).sum() for p in module.parameters() if p.ndim >= 2 and p.requires_grad]
    if not terms:
        return torch.zeros(())
    return 0.5 * torch.stack(terms).sum()


def train_loop(
    module: nn.Module,
    loss_fn: Callable[[dict[str, torch.Tensor], torch.Generator], torch.Tensor],
    data: Mapping[str, torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    generator: torch.Generator,
    validate: Callable[[], float] | None = None,
    maximize: bool = False,
    patience: int = 10,
    progress: bool = False,
    desc: str = "train",
    distributed: str | bool | None = None,
) -> tuple[list[dict[str, float]], int]:
    """Minibatch Adam on ``loss_fn`` with early stopping.

    Every epoch reshuffles the rows (same permutation for all views: pairs stay
    paired), takes one Adam step per batch on
    ``loss_fn(batch, generator) + weight_decay * weight_penalty(module)``, then calls
    ``validate()`` (module in eval mode, no grad) when given.  Training stops after
    ``patience`` epochs without improvement of the validation score and the
    parameters of the best epoch are restored.

    Under an initialised ``torch.distributed`` process group (e.g. ``torchrun``) the
    loop is data-parallel (see :mod:`bridge.distributed`): the module is wrapped in
    ``DistributedDataParallel``, every rank takes a contiguous share of each global
    batch of ``batch_size`` rows (the same batches as one process), validation scores
    are rank 0's, and only rank 0 logs and shows progress.  ``distributed`` says how the
    objective splits:

    * ``"mean"`` -- ``loss_fn`` is a mean over the given rows of per-row terms; each
      rank's mean is weighted by its share, so the averaged gradient is the one of the
      global batch (also for uneven shards);
    * ``"gather"`` -- ``loss_fn`` collects the global batch's outputs with
      :func:`bridge.distributed.gather_rows` and returns the whole batch's objective;
    * ``False`` -- no DDP: every rank runs the whole loop on its own;
    * ``None`` (default) -- single-process without a process group; under one, a
      :class:`~boltz.errors.ConfigError` (the caller has not said whether its loss can
      be split).

    Returns
    -------
    history : list of dict
        Per epoch: ``epoch``, ``loss`` (mean training objective incl. penalty) and
        ``val`` (when ``validate``).
    best_epoch : int
        The epoch whose parameters the module holds (1-based).
    """
    from tqdm.auto import tqdm

    from .. import distributed as bd

    n = next(iter(data.values())).shape[0]
    ddp = None
    if distributed is not False and bd.is_active():
        if distributed is None:
            raise ConfigError(
                f"train_loop({desc!r}) runs under an initialised torch.distributed process "
                "group but its caller did not declare how the loss splits over processes: "
                "pass distributed='mean' (the loss is a mean of per-row terms), 'gather' "
                "(it gathers the batch with bridge.distributed.gather_rows) or False (every "
                "process trains the whole model), or train inside "
                "bridge.distributed.replicated()."
            )
        ddp = bd.DataParallelStep(
            module, loss_fn, n, batch_size, generator, mode=distributed, desc=desc
        )
        progress = progress and bd.rank() == 0

    def penalty() -> torch.Tensor:
        return weight_decay * weight_penalty(module)

    opt = torch.optim.Adam(module.parameters(), lr=learning_rate)
    history: list[dict[str, float]] = []
    best, best_epoch, best_state, stale = -math.inf, epochs, None, 0
    bar = tqdm(range(1, epochs + 1), desc=desc, disable=not progress, leave=False)
    with bd.quiet_logs() if ddp is not None else contextlib.nullcontext():
        for epoch in bar:
            module.train()
            total = 0.0
            batches = minibatches(n, batch_size, generator) if ddp is None else ddp.epoch(epoch)
            for item in batches:
                if ddp is None:
                    batch = {k: v[item.to(v.device)] for k, v in data.items()}
                    loss = loss_fn(batch, generator)
                    if weight_decay > 0:
                        loss = loss + penalty()
                    value, rows = loss, len(item)
                else:
                    loss, value, rows = ddp.loss(item, data, penalty if weight_decay > 0 else None)
                if not torch.isfinite(value):
                    raise DivergenceError(
                        f"training diverged: the loss became {value.item()} at epoch {epoch}; "
                        f"lower learning_rate (now {learning_rate:g}; try "
                        f"{learning_rate / 10:g}), standardise the inputs or raise the "
                        "regularisation."
                    )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += value.item() * rows
            bad = [k for k, p in module.named_parameters() if not bool(torch.isfinite(p).all())]
            if bad:
                raise DivergenceError(
                    f"training diverged at epoch {epoch}: the parameters {bad[:3]} hold NaN or "
                    f"inf; lower learning_rate (now {learning_rate:g}; try "
                    f"{learning_rate / 10:g})."
                )
            record = {"epoch": float(epoch), "loss": total / n}
            if validate is not None:
                module.eval()
                with torch.no_grad():
                    score = float(validate())
                if ddp is not None:
                    score = ddp.broadcast(score)
                record["val"] = score
                signed = score if maximize else -score
                if best_state is None or signed > best + 1e-7 * max(1.0, abs(best)):
                    best, best_epoch, stale = signed, epoch, 0
                    best_state = copy.deepcopy(module.state_dict())
                else:
                    stale += 1
            history.append(record)
            bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k != "epoch"})
            if validate is not None and stale >= patience:
                logger.info("early stop at epoch %d (best epoch %d)", epoch, best_epoch)
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    if validate is None:
        best_epoch = len(history)
    module.eval()
    return history, best_epoch


# ----------------------------------------------------------------------------- base model


def _tuples(value: Any) -> Any:
    """Lists (from JSON) back to tuples, recursively inside lists and dicts."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


class TorchMultiViewModel(MultiViewModel):
    """Common ``fit`` / ``transform`` / checkpoint plumbing of the torch models.

    Subclasses store their hyperparameters in ``__init__`` (sklearn style) and
    implement

    * ``_check_params()`` -- validate hyperparameters (called at the start of ``fit``);
    * ``_make_spec(n_in)`` -- a JSON-able description of the network for these input
      widths (``n_in[v]`` after preprocessing);
    * ``_build(spec)`` -- the ``nn.Module`` of a spec (random init);
    * ``_init_module(module, X)`` -- optional: set data-dependent buffers, copy
      pretrained weights in (before training; ``X`` the preprocessed training views);
    * ``_loss(module, batch, generator)`` -- the data term of the objective (a scalar);
    * ``_embed(module, X)`` -- embeddings of the given (preprocessed) views, as tensors;
    * optionally ``_after_train(module, X)`` (e.g. DCCA's final linear CCA) with
      ``_extra_arrays()`` / ``_set_extra_arrays()`` to checkpoint what it learns.

    A model with a ``center`` parameter set to True gets ``embedding_mean_`` (the mean
    training code of each view, from the default ``_after_train``) subtracted from its
    ``transform`` output: cosine retrieval on sigmoid codes otherwise mostly sees their
    common positive offset.

    The models share the parameters ``epochs``, ``batch_size``, ``learning_rate``,
    ``weight_decay``, ``patience``, ``monitor``, ``standardize``, ``device``,
    ``random_state`` and ``progress`` (see each model's docstring).

    Under an initialised ``torch.distributed`` process group (``torchrun``), ``fit``
    trains data-parallel with ``batch_size`` as the global batch and gives the
    single-process result to floating-point tolerance (:mod:`bridge.distributed`);
    only rank 0 logs and :meth:`save` writes only on rank 0.
    """

    min_views: ClassVar[int] = 2
    max_views: ClassVar[int | None] = 2
    _fitted_attrs: ClassVar[tuple[str, ...]] = ("module_",)
    #: Whether ``monitor="map"`` makes sense (two views embedded into one space).
    _supports_map: ClassVar[bool] = True
    #: How ``_loss`` splits over data-parallel processes: "mean" (a mean of per-row
    #: terms), "gather" (it gathers outputs with ``bridge.distributed.gather_rows``),
    #: "refuse", or None to defer to ``bridge.distributed.KNOWN_OBJECTIVES`` (a class
    #: found in neither refuses to train under a process group).
    _ddp_objective: ClassVar[str | None] = None

    # ------------------------------------------------------------------ hooks
    def _check_params(self) -> None:  # pragma: no cover - overridden
        pass

    @abstractmethod
    def _make_spec(self, n_in: Mapping[str, int]) -> dict[str, Any]: ...

    @abstractmethod
    def _build(self, spec: Mapping[str, Any]) -> nn.Module: ...

    def _init_module(self, module: nn.Module, X: dict[str, torch.Tensor]) -> None:
        return None

    @abstractmethod
    def _loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
    ) -> torch.Tensor: ...

    @abstractmethod
    def _embed(self, module: nn.Module, X: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]: ...

    def _after_train(self, module: nn.Module, X: dict[str, torch.Tensor]) -> None:
        """After training (and before each MAP validation): the training code means."""
        if getattr(self, "center", False):
            emb = self._embed(module, X)
            self.embedding_mean_ = {k: v.mean(dim=0).cpu().numpy() for k, v in emb.items()}

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        means = getattr(self, "embedding_mean_", None) or {}
        return {
            f"embedding_mean.{i}": means[k] for i, k in enumerate(self.view_names_) if k in means
        }

    def _set_extra_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        means = {
            k: arrays[f"embedding_mean.{i}"]
            for i, k in enumerate(self.view_names_)
            if f"embedding_mean.{i}" in arrays
        }
        if means:
            self.embedding_mean_ = means

    def _raw_views(self) -> frozenset[str]:
        """Views fed to the network without standardisation (e.g. pretrained DBN inputs)."""
        return frozenset()

    # ------------------------------------------------------------------ preprocessing
    def _fit_preprocess(self, V: Mapping[str, np.ndarray]) -> None:
        """Learn ``preprocess_``: per view ``mean`` (d,) and ``scale`` (d,) or None."""
        raw = self._raw_views()
        self.preprocess_ = {}
        for k, X in V.items():
            if self.standardize and k not in raw:
                sd = X.std(axis=0)
                sd[sd < 1e-8 * max(1.0, float(sd.max(initial=0.0)))] = 1.0
                self.preprocess_[k] = {"mean": X.mean(axis=0), "scale": sd}
            else:
                self.preprocess_[k] = {"mean": None, "scale": None}

    def _apply_preprocess(self, k: str, X: np.ndarray) -> np.ndarray:
        p = self.preprocess_[k]
        if p.get("mean") is not None:
            X = X - p["mean"]
        if p.get("scale") is not None:
            X = X / p["scale"]
        if p.get("proj") is not None:
            X = X @ p["proj"]
        return X

    def _tensors(self, V: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
        dev = getattr(self, "_device", None) or resolve_device(self.device)
        return {
            k: torch.as_tensor(
                np.ascontiguousarray(self._apply_preprocess(k, X), dtype=np.float32), device=dev
            )
            for k, X in V.items()
        }

    # ------------------------------------------------------------------ fit / transform
    def _check_common(self) -> None:
        check_int(self.epochs, "epochs")
        check_int(self.batch_size, "batch_size")
        check_float(self.learning_rate, "learning_rate", strict=True)
        check_float(self.weight_decay, "weight_decay")
        check_int(self.patience, "patience")
        if self.monitor not in ("auto", "loss", "map"):
            raise ConfigError(f"monitor must be 'auto', 'loss' or 'map'; got {self.monitor!r}.")
        if self.monitor == "map" and not self._supports_map:
            raise ConfigError(f"{type(self).__name__} supports monitor='loss' or 'auto' only.")
        if not isinstance(getattr(self, "center", False), bool):
            raise ConfigError(f"center must be True or False; got {self.center!r}.")
        if not isinstance(self.standardize, bool):
            raise ConfigError(f"standardize must be True or False; got {self.standardize!r}.")
        if self.progress is not None and not isinstance(self.progress, bool):
            raise ConfigError(f"progress must be None, True or False; got {self.progress!r}.")

    def _validate_fit_views(
        self,
        views: Views,
        y: ArrayLike | None,
        views_val: Views | None,
        y_val: ArrayLike | None,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None, Any]:
        V, _, V_val, Y_val = self._validate_fit(views, y, views_val, y_val, dtype=np.float64)
        return V, V_val, Y_val

    def fit(
        self,
        views: Views,
        y: ArrayLike | None = None,
        views_val: Views | None = None,
        y_val: ArrayLike | None = None,
    ) -> TorchMultiViewModel:
        """Train the network on paired views.

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            The paired training views.
        y : ignored
            The models are unsupervised; labels are validated and unused.
        views_val : dict[str, array-like of shape (n_val, n_features_v)], optional
            Held-out pairs for early stopping (the same views).
        y_val : array-like of shape (n_val,) or (n_val, n_labels), optional
            Labels of ``views_val``; with them (``monitor="auto"``) early stopping
            maximises the cross-modal MAP on ``views_val`` instead of minimising the
            validation loss.

        Returns
        -------
        self
        """
        self._check_common()
        self._check_params()
        distributed = self._distributed_mode()
        V, V_val, Y_val = self._validate_fit_views(views, y, views_val, y_val)
        seed = resolve_seed(self.random_state)
        self._device = resolve_device(self.device)
        monitor = self._resolve_monitor(Y_val)
        self._fit_preprocess(V)
        X = self._tensors(V)
        X_val = self._tensors(V_val) if V_val is not None else None
        spec = self._make_spec({k: int(t.shape[1]) for k, t in X.items()})
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = build_or_explain(lambda: self._build(spec), type(self).__name__)
            self._init_module(module, X)
            module.to(self._device)
            gen = torch.Generator().manual_seed(seed)
            validate = None
            if X_val is not None:
                if monitor == "map":
                    validate = self._map_validator(module, X, X_val, Y_val)
                else:
                    validate = self._loss_validator(module, X_val)
            history, best_epoch = train_loop(
                module,
                lambda b, g: self._loss(module, b, g),
                X,
                epochs=self.epochs,
                batch_size=self.batch_size,
                learning_rate=self.learning_rate,
                weight_decay=self.weight_decay,
                generator=gen,
                validate=validate,
                maximize=monitor == "map",
                patience=self.patience,
                progress=progress_enabled(self.progress),
                desc=type(self).__name__,
                distributed=distributed,
            )
            with torch.no_grad():
                self._after_train(module, X)
        self.spec_ = spec
        self.history_ = history
        self.best_epoch_ = best_epoch
        self.monitor_ = monitor
        self.module_ = module  # last: marks the model fitted
        if dist_rank() == 0:
            logger.info(
                "%s: %d epochs, best epoch %d", type(self).__name__, len(history), best_epoch
            )
        return self

    def _resolve_monitor(self, Y_val: Any) -> str:
        """The early-stopping criterion: ``monitor``, with "auto" meaning the validation
        MAP when validation labels are given (and the model supports it), else the loss."""
        monitor = self.monitor
        if monitor == "auto":
            monitor = "map" if (Y_val is not None and self._supports_map) else "loss"
        if monitor == "map" and Y_val is None:
            raise ConfigError("monitor='map' needs views_val and y_val.")
        return monitor

    def _distributed_mode(self) -> str | bool | None:
        """``train_loop``'s ``distributed`` for this model: None without data-parallel
        training; "mean"/"gather" under a process group; ConfigError if the model's
        objective cannot be split (see :mod:`bridge.distributed`)."""
        from .. import distributed as bd

        if not bd.is_active():
            return None
        mode = bd.objective_mode(type(self))
        if mode not in bd.MODES:
            raise ConfigError(bd.refusal(type(self)))
        return mode

    def _loss_validator(
        self, module: nn.Module, X_val: dict[str, torch.Tensor]
    ) -> Callable[[], float]:
        def validate() -> float:
            # the same random masks every epoch, so the scores are comparable
            return float(self._loss(module, X_val, torch.Generator().manual_seed(0)))

        return validate

    def _map_validator(
        self,
        module: nn.Module,
        X: dict[str, torch.Tensor],
        X_val: dict[str, torch.Tensor],
        Y_val: Any,
    ) -> Callable[[], float]:
        from ..metrics import cross_modal_map

        def validate() -> float:
            self._after_train(module, X)
            emb = {k: v.cpu().numpy() for k, v in self._embed(module, X_val).items()}
            emb = self._finish_embedding(emb)
            return cross_modal_map(emb, Y_val)["average"]

        return validate

    def _finish_embedding(self, emb: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Post-process network embeddings (numpy): subtract the training code means when
        the model has ``center=True``; identity otherwise."""
        if getattr(self, "center", False):
            return {k: v - self.embedding_mean_[k] for k, v in emb.items()}
        return emb

    def transform(self, views: Views) -> dict[str, np.ndarray]:
        """Embed each given view (any subset of the fitted views).

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]

        Returns
        -------
        dict[str, ndarray of shape (n_samples, n_components)]
            float32 embeddings, one per given view, each computed from that view alone.
        """
        V = self._validate_transform(views, dtype=np.float64)
        module = self.module_
        module.eval()
        with torch.no_grad():
            out = self._embed(module, self._tensors(V))
        return self._finish_embedding({k: v.cpu().numpy() for k, v in out.items()})

    # ------------------------------------------------------------------ checkpoints
    def _json_params(self) -> dict[str, Any]:
        out = {}
        for k, v in self.get_params(deep=False).items():
            try:
                json.dumps(v)
            except TypeError:
                v = None  # e.g. pretrained DBNs: the checkpoint holds the trained weights
            out[k] = v
        return out

    def _checkpoint_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(meta, arrays)`` of the fitted model (see :meth:`save`)."""
        arrays: dict[str, np.ndarray] = {}
        for k, p in self.preprocess_.items():
            for name, a in p.items():
                if a is not None:
                    arrays[f"preprocess.{k}.{name}"] = np.asarray(a)
        for name, a in self._extra_arrays().items():
            arrays[f"extra.{name}"] = np.asarray(a)
        arrays.update(state_arrays("state.", self.module_))
        meta = {
            **header(type(self).__name__),
            "params": self._json_params(),
            "view_names": list(self.view_names_),
            "n_features_in": dict(self.n_features_in_),
            "spec": self.spec_,
            "history": self.history_,
            "best_epoch": self.best_epoch_,
            "monitor": self.monitor_,
        }
        return meta, arrays

    def save(self, path: str | os.PathLike) -> Path | None:
        """Write the fitted model to ``path`` (one checkpoint file, atomic).

        The file is boltz's checkpoint container (a ``.npz``, see
        :mod:`boltz.container`), whatever its name: the module's ``state_dict``,
        the preprocessing arrays and the network spec and hyperparameters as JSON,
        with a SHA-256 over every byte, so :meth:`load` runs no pickle and detects
        any damage.  Hyperparameters that are not JSON (a ``pretrained`` DBN) are
        stored as None: the trained weights are in the ``state_dict``.  A model whose
        weights hold NaN or inf is refused (``CheckpointError``), leaving the file
        on disk unchanged.

        Under an initialised ``torch.distributed`` process group only rank 0 writes; the
        other ranks return None without touching ``path`` (call
        ``torch.distributed.barrier()`` before they read the file).

        Returns
        -------
        pathlib.Path or None
            The path written (None on the ranks that do not write).
        """
        self._check_fitted()
        if dist_rank() != 0:
            logger.debug("rank %d: save(%s) skipped (rank 0 writes)", dist_rank(), path)
            return None
        meta, arrays = self._checkpoint_state()
        return write_container(Path(path), meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> TorchMultiViewModel:
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : path-like
        device : str, default "cpu"
            Where the loaded module lives (overrides the saved ``device``).

        Raises
        ------
        FileNotFoundError, PermissionError
            The file is missing or cannot be read.
        CheckpointError
            Not a checkpoint of this class, a damaged one (any changed byte), one of
            the old ``torch.save`` format, or content that does not fit together.
        """
        where = repr(str(path))
        meta, arrays = read_container(path)
        check_header(meta, cls.__name__, where)
        try:
            model = cls._restore(meta, arrays, device, where)
            model._self_check()
        except CheckpointError:
            raise
        except (*CONTENT_ERRORS, RuntimeError) as e:
            raise CheckpointError(
                f"{where}: a damaged or inconsistent bridge.models checkpoint "
                f"({type(e).__name__}: {e})"
            ) from e
        return model

    @classmethod
    def _restore(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], device: str, where: str
    ) -> TorchMultiViewModel:
        """Rebuild the model from a verified container (other errors are turned into
        CheckpointError by :meth:`load`)."""
        # JSON has no tuples: the list-valued hyperparameters (layer widths) were tuples
        params = {k: _tuples(v) for k, v in need(meta, "params", dict).items()}
        params["device"] = device
        try:
            model = cls(**params)
            if "monitor" in model.get_params(deep=False):  # models on the shared fit
                model._check_common()
            model._check_params()  # (the others, e.g. SDML, DM2C, check everything here)
        except (TypeError, ConfigError) as e:
            raise CheckpointError(f"{where}: the saved hyperparameters are invalid: {e}") from e
        model.view_names_, model.n_features_in_ = need_views(meta, where)
        hidden = params.get("hidden")
        try:  # widths are otherwise only checked when fit builds the network
            for h in hidden.values() if isinstance(hidden, Mapping) else [hidden]:
                if h is not None:
                    check_hidden(h)
        except ConfigError as e:
            raise CheckpointError(f"{where}: the saved hyperparameters are invalid: {e}") from e
        check_widths(model.n_features_in_, arrays, where)
        names = set(model.view_names_)
        for k in arrays:
            head, _, rest = k.partition(".")
            if head == "preprocess":
                view, _, what = rest.rpartition(".")
                ok = view in names and what in ("mean", "scale", "proj")
            else:
                ok = head in ("state", "extra")
            if not ok:
                raise CheckpointError(f"{where}: unexpected array {k!r}.")
        model._device = resolve_device(device)
        model.preprocess_ = {
            k: {name: arrays.get(f"preprocess.{k}.{name}") for name in ("mean", "scale", "proj")}
            for k in model.view_names_
        }
        for k, p in model.preprocess_.items():
            scale = p.get("scale")
            if scale is not None and not np.all(scale > 0):
                raise CheckpointError(f"{where}: the saved scale of view {k!r} is not positive")
        model._set_extra_arrays(
            {k[len("extra.") :]: v for k, v in arrays.items() if k.startswith("extra.")}
        )
        spec = need(meta, "spec", dict)
        module = build_checked(lambda: model._build(spec), sub_tensors(arrays, "state."), where)
        module.to(model._device).eval()
        model.spec_ = spec
        model.history_ = meta["history"]
        model.best_epoch_ = meta["best_epoch"]
        model.monitor_ = meta["monitor"]
        model.module_ = module
        return model

    def _self_check(self) -> None:
        """Embed zero rows: a loaded model must run ``transform`` and return one code
        per given view (catches preprocessing or extra arrays whose shapes do not fit
        the network).  All views together are tried first, then each view alone,
        since some models accept only some combinations (DM2C: one view per row;
        CrossModalAE: the image).  The values are not judged: a zero row may
        legitimately map to NaN (e.g. a zero word-vector norm)."""
        zeros = {k: np.zeros((1, int(n))) for k, n in self.n_features_in_.items()}
        probes = [zeros] + [{k: v} for k, v in zeros.items()] if len(zeros) > 1 else [zeros]
        for probe in probes:
            try:
                with np.errstate(all="ignore"):
                    out = self.transform(probe)
            except DataError:  # this combination of views is not accepted by the model
                continue
            if not out or any(np.asarray(v).shape[0] != 1 for v in out.values()):
                raise CheckpointError("the loaded model returns codes of the wrong shape")
            return
        raise CheckpointError("the loaded model embeds no combination of its views")


# ----------------------------------------------------------------------------- view codecs


def check_pretrained(pretrained: Any) -> dict[str, Any]:
    """``pretrained`` as a dict ``{view name: fitted boltz.DBN}`` (None -> {})."""
    if pretrained is None:
        return {}
    if not isinstance(pretrained, Mapping):
        raise ConfigError(
            "pretrained must be None or a dict {view name: fitted boltz.DBN}; "
            f"got {type(pretrained).__name__}."
        )
    for k, dbn in pretrained.items():
        if getattr(dbn, "layers_", None) is None:
            raise ConfigError(
                f"pretrained[{k!r}] must be a fitted boltz.DBN; got {type(dbn).__name__} "
                "(fit it first, e.g. with recipes.pretrain)."
            )
    return dict(pretrained)


def hidden_per_view(hidden: Any, names: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """``hidden`` (one tuple for all views, or a dict per view) as a dict per view."""
    if isinstance(hidden, Mapping):
        missing = [k for k in names if k not in hidden]
        if missing:
            raise ConfigError(f"hidden is a dict but has no entry for view(s) {missing}.")
        return {k: check_hidden(hidden[k], f"hidden[{k!r}]") for k in names}
    h = check_hidden(hidden)
    return {k: h for k in names}


def view_codec_specs(
    names: Sequence[str],
    n_in: Mapping[str, int],
    hidden: Any,
    activation: str,
    pretrained: Mapping[str, Any],
) -> tuple[list[dict], list[dict], dict[str, tuple[dict, dict]]]:
    """Encoder and decoder specs of every view, in ``names`` order.

    A view in ``pretrained`` gets the unrolled DBN's layers (its ``hidden`` is
    ignored); the others an MLP ``n_in -> hidden`` and its mirror.

    Returns
    -------
    encoders, decoders : list of dict
        Specs (see :func:`encoder_from_spec`, :meth:`Decoder.from_spec`).
    states : dict[str, (encoder_state, decoder_state)]
        Initial weights of the pretrained views.
    """
    unknown = sorted(set(pretrained) - set(names))
    if unknown:
        raise ConfigError(
            f"pretrained has DBNs for unknown view(s) {unknown}; the views are {list(names)} "
            "(check the spelling)."
        )
    hid = hidden_per_view(hidden, names)
    encs, decs, states = [], [], {}
    for k in names:
        if k in pretrained:
            dbn = pretrained[k]
            if int(dbn.n_features_in_) != int(n_in[k]):
                raise DataError(
                    f"pretrained[{k!r}] was fitted on {dbn.n_features_in_} features but view "
                    f"{k!r} has {n_in[k]}."
                )
            e, d, es, ds = dbn_specs(dbn)
            states[k] = (es, ds)
        else:
            e = mlp_encoder_spec(n_in[k], hid[k], activation)
            d = mlp_decoder_spec(n_in[k], hid[k], activation)
        encs.append(e)
        decs.append(d)
    return encs, decs, states
