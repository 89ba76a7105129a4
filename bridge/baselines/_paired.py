"""What the classical two-view baselines share: one ``fit`` and the linear ``transform``."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np

from ..base import MultiViewModel, ViewArrays, Views

__all__ = ["PairedBaseline"]


class PairedBaseline(MultiViewModel):
    """Base of CCA, CFA and KCCA: unsupervised, exactly two views, float64.

    Subclasses implement :meth:`_fit_views`; :meth:`transform` embeds each view with
    :meth:`_project`, the linear projection ``(X_v - means_[v]) @ weights_[v]`` unless
    overridden (KCCA's kernel embedding).
    """

    min_views: ClassVar[int] = 2
    max_views: ClassVar[int | None] = 2
    _fitted_attrs: ClassVar[tuple[str, ...]] = ("weights_",)

    def _fit(self, views: Any, y: Any, views_val: Any, y_val: Any) -> None:
        """Validate (``y``, ``views_val``, ``y_val`` are validated, then unused: these
        methods are unsupervised and not iterative), then :meth:`_fit_views`."""
        V, _, _, _ = self._validate_fit(views, y, views_val, y_val, dtype=np.float64)
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
