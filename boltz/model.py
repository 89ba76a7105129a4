"""Parameters and math of a restricted Boltzmann machine with one or more visible groups.

:class:`RBMModel` is not an estimator: it holds the parameter arrays on one
backend and implements free energy, conditionals and Gibbs steps once, against
the unit contract of :mod:`boltz.units`.  A single-modality RBM has one visible
group; the joint layer of a multimodal DBN has one group per pathway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import Backend
from .errors import ConfigError
from .units import VisibleUnit

__all__ = ["Group", "RBMModel"]


@dataclass(frozen=True)
class Group:
    """A contiguous slice ``[start, stop)`` of the visible layer with one unit type."""

    name: str
    unit: VisibleUnit
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)


class RBMModel:
    """Parameters (``weights`` (V, H), ``visible_bias`` (V,), ``hidden_bias`` (H,),
    optionally ``log_sigma`` (V,)) and the RBM math.

    Parameters
    ----------
    groups : sequence of (name, unit, size)
        Visible groups in order; their sizes add up to V.
    n_hidden : int
        Number of Bernoulli hidden units H.
    backend : Backend
        Device, dtype and kernels.
    """

    def __init__(
        self, groups: Sequence[tuple[str, VisibleUnit, int]], n_hidden: int, backend: Backend
    ) -> None:
        out, start = [], 0
        for name, unit, size in groups:
            out.append(Group(str(name), unit, start, start + int(size)))
            start += int(size)
        if sum(g.unit.has_length for g in out) > 1:
            raise ConfigError("at most one replicated-softmax group is allowed in one RBM layer.")
        self.groups: list[Group] = out
        self.n_visible = start
        self.n_hidden = int(n_hidden)
        self.backend = backend
        self.params: dict[str, Any] = {}
        self._scaled_groups = [g for g in out if g.unit.learns_sigma]
        self._length_group = next((g for g in out if g.unit.has_length), None)

    # ------------------------------------------------------------------ setup
    @property
    def param_names(self) -> list[str]:
        names = ["weights", "visible_bias", "hidden_bias"]
        if self._scaled_groups:
            names.append("log_sigma")
        return names

    def initialize(
        self, rng: np.random.Generator, data_mean: np.ndarray | None = None, scale: float = 0.01
    ) -> RBMModel:
        """Weights ~ N(0, scale^2); visible biases from data means per unit type."""
        be, V, H = self.backend, self.n_visible, self.n_hidden
        w = rng.standard_normal((V, H)) * scale
        vb = np.zeros(V)
        if data_mean is not None:
            for g in self.groups:
                vb[g.slice] = g.unit.init_bias(np.asarray(data_mean[g.slice], dtype=np.float64))
        self.params = {
            "weights": be.asarray(w),
            "visible_bias": be.asarray(vb),
            "hidden_bias": be.zeros((H,)),
        }
        if self._scaled_groups:
            self.params["log_sigma"] = be.zeros((V,))
        return self

    def group_params(self, g: Group) -> dict[str, Any]:
        p = {"bias": self.params["visible_bias"][g.slice]}
        if g.unit.learns_sigma:
            p["log_sigma"] = self.params["log_sigma"][g.slice]
        return p

    # ------------------------------------------------------------------ pieces
    def length(self, v: Any) -> Any:
        """Document lengths D (n,) of the softmax group, or None."""
        g = self._length_group
        if g is None:
            return None
        part = v if len(self.groups) == 1 else v[:, g.slice]
        return g.unit.length(part, self.backend.xp).astype(self.backend.dtype)

    def scaled_visible(self, v: Any) -> Any:
        """The visible state as it multiplies ``W`` (v / sigma for learned-sigma groups)."""
        if not self._scaled_groups:
            return v
        sv = v.copy()
        for g in self._scaled_groups:
            sv[:, g.slice] = g.unit.scaled(v[:, g.slice], self.group_params(g), self.backend)
        return sv

    def hidden_input(self, v: Any, length: Any = None, out: Any = None) -> Any:
        """``c * s(v) + scaled(v) @ W``, shape (n, H)."""
        be = self.backend
        x = be.matmul(self.scaled_visible(v), self.params["weights"], out=out)
        c = self.params["hidden_bias"]
        if length is None:
            x += c
        else:
            x += length[:, None] * c
        return x

    def hidden_mean(self, v: Any, length: Any = None, out: Any = None, colsum: Any = None) -> Any:
        """``P(h = 1 | v)``, shape (n, H).

        ``colsum`` (H,), when given, receives ``P(h | v).sum(axis=0)`` (computed in
        the sigmoid's last pass where the backend can: the hidden-bias statistic).
        """
        be = self.backend
        if length is None:  # the bias add fused into the sigmoid: one pass fewer
            x = be.matmul(self.scaled_visible(v), self.params["weights"], out=out)
            return be.sigmoid(x, out=x, bias=self.params["hidden_bias"], colsum=colsum)
        x = self.hidden_input(v, length, out=out)
        return be.sigmoid(x, out=x, colsum=colsum)

    def sample_hidden(self, ph: Any, rng: Any, out: Any = None) -> Any:
        """Bernoulli states from probabilities ``ph`` (written into ``out`` when given)."""
        return self.backend.bernoulli(rng, ph, out=out)

    def top_down(self, h: Any, out: Any = None) -> Any:
        """``h @ W.T``, shape (n, V)."""
        return self.backend.matmul(h, self.params["weights"].T, out=out)

    def visible(
        self,
        h: Any,
        length: Any = None,
        rng: Any = None,
        only: Sequence[str] | None = None,
        base: Any = None,
        out: Any = None,
    ) -> Any:
        """Conditional mean (``rng=None``) or a sample of ``v | h``.

        Parameters
        ----------
        h : array, shape (n, H)
        length : array, shape (n,), optional
            Document lengths for a softmax group.
        rng : generator, optional
            Sample when given; return the mean otherwise.
        only : sequence of str, optional
            Group names to compute; the other columns are copied from ``base``.
        base : array, shape (n, V), optional
            Values for the groups not in ``only`` (required when ``only`` is given).
        out : array, shape (n, V), optional
            Buffer for the result (the top-down input is computed in it and the
            units work in place); a fresh array when None.

        Returns
        -------
        array, shape (n, V)
        """
        be = self.backend
        a = self.top_down(h, out=out)  # owned: the units may work in place on it
        groups = self.groups if only is None else [g for g in self.groups if g.name in only]
        if len(self.groups) == 1 and only is None:
            g = self.groups[0]
            p = self.group_params(g)
            if rng is None:
                return g.unit.mean(a, p, length, be, out=a)
            return g.unit.sample(a, p, length, be, rng, out=a)
        res = a if base is None else base.copy()
        for g in groups:
            p = self.group_params(g)
            ag = a[:, g.slice]
            dest = ag if base is None else None
            val = (
                g.unit.mean(ag, p, length, be, out=dest)
                if rng is None
                else g.unit.sample(ag, p, length, be, rng, out=dest)
            )
            if val is not dest:
                res[:, g.slice] = val
        return res

    # ------------------------------------------------------------------ energies
    def free_energy(self, v: Any, length: Any = None) -> Any:
        """``F(v) = -log sum_h exp(-E(v, h))``, shape (n,)."""
        be = self.backend
        if length is None:
            length = self.length(v)
        x = self.hidden_input(v, length)
        f = -be.softplus(x).sum(axis=1)
        for g in self.groups:
            vg = v if len(self.groups) == 1 else v[:, g.slice]
            f = f - g.unit.bias_term(vg, self.group_params(g), be)
        return f

    def gibbs_vhv(self, v: Any, rng: Any, length: Any = None) -> tuple[Any, Any]:
        """One step ``v -> h ~ P(h|v) -> v' ~ P(v|h)``; returns ``(v', P(h|v))``."""
        ph = self.hidden_mean(v, length)
        h = self.sample_hidden(ph, rng)
        return self.visible(h, length, rng=rng), ph

    # ------------------------------------------------------------------ gradients
    def bias_stats(self, v: Any, ph: Any, length: Any, ph_sum: Any = None) -> dict[str, Any]:
        """Batch sums of ``-dF/dtheta`` for every parameter except the weights.

        Returns a dict with ``visible_bias`` (V,), ``hidden_bias`` (H,) and, with
        learned sigma, ``log_sigma`` (V,).  The weight statistic
        ``scaled(v).T @ ph`` is left to the optimiser, which fuses it with the
        momentum update.  ``ph_sum`` is ``ph.sum(axis=0)`` if already known (see
        :meth:`hidden_mean`); it is used only without document lengths.
        """
        be, xp = self.backend, self.backend.xp
        if length is not None:
            hb = (ph * length[:, None]).sum(axis=0)
        else:
            hb = ph.sum(axis=0) if ph_sum is None else ph_sum
        vb = []
        ls = []
        for g in self.groups:
            vg = v if len(self.groups) == 1 else v[:, g.slice]
            p = self.group_params(g)
            td = None
            if g.unit.needs_top_down:
                td = ph @ self.params["weights"][g.slice].T
            st = g.unit.param_stats(vg, p, td, be)
            vb.append(st["bias"])
            if self._scaled_groups:
                ls.append(st.get("log_sigma", xp.zeros((g.size,), dtype=be.dtype)))
        out = {
            "visible_bias": vb[0] if len(vb) == 1 else xp.concatenate(vb),
            "hidden_bias": hb,
        }
        if self._scaled_groups:
            out["log_sigma"] = ls[0] if len(ls) == 1 else xp.concatenate(ls)
        return out

    # ------------------------------------------------------------------ misc
    def to_host(self) -> dict[str, np.ndarray]:
        """Parameters as NumPy arrays."""
        return {k: np.asarray(self.backend.to_host(v)) for k, v in self.params.items()}

    def set_params(self, params: dict[str, np.ndarray]) -> RBMModel:
        """Load host arrays (validated by the caller) into this model's backend."""
        self.params = {k: self.backend.asarray(v) for k, v in params.items()}
        return self
