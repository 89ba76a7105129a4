"""DRUMN's instance weights (Active Bias histories of batch "probabilities") and the
correlation and CCA that take per-pair weights; see :mod:`bridge.models.drumn`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = [
    "BestHistory",
    "WeightHistory",
    "batch_probability",
    "normalized_weights",
    "std_conf",
    "weighted_cca",
    "weighted_total_correlation",
]


def std_conf(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    r"""Active-bias uncertainty of stored histories: ``sqrt(var + var² / (|H| - 1))``.

    Parameters
    ----------
    values : ndarray of shape (n, h)
        Ring buffers of the last ``h`` values of ``n`` instances (unused slots are
        ignored).
    counts : ndarray of int, shape (n,)
        How many values each instance has stored (only the last ``h`` are kept).

    Returns
    -------
    ndarray of shape (n,)
        The sample variance (``ddof=1``) of each history plus its confidence term;
        NaN where fewer than two values are stored.

    Examples
    --------
    >>> std_conf(np.array([[1.0, 3.0, 0.0]]), np.array([2]))  # var = 2
    array([2.44948974])
    """
    h = values.shape[1]
    k = np.minimum(counts, h)
    filled = np.arange(h)[None, :] < k[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(filled, values, 0.0).sum(1) / k
        var = np.where(filled, (values - mean[:, None]) ** 2, 0.0).sum(1) / (k - 1)
        out = np.sqrt(var + var**2 / (k - 1))
    out[k < 2] = np.nan
    return out


def weighted_total_correlation(
    H1: torch.Tensor,
    H2: torch.Tensor,
    weights: torch.Tensor | None = None,
    reg: float = 1e-4,
    eps: float = 1e-12,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Total canonical correlation with per-pair weights, and each pair's score.

    Parameters
    ----------
    H1 : Tensor of shape (m, o1)
    H2 : Tensor of shape (m, o2)
        Paired outputs (centered here, unweighted).
    weights : Tensor of shape (m,), optional
        ``γ_i >= 0``, rescaled to mean 1; they weigh each pair's term of the
        cross-covariance ``Σ12 = sum_i γ_i h1_i h2_i' / (m - 1)``.  The auto-covariances
        (the whitening constraints) are unweighted.  None: all ones (then the value is
        the DCCA objective of :func:`bridge.models.dcca.total_correlation`).
    reg : float, default 1e-4
        Ridge added to the diagonals of ``Σ11`` and ``Σ22``.
    eps : float, default 1e-12
        Eigenvalues of ``T'T`` are clamped at ``eps`` before the square root.

    Returns
    -------
    corr : Tensor, scalar
        Sum of the singular values of ``Σ11^{-1/2} Σ12 Σ22^{-1/2}`` (differentiable).
    scores : Tensor of shape (m,)
        ``C_i = sum_l u_il v_il`` (detached): pair ``i``'s term of the canonical
        correlations, with ``u = H1 Σ11^{-1/2} A`` and ``v = H2 Σ22^{-1/2} B`` the
        canonical variates (``A, B`` the singular vectors).  ``sum_i C_i / (m - 1)``
        is the unweighted total correlation; anomalous pairs score low.
    """
    m = H1.shape[0]
    if m < 2:
        raise ValueError(f"weighted_total_correlation needs at least 2 rows; got {m}.")
    H1 = H1 - H1.mean(dim=0, keepdim=True)
    H2 = H2 - H2.mean(dim=0, keepdim=True)
    I1 = torch.eye(H1.shape[1], dtype=H1.dtype, device=H1.device)
    I2 = torch.eye(H2.shape[1], dtype=H2.dtype, device=H2.device)
    S11 = H1.T @ H1 / (m - 1) + reg * I1
    S22 = H2.T @ H2 / (m - 1) + reg * I2
    if weights is None:
        W1 = H1
    else:
        w = weights.to(H1.dtype)
        W1 = H1 * (w * (m / w.sum().clamp_min(1e-12)))[:, None]
    S12 = W1.T @ H2 / (m - 1)
    L1 = torch.linalg.cholesky(S11)
    L2 = torch.linalg.cholesky(S22)
    T = torch.linalg.solve_triangular(L1, S12, upper=False)
    T = torch.linalg.solve_triangular(L2, T.T, upper=False).T
    M = T.T @ T if T.shape[1] <= T.shape[0] else T @ T.T
    corr = torch.sqrt(torch.clamp(torch.linalg.eigvalsh(M), min=eps)).sum()
    with torch.no_grad():
        A1 = torch.linalg.solve_triangular(L1, H1.T, upper=False).T  # whitened rows
        A2 = torch.linalg.solve_triangular(L2, H2.T, upper=False).T
        U, _, Vh = torch.linalg.svd(T, full_matrices=False)
        scores = ((A1 @ U) * (A2 @ Vh.T)).sum(1)
    return corr, scores


class WeightHistory:
    """Ring buffers of the energies (per view) and correlation scores of the instances."""

    def __init__(self, n: int, names: Sequence[str], size: int) -> None:
        self.size = size
        self.energy = {k: np.zeros((n, size)) for k in names}
        self.n_energy = {k: np.zeros(n, dtype=np.int64) for k in names}
        self.corr = np.zeros((n, size))
        self.n_corr = np.zeros(n, dtype=np.int64)

    @staticmethod
    def _push(buf: np.ndarray, cnt: np.ndarray, idx: np.ndarray, vals: np.ndarray) -> None:
        buf[idx, cnt[idx] % buf.shape[1]] = vals
        cnt[idx] += 1

    def push_energy(self, k: str, idx: np.ndarray, vals: np.ndarray) -> None:
        self._push(self.energy[k], self.n_energy[k], idx, vals)

    def push_corr(self, idx: np.ndarray, vals: np.ndarray) -> None:
        self._push(self.corr, self.n_corr, idx, vals)

    def energy_uncertainty(self, k: str, idx: np.ndarray) -> np.ndarray:
        return std_conf(self.energy[k][idx], self.n_energy[k][idx])

    def corr_uncertainty(self, idx: np.ndarray) -> np.ndarray:
        return std_conf(self.corr[idx], self.n_corr[idx])

    def copy(self) -> WeightHistory:
        new = WeightHistory.__new__(WeightHistory)
        new.size = self.size
        new.energy = {k: v.copy() for k, v in self.energy.items()}
        new.n_energy = {k: v.copy() for k, v in self.n_energy.items()}
        new.corr = self.corr.copy()
        new.n_corr = self.n_corr.copy()
        return new


class BestHistory:
    """Wraps a validation function; keeps the weight history of the best epoch so far.

    ``train_loop`` restores the parameters of the best validation epoch; the final
    weights ``ω, γ`` must come from the history up to that same epoch, not from the
    epochs trained after it.  The improvement rule is ``train_loop``'s.
    """

    def __init__(self, hist: WeightHistory, validate: Any, maximize: bool) -> None:
        self.hist, self.validate, self.maximize = hist, validate, maximize
        self.epoch, self.best, self.best_epoch, self.snapshot = 0, -np.inf, 0, None

    def __call__(self) -> float:
        score = float(self.validate())
        self.epoch += 1
        signed = score if self.maximize else -score
        if self.snapshot is None or signed > self.best + 1e-7 * max(1.0, abs(self.best)):
            self.best, self.best_epoch = signed, self.epoch
            self.snapshot = self.hist.copy()
        return score


def batch_probability(values: np.ndarray, *, higher_is_normal: bool) -> np.ndarray:
    r"""Map a batch of energies / correlation scores to (0, 1) "probabilities".

    ``p_i = sigmoid(±(v_i - median(v)) / s)`` with ``s`` the scaled median absolute
    deviation of the batch (``1.4826 MAD``, the standard deviation for Gaussian
    values); the sign makes typical rows ``≈ 0.5``, clearly abnormal ones (high
    energy, low correlation) ``≈ 0`` and clearly easy ones ``≈ 1``.

    Parameters
    ----------
    values : ndarray of shape (m,)
    higher_is_normal : bool
        True for correlation scores, False for energies.

    Returns
    -------
    ndarray of shape (m,)
    """
    v = np.asarray(values, dtype=np.float64)
    med = np.median(v)
    mad = 1.4826 * np.median(np.abs(v - med))
    scale = mad if mad > 0 else (v.std() if v.std() > 0 else 1.0)
    z = (v - med) / scale
    if not higher_is_normal:
        z = -z
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, overflow-free


def normalized_weights(s: np.ndarray) -> np.ndarray:
    """Weights of mean 1 from uncertainties (NaN -- no history yet -- counts as 1)."""
    ok = np.isfinite(s)
    w = np.ones_like(s)
    if ok.any():
        mean = s[ok].mean()
        w[ok] = s[ok] / mean if mean > 0 else 1.0
    return w


def weighted_cca(
    H1: np.ndarray, H2: np.ndarray, w: np.ndarray, k: int, reg: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Linear CCA of weighted pairs: means, projections (o_v, k) and correlations."""
    w = np.asarray(w, dtype=np.float64)
    w = w / w.sum()
    mu1, mu2 = w @ H1, w @ H2
    A, B = H1 - mu1, H2 - mu2
    S11 = (A * w[:, None]).T @ A + reg * np.eye(A.shape[1])
    S22 = (B * w[:, None]).T @ B + reg * np.eye(B.shape[1])
    S12 = (A * w[:, None]).T @ B
    L1, L2 = np.linalg.cholesky(S11), np.linalg.cholesky(S22)
    T = np.linalg.solve(L1, S12)
    T = np.linalg.solve(L2, T.T).T
    U, s, Vt = np.linalg.svd(T, full_matrices=False)
    W1 = np.linalg.solve(L1.T, U[:, :k])
    W2 = np.linalg.solve(L2.T, Vt.T[:, :k])
    # sign convention: the largest-magnitude entry of each view-1 direction is positive
    sign = np.sign(W1[np.argmax(np.abs(W1), axis=0), np.arange(k)])
    sign[sign == 0] = 1.0
    return mu1, mu2, W1 * sign, W2 * sign, s[:k]
