"""Regularised canonical correlation analysis (CCA) of two views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.linalg as sla

from boltz.errors import DataError

from ..base import ViewArrays, check_n_components
from ._paired import PAIRED_CONSTRAINTS, PairedBaseline, finite_number

__all__ = ["CCA"]


def _fix_signs(Wa: np.ndarray, Wb: np.ndarray) -> None:
    """Flip each component (of both views together) so that the largest-magnitude
    entry of its ``Wa`` column is positive: the output no longer depends on LAPACK's
    sign choice, and paired columns keep a positive correlation."""
    idx = np.argmax(np.abs(Wa), axis=0)
    signs = np.sign(Wa[idx, np.arange(Wa.shape[1])])
    signs[signs == 0] = 1.0
    Wa *= signs
    Wb *= signs


def solve_cca(
    Caa: np.ndarray, Cbb: np.ndarray, Cab: np.ndarray, n_components: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canonical directions of two views from their (regularised) covariances.

    Solves ``max w_a' C_ab w_b  s.t.  w_a' C_aa w_a = w_b' C_bb w_b = 1`` by whitening:
    with Cholesky factors ``C_aa = L_a L_a'`` and ``C_bb = L_b L_b'``, the SVD
    ``L_a^{-1} C_ab L_b^{-T} = U S V'`` gives ``W_a = L_a^{-T} U``, ``W_b = L_b^{-T} V``
    and the canonical correlations ``S``.

    Parameters
    ----------
    Caa : ndarray of shape (d_a, d_a)
    Cbb : ndarray of shape (d_b, d_b)
        Symmetric positive definite (ridge already added).
    Cab : ndarray of shape (d_a, d_b)
        Cross-covariance.
    n_components : int
        k, at most ``min(d_a, d_b)``.

    Returns
    -------
    W_a : ndarray of shape (d_a, k)
    W_b : ndarray of shape (d_b, k)
    correlations : ndarray of shape (k,)
        Descending.  ``W_a' C_aa W_a = I``, ``W_b' C_bb W_b = I`` and
        ``W_a' C_ab W_b = diag(correlations)``.

    Raises
    ------
    DataError
        ``C_aa`` or ``C_bb`` is not positive definite (constant or collinear
        features with ``reg=0``).
    """
    try:
        La = sla.cholesky(Caa, lower=True)
        Lb = sla.cholesky(Cbb, lower=True)
    except np.linalg.LinAlgError as e:
        raise DataError(
            "a view's covariance matrix is singular (constant or collinear features, or "
            "fewer samples than features); use reg > 0 or remove those features."
        ) from e
    # T = La^{-1} Cab Lb^{-T}
    T = sla.solve_triangular(La, Cab, lower=True)
    T = sla.solve_triangular(Lb, T.T, lower=True).T
    U, s, Vt = sla.svd(T, full_matrices=False)
    k = n_components
    Wa = sla.solve_triangular(La.T, U[:, :k], lower=False)
    Wb = sla.solve_triangular(Lb.T, Vt[:k].T, lower=False)
    _fix_signs(Wa, Wb)
    return Wa, Wb, s[:k].copy()


def ridge_covariance(Xc: np.ndarray, reg: float) -> np.ndarray:
    """``Xc' Xc / (n - 1) + r I`` with ``r = reg * trace(Xc' Xc / (n - 1)) / d``.

    Parameters
    ----------
    Xc : ndarray of shape (n, d)
        Centered data, n >= 2.
    reg : float
        Ridge relative to the mean variance of the features.
    """
    C = Xc.T @ Xc / (Xc.shape[0] - 1)
    C[np.diag_indices_from(C)] += reg * np.trace(C) / C.shape[0]
    return C


@dataclass(eq=False, repr=False)
class CCA(PairedBaseline):
    r"""Regularised canonical correlation analysis of two views (Hotelling 1936).

    With centered views ``X_a`` (n, d_a), ``X_b`` (n, d_b) and covariances
    ``C_ab = X_a' X_b / (n - 1)``, CCA finds directions ``W_a`` (d_a, k) and
    ``W_b`` (d_b, k) maximising the correlation of paired projections::

        max  w_a' C_ab w_b   s.t.  w_a' (C_aa + r_a I) w_a = w_b' (C_bb + r_b I) w_b = 1,

    the next components being uncorrelated with the previous ones.  The ridge is
    relative to each view's mean feature variance, so ``reg`` does not depend on
    the scale of the data::

        r_v = reg * trace(C_vv) / d_v.

    It is solved exactly by whitening: Cholesky factors ``C_aa + r_a I = L_a L_a'``
    (and for b), SVD ``L_a^{-1} C_ab L_b^{-T} = U S V'``, ``W_a = L_a^{-T} U_{:k}``,
    ``W_b = L_b^{-T} V_{:k}``; the canonical correlations are ``S_{:k}``.  With
    ``reg=0`` this is classical CCA: ``S^2`` are the eigenvalues of
    ``C_aa^{-1} C_ab C_bb^{-1} C_ba``.  Computation is in float64.

    Parameters
    ----------
    n_components : int, default 10
        Number of canonical pairs k, at most ``min(d_a, d_b)``.
    reg : float, default 1e-4
        Relative ridge (>= 0; 0 is unregularised CCA, which needs full-rank
        covariances).

    Attributes
    ----------
    view_names_ : tuple of str
        The two view names, in the order given to ``fit``.
    n_features_in_ : dict[str, int]
        Features per view.
    means_ : dict[str, ndarray of shape (d_v,)]
        Training means (subtracted before projecting).
    weights_ : dict[str, ndarray of shape (d_v, k)]
        Canonical directions; each column has unit regularised variance.
    correlations_ : ndarray of shape (k,)
        Canonical correlations of the regularised problem, descending.  With
        ``reg=0`` they equal the empirical correlations of the projected training
        pairs; with ``reg > 0`` they are slightly smaller.

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.baselines import CCA
    >>> views, _ = make_paired_views(500, dims=(30, 20), latent=5, random_state=0)
    >>> cca = CCA(n_components=5).fit(views)
    >>> emb = cca.transform({"view1": views["view1"]})
    >>> emb["view1"].shape
    (500, 5)
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **PAIRED_CONSTRAINTS,
        "reg": [finite_number(0)],
    }

    n_components: int = 10
    reg: float = 1e-4

    def _fit_views(self, V: ViewArrays) -> None:
        reg = float(self.reg)
        (a, Xa), (b, Xb) = V.items()
        n = Xa.shape[0]
        if n < 2:
            raise DataError(f"CCA needs at least 2 samples; got {n}.")
        k = check_n_components(
            self.n_components, min(Xa.shape[1], Xb.shape[1]), "min(n_features) of the two views"
        )
        ma, mb = Xa.mean(axis=0), Xb.mean(axis=0)
        Xa, Xb = Xa - ma, Xb - mb
        Cab = Xa.T @ Xb / (n - 1)
        Wa, Wb, corr = solve_cca(ridge_covariance(Xa, reg), ridge_covariance(Xb, reg), Cab, k)
        self.means_ = {a: ma, b: mb}
        self.correlations_ = corr
        self.weights_ = {a: Wa, b: Wb}  # last: marks the model fitted
