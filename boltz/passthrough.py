"""A pathway of no layers for :class:`boltz.MultimodalDBN`: the view's own units.

Binary views (image-annotation keywords, blob tokens, bag-of-words presence) can
enter the joint layer as they are: the joint RBM's Bernoulli visible units are
then the view's own, generating the view is reading the joint layer's visible
means, and nothing is lost in a pathway trained without the other view.  On
Corel5k a 256-unit Bernoulli pathway for the 374 keywords cut the keywords the
joint layer could produce to a fraction (see ``docs/multimodal.md``).

:class:`Passthrough` has the part of :class:`boltz.DBN`'s interface the
multimodal DBN uses (``fit``, ``transform``, ``up_device``, ``layers_ == []``,
checkpoints) so it can stand wherever a pathway DBN stands.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from .backend import Backend, get_backend
from .checkpoint import CheckpointError, need
from .errors import DataError, DataTypeError, NotFittedError

__all__ = ["Passthrough"]


class Passthrough(BaseEstimator):
    """The identity pathway: values in [0, 1] become joint visible units unchanged.

    Parameters
    ----------
    dtype : {"float32", "float64"}, default "float32"

    Attributes
    ----------
    n_features_in_ : int
        Width of the view (and of its part of the joint layer).
    layers_ : list
        Always empty (no RBM layers).

    Examples
    --------
    >>> import numpy as np, boltz
    >>> from boltz.passthrough import Passthrough
    >>> Passthrough().fit(np.eye(3)).transform(np.eye(3)).dtype
    dtype('float32')
    """

    def __init__(self, dtype: str = "float32") -> None:
        self.dtype = dtype

    # ------------------------------------------------------------------ state
    def _is_complete(self) -> bool:
        return hasattr(self, "n_features_in_")

    def _check_fitted(self) -> None:
        if not self._is_complete():
            raise NotFittedError("This Passthrough pathway is not fitted yet; call fit(X).")

    def _check_params(self) -> None:
        get_backend("cpu", self.dtype)  # validates dtype

    @property
    def n_top_(self) -> int:
        """Width of the top layer (the view itself)."""
        self._check_fitted()
        return int(self.n_features_in_)

    # ------------------------------------------------------------------ data
    def check_input(self, X: Any, name: str = "X") -> np.ndarray:
        """``X`` as a dense host array of this dtype; values must lie in [0, 1].

        Raises
        ------
        DataTypeError, DataError
        """
        if X is None:
            raise DataTypeError(f"{name} must be a 2-D array; got None.")
        try:
            x = X.toarray() if sp.issparse(X) else np.asarray(X)
        except Exception as e:
            raise DataTypeError(f"{name} could not be converted to an array: {e}") from e
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
            raise DataTypeError(f"{name} must hold numbers; got dtype {x.dtype}.")
        if x.ndim != 2:
            raise DataError(f"{name} must be 2-D (n_samples, n_features); got shape {x.shape}.")
        x = x.astype(np.dtype(self.dtype), copy=False)
        if hasattr(self, "n_features_in_") and x.shape[1] != self.n_features_in_:
            raise DataError(
                f"{name} has {x.shape[1]} features but this pathway was fitted with "
                f"{self.n_features_in_}."
            )
        if not np.isfinite(x).all():
            raise DataError(f"{name} has NaN or infinite values.")
        if x.size and (x.min() < 0 or x.max() > 1):
            raise DataError(
                f"{name} has values outside [0, 1] (min {x.min():g}, max {x.max():g}); a "
                "Passthrough pathway feeds Bernoulli units: give it 0/1 data or probabilities, "
                "or use a DBN pathway."
            )
        return x

    def fit(self, X: Any, y: Any = None, X_val: Any = None) -> Passthrough:
        """Record the width of the view (and check its values).

        Parameters
        ----------
        X : array-like or sparse, shape (n_samples, n_features), values in [0, 1]
        y, X_val : ignored (X_val is checked)

        Returns
        -------
        self
        """
        self._check_params()
        self.__dict__.pop("n_features_in_", None)
        x = self.check_input(X, "X")
        if x.shape[0] == 0:
            raise DataError("X has no rows.")
        if X_val is not None:
            v = self.check_input(X_val, "X_val")
            if v.shape[1] != x.shape[1]:
                raise DataError(f"X_val has {v.shape[1]} features but X has {x.shape[1]}.")
        self.n_features_in_ = int(x.shape[1])
        self.layers_: list = []
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The view itself, shape (n_samples, n_features_in_), as a dense float array."""
        self._check_fitted()
        return self.check_input(X, "X")

    # ------------------------------------------------------------------ device passes
    def up_device(self, rows: Any) -> tuple[Any, Backend]:
        """Rows already validated by :meth:`check_input` -> the top (the rows) on the device.

        The counterpart of :meth:`boltz.DBN.up_device`.
        """
        be = get_backend("cpu", self.dtype)
        x = rows.toarray() if sp.issparse(rows) else rows
        return be.asarray(np.asarray(x, dtype=np.dtype(self.dtype))), be

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(meta, arrays)`` of the pathway (its width and dtype; no arrays)."""
        self._check_fitted()
        meta = {"class": "Passthrough", "dtype": str(self.dtype), "n_features_in": self.n_top_}
        return meta, {}

    @classmethod
    def from_checkpoint_state(
        cls, meta: dict, arrays: dict, device: str = "auto", where: str = "pathway"
    ) -> Passthrough:
        """Rebuild a fitted pathway from :meth:`checkpoint_state` output (CheckpointError)."""
        if arrays:
            raise CheckpointError(f"checkpoint {where} (Passthrough) has unexpected arrays.")
        n = need(meta, "n_features_in", int, where)
        dtype = need(meta, "dtype", str, where)
        if isinstance(n, bool) or n < 1 or dtype not in ("float32", "float64"):
            raise CheckpointError(f"checkpoint {where}: invalid Passthrough {meta!r}.")
        p = cls(dtype=dtype)
        p.n_features_in_ = int(n)
        p.layers_ = []
        return p
