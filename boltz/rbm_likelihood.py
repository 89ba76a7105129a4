"""Likelihood-based scores of a fitted :class:`boltz.RBM`.

:class:`LikelihoodMixin` gives the estimator its ``log Z`` (exact enumeration or
AIS, :mod:`boltz.likelihood`), log-likelihood, perplexity (replicated softmax),
exact pseudo-likelihood (Bernoulli visibles) and the scikit-learn ``score``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from .backend import is_sparse, make_streams
from .errors import ConfigError, DataError
from .likelihood import AISResult, ais_log_partition, exact_is_cheap, exact_log_partition
from .monitor import pseudo_log_likelihood
from .trainer import iter_batches, take_rows

# the estimator's logger: these are RBM methods, configured as ``boltz.rbm``
logger = logging.getLogger("boltz.rbm")

__all__ = ["LikelihoodMixin"]


def _log_ais(res: AISResult, n_runs: int, n_words: Any) -> None:
    """Log an AIS estimate with its +-3 sigma interval."""
    if np.ndim(res.log_z) == 0:
        logger.info(
            "log Z by AIS (%d runs x %d betas%s): %.4f, +-3 sigma interval [%.4f, %.4f]",
            n_runs,
            res.n_betas,
            "" if n_words is None else f", D={n_words}",
            res.log_z,
            res.log_z_low,
            res.log_z_high,
        )
        return
    width = np.asarray(res.log_z_high) - np.asarray(res.log_z_low)
    logger.info(
        "log Z by AIS (%d runs x %d betas) for %d lengths: +-3 sigma intervals %.3g to %.3g "
        "nats wide (median %.3g)",
        n_runs,
        res.n_betas,
        width.size,
        float(np.min(width)),
        float(np.max(width)),
        float(np.median(width)),
    )


class LikelihoodMixin:
    """Scores of a fitted RBM: ``log Z``, log-likelihood, perplexity, pseudo-likelihood.

    For :class:`boltz.RBM`, whose fitted state it reads: ``model_``, ``unit_``,
    ``data_mean_``, ``scale_`` (Gaussian visibles), ``random_state``, ``progress``,
    and the methods ``_check_fitted``, ``_check_X``, ``layer_``, ``free_energy`` and
    ``reconstruct``.
    """

    def score(self, X: Any, y: Any = None) -> float:
        """Mean pseudo-log-likelihood (Bernoulli visibles) or minus the reconstruction error."""
        self._check_fitted()
        X = self._check_X(X)
        if self.unit_.name == "bernoulli":
            return self.pseudo_likelihood(X)
        r = self.reconstruct(X)
        Xd = X.toarray() if is_sparse(X) else np.asarray(X)
        return -float(np.mean((r - Xd) ** 2))

    def pseudo_likelihood(self, X: Any) -> float:
        """Mean over rows of the exact pseudo-log-likelihood (Bernoulli visibles).

        See :func:`boltz.monitor.pseudo_log_likelihood`: the full sum over all
        visibles, not scikit-learn's single flipped bit scaled by n_features.
        """
        self._check_fitted()
        if self.unit_.name != "bernoulli":
            raise ConfigError("pseudo_likelihood is defined for visible='bernoulli' only.")
        X = self._check_X(X)
        layer = self.layer_
        vals = [
            pseudo_log_likelihood(self.model_, layer.standardize(take_rows(X, idx))) * len(idx)
            for idx in iter_batches(X.shape[0], 1024)
        ]
        return float(np.sum(vals) / X.shape[0])

    # ================================================================ likelihood
    def _lengths(self, X: Any) -> np.ndarray:
        return np.asarray(X.sum(axis=1)).ravel()

    def log_partition(
        self,
        method: str = "auto",
        *,
        n_words: Any = None,
        n_runs: int | None = None,
        n_betas: int | None = None,
        betas: Any = None,
        length_ratio: float = math.inf,
        return_bounds: bool = False,
        random_state: Any = None,
        progress: Any = None,
    ) -> Any:
        """``log Z`` of the model (of the standardised data for Gaussian visibles).

        Parameters
        ----------
        method : {"auto", "exact", "ais"}
            "exact" enumerates the smaller binary side and refuses beyond 2^24 states;
            "ais" estimates by annealed importance sampling; "auto" (default) is exact
            when the enumeration costs at most ~2^30 operations
            (:func:`exact_is_cheap`), AIS otherwise.  The AIS estimate and its +-3
            sigma interval are logged (``logging.INFO``).
        n_words : int or array of int
            Document length(s) for ``visible="softmax"``.
        n_runs, n_betas, betas
            AIS settings (Salakhutdinov & Murray 2008).  Defaults: 100 runs x 10,000
            inverse temperatures; for the replicated softmax 100 runs x 1,000 at the
            shortest length, then the length ladder (one step per word up to the
            longest length; see below and ``docs/rbm.md`` for the check against
            schedules 4x and 12x longer).
        length_ratio : float, default inf
            Replicated softmax with several lengths: a temperature schedule is run at
            the shortest length and at every length ``length_ratio`` times the last
            such *knot*; the lengths in between are reached from the knot below by
            the length ladder of :func:`boltz.likelihood.ais_log_partition` (one Gibbs
            step per length, an unbiased estimate of every ``Z_D``).  ``inf``: one
            schedule for all lengths; ``1``: one schedule per distinct length.
        return_bounds : bool
            Return the full :class:`boltz.likelihood.AISResult` (estimate and +-3 sigma
            interval; an exact result has a zero-width interval) instead of the estimate.
        random_state : None or int
            Seed of the AIS stream (independent of the training streams).
        progress : "auto", bool or None
            Progress bar over the AIS steps (None: the estimator's ``progress``).
        """
        self._check_fitted()
        n_words = self._check_n_words(n_words)
        if method not in ("auto", "exact", "ais"):
            raise ConfigError(f"method must be 'auto', 'exact' or 'ais'; got {method!r}.")
        softmax = self.unit_.name == "softmax"
        if method == "auto":
            n_len = 1 if n_words is None else int(np.size(n_words))
            method = "exact" if exact_is_cheap(self.model_, n_len) else "ais"
        if method == "exact":
            log_z = exact_log_partition(self.model_, n_words=n_words)
            if not return_bounds:
                return log_z
            return AISResult(log_z, log_z, log_z, np.zeros((*np.shape(log_z), 0)), 0)
        n_runs = 100 if n_runs is None else n_runs
        if betas is None and n_betas is None:
            n_betas = 1000 if softmax else 10000
        seed = make_streams(self.random_state if random_state is None else random_state, 4)[3]
        res: AISResult = ais_log_partition(
            self.model_,
            self.unit_.init_bias(self.data_mean_)
            if self.unit_.name != "gaussian"
            else self.data_mean_,
            n_runs=n_runs,
            n_betas=10000 if n_betas is None else n_betas,
            betas=betas,
            n_words=n_words,
            rng=self.model_.backend.generator(seed),
            length_ratio=length_ratio,
            progress=self.progress if progress is None else progress,
        )
        _log_ais(res, n_runs, n_words)
        return res if return_bounds else res.log_z

    def _check_n_words(self, n_words: Any) -> Any:
        """Document lengths must be whole numbers >= 0 (ConfigError otherwise)."""
        if n_words is None:
            return None
        a = np.asarray(n_words)
        numeric = a.dtype.kind in "iuf" and a.size > 0
        if not numeric or not (np.all(np.isfinite(a) & (a >= 0) & (a == np.round(a)))):
            raise ConfigError(f"n_words must be integer document length(s) >= 0; got {n_words!r}.")
        return int(a) if a.ndim == 0 else a.astype(np.int64)

    def _log_probs(self, X: Any, log_z: Any, **kw: Any) -> np.ndarray:
        X = self._check_X(X)
        f = self.free_energy(X).astype(np.float64)
        if self.unit_.name == "softmax":
            D = self._lengths(X)
            uniq, inv = np.unique(D, return_inverse=True)
            if log_z is None:
                log_z = self.log_partition(n_words=uniq.astype(np.int64), **kw)
            lz = np.asarray(log_z, dtype=np.float64)
            if lz.ndim > 1 or (lz.ndim == 1 and lz.shape[0] != len(uniq)):
                raise DataError(
                    f"log_z must be a scalar or one value per distinct document length "
                    f"({len(uniq)} here, sorted: {uniq[:5].astype(np.int64).tolist()}...); "
                    f"got shape {lz.shape}."
                )
            if lz.ndim == 0 and len(uniq) > 1:
                raise DataError(
                    f"a scalar log_z needs documents of one length; these have {len(uniq)} "
                    "distinct lengths (pass one value per length, sorted)."
                )
            lz = lz[inv] if lz.ndim else np.full(len(D), float(lz))
            return -f - lz
        if log_z is None:
            log_z = self.log_partition(**kw)
        lp = -f - float(log_z)
        if hasattr(self, "scale_"):
            lp = lp - np.log(self.scale_).sum()  # Jacobian of the standardisation
        return lp

    def log_likelihood(self, X: Any, log_z: Any = None, **kw: Any) -> float:
        """Mean log-likelihood per sample (nats), in data units.

        Parameters
        ----------
        X : array-like, shape (n, n_features)
        log_z : float or array, optional
            Precomputed ``log Z`` (for softmax: one value per distinct document length
            in sorted order, or a scalar when all documents have one length).
        **kw
            Passed to :meth:`log_partition` when ``log_z`` is None (``method``:
            "auto" by default, exact when cheap and AIS otherwise; ``n_runs``, ...).

        Notes
        -----
        For Gaussian visibles the density of the original data is returned, i.e. the
        standardised density minus ``sum(log scale_)``.  For the replicated softmax
        it is the probability of the ordered word sequence (no multinomial coefficient).
        """
        self._check_fitted()
        return float(np.mean(self._log_probs(X, log_z, **kw)))

    def perplexity(self, X: Any, log_z: Any = None, **kw: Any) -> float:
        """``exp(-sum_n log p(v_n) / sum_n D_n)`` for ``visible="softmax"``.

        ``log_z`` and ``**kw`` as in :meth:`log_likelihood`: by default ``log Z_D`` of
        every distinct length comes from :meth:`log_partition` with ``method="auto"``
        (AIS with one temperature schedule and the length ladder for real models),
        and the perplexity interval that the +-3 sigma intervals of the ``log Z_D``
        imply is logged.
        """
        self._check_fitted()
        if self.unit_.name != "softmax":
            raise ConfigError("perplexity is defined for visible='softmax' only.")
        X = self._check_X(X)
        D = self._lengths(X)
        words = float(D.sum())
        if words <= 0:
            raise DataError("perplexity needs at least one word; every document is empty.")
        res = None
        if log_z is None:
            uniq = np.unique(D).astype(np.int64)
            res = self.log_partition(n_words=uniq, return_bounds=True, **kw)
            log_z = res.log_z
        lp = self._log_probs(X, log_z)
        ppl = float(np.exp(-lp.sum() / words))
        if res is not None and res.n_betas:
            shift_hi = np.asarray(res.log_z_high) - np.asarray(res.log_z)
            shift_lo = np.asarray(res.log_z_low) - np.asarray(res.log_z)
            inv = np.searchsorted(np.unique(D), D)
            lo = ppl * math.exp(float(np.sum(shift_lo[inv])) / words)
            hi = ppl * math.exp(float(np.sum(shift_hi[inv])) / words)
            logger.info("perplexity %.2f, +-3 sigma interval of log Z: [%.2f, %.2f]", ppl, lo, hi)
        return ppl
