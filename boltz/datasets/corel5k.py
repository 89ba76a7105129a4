"""Corel5k image annotation benchmark (Duygulu et al., ECCV 2002), Mulan format.

5,000 Corel photographs, standard split 4,500 train / 500 test.  Each image was
segmented into regions whose features were vector-quantised into 499 "blobs";
an image is the binary vector of the blobs present in it.  Each image has 1–5
keywords from a 374-word vocabulary.  The Mulan release stores both in one sparse
ARFF file per split (873 binary attributes: ``Cluster1..Cluster499`` then the 374
keywords) and the keyword names in ``Corel5k.xml``.

``scipy.io.arff`` cannot read sparse ARFF, so the ``{index value, ...}`` rows are
parsed here (a few lines); the header is checked against the XML word list.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from boltz.errors import DataError

from .paths import resolve_data_dir

__all__ = ["Corel5k", "load_corel5k", "read_sparse_arff"]

_DIR = "corel5k"
_FILES = {
    "train": "Corel5k-train-sparse.arff",
    "test": "Corel5k-test-sparse.arff",
    "words": "Corel5k.xml",
}
_MARKER = f"{_DIR}/{_FILES['words']}"
_N_BLOBS = 499
_ATTR_RE = re.compile(r"@attribute\s+('(?:[^']|\\')*'|\"[^\"]*\"|\S+)\s+(.+)", re.IGNORECASE)


@dataclass
class Corel5k:
    """Blob and keyword matrices of the standard split.

    Attributes
    ----------
    blobs_train, blobs_test : scipy.sparse.csr_matrix, shape (4500, 499) / (500, 499), float32
        1 where the blob (vector-quantised region) occurs in the image.
    words_train, words_test : scipy.sparse.csr_matrix, shape (n, 374), float32
        1 where the keyword annotates the image.
    words : list of str
        The 374 keywords, in column order.
    root : Path
        The data root the files were read from.
    """

    blobs_train: Any
    blobs_test: Any
    words_train: Any
    words_test: Any
    words: list[str]
    root: Path = field(repr=False, default=Path("."))


def read_sparse_arff(path: str | Path) -> tuple[list[str], sp.csr_matrix]:
    """Read a sparse ARFF file of numeric / binary attributes.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    names : list of str
        Attribute names in column order.
    matrix : scipy.sparse.csr_matrix, shape (n_rows, n_attributes), float32

    Raises
    ------
    DataError
        The file is not a sparse ARFF file (no ``@data`` section, a row that is
        not ``{index value, ...}``, an index out of range or a non-numeric value);
        the message names the file and line.
    """
    path = Path(path)
    names: list[str] = []
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    n_rows = 0
    in_data = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("%"):
                continue
            if not in_data:
                low = line.lower()
                if low.startswith("@attribute"):
                    m = _ATTR_RE.match(line)
                    if m is None:
                        raise DataError(f"{path}:{lineno}: malformed @attribute line.")
                    names.append(m.group(1).strip("'\""))
                elif low.startswith("@data"):
                    in_data = True
                continue
            if not (line.startswith("{") and line.endswith("}")):
                raise DataError(
                    f"{path}:{lineno}: expected a sparse row '{{index value, ...}}'; got "
                    f"{line[:40]!r}. Only sparse ARFF is supported."
                )
            body = line[1:-1].strip()
            if body:
                for item in body.split(","):
                    parts = item.split()
                    if len(parts) != 2:
                        raise DataError(f"{path}:{lineno}: malformed entry {item.strip()!r}.")
                    try:
                        j, v = int(parts[0]), float(parts[1])
                    except ValueError:
                        raise DataError(
                            f"{path}:{lineno}: non-numeric entry {item.strip()!r}."
                        ) from None
                    if not 0 <= j < len(names):
                        raise DataError(
                            f"{path}:{lineno}: attribute index {j} outside 0..{len(names) - 1}."
                        )
                    rows.append(n_rows)
                    cols.append(j)
                    vals.append(v)
            n_rows += 1
    if not in_data:
        raise DataError(f"{path}: no @data section; this is not an ARFF file.")
    if not names:
        raise DataError(f"{path}: no @attribute lines.")
    m = sp.csr_matrix(
        (np.asarray(vals, np.float32), (np.asarray(rows), np.asarray(cols))),
        shape=(n_rows, len(names)),
        dtype=np.float32,
    )
    m.sum_duplicates()
    return names, m


def _read_words(path: Path) -> list[str]:
    try:
        tree = ET.parse(path)
    except ET.ParseError as e:
        raise DataError(f"{path}: not a well-formed Mulan label file ({e}).") from e
    words = [
        el.attrib["name"] for el in tree.getroot().iter() if el.tag.endswith("label") and el.attrib
    ]
    if not words:
        raise DataError(f"{path}: no <label name=...> entries.")
    return words


def load_corel5k(data: Any = None) -> Corel5k:
    """Read Corel5k (``corel5k/`` under the data root, Mulan's sparse ARFF + XML).

    Parameters
    ----------
    data : path-like, optional
        Data root holding ``corel5k/`` (or that folder itself); default
        ``$BOLTZ_DATA`` or ``../shared/data`` (see :func:`boltz.datasets.resolve_data_dir`).

    Returns
    -------
    Corel5k

    Raises
    ------
    FileNotFoundError
        A file is missing (the message says where it looked).
    DataError
        A file is malformed, the attributes disagree with the 499 blobs + keyword list,
        or a value is not 0/1.
    """
    root = resolve_data_dir(data, _MARKER)
    folder = root / _DIR
    for key in ("train", "test"):
        if not (folder / _FILES[key]).exists():
            raise FileNotFoundError(f"Corel5k: {folder / _FILES[key]} is missing.")
    words = _read_words(folder / _FILES["words"])
    n_attr = _N_BLOBS + len(words)
    out = {}
    for key in ("train", "test"):
        path = folder / _FILES[key]
        names, m = read_sparse_arff(path)
        if len(names) != n_attr or names[_N_BLOBS:] != words:
            raise DataError(
                f"{path}: expected {_N_BLOBS} blob attributes followed by the {len(words)} "
                f"keywords of {_FILES['words']}; got {len(names)} attributes."
            )
        if m.nnz and not np.all(np.isin(m.data, (0.0, 1.0))):
            raise DataError(f"{path}: Corel5k attributes must be 0 or 1.")
        m.eliminate_zeros()
        out[key] = (m[:, :_N_BLOBS].tocsr(), m[:, _N_BLOBS:].tocsr())
    return Corel5k(
        blobs_train=out["train"][0],
        blobs_test=out["test"][0],
        words_train=out["train"][1],
        words_test=out["test"][1],
        words=words,
        root=root,
    )
