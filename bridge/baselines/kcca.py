"""Regularised kernel canonical correlation analysis (KCCA) of two views."""

from __future__ import annotations

import logging
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.linalg as sla
from sklearn.metrics.pairwise import linear_kernel, polynomial_kernel, rbf_kernel

from boltz.constraints import Check, Interval, Options, validate_params
from boltz.errors import ConfigError, DataError

from ..base import ViewArrays, check_n_components
from ._paired import PAIRED_CONSTRAINTS, PairedBaseline, finite_number
from .cca import _fix_signs, solve_cca

logger = logging.getLogger(__name__)

__all__ = ["EXACT_MAX_SAMPLES", "KCCA"]

#: With ``approx=None``, KCCA is solved exactly up to this many training samples
#: (a dense 2n x 2n symmetric eigenproblem) and by Nyström features above it.
EXACT_MAX_SAMPLES = 2000

_KERNELS = ("rbf", "poly", "linear")
_APPROX = (None, "exact", "nystrom")

#: What KCCA's hyperparameters may be (:mod:`boltz.constraints`, checked at ``fit``).
#: ``gamma`` is checked per view where it is used (rbf / poly, one value or a dict), and
#: ``degree`` with the poly kernel only (:data:`_POLY_CONSTRAINTS`).
KCCA_CONSTRAINTS: dict[str, list[Any]] = {
    **PAIRED_CONSTRAINTS,
    "kernel": [Options(*_KERNELS, what=f"one of {_KERNELS}")],
    "approx": [Options(*_APPROX, what=f"one of {_APPROX}")],
    # a real number, as before: booleans pass
    "coef0": [Check(lambda v: isinstance(v, numbers.Real) and np.isfinite(v), "a finite number")],
    "reg": [finite_number(0, strict=True)],
    "n_landmarks": [Interval(int, 1, None)],
}
_POLY_CONSTRAINTS: dict[str, list[Any]] = {"degree": [Interval(int, 1, None)]}


def _center_train(K: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``H K H`` with ``H = I - 11'/n``; also the column means and grand mean of ``K``."""
    col = K.mean(axis=0)
    grand = float(col.mean())
    Kc = K - col[None, :] - col[:, None] + grand
    return (Kc + Kc.T) / 2, col, grand


def _center_test(Kt: np.ndarray, col: np.ndarray, grand: float) -> np.ndarray:
    """Center a test kernel ``Kt`` (m, n) with the training statistics.

    ``Kt_c = Kt - 1_m col' - (Kt 1_n / n) 1_n' + grand``: the inner products of the
    test points' feature vectors with the training ones, both centered at the
    training feature mean."""
    return Kt - col[None, :] - Kt.mean(axis=1, keepdims=True) + grand


@dataclass(eq=False, repr=False)
class KCCA(PairedBaseline):
    r"""Regularised kernel CCA of two views (Hardoon, Szedmak & Shawe-Taylor 2004).

    **Exact solution.**  With centered training kernels ``K_a``, ``K_b`` (n, n)
    (``K_c = H K H``, ``H = I - 11'/n``), KCCA finds dual coefficients ``α_a``,
    ``α_b`` (n,) maximising::

        ρ = α_a' K_a K_b α_b / sqrt(α_a' (K_a + κ_a I)^2 α_a · α_b' (K_b + κ_b I)^2 α_b),

    the regularised form of Hardoon et al. (2004, Sect. 3.1), whose denominator
    ``α'K^2α + 2κ α'Kα + κ^2 α'α`` penalises the squared norm of the feature-space
    direction ``w = Φ'α`` (``α'Kα = |w|^2``).  The ridge is relative to each view's
    kernel scale, ``κ_v = reg · trace(K_v) / n`` (mean squared norm of the centered
    feature vectors), so ``reg`` does not depend on the scale of the kernel.
    Stationary points solve the symmetric-definite generalised eigenproblem::

        [0        K_a K_b] [α_a]     [(K_a + κ_a I)^2         0        ] [α_a]
        [K_b K_a        0] [α_b] = ρ [       0          (K_b + κ_b I)^2] [α_b].

    The symmetric square root of the right-hand matrix, ``diag(K_a + κ_a I,
    K_b + κ_b I)``, is known exactly from ``eigh(K_v)``; it reduces the problem to
    the standard symmetric one ``[[0, R_a R_b], [R_b R_a, 0]] [u; v] = ρ [u; v]``
    with ``R_v = K_v (K_v + κ_v I)^{-1}`` (no Cholesky factor of the squared matrix,
    whose condition number would be squared), solved for its k largest eigenvalues
    by :func:`scipy.linalg.eigh`.  Then ``α_v = (K_v + κ_v I)^{-1} u_v``, scaled so
    that ``α_v' (K_v + κ_v I)^2 α_v = n - 1`` (unit regularised variance, as in
    :class:`~bridge.baselines.CCA`).  A new point ``x`` is embedded as
    ``k_c(x) α_v``, its kernel row against the training points centered with the
    training statistics.  The cost is O(n^3) time and O(n^2) memory.

    **Nyström approximation** (``approx="nystrom"``, or ``approx=None`` with more
    than :data:`EXACT_MAX_SAMPLES` samples).  ``m = min(n_landmarks, n)`` training
    rows chosen uniformly without replacement by ``numpy.random.default_rng(
    random_state)`` (the same rows for both views) give features
    ``φ(x) = k(x, L) U Λ^{-1/2}`` from ``K_LL = U Λ U'`` (eigenvalues below
    ``1e-10 λ_max`` dropped), so ``φ(x)'φ(y) ≈ k(x, y)``.  Linear regularised CCA on
    the centered features ``Φ_v`` (n, r_v) with covariance ridge ``2 κ_v / (n - 1)``,
    ``κ_v = reg · |Φ_v|_F^2 / n``, is then the exact problem above for the Nyström
    kernel ``Φ_v Φ_v'`` without the ``κ^2 α'α`` term, so ``reg`` means the same in
    both modes.  Cost O(n m^2).

    With the linear kernel and a small ``reg`` the canonical correlations equal
    those of linear :class:`~bridge.baselines.CCA`.  Computation is in float64.

    Parameters
    ----------
    n_components : int, default 10
        Number of canonical pairs k (at most n, or the Nyström feature rank).
    kernel : {"rbf", "poly", "linear"}, default "rbf"
        ``exp(-γ |x - y|^2)``, ``(γ x'y + coef0)^degree`` or ``x'y``; the same kind
        for both views.
    gamma : float or dict[str, float], optional
        Kernel width of "rbf" / "poly", one value or one per view name.  None: per
        view, ``1 / (d_v · Var(X_v))`` over all entries of the training view
        (scikit-learn's ``gamma="scale"``).
    degree : int, default 3
        Degree of "poly".
    coef0 : float, default 1
        Constant of "poly".
    reg : float, default 1e-3
        Relative regularisation (> 0), see above.  Small values overfit: the
        training correlations approach 1 while held-out ones fall.
    approx : {None, "exact", "nystrom"}, default None
        None: exact up to :data:`EXACT_MAX_SAMPLES` samples, Nyström above.
    n_landmarks : int, default 500
        Nyström landmarks m.
    random_state : int or None, default 0
        Seed of the landmark choice.

    Attributes
    ----------
    view_names_ : tuple of str
    n_features_in_ : dict[str, int]
    method_ : {"exact", "nystrom"}
        How the model was solved.
    gammas_ : dict[str, float]
        Kernel width used per view (None for the linear kernel).
    kappas_ : dict[str, float]
        Absolute regularisation ``κ_v``.
    correlations_ : ndarray of shape (k,)
        Canonical correlations of the regularised training problem, descending.
    weights_ : dict[str, ndarray]
        Exact: dual coefficients ``α_v`` of shape (n_train, k).  Nyström:
        feature-space directions of shape (r_v, k).
    X_fit_ : dict[str, ndarray of shape (n_train, d_v)]
        Exact only: the training views (needed for test kernels).
    kernel_means_ : dict[str, tuple[ndarray of shape (n_train,), float]]
        Exact only: column means and grand mean of each uncentered training kernel.
    landmark_indices_ : ndarray of shape (m,)
        Nyström only: training rows used as landmarks.
    landmarks_ : dict[str, ndarray of shape (m, d_v)]
        Nyström only.
    nystrom_maps_ : dict[str, ndarray of shape (m, r_v)]
        Nyström only: ``U Λ^{-1/2}``.
    feature_means_ : dict[str, ndarray of shape (r_v,)]
        Nyström only: training means of the Nyström features.

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.baselines import KCCA
    >>> views, _ = make_paired_views(300, random_state=0)
    >>> emb = KCCA(n_components=4).fit(views).transform(views)
    >>> emb["view0"].shape
    (300, 4)
    """

    n_components: int = 10
    kernel: str = "rbf"
    gamma: float | Mapping[str, float] | None = None
    degree: int = 3
    coef0: float = 1
    reg: float = 1e-3
    approx: str | None = None
    n_landmarks: int = 500
    random_state: int | None = 0

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = KCCA_CONSTRAINTS

    # ------------------------------------------------------------------ helpers

    def _check_params(self) -> None:
        """The rule the table cannot state: ``degree`` matters (is checked) for "poly" only."""
        if self.kernel == "poly":
            validate_params(self, _POLY_CONSTRAINTS)

    def _gamma_for(self, name: str, X: np.ndarray) -> float | None:
        if self.kernel == "linear":
            return None
        g = self.gamma
        if isinstance(g, Mapping):
            if name not in g:
                raise ConfigError(f"gamma is a dict without an entry for view {name!r}: {g}.")
            g = g[name]
        if g is None:
            var = float(X.var())
            return 1.0 / (X.shape[1] * var) if var > 0 else 1.0
        if isinstance(g, bool) or not isinstance(g, numbers.Real) or not g > 0:
            raise ConfigError(f"gamma must be a number > 0 (or None); got {g!r}.")
        return float(g)

    def _kernel(self, X: np.ndarray, Y: np.ndarray, gamma: float | None) -> np.ndarray:
        if self.kernel == "rbf":
            return rbf_kernel(X, Y, gamma=gamma)
        if self.kernel == "poly":
            return polynomial_kernel(X, Y, degree=self.degree, gamma=gamma, coef0=self.coef0)
        return linear_kernel(X, Y)

    # ---------------------------------------------------------------------- fit

    def _fit_views(self, V: ViewArrays) -> None:
        self._check_params()
        reg = float(self.reg)
        n = next(iter(V.values())).shape[0]
        if n < 2:
            raise DataError(f"KCCA needs at least 2 samples; got {n}.")
        self.gammas_ = {k: self._gamma_for(k, X) for k, X in V.items()}
        exact = self.approx == "exact" or (self.approx is None and n <= EXACT_MAX_SAMPLES)
        if exact:
            self._fit_exact(V, reg)
        else:
            if self.approx is None:
                logger.info(
                    "KCCA: %d samples > EXACT_MAX_SAMPLES=%d, using Nyström features with "
                    "%d landmarks (pass approx='exact' to force the exact solution).",
                    n,
                    EXACT_MAX_SAMPLES,
                    min(self.n_landmarks, n),
                )
            self._fit_nystrom(V, reg)

    def _fit_exact(self, V: dict[str, np.ndarray], reg: float) -> None:
        n = next(iter(V.values())).shape[0]
        k = check_n_components(self.n_components, n, "the number of training samples")
        eig, R, kappas, means = {}, {}, {}, {}
        for name, X in V.items():
            Kc, col, grand = _center_train(self._kernel(X, X, self.gammas_[name]))
            scale = float(np.trace(Kc)) / n
            if not scale > 0:
                raise DataError(
                    f"the centered kernel of view {name!r} is zero (a constant view?); "
                    "KCCA cannot use it."
                )
            kappa = reg * scale
            lam, U = sla.eigh(Kc)
            lam = np.clip(lam, 0.0, None)
            eig[name], kappas[name], means[name] = (lam, U, kappa), kappa, (col, grand)
            R[name] = (U * (lam / (lam + kappa))) @ U.T
        a, b = V
        M = R[a] @ R[b]
        S = np.zeros((2 * n, 2 * n))
        S[:n, n:] = M
        S[n:, :n] = M.T
        rho, Z = sla.eigh(S, subset_by_index=[2 * n - k, 2 * n - 1])
        rho, Z = rho[::-1], Z[:, ::-1]
        alphas = {}
        for name, Zv in ((a, Z[:n]), (b, Z[n:])):
            lam, U, kappa = eig[name]
            # u_v has norm 1/sqrt(2) in the joint eigenvector; rescale to |u_v| = 1.
            u = Zv * np.sqrt(2.0)
            alphas[name] = (U / (lam + kappa)) @ (U.T @ u) * np.sqrt(n - 1)
        _fix_signs(alphas[a], alphas[b])
        self.method_ = "exact"
        self.kappas_ = kappas
        self.correlations_ = np.clip(rho, 0.0, None)
        self.X_fit_ = dict(V)
        self.kernel_means_ = means
        self.weights_ = alphas  # last: marks the model fitted

    def _fit_nystrom(self, V: dict[str, np.ndarray], reg: float) -> None:
        n = next(iter(V.values())).shape[0]
        m = min(self.n_landmarks, n)
        rng = np.random.default_rng(self.random_state)
        idx = np.sort(rng.choice(n, size=m, replace=False))
        landmarks, maps, fmeans, feats, kappas = {}, {}, {}, {}, {}
        for name, X in V.items():
            L = X[idx]
            lam, U = sla.eigh(self._kernel(L, L, self.gammas_[name]))
            keep = lam > 1e-10 * max(float(lam[-1]), 0.0)
            if not keep.any():
                raise DataError(
                    f"the landmark kernel of view {name!r} is zero; KCCA cannot use this view."
                )
            Mv = U[:, keep] / np.sqrt(lam[keep])
            Phi = self._kernel(X, L, self.gammas_[name]) @ Mv
            mu = Phi.mean(axis=0)
            Phi -= mu
            kappa = reg * float(np.sum(Phi * Phi)) / n
            if not kappa > 0:
                raise DataError(
                    f"the Nyström features of view {name!r} are constant (a constant view?); "
                    "KCCA cannot use it."
                )
            landmarks[name], maps[name], fmeans[name] = L, Mv, mu
            feats[name], kappas[name] = Phi, kappa
        a, b = V
        Pa, Pb = feats[a], feats[b]
        k = check_n_components(
            self.n_components,
            min(Pa.shape[1], Pb.shape[1]),
            "the rank of the Nyström features of the two views",
        )
        Caa = Pa.T @ Pa / (n - 1)
        Cbb = Pb.T @ Pb / (n - 1)
        Caa[np.diag_indices_from(Caa)] += 2 * kappas[a] / (n - 1)
        Cbb[np.diag_indices_from(Cbb)] += 2 * kappas[b] / (n - 1)
        Wa, Wb, corr = solve_cca(Caa, Cbb, Pa.T @ Pb / (n - 1), k)
        self.method_ = "nystrom"
        self.kappas_ = kappas
        self.correlations_ = corr
        self.landmark_indices_ = idx
        self.landmarks_ = landmarks
        self.nystrom_maps_ = maps
        self.feature_means_ = fmeans
        self.weights_ = {a: Wa, b: Wb}  # last: marks the model fitted

    # ---------------------------------------------------------------- transform

    def _project(self, name: str, X: np.ndarray) -> np.ndarray:
        """Exact: ``k_c(X_v, X_fit_v) @ weights_[v]`` with the test kernel centered by
        the training statistics.  Nyström: ``(k(X_v, L_v) @ nystrom_maps_[v] -
        feature_means_[v]) @ weights_[v]``."""
        g = self.gammas_[name]
        if self.method_ == "exact":
            col, grand = self.kernel_means_[name]
            Kt = _center_test(self._kernel(X, self.X_fit_[name], g), col, grand)
            return Kt @ self.weights_[name]
        Phi = self._kernel(X, self.landmarks_[name], g) @ self.nystrom_maps_[name]
        return (Phi - self.feature_means_[name]) @ self.weights_[name]
