"""The multimodal DBN (``boltz.MultimodalDBN``) as a ``torch.nn.Module``.

:class:`MultimodalEncoder` computes ``mdbn.transform(X, missing="meanfield",
steps=..., init=...)`` for any non-empty subset of the views: the up-pass of each
given view through its pathway (a :class:`bridge.export.DBNEncoder`), then the
same mean-field alternation as :meth:`boltz.MultimodalDBN._chains` for the
missing tops (given tops ``g`` clamped, missing tops ``m``)::

    m <- 0 (init="zeros") or sigmoid(b_m) (init="bias")
    repeat `steps` times (only if a view is missing):
        p_h = sigmoid(c + sum_g g W_g + sum_m m W_m)
        m   = sigmoid(b_m + p_h W_m^T)                for every missing view
    joint = sigmoid(c + sum_g g W_g + sum_m m W_m)

Every parameter is trainable and every step differentiable, so the whole model
(pathways and joint layer, including the weights of a missing view, which the
inference uses) can be fine-tuned.  Gibbs inference (``missing="gibbs"``) is not
exported: it draws from boltz's own random streams, which a torch module cannot
reproduce sample for sample, and averaging its chains estimates a different
quantity from the mean-field fixed point.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from boltz.errors import ConfigError, DataError, DataTypeError

from .export import DBNEncoder, dbn_encoder, resolve_dtype

__all__ = ["JointLayer", "MultimodalEncoder"]

_INITS = ("zeros", "bias")


def _check_steps(steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ConfigError(f"steps must be an integer >= 0; got {steps!r}.")
    return int(steps)


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
    steps : int, default 10
        Default number of mean-field alternations (``MultimodalDBN.transform``'s default).
    init : {"zeros", "bias"}, default "zeros"
        Default start of the missing tops.

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
        steps: int = 10,
        init: str = "zeros",
    ) -> None:
        super().__init__()
        if list(pathways) != joint.views:
            raise ConfigError(
                f"pathways {list(pathways)} and joint views {joint.views} must match in order."
            )
        for n, enc in pathways.items():
            top = enc[-1].n_hidden
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
        cls, mdbn: Any, dtype: Any = torch.float32, steps: int = 10, init: str = "zeros"
    ) -> MultimodalEncoder:
        """Export a fitted ``boltz.MultimodalDBN``.

        Parameters
        ----------
        mdbn : boltz.MultimodalDBN (fitted)
        dtype : torch.dtype or str, default torch.float32
        steps, init
            Defaults of :meth:`forward`.

        Returns
        -------
        MultimodalEncoder
        """
        from boltz.multimodal import MultimodalDBN

        if not isinstance(mdbn, MultimodalDBN):
            raise TypeError(f"expected a fitted boltz.MultimodalDBN; got {type(mdbn).__name__}.")
        mdbn._check_fitted()
        dt = resolve_dtype(dtype)
        pathways = {n: dbn_encoder(mdbn.pathways_[n], dt) for n in mdbn.views_}
        p = mdbn.joint_.model_.to_host()
        weights, vbias, start = {}, {}, 0
        for n in mdbn.views_:
            stop = start + mdbn.pathways_[n].layers_[-1].n_hidden
            weights[n] = p["weights"][start:stop].T
            vbias[n] = p["visible_bias"][start:stop]
            start = stop
        if start != p["weights"].shape[0]:
            raise ConfigError(
                f"the joint RBM has {p['weights'].shape[0]} visible units but the pathways' "
                f"top layers add up to {start}."
            )
        joint = JointLayer(weights, vbias, p["hidden_bias"], dt)
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
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean-field inference of the missing tops from the given ones.

        Parameters
        ----------
        tops : dict of str -> Tensor, shape (n, top size)
            Top representations of the given views (a non-empty subset).
        steps, init : optional
            Default ``self.steps`` / ``self.init``.

        Returns
        -------
        joint : Tensor, shape (n, n_hidden)
        tops : dict of str -> Tensor
            Every view's top: the given ones unchanged, the inferred
            ``P(top | h_joint)`` of the last step (the initial value when
            ``steps == 0``) for the missing ones.
        """
        steps = self.steps if steps is None else _check_steps(steps)
        init = self.init if init is None else _check_init(init)
        ref = next(iter(tops.values()))
        n = ref.shape[0]
        state = dict(tops)
        missing = [v for v in self.views if v not in tops]
        for v in missing:
            b = self.joint.visible_bias(v)
            if init == "bias":
                state[v] = torch.sigmoid(b).expand(n, -1)
            else:
                state[v] = torch.zeros(n, b.shape[0], dtype=b.dtype, device=b.device)
        for _ in range(steps if missing else 0):
            ph = self.joint.hidden_mean(state)
            for v in missing:
                state[v] = self.joint.visible_mean(ph, v)
        return self.joint.hidden_mean(state), {v: state[v] for v in self.views}

    def forward(
        self,
        views: Mapping[str, torch.Tensor],
        steps: int | None = None,
        init: str | None = None,
        return_pathways: bool = False,
    ) -> Any:
        """Joint representation ``P(h_joint = 1 | given views)``.

        Parameters
        ----------
        views : dict of str -> Tensor, shape (n, n_features of that view)
            Any non-empty subset of the views, all with the same rows.
        steps : int, optional
            Mean-field alternations (default ``self.steps``); ignored when no view
            is missing.
        init : {"zeros", "bias"}, optional
            Start of the missing tops (default ``self.init``).
        return_pathways : bool, default False
            Also return every view's top representation, as
            ``mdbn.transform(..., return_pathways=True)``.

        Returns
        -------
        joint : Tensor, shape (n, n_hidden)
        tops : dict of str -> Tensor, shape (n, top size)
            Only with ``return_pathways=True``.
        """
        views = self._check_views(views)
        tops = {v: self.pathways[v](x) for v, x in views.items()}
        joint, all_tops = self.infer(tops, steps, init)
        if return_pathways:
            return joint, all_tops
        return joint

    def extra_repr(self) -> str:
        return f"views={self.views}, steps={self.steps}, init={self.init!r}"
