"""The multimodal DBN (``boltz.MultimodalDBN``) as a ``torch.nn.Module``.

:class:`MultimodalEncoder` computes ``mdbn.transform(X, missing="meanfield",
steps=..., init=...)`` for any non-empty subset of the views: the up-pass of each
given view through its pathway (a :class:`bridge.encoders.DBNEncoder`), then the
same mean-field alternation as :meth:`boltz.MultimodalDBN._chains` for the
missing tops (given tops ``g`` clamped, missing tops ``m``)::

    m <- 0 (init="zeros") or sigmoid(b_m) (init="bias")
    repeat `steps` times (only if a view is missing):
        p_h = sigmoid(c + sum_g g W_g + sum_m m W_m)
        m   = sigmoid(b_m + p_h W_m^T)                for every missing view
    joint = sigmoid(c + sum_g g W_g + sum_m m W_m)

Every parameter is trainable and every step differentiable, so the whole model
(pathways and joint layer, including the weights of a missing view, which the
inference uses) can be fine-tuned.

Gibbs inference (``missing="gibbs"``) is exported too: the same chain (sample
``h ~ P(h | g, m)``, then ``m ~ P(m | h)``; ``n_samples`` chains per row, the final
``P(h | g, m)`` averaged over them), drawn from a ``torch.Generator``.  It cannot
reproduce boltz's draws sample for sample (boltz uses NumPy/CuPy streams), so it
equals ``mdbn.transform(..., missing="gibbs")`` in distribution only: the tests
compare the two chain averages within their Monte Carlo error.  No gradient flows
through the samples (the final ``P(h | g, m)`` is still differentiable in the
parameters).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from boltz.errors import ConfigError, DataError, DataTypeError

from .encoders import DBNEncoder, dbn_encoder
from .tensors import resolve_dtype

__all__ = ["JointLayer", "MultimodalEncoder"]

_INITS = ("zeros", "bias")
_METHODS = ("meanfield", "gibbs")


def _check_steps(steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ConfigError(f"steps must be an integer >= 0; got {steps!r}.")
    return int(steps)


def _check_method(method: Any) -> str:
    if method not in _METHODS:
        raise ConfigError(f"missing must be one of {list(_METHODS)}; got {method!r}.")
    return method


def _check_n_samples(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ConfigError(f"n_samples must be an integer >= 1; got {n!r}.")
    return int(n)


def _generator(generator: Any, device: torch.device) -> torch.Generator | None:
    """A ``torch.Generator`` from a generator, an int seed or None (torch's default)."""
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, bool) or not isinstance(generator, numbers.Integral):
        raise ConfigError(
            f"generator must be a torch.Generator, an integer seed or None; got {generator!r}."
        )
    return torch.Generator(device=device).manual_seed(int(generator))


def _check_init(init: Any) -> str:
    if init not in _INITS:
        raise ConfigError(f"init must be one of {list(_INITS)}; got {init!r}.")
    return init


class JointLayer(nn.Module):
    """The joint RBM of a multimodal DBN, its visible layer split by view.

    Parameters
    ----------
    weights : dict of str -> ndarray, shape (n_hidden, top size of that view)
        The rows of the joint ``weights_`` belonging to each view, transposed
        (``nn.Linear`` layout), in joint-layer order.
    visible_biases : dict of str -> ndarray, shape (top size,)
        The joint RBM's visible bias of each view's group.
    bias : ndarray, shape (n_hidden,)
        The joint hidden bias.
    dtype : torch.dtype, default torch.float32

    Attributes
    ----------
    views : list of str
    weight_<view> : Parameter, shape (n_hidden, top size)
    visible_bias_<view> : Parameter, shape (top size,)
    bias : Parameter, shape (n_hidden,)
    """

    def __init__(
        self,
        weights: Mapping[str, np.ndarray],
        visible_biases: Mapping[str, np.ndarray],
        bias: np.ndarray,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        if list(weights) != list(visible_biases):
            raise ConfigError("weights and visible_biases must name the same views in one order.")
        self.views = list(weights)
        dt = resolve_dtype(dtype)
        for n in self.views:
            w = torch.as_tensor(np.array(weights[n], dtype=np.float64), dtype=dt)
            b = torch.as_tensor(np.array(visible_biases[n], dtype=np.float64), dtype=dt)
            self.register_parameter(f"weight_{n}", nn.Parameter(w))
            self.register_parameter(f"visible_bias_{n}", nn.Parameter(b))
        self.bias = nn.Parameter(torch.as_tensor(np.array(bias, dtype=np.float64), dtype=dt))

    def weight(self, view: str) -> torch.Tensor:
        """``weight_<view>``, shape (n_hidden, top size)."""
        return getattr(self, f"weight_{view}")

    def visible_bias(self, view: str) -> torch.Tensor:
        """``visible_bias_<view>``, shape (top size,)."""
        return getattr(self, f"visible_bias_{view}")

    @property
    def n_hidden(self) -> int:
        return self.bias.shape[0]

    def hidden_mean(self, tops: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``P(h_joint = 1 | tops) = sigmoid(c + sum_v tops[v] @ weight_v.T)``, shape (n, H).

        ``tops`` must hold every view (given or inferred).
        """
        x = self.bias
        for n in self.views:
            x = x + tops[n] @ self.weight(n).T
        return torch.sigmoid(x)

    def visible_mean(self, h: torch.Tensor, view: str) -> torch.Tensor:
        """``P(top_view = 1 | h) = sigmoid(b_view + h @ weight_view)``, shape (n, top size)."""
        return torch.sigmoid(self.visible_bias(view) + h @ self.weight(view))

    def extra_repr(self) -> str:
        sizes = ", ".join(f"{n}={self.weight(n).shape[1]}" for n in self.views)
        return f"views=({sizes}), n_hidden={self.n_hidden}"


class PassthroughEncoder(nn.Module):
    """The export of a ``boltz.Passthrough`` pathway: the view is its own top layer.

    Parameters
    ----------
    n_top : int
        Width of the view.
    """

    def __init__(self, n_top: int) -> None:
        super().__init__()
        self.n_top = int(n_top)

    def forward(self, x: torch.Tensor, layer: int = -1) -> torch.Tensor:
        if x.shape[-1] != self.n_top:
            raise DataError(f"expected {self.n_top} features; got {x.shape[-1]}.")
        return x


class MultimodalEncoder(nn.Module):
    """Joint representation of a multimodal DBN from any non-empty subset of its views.

    Built by :func:`bridge.to_torch` (or :meth:`from_boltz`) from a fitted
    ``boltz.MultimodalDBN``; ``forward(views)`` equals
    ``mdbn.transform(views, missing="meanfield", steps=self.steps, init=self.init)``
    (see the module docstring for the iteration).  Gibbs inference is not exported.

    Parameters
    ----------
    pathways : dict of str -> DBNEncoder
        One up-pass per view, in joint-layer order.
    joint : JointLayer
    steps : int, default 5
        Default number of mean-field alternations (``MultimodalDBN``'s
        ``inference_steps`` default).
    init : {"zeros", "bias"}, default "bias"
        Default start of the missing tops (``MultimodalDBN.transform``'s default).

    Attributes
    ----------
    pathways : nn.ModuleDict of DBNEncoder
        ``pathways.<view>.<layer>.weight`` ... in ``state_dict()``.
    joint : JointLayer
        ``joint.weight_<view>``, ``joint.visible_bias_<view>``, ``joint.bias``.
    views : list of str
    """

    def __init__(
        self,
        pathways: Mapping[str, DBNEncoder],
        joint: JointLayer,
        steps: int = 5,
        init: str = "bias",
    ) -> None:
        super().__init__()
        if list(pathways) != joint.views:
            raise ConfigError(
                f"pathways {list(pathways)} and joint views {joint.views} must match in order."
            )
        for n, enc in pathways.items():
            top = enc.n_top if isinstance(enc, PassthroughEncoder) else enc[-1].n_hidden
            if joint.weight(n).shape[1] != top:
                raise ConfigError(
                    f"pathway {n!r} has {top} top units but the joint layer expects "
                    f"{joint.weight(n).shape[1]}."
                )
        self.pathways = nn.ModuleDict(dict(pathways))
        self.joint = joint
        self.views = list(pathways)
        self.steps = _check_steps(steps)
        self.init = _check_init(init)

    @classmethod
    def from_boltz(
        cls, mdbn: Any, dtype: Any = torch.float32, steps: int | None = None, init: str = "bias"
    ) -> MultimodalEncoder:
        """Export a fitted ``boltz.MultimodalDBN``.

        Parameters
        ----------
        mdbn : boltz.MultimodalDBN (fitted)
        dtype : torch.dtype or str, default torch.float32
        steps, init
            Defaults of :meth:`forward`; ``steps=None`` takes the model's
            ``inference_steps`` (what its ``transform`` does by default).

        Returns
        -------
        MultimodalEncoder
        """
        from boltz.multimodal import MultimodalDBN

        if not isinstance(mdbn, MultimodalDBN):
            raise TypeError(f"expected a fitted boltz.MultimodalDBN; got {type(mdbn).__name__}.")
        mdbn._check_fitted()
        dt = resolve_dtype(dtype)
        from boltz.passthrough import Passthrough

        pathways = {
            n: PassthroughEncoder(pw.n_top_) if isinstance(pw, Passthrough) else dbn_encoder(pw, dt)
            for n, pw in mdbn.pathways_.items()
        }
        p = mdbn.joint_.layer_.params()
        weights, vbias, start = {}, {}, 0
        for n in mdbn.views_:
            stop = start + (
                pathways[n].n_top
                if isinstance(pathways[n], PassthroughEncoder)
                else mdbn.pathways_[n].layers_[-1].n_hidden
            )
            weights[n] = p["weights"][start:stop].T
            vbias[n] = p["visible_bias"][start:stop]
            start = stop
        if start != p["weights"].shape[0]:
            raise ConfigError(
                f"the joint RBM has {p['weights'].shape[0]} visible units but the pathways' "
                f"top layers add up to {start}."
            )
        joint = JointLayer(weights, vbias, p["hidden_bias"], dt)
        if steps is None:
            steps = mdbn.inference_steps
        return cls(pathways, joint, steps=steps, init=init)

    # ------------------------------------------------------------------ helpers
    def _check_views(self, views: Any) -> dict[str, torch.Tensor]:
        if not isinstance(views, Mapping):
            raise DataTypeError(
                "MultimodalEncoder expects a dict mapping view names to tensors, e.g. "
                f"{{{', '.join(repr(n) + ': ...' for n in self.views)}}}; "
                f"got {type(views).__name__}."
            )
        unknown = [k for k in views if k not in self.views]
        if unknown:
            raise DataError(f"unknown view(s) {unknown}; this model has views {self.views}.")
        if not views:
            raise DataError(f"no view given; give at least one of {self.views}.")
        for k, x in views.items():
            if not isinstance(x, torch.Tensor):
                raise DataTypeError(
                    f"view {k!r} must be a torch.Tensor; got {type(x).__name__}. Convert with "
                    "bridge.export.as_tensor(X)."
                )
        rows = {k: int(views[k].shape[0]) for k in self.views if k in views}
        if len(set(rows.values())) > 1:
            detail = ", ".join(f"{k!r}: {n}" for k, n in rows.items())
            raise DataError(f"all views must have the same number of rows; got {detail}.")
        return {k: views[k] for k in self.views if k in views}

    def pathway(self, view: str, x: torch.Tensor) -> torch.Tensor:
        """Top representation of one pathway (``mdbn.pathway_transform(view, X)``).

        Returns
        -------
        Tensor, shape (n, top size of ``view``)
        """
        if view not in self.pathways:
            raise ConfigError(f"unknown pathway {view!r}; this model has {self.views}.")
        return self.pathways[view](x)

    def infer(
        self,
        tops: Mapping[str, torch.Tensor],
        steps: int | None = None,
        init: str | None = None,
        missing: str = "meanfield",
        n_samples: int = 1,
        generator: Any = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Inference of the missing tops from the given ones through the joint layer.

        Parameters
        ----------
        tops : dict of str -> Tensor, shape (n, top size)
            Top representations of the given views (a non-empty subset).
        steps, init : optional
            Default ``self.steps`` / ``self.init``.
        missing : {"meanfield", "gibbs"}, default "meanfield"
        n_samples : int, default 1
            Gibbs chains per row (ignored by mean-field).
        generator : torch.Generator, int or None
            Gibbs random stream (an int seeds a new generator; None uses torch's
            global one).

        Returns
        -------
        joint : Tensor, shape (n, n_hidden)
        tops : dict of str -> Tensor
            Every view's top: the given ones unchanged, for the missing ones the
            last ``P(top | h_joint)`` (chain average; the initial value when
            ``steps == 0``).
        """
        steps = self.steps if steps is None else _check_steps(steps)
        init = self.init if init is None else _check_init(init)
        gibbs = _check_method(missing) == "gibbs"
        reps = _check_n_samples(n_samples) if gibbs else 1
        ref = next(iter(tops.values()))
        n = ref.shape[0]
        gen = _generator(generator, ref.device) if gibbs else None
        state = {v: t.repeat_interleave(reps, dim=0) if reps > 1 else t for v, t in tops.items()}
        absent = [v for v in self.views if v not in tops]
        for v in absent:
            b = self.joint.visible_bias(v)
            if init == "bias":
                state[v] = torch.sigmoid(b).expand(n * reps, -1)
            else:
                state[v] = torch.zeros(n * reps, b.shape[0], dtype=b.dtype, device=b.device)
        probs = {v: state[v] for v in absent}
        for _ in range(steps if absent else 0):
            ph = self.joint.hidden_mean(state)
            h = torch.bernoulli(ph.detach(), generator=gen) if gibbs else ph
            for v in absent:
                probs[v] = self.joint.visible_mean(h, v)
                state[v] = torch.bernoulli(probs[v].detach(), generator=gen) if gibbs else probs[v]
        joint = self._average(self.joint.hidden_mean(state), n, reps)
        out = {v: tops[v] if v in tops else self._average(probs[v], n, reps) for v in self.views}
        return joint, out

    @staticmethod
    def _average(x: torch.Tensor, n: int, reps: int) -> torch.Tensor:
        return x if reps == 1 else x.reshape(n, reps, x.shape[1]).mean(dim=1)

    def forward(
        self,
        views: Mapping[str, torch.Tensor],
        steps: int | None = None,
        init: str | None = None,
        return_pathways: bool = False,
        *,
        missing: str = "meanfield",
        n_samples: int = 1,
        generator: Any = None,
    ) -> Any:
        """Joint representation ``P(h_joint = 1 | given views)``.

        Parameters
        ----------
        views : dict of str -> Tensor, shape (n, n_features of that view)
            Any non-empty subset of the views, all with the same rows.
        steps : int, optional
            Alternations joint <-> missing tops (default ``self.steps``); ignored
            when no view is missing.
        init : {"zeros", "bias"}, optional
            Start of the missing tops (default ``self.init``).
        return_pathways : bool, default False
            Also return every view's top representation, as
            ``mdbn.transform(..., return_pathways=True)``.
        missing : {"meanfield", "gibbs"}, default "meanfield"
            Mean-field equals boltz to rounding; Gibbs in distribution (see the
            module docstring).
        n_samples : int, default 1
            Gibbs chains per row.
        generator : torch.Generator, int or None
            Gibbs random stream.

        Returns
        -------
        joint : Tensor, shape (n, n_hidden)
        tops : dict of str -> Tensor, shape (n, top size)
            Only with ``return_pathways=True``.
        """
        views = self._check_views(views)
        tops = {v: self.pathways[v](x) for v, x in views.items()}
        joint, all_tops = self.infer(tops, steps, init, missing, n_samples, generator)
        if return_pathways:
            return joint, all_tops
        return joint

    def extra_repr(self) -> str:
        return f"views={self.views}, steps={self.steps}, init={self.init!r}"
