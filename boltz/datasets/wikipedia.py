"""The Wikipedia cross-modal dataset (Rasiwasia et al., ACM MM 2010).

2,866 image/text pairs in 10 classes, standard split 2,173 train / 693 test.
Image side: 128-d SIFT bag-of-visual-words histograms (``raw_features.mat``);
text side: the raw article texts, turned here into bag-of-words counts over the
most frequent words of the *training* articles (HRL uses 3,000 words).

Reading the texts: 888 of the XML files are not well-formed (HTML entities such
as ``&nbsp;``), so the body is taken with a regular expression on
``<text>...</text>`` plus :func:`html.unescape`, not an XML parser.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .paths import resolve_data_dir

__all__ = [
    "WikipediaBow",
    "WikipediaFeatures",
    "build_vocabulary",
    "load_wikipedia_bow",
    "load_wikipedia_features",
    "read_article",
    "rescale_documents",
    "tokenize",
]

_MARKER = "wikipedia_info/raw_features.mat"
_TEXT_RE = re.compile(r"<text>(.*?)</text>", re.DOTALL)
_NAME_RE = re.compile(r'<document[^>]*\bname="([^"]*)"')
_TOKEN_RE = re.compile(r"[a-z]+")


@dataclass
class WikipediaFeatures:
    """Feature matrices, labels and ids in the order of the official split lists.

    Attributes
    ----------
    image_train, image_test : ndarray, shape (2173, 128) / (693, 128)
        SIFT BoVW histograms (rows sum to 1), float64.
    topics_train, topics_test : ndarray, shape (n, 10)
        LDA topic proportions (not counts).
    y_train, y_test : ndarray of int, shape (n,)
        Classes 0..9 (the lists' class column minus one).
    text_ids_train, text_ids_test, image_ids_train, image_ids_test : list of str
    classes : list of str
        Class names in label order.
    """

    image_train: np.ndarray
    image_test: np.ndarray
    topics_train: np.ndarray
    topics_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    text_ids_train: list[str]
    text_ids_test: list[str]
    image_ids_train: list[str]
    image_ids_test: list[str]
    classes: list[str]
    root: Path = field(repr=False, default=Path("."))


@dataclass
class WikipediaBow(WikipediaFeatures):
    """:class:`WikipediaFeatures` plus bag-of-words counts of the articles.

    Attributes
    ----------
    counts_train, counts_test : scipy.sparse.csr_matrix, shape (n, n_words), float32
        Word counts (non-negative integers) over ``vocabulary``.
    vocabulary : list of str
        The ``n_words`` most frequent training words (stop words removed).
    titles_train, titles_test : list of str
    """

    counts_train: Any = None
    counts_test: Any = None
    vocabulary: list[str] = field(default_factory=list)
    titles_train: list[str] = field(default_factory=list)
    titles_test: list[str] = field(default_factory=list)


def _read_list(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    text_ids, image_ids, labels = [], [], []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        t, i, c = line.split("\t")
        text_ids.append(t)
        image_ids.append(i)
        labels.append(int(c) - 1)
    return text_ids, image_ids, np.asarray(labels, dtype=np.int64)


def load_wikipedia_features(data: Any = None) -> WikipediaFeatures:
    """Load the SIFT and LDA features with labels and ids.

    Parameters
    ----------
    data : path-like, optional
        Data root (see :func:`boltz.datasets.resolve_data_dir`).
    """
    from scipy.io import loadmat

    root = resolve_data_dir(data, _MARKER)
    info = root / "wikipedia_info"
    mat = loadmat(info / "raw_features.mat")
    tr = _read_list(info / "trainset_txt_img_cat.list")
    te = _read_list(info / "testset_txt_img_cat.list")
    classes = [c.strip() for c in (info / "categories.list").read_text().split() if c.strip()]
    out = WikipediaFeatures(
        image_train=np.asarray(mat["I_tr"], dtype=np.float64),
        image_test=np.asarray(mat["I_te"], dtype=np.float64),
        topics_train=np.asarray(mat["T_tr"], dtype=np.float64),
        topics_test=np.asarray(mat["T_te"], dtype=np.float64),
        y_train=tr[2],
        y_test=te[2],
        text_ids_train=tr[0],
        text_ids_test=te[0],
        image_ids_train=tr[1],
        image_ids_test=te[1],
        classes=classes,
        root=root,
    )
    if out.image_train.shape[0] != len(out.y_train) or out.image_test.shape[0] != len(out.y_test):
        raise ValueError("raw_features.mat rows do not match the split lists")
    return out


def read_article(path: str | Path) -> tuple[str, str]:
    """``(title, body)`` of one article file (regex + ``html.unescape``; no XML parser)."""
    raw = Path(path).read_text(encoding="utf-8", errors="replace")
    m = _TEXT_RE.search(raw)
    body = html.unescape(m.group(1)) if m else ""
    t = _NAME_RE.search(raw)
    title = html.unescape(t.group(1)).replace("_", " ") if t else body.strip().split("\n")[0]
    return title, body


def stopwords(root: Path) -> frozenset[str]:
    """The stop-word list shipped with the dataset."""
    path = root / "wikipedia_dataset" / "stopwords.txt"
    return frozenset(w.strip().lower() for w in path.read_text().split() if w.strip())


def tokenize(text: str, stop: frozenset[str] = frozenset()) -> list[str]:
    """Lower-case alphabetic tokens (``[a-z]+``) of at least 2 letters, not in ``stop``."""
    return [w for w in _TOKEN_RE.findall(text.lower()) if len(w) >= 2 and w not in stop]


def build_vocabulary(docs: list[list[str]], n_words: int) -> list[str]:
    """The ``n_words`` most frequent words (total count; ties alphabetical)."""
    counts = Counter()
    for d in docs:
        counts.update(d)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [w for w, _ in ranked[:n_words]]


def count_matrix(docs: Sequence[Sequence[str]], vocabulary: Sequence[str]) -> sp.csr_matrix:
    """Bag-of-words counts of tokenised documents over a vocabulary.

    Parameters
    ----------
    docs : sequence of sequence of str
        Tokens per document (e.g. from :func:`tokenize`); out-of-vocabulary tokens
        are dropped.
    vocabulary : sequence of str
        The words, in column order (e.g. from :func:`build_vocabulary`).

    Returns
    -------
    scipy.sparse.csr_matrix, shape (n_docs, len(vocabulary)), float32
    """
    return _counts([list(d) for d in docs], {w: j for j, w in enumerate(vocabulary)})


def _counts(docs: list[list[str]], index: dict[str, int]) -> sp.csr_matrix:
    rows, cols = [], []
    for r, d in enumerate(docs):
        for w in d:
            j = index.get(w)
            if j is not None:
                rows.append(r)
                cols.append(j)
    data = np.ones(len(rows), dtype=np.float32)
    m = sp.csr_matrix((data, (rows, cols)), shape=(len(docs), len(index)), dtype=np.float32)
    m.sum_duplicates()
    return m


def rescale_documents(counts: Any, length: int) -> sp.csr_matrix:
    """Rescale every document to ``length`` words, keeping integer counts.

    deepnet's "adaptive prior" for replicated-softmax inputs: ``v * length / D``.
    Counts stay integers (largest-remainder rounding) so the result is a valid
    replicated-softmax input whose document length is exactly ``length``; empty
    documents stay empty.

    Parameters
    ----------
    counts : array-like or CSR, shape (n_docs, n_words)
        Word counts.
    length : int
        Words per rescaled document.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (n_docs, n_words), float32
    """
    C = sp.csr_matrix(counts, dtype=np.float64)
    out = C.copy()
    for i in range(C.shape[0]):
        lo, hi = C.indptr[i], C.indptr[i + 1]
        v = C.data[lo:hi]
        total = v.sum()
        if total <= 0:
            continue
        x = v * (length / total)
        f = np.floor(x)
        short = int(round(length - f.sum()))
        order = np.argsort(-(x - f), kind="stable")
        f[order[:short]] += 1
        out.data[lo:hi] = f
    out.eliminate_zeros()
    return out.astype(np.float32)


def load_wikipedia_bow(data: Any = None, n_words: int = 2000) -> WikipediaBow:
    """Features, labels and bag-of-words counts of the articles.

    Parameters
    ----------
    data : path-like, optional
        Data root (see :func:`boltz.datasets.resolve_data_dir`).
    n_words : int, default 2000
        Vocabulary size: the most frequent words of the training articles after
        stop-word removal (HRL uses 3000).

    Returns
    -------
    WikipediaBow
    """
    if int(n_words) < 1:
        raise ValueError(f"n_words must be >= 1; got {n_words!r}")
    feats = load_wikipedia_features(data)
    root = feats.root
    texts = root / "wikipedia_dataset" / "texts"
    if not texts.is_dir():
        raise FileNotFoundError(f"article texts not found at {texts}")
    stop = stopwords(root)

    def read(ids: list[str]) -> tuple[list[str], list[list[str]]]:
        titles, docs = [], []
        for tid in ids:
            title, body = read_article(texts / f"{tid}.xml")
            titles.append(title)
            docs.append(tokenize(body, stop))
        return titles, docs

    titles_tr, docs_tr = read(feats.text_ids_train)
    titles_te, docs_te = read(feats.text_ids_test)
    vocab = build_vocabulary(docs_tr, int(n_words))
    index = {w: j for j, w in enumerate(vocab)}
    return WikipediaBow(
        **{k: getattr(feats, k) for k in feats.__dataclass_fields__},
        counts_train=_counts(docs_tr, index),
        counts_test=_counts(docs_te, index),
        vocabulary=vocab,
        titles_train=titles_tr,
        titles_test=titles_te,
    )
