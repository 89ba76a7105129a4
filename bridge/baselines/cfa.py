"""Cross-modal factor analysis (CFA) of two views."""

from __future__ import annotations

from dataclasses import dataclass

import scipy.linalg as sla

from ..base import ViewArrays, check_n_components
from ._paired import PairedBaseline
from .cca import _fix_signs

__all__ = ["CFA"]


@dataclass(eq=False, repr=False)
class CFA(PairedBaseline):
    r"""Cross-modal factor analysis (Li, Dimitrova, Li & Sethi, ACM MM 2003).

    CFA finds orthonormal projections ``W_a`` (d_a, k) and ``W_b`` (d_b, k) that
    bring paired samples together in a common space::

        min  |X_a W_a - X_b W_b|_F^2   s.t.  W_a' W_a = W_b' W_b = I,

    with ``X_a`` (n, d_a) and ``X_b`` (n, d_b) the centered training views.  As
    ``|X_a W_a|_F^2 = trace(W_a' X_a' X_a W_a)`` is not fixed, this is not CCA: the
    solution maximises ``trace(W_a' X_a' X_b W_b)`` and is given by the SVD
    ``X_a' X_b = U S V'``: ``W_a = U_{:k}``, ``W_b = V_{:k}``.  Unlike CCA there is
    no whitening, so CFA depends on the scale of each feature (standardise the
    views first if their units differ).  Computation is in float64.

    Parameters
    ----------
    n_components : int, default 10
        Number of factor pairs k, at most ``min(d_a, d_b)``.

    Attributes
    ----------
    view_names_ : tuple of str
    n_features_in_ : dict[str, int]
    means_ : dict[str, ndarray of shape (d_v,)]
        Training means.
    weights_ : dict[str, ndarray of shape (d_v, k)]
        Orthonormal columns (the singular vectors).
    singular_values_ : ndarray of shape (k,)
        Leading singular values of ``X_a' X_b`` (centered views), descending.

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.baselines import CFA
    >>> views, _ = make_paired_views(200, random_state=0)
    >>> CFA(n_components=3).fit(views).transform(views)["view0"].shape
    (200, 3)
    """

    n_components: int = 10

    def _fit_views(self, V: ViewArrays) -> None:
        (a, Xa), (b, Xb) = V.items()
        k = check_n_components(
            self.n_components, min(Xa.shape[1], Xb.shape[1]), "min(n_features) of the two views"
        )
        ma, mb = Xa.mean(axis=0), Xb.mean(axis=0)
        U, s, Vt = sla.svd((Xa - ma).T @ (Xb - mb), full_matrices=False)
        Wa, Wb = U[:, :k].copy(), Vt[:k].T.copy()
        _fix_signs(Wa, Wb)
        self.means_ = {a: ma, b: mb}
        self.singular_values_ = s[:k].copy()
        self.weights_ = {a: Wa, b: Wb}  # last: marks the model fitted
