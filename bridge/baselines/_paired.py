"""What the classical two-view baselines share: one ``fit``, the linear ``transform`` and
the constraint table of ``n_components`` (:mod:`boltz.constraints`)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np

from boltz.constraints import Interval, validate_params

from ..base import MultiViewModel, ViewArrays, Views

__all__ = ["PAIRED_CONSTRAINTS", "PairedBaseline", "finite_number"]

#: What the hyperparameters every baseline has may be; a baseline's own
#: ``_parameter_constraints`` extends it (the bound on ``n_components`` set by the data
#: is checked in ``_fit_views``).
PAIRED_CONSTRAINTS: dict[str, list[Any]] = {"n_components": [Interval(int, 1, None)]}


def finite_number(left: float, *, strict: bool = False) -> Interval:
    """A finite real number (not a bool) >= ``left`` (> ``left`` with ``strict``), worded
    ``"a finite number >= 0"``.

    Parameters
    ----------
    left : float
        The lower bound.
    strict : bool, default False
        Whether ``left`` itself is refused.

    Returns
    -------
    boltz.constraints.Interval
    """
    op = ">" if strict else ">="
    return Interval(
        float,
        left,
        None,
        closed="neither" if strict else "both",
        what=f"a finite number {op} {left:g}",
    )


class PairedBaseline(MultiViewModel):
    """Base of CCA, CFA and KCCA: unsupervised, exactly two views, float64.

    Subclasses implement :meth:`_fit_views`; :meth:`transform` embeds each view with
    :meth:`_project`, the linear projection ``(X_v - means_[v]) @ weights_[v]`` unless
    overridden (KCCA's kernel embedding).
    """

    min_views: ClassVar[int] = 2
    max_views: ClassVar[int | None] = 2
    _fitted_attrs: ClassVar[tuple[str, ...]] = ("weights_",)
    #: What each hyperparameter may be (:func:`boltz.constraints.validate_params`, at
    #: ``fit`` once the views are validated).
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = PAIRED_CONSTRAINTS

    def _fit(self, views: Any, y: Any, views_val: Any, y_val: Any) -> None:
        """Validate (``y``, ``views_val``, ``y_val`` are validated, then unused: these
        methods are unsupervised and not iterative) and check the hyperparameters against
        ``_parameter_constraints``, then :meth:`_fit_views`."""
        V, _, _, _ = self._validate_fit(views, y, views_val, y_val, dtype=np.float64)
        validate_params(self, self._parameter_constraints)
        self._fit_views(V)

    @abstractmethod
    def _fit_views(self, V: ViewArrays) -> None:
        """Learn from the validated views ``{name: (n_samples, d_v)}`` (float64); set
        ``weights_`` last (it marks the model fitted)."""

    def transform(self, views: Views) -> dict[str, np.ndarray]:
        """Project each given view (:meth:`_project`; CCA and CFA: ``(X_v - means_[v]) @
        weights_[v]``).

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            One or both fitted views.

        Returns
        -------
        dict[str, ndarray of shape (n_samples, n_components)]
        """
        V = self._validate_transform(views, dtype=np.float64)
        return {k: self._project(k, X) for k, X in V.items()}

    def _project(self, name: str, X: np.ndarray) -> np.ndarray:
        """The embedding ``(n_samples, n_components)`` of the validated view ``name``."""
        return (X - self.means_[name]) @ self.weights_[name]
