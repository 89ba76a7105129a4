"""UCI Multiple Features (handwritten digits), three views, as in ``uci_mfeat/uci_all.mat``.

2,000 handwritten digits (200 per class, 10 classes) described by several feature
sets; the file holds three of them, split 1,500 train / 500 test:

* ``fourier`` -- 76 Fourier coefficients of the character shapes (``I_tr``/``I_te``);
* ``karhunen`` -- 64 Karhunen-Loeve coefficients (``T_tr``/``T_te``);
* ``pixel`` -- 240 pixel averages in 2 x 3 windows, integers 0..6 (``P_tr``/``P_te``).

Labels are stored as 1..10 and returned as 0..9.  Source: UCI Machine Learning
Repository (CC BY 4.0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from boltz.errors import DataError

from .paths import resolve_data_dir

__all__ = ["MFEAT_VIEWS", "UciMfeat", "load_uci_mfeat"]

_MARKER = "uci_mfeat/uci_all.mat"
#: View name -> the matrix prefix in ``uci_all.mat``.
MFEAT_VIEWS: dict[str, str] = {"fourier": "I", "karhunen": "T", "pixel": "P"}


@dataclass
class UciMfeat:
    """The three views and labels of the fixed split.

    Attributes
    ----------
    train, test : dict[str, ndarray]
        ``{"fourier": (n, 76), "karhunen": (n, 64), "pixel": (n, 240)}``, float64;
        n = 1500 (train) and 500 (test).  Row ``i`` of every view is the same digit.
    y_train, y_test : ndarray of int64, shape (1500,) / (500,)
        Digit classes 0..9.
    root : Path
        The data root the file was read from.
    """

    train: dict[str, np.ndarray]
    test: dict[str, np.ndarray]
    y_train: np.ndarray
    y_test: np.ndarray
    root: Path = field(repr=False, default=Path("."))


def load_uci_mfeat(data: Any = None) -> UciMfeat:
    """Read ``uci_mfeat/uci_all.mat``.

    Parameters
    ----------
    data : path-like, optional
        Data root holding ``uci_mfeat/`` (or the ``uci_mfeat`` folder itself); default
        ``$BOLTZ_DATA`` or ``../shared/data`` (see :func:`boltz.datasets.resolve_data_dir`).

    Returns
    -------
    UciMfeat

    Raises
    ------
    FileNotFoundError
        The file is not found (the message says where it looked).
    DataError
        A matrix is missing or the views disagree on the number of rows.
    """
    import scipy.io

    root = resolve_data_dir(data, _MARKER)
    mat = scipy.io.loadmat(str(root / _MARKER))
    out: dict[str, dict[str, np.ndarray]] = {"tr": {}, "te": {}}
    labels: dict[str, np.ndarray] = {}
    for split in ("tr", "te"):
        for view, prefix in MFEAT_VIEWS.items():
            key = f"{prefix}_{split}"
            if key not in mat:
                raise DataError(f"{root / _MARKER}: matrix {key!r} is missing.")
            out[split][view] = np.asarray(mat[key], dtype=np.float64)
        key = f"L_{split}"
        if key not in mat:
            raise DataError(f"{root / _MARKER}: label vector {key!r} is missing.")
        y = np.asarray(mat[key]).ravel().astype(np.int64) - 1
        rows = {v: a.shape[0] for v, a in out[split].items()}
        if len(set(rows.values()) | {len(y)}) != 1:
            raise DataError(
                f"{root / _MARKER}: views and labels of split {split!r} have different "
                f"numbers of rows: {rows}, labels {len(y)}."
            )
        labels[split] = y
    return UciMfeat(
        train=out["tr"], test=out["te"], y_train=labels["tr"], y_test=labels["te"], root=root
    )
