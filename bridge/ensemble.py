"""An average of several fits of one multi-view model: :class:`SeedEnsemble`.

The members are clones of one estimator that differ only in ``random_state``; each
embeds a view on its own and the ensemble concatenates the members' row-normalised
embeddings, divided by ``sqrt(n_models)``.  The cosine similarity of two such
concatenations is the mean of the members' cosine similarities, so retrieval by
cosine ranks by the average similarity of the members -- the variance of one
random initialisation averaged away.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import clone

from boltz.atomic import atomic_directory
from boltz.checkpoint import need, read_checkpoint, write_checkpoint
from boltz.constraints import Check, Interval, validate_params
from boltz.errors import CheckpointError, DataError

from .base import MultiViewModel

__all__ = ["SeedEnsemble", "average_cosine"]

logger = logging.getLogger(__name__)

_META = "ensemble.npz"

#: What SeedEnsemble's parameters may be (:mod:`boltz.constraints`), checked at ``fit``.
ENSEMBLE_CONSTRAINTS: dict[str, list[Any]] = {
    "estimator": [
        Check(
            lambda v: isinstance(v, MultiViewModel) and "random_state" in v.get_params(),
            "a bridge model with a random_state parameter",
        )
    ],
    "n_models": [Interval(int, 1, None)],
    "random_state": [Interval(int, 0, None)],
}


def average_cosine(embeddings: Sequence[Mapping[str, ArrayLike]]) -> dict[str, np.ndarray]:
    """Several models' embeddings of the same rows as one, ranking by their mean cosine.

    Parameters
    ----------
    embeddings : sequence of dict[str, array-like of shape (n_samples, width_m)]
        One ``transform`` result per model, the same views and rows in each.

    Returns
    -------
    dict[str, ndarray of shape (n_samples, sum of width_m)]
        float32: each model's rows scaled to unit norm and by ``1 / sqrt(n_models)``,
        side by side, so ``a @ b`` is the mean of the models' cosine similarities.
        A zero row stays zero.
    """
    if not embeddings:
        raise DataError("average_cosine needs at least one embedding.")
    scale = np.float32(1.0 / np.sqrt(len(embeddings)))  # keeps float32 (NumPy 2 promotion)
    parts: dict[str, list[np.ndarray]] = {}
    for Z in embeddings:
        if set(Z) != set(embeddings[0]):
            raise DataError("every embedding must hold the same views.")
        for k, A in Z.items():
            A = np.asarray(A, dtype=np.float32)
            norm = np.linalg.norm(A, axis=1, keepdims=True)
            parts.setdefault(k, []).append(A / np.maximum(norm, 1e-12) * scale)
    return {k: np.hstack(v) for k, v in parts.items()}


def _member_file(name: str) -> bool:
    """Whether an entry of a saved ensemble's directory belongs to it."""
    return name == _META or name.startswith("member")


@dataclass(eq=False, repr=False)
class SeedEnsemble(MultiViewModel):
    """``n_models`` fits of ``estimator``, seeds ``random_state``, ``random_state + 1``, ...

    Parameters
    ----------
    estimator : MultiViewModel
        The model to fit several times (cloned; a fitted ``stage1`` or other fitted
        part it holds is shared by every member).  It must have ``random_state``.
    n_models : int, default 5
    random_state : int, default 0
        Member ``i`` is fitted with ``random_state + i``.

    Attributes
    ----------
    estimators_ : list of MultiViewModel
        The fitted members, in seed order.
    view_names_ : tuple of str
    n_features_in_ : dict[str, int]
    n_components_ : int
        ``n_models`` times a member's embedding width.

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.models.dcca import DCCA
    >>> views, _ = make_paired_views(300, dims=(12, 8), latent=3, random_state=0)
    >>> dcca = DCCA(n_components=3, hidden=(16,), epochs=2, batch_size=100)
    >>> ens = SeedEnsemble(dcca, n_models=2).fit(views)
    >>> ens.transform(views)["view0"].shape
    (300, 6)
    """

    _fitted_attrs: ClassVar[tuple[str, ...]] = ("estimators_",)
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = ENSEMBLE_CONSTRAINTS

    estimator: MultiViewModel | None = None
    n_models: int = 5
    random_state: int = 0

    def fit(
        self,
        views: Mapping[str, Any],
        y: ArrayLike | None = None,
        views_val: Mapping[str, Any] | None = None,
        y_val: ArrayLike | None = None,
    ) -> SeedEnsemble:
        """Fit every member on the same arguments (see the estimator's ``fit``).

        Returns
        -------
        self
        """
        self._forget_fit()
        validate_params(self)
        members = []
        for i in range(int(self.n_models)):
            seed = int(self.random_state) + i
            logger.info(
                "SeedEnsemble: member %d of %d (random_state %d)", i + 1, self.n_models, seed
            )
            m = clone(self.estimator).set_params(random_state=seed)
            members.append(m.fit(views, y, views_val, y_val))
        self._set_fitted(members)
        return self

    def _set_fitted(self, members: list[MultiViewModel]) -> None:
        first = members[0]
        self.view_names_ = tuple(first.view_names_)
        self.n_features_in_ = dict(first.n_features_in_)
        width = getattr(first, "n_components_", None)
        if width is None:
            zeros = first.transform({k: np.zeros((1, n)) for k, n in first.n_features_in_.items()})
            width = next(iter(zeros.values())).shape[1]
        self.n_components_ = len(members) * int(width)
        self.estimators_ = members  # last: marks the model fitted

    def transform(self, views: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Embed each given view: the members' row-normalised embeddings side by side.

        Parameters
        ----------
        views : dict[str, array-like]
            Any views the members accept, ``(n_samples, n_features_v)``.

        Returns
        -------
        dict[str, ndarray of shape (n_samples, n_components_)]
            :func:`average_cosine` of the members' embeddings.
        """
        self._check_fitted()
        return average_cosine([m.transform(views) for m in self.estimators_])

    # ------------------------------------------------------------------ checkpoints
    def save(self, directory: str | os.PathLike) -> Path:
        """Write every member with its own ``save`` into ``directory`` (atomic as a whole).

        ``directory/ensemble.npz`` (a boltz checkpoint container) names the members'
        class and files, ``directory/member<i>`` holds member ``i``.

        Returns
        -------
        pathlib.Path
        """
        self._check_fitted()
        cls = type(self.estimators_[0])
        target = Path(directory)
        with atomic_directory(target, _member_file) as tmp:
            files = []
            for i, m in enumerate(self.estimators_):
                written = m.save(tmp / f"member{i}")
                files.append(Path(written).name)
            meta = {
                "class": f"{cls.__module__}:{cls.__qualname__}",
                "members": files,
                "n_models": int(self.n_models),
                "random_state": int(self.random_state),
            }
            write_checkpoint(tmp / _META, meta, {})
        return target

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> SeedEnsemble:
        """Read an ensemble written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            No ``ensemble.npz`` (or a member file) in ``directory``.
        CheckpointError
            A damaged file, or a member class outside :mod:`bridge`.
        """
        root = Path(directory)
        meta, _ = read_checkpoint(root / _META)
        name = need(meta, "class", str)
        module, _, qual = name.partition(":")
        if not module.startswith("bridge.") or not qual.isidentifier():
            raise CheckpointError(f"ensemble member class {name!r} is not a bridge model.")
        member_cls = getattr(importlib.import_module(module), qual, None)
        if not (isinstance(member_cls, type) and issubclass(member_cls, MultiViewModel)):
            raise CheckpointError(f"ensemble member class {name!r} is not a bridge model.")
        files = need(meta, "members", list)
        if not files or not all(isinstance(f, str) and _member_file(f) for f in files):
            raise CheckpointError("ensemble.npz lists no valid member files.")
        members = [member_cls.load(root / f, device=device) for f in files]
        model = cls(
            estimator=clone(members[0]),
            n_models=len(members),
            random_state=int(need(meta, "random_state", int)),
        )
        model._set_fitted(members)
        return model
