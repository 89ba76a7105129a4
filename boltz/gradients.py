"""Estimators of the log-likelihood gradient statistics: CD-k and PCD.

An estimator turns a data batch into the positive and negative phase
(:class:`Phases`); the optimiser turns the phases into a parameter update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConfigError
from .model import RBMModel

__all__ = ["CD", "PCD", "Phases", "make_estimator"]


@dataclass
class Phases:
    """Positive (data) and negative (model) statistics for one update.

    Attributes
    ----------
    v_pos : array, shape (n, V)
        Data batch (may be sparse for a softmax layer).
    h_pos : array, shape (n, H)
        ``P(h | v_pos)``.
    v_neg : array, shape (m, V)
        Negative-phase visible states (``m = n`` for CD, ``n_chains`` for PCD).
    h_neg : array, shape (m, H)
        ``P(h | v_neg)`` (Rao-Blackwellised statistics).
    len_pos, len_neg : array, shape (n,) / (m,), or None
        Document lengths for a replicated-softmax layer.
    h_pos_sum, h_neg_sum : array, shape (H,), or None
        ``h_pos.sum(axis=0)`` / ``h_neg.sum(axis=0)`` when the estimator computed
        them with the probabilities (bitwise the same as summing afterwards).
    """

    v_pos: Any
    h_pos: Any
    len_pos: Any
    v_neg: Any
    h_neg: Any
    len_neg: Any
    h_pos_sum: Any = None
    h_neg_sum: Any = None


class CD:
    """Contrastive divergence CD-k (Hinton 2002): chains start at the data batch.

    The returned :class:`Phases` live in buffers this estimator reuses: they are
    valid until its next ``phases`` call (the optimiser consumes them at once),
    so a step allocates nothing of size n x V or n x H after the first batch.

    Parameters
    ----------
    k : int
        Number of full Gibbs steps ``v -> h -> v``.
    sample_visible : bool, default True
        Sample the negative-phase visible states; False uses their conditional mean
        (deepnet's default "not sampling inputs": no sampling noise in the negative
        statistics, which otherwise act as a weight decay of strength ~Var(v) on
        layers whose data are probabilities, see ``docs/multimodal.md``).
    """

    persistent = False

    def __init__(self, k: int = 1, sample_visible: bool = True) -> None:
        if int(k) < 1:
            raise ConfigError(f"k must be an integer >= 1; got {k!r}.")
        self.k = int(k)
        self.sample_visible = bool(sample_visible)
        self._buffers: dict[tuple, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_buffers"] = {}  # scratch, not state: never pickled
        return state

    def _buf(self, model: RBMModel, n: int, side: str, tag: str) -> Any:
        """A reused (n, H) or (n, V) buffer of the model's backend and dtype."""
        be = model.backend
        width = model.n_hidden if side == "h" else model.n_visible
        key = (tag, n, width, be.name, be.dtype.str)
        buf = self._buffers.get(key)
        if buf is None:
            if len(self._buffers) > 16:  # e.g. a last short batch per epoch: bounded
                self._buffers.clear()
            buf = self._buffers[key] = be.empty((n, width))
        return buf

    def _sum_buf(self, model: RBMModel, length: Any, tag: str) -> Any:
        """A reused (H,) buffer for the column sums of ``P(h|v)``; None with lengths."""
        if length is not None:
            return None
        return self._buf(model, 1, "h", tag).reshape(-1)

    def phases(self, model: RBMModel, v0: Any, rng: Any) -> Phases:
        n = v0.shape[0]
        length = model.length(v0)
        s0, s = self._sum_buf(model, length, "ph0.sum"), self._sum_buf(model, length, "ph.sum")
        ph0 = model.hidden_mean(v0, length, out=self._buf(model, n, "h", "ph0"), colsum=s0)
        ph = ph0
        for _ in range(self.k):
            h = model.sample_hidden(ph, rng, out=self._buf(model, n, "h", "h"))
            v = model.visible(h, length, rng=self._vis_rng(rng), out=self._buf(model, n, "v", "v"))
            ph = model.hidden_mean(v, length, out=self._buf(model, n, "h", "ph"), colsum=s)
        return Phases(v0, ph0, length, v, ph, length, s0, s)

    def _vis_rng(self, rng: Any) -> Any:
        return rng if self.sample_visible else None

    def state(self) -> dict[str, Any]:
        return {}

    def load_state(self, arrays: dict[str, np.ndarray], backend: Any) -> None:
        return None


class PCD(CD):
    """Persistent contrastive divergence (Tieleman 2008).

    The negative chains persist across updates; their state is the hidden
    layer, initialised by sampling ``P(h | v)`` on data rows of the first batch,
    and saved with checkpoints (``pcd.chains``, shape (n_chains, n_hidden)).

    Parameters
    ----------
    k : int
        Gibbs steps per update.
    n_chains : int or None
        Number of persistent chains; None uses the batch size.
    sample_visible : bool, default True
        See :class:`CD`.
    """

    persistent = True

    def __init__(
        self, k: int = 1, n_chains: int | None = None, sample_visible: bool = True
    ) -> None:
        super().__init__(k, sample_visible)
        if n_chains is not None and int(n_chains) < 1:
            raise ConfigError(f"n_chains must be None or an integer >= 1; got {n_chains!r}.")
        self.n_chains = None if n_chains is None else int(n_chains)
        self.chains: Any = None
        self.chain_length: Any = None

    def init_chains(self, model: RBMModel, v0: Any, rng: Any, n_chains: int | None = None) -> None:
        """Start the chains from ``P(h | v)`` sampled on the rows of ``v0`` (cycled).

        Parameters
        ----------
        model : RBMModel
        v0 : array, shape (n, n_visible)
            The first batch (device array, or CSR for the replicated softmax).
        rng : generator
            Sampling stream.
        n_chains : int, optional
            Chains to start; default ``self.n_chains``, else one per row of ``v0``.
            A data-parallel trainer passes this process's share, so the estimator's
            own ``n_chains`` (a hyperparameter) is never rewritten.
        """
        be = model.backend
        n = v0.shape[0]
        m = n_chains or self.n_chains or n
        if hasattr(v0, "toarray"):
            v = be.asarray(v0[np.arange(m) % n].toarray())
        else:
            v = v0[be.xp.arange(m) % n]
        self.chain_length = model.length(v)
        self.chains = model.sample_hidden(model.hidden_mean(v, self.chain_length), rng)

    def phases(self, model: RBMModel, v0: Any, rng: Any) -> Phases:
        """Positive phase on ``v0``; ``k`` steps ``h -> v -> h`` of the persistent chains.

        The chains' state is their hidden layer (as in scikit-learn's PCD), so one
        PCD-1 update costs the same five GEMMs as a CD-1 update.
        """
        if self.chains is None:
            self.init_chains(model, v0, rng)
        len0 = model.length(v0)
        s0 = self._sum_buf(model, len0, "ph0.sum")
        ph0 = model.hidden_mean(v0, len0, out=self._buf(model, v0.shape[0], "h", "ph0"), colsum=s0)
        h, length = self.chains, self.chain_length
        s = self._sum_buf(model, length, "ph.sum")
        m = h.shape[0]
        for _ in range(self.k):
            v = model.visible(h, length, rng=self._vis_rng(rng), out=self._buf(model, m, "v", "v"))
            ph = model.hidden_mean(v, length, out=self._buf(model, m, "h", "ph"), colsum=s)
            # the chains' old state is consumed: the new one is written over it
            h = model.sample_hidden(ph, rng, out=h)
        self.chains = h
        return Phases(v0, ph0, len0, v, ph, length, s0, s)

    def state(self) -> dict[str, Any]:
        if self.chains is None:
            return {}
        out = {"chains": self.chains}
        if self.chain_length is not None:
            out["chain_length"] = self.chain_length
        return out

    def load_state(self, arrays: dict[str, np.ndarray], backend: Any) -> None:
        self.chains = backend.asarray(arrays["chains"]) if "chains" in arrays else None
        cl = arrays.get("chain_length")
        self.chain_length = None if cl is None else backend.asarray(cl)


def make_estimator(
    k: int, persistent: bool, n_chains: int | None, sample_visible: bool = True
) -> CD:
    """CD-k or PCD-k from the estimator's hyperparameters."""
    if persistent:
        return PCD(k, n_chains, sample_visible)
    return CD(k, sample_visible)
