r"""Joint and cross-modal autoencoders of the Flickr report, with its evaluation.

"Multimodal deep learning on Flickr images and tags" (course report; NUS-WIDE images
and tags).  The text side is not fed as a bag of words: every word of the vocabulary
gets a 20-d vector learned from word co-occurrences, and a document is represented
by the *mean vector* of its words (report section 3.2).  The image side is a visual
bag-of-words histogram, PCA-whitened (to 200 dimensions in the report); the word
vectors are standardised to zero mean and unit variance (section 4).

**JointAE** (section 3.3, Fig. 1).  One over-complete sigmoid hidden layer over the
concatenation ``x = [υ; τ]`` of the image features ``υ`` and the mean word vector
``τ``, and a linear output layer reconstructing both::

    h = σ(W1 x + b1),        [υ̂; τ̂] = W2 h + b2

    J = 1/(2m) sum_i ( ||υ_i - υ̂_i||^2 + μ ||τ_i - τ̂_i||^2 )
        + λ/2 ( ||W1||_F^2 + ||W2||_F^2 )

(the report's equation is missing from the extracted text; this is the objective its
prose describes: "the first two terms ... correspond to the reconstruction errors
for the different modalities, whereas the last two terms are regularization terms
which ... decrease the Frobenius norm of the weight matrices"; ``μ`` weighs the
low-dimensional text, ``λ = weight_decay``).  The hidden layer ``h`` is the joint
feature.  The report uses 1.4x over-complete hidden layers and ``μ = 10``.

**CrossModalAE** (section 3.4, Fig. 2).  The image alone goes in; variant ``"I"``
reconstructs only the text, variant ``"II"`` both modalities::

    h = σ(W1 υ + b1)
    I :  τ̂ = W2 h + b2,           J = 1/(2m) sum_i ||τ_i - τ̂_i||^2 + λ/2 (...)
    II:  [υ̂; τ̂] = W2 h + b2,      J = 1/(2m) sum_i (||υ_i - υ̂_i||^2 + μ ||τ_i - τ̂_i||^2) + λ/2 (...)

so at test time image features alone give a representation shaped by the text
(``μ`` applies to variant II only, as in the report).

The report trains with SGD; these models use minibatch Adam (same objective).

Word vectors: :func:`ppmi_word_vectors` -- a truncated SVD of the positive
pointwise mutual information (PPMI) matrix of document-level word co-occurrences
(Levy & Goldberg 2014 showed this factorisation is what skip-gram-style models
approximate; the report's own "probabilistic model of tag co-occurrences" is not
specified further).  :func:`mean_word_vectors` averages them per document.

Evaluation as in the report (section 4, Table 2): one L2-regularised logistic
regression per concept (class) on each feature set, scored by the area under the
ROC curve on a test split -- :func:`concept_auc_table`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from numpy.typing import ArrayLike
from torch import nn

from boltz.constraints import Interval, Options
from boltz.errors import ConfigError, DataError

from ..base import Views
from ._torch_model import EarlyStoppingModel
from ._validation import check_float, check_int

__all__ = [
    "CrossModalAE",
    "JointAE",
    "concept_auc_table",
    "format_auc_table",
    "mean_word_vectors",
    "ppmi_word_vectors",
]


# ----------------------------------------------------------------------------- word vectors


def _binary_csr(counts: Any, name: str) -> sp.csr_matrix:
    if sp.issparse(counts):
        B = sp.csr_matrix(counts, dtype=np.float64)
    else:
        A = np.asarray(counts)
        if A.dtype.kind not in "biuf":
            raise DataError(f"{name} must hold non-negative numbers; got dtype {A.dtype}.")
        B = sp.csr_matrix(A.astype(np.float64))
    if B.ndim != 2 or B.shape[0] == 0 or B.shape[1] == 0:
        raise DataError(f"{name} must be a non-empty 2-D (n_docs, n_words) matrix; got {B.shape}.")
    if B.nnz and (not np.isfinite(B.data).all() or B.data.min() < 0):
        raise DataError(f"{name} must hold finite, non-negative counts.")
    B.data = (B.data > 0).astype(np.float64)
    B.eliminate_zeros()
    return B


def ppmi_word_vectors(counts: Any, dim: int = 20, *, random_state: int | None = 0) -> np.ndarray:
    r"""Word vectors from a truncated SVD of the PPMI co-occurrence matrix.

    With ``B`` the binary document-word matrix (a word "occurs" in a document when its
    count is > 0) and ``C = B'B`` with a zero diagonal (how many documents hold both
    words), ``C_i = sum_j C_ij`` and ``N = sum_ij C_ij``::

        PPMI_ij = max(0, log(C_ij N / (C_i C_j)))          (0 where C_ij = 0)
        PPMI ≈ U_k S_k V_k'   (truncated SVD, k = dim)
        vectors = U_k S_k^{1/2}

    Parameters
    ----------
    counts : array-like or scipy.sparse matrix of shape (n_docs, n_words)
        Word counts (or 0/1 tags) of the *training* documents.
    dim : int, default 20
        Vector size (the report uses 20); at most ``n_words - 1``.
    random_state : int or None, default 0
        Seed of the randomized SVD.

    Returns
    -------
    ndarray of shape (n_words, dim)
        One vector per word; words that co-occur with no other word get zeros.
        Each column's largest-magnitude entry is positive (deterministic signs).

    Examples
    --------
    >>> import numpy as np
    >>> counts = (np.random.default_rng(0).random((50, 12)) < 0.3).astype(float)
    >>> ppmi_word_vectors(counts, dim=3).shape
    (12, 3)
    """
    from sklearn.utils.extmath import randomized_svd

    B = _binary_csr(counts, "counts")
    n_words = B.shape[1]
    dim = check_int(dim, "dim")
    if dim >= n_words:
        raise ConfigError(f"dim={dim} must be smaller than the number of words ({n_words}).")
    C = (B.T @ B).tocsr()
    C.setdiag(0)
    C.eliminate_zeros()
    C = C.tocoo()
    total = C.data.sum()
    if total == 0:
        raise DataError("no two words co-occur in any document; PPMI vectors are undefined.")
    marg = np.asarray(C.sum(axis=1)).ravel()
    pmi = np.log(C.data * total / (marg[C.row] * marg[C.col]))
    keep = pmi > 0
    P = sp.csr_matrix((pmi[keep], (C.row[keep], C.col[keep])), shape=C.shape)
    U, S, _ = randomized_svd(P, dim, n_iter=10, random_state=random_state)
    E = U * np.sqrt(S)
    idx = np.argmax(np.abs(E), axis=0)
    signs = np.sign(E[idx, np.arange(dim)])
    signs[signs == 0] = 1.0
    return E * signs


def mean_word_vectors(counts: Any, vectors: ArrayLike) -> np.ndarray:
    """Mean vector of the words present in each document (report section 3.2).

    Parameters
    ----------
    counts : array-like or scipy.sparse matrix of shape (n_docs, n_words)
        Word counts or 0/1 tags; a word counts once per document however often it
        occurs.
    vectors : array-like of shape (n_words, dim)
        From :func:`ppmi_word_vectors`.

    Returns
    -------
    ndarray of shape (n_docs, dim)
        Zero for a document with no word.
    """
    B = _binary_csr(counts, "counts")
    E = np.asarray(vectors, dtype=np.float64)
    if E.ndim != 2 or E.shape[0] != B.shape[1]:
        raise DataError(f"vectors must have shape (n_words={B.shape[1]}, dim); got {E.shape}.")
    n = np.asarray(B.sum(axis=1)).ravel()
    return np.asarray(B @ E) / np.maximum(n, 1)[:, None]


# ----------------------------------------------------------------------------- evaluation


def concept_auc_table(
    features_train: Mapping[str, ArrayLike],
    features_test: Mapping[str, ArrayLike],
    y_train: ArrayLike,
    y_test: ArrayLike,
    *,
    C: float = 1.0,
    class_names: Sequence[str] | None = None,
) -> dict[str, dict[str, float]]:
    """Per-concept AUC of L2-regularised logistic regressions (report Table 2).

    For every feature set and every concept, a binary
    :class:`sklearn.linear_model.LogisticRegression` (L2 penalty, inverse strength
    ``C``, on standardised features) is trained to detect the concept and scored by
    the area under the ROC curve of its decision values on the test split.

    Parameters
    ----------
    features_train, features_test : dict[str, array-like of shape (n, d_f)]
        The same names in both, e.g. ``{"SIFT": ..., "Joint features": ...}``.
    y_train, y_test : array-like of shape (n,) or (n, n_concepts)
        Class ids (one-vs-rest per class) or a 0/1 concept indicator matrix.
    C : float, default 1.0
        Inverse L2 strength of the logistic regressions.
    class_names : sequence of str, optional
        Column names (default: the class ids, or ``"0", "1", ...`` for indicators).

    Returns
    -------
    dict[str, dict[str, float]]
        ``table[feature_name][concept]`` = AUC, plus ``table[feature_name]["mean"]``
        (mean over the concepts).  A concept with one class only in the test split
        has AUC NaN and is left out of the mean.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if set(features_train) != set(features_test):
        raise DataError(
            f"features_train and features_test must have the same names; got "
            f"{sorted(features_train)} and {sorted(features_test)}."
        )
    Ytr, Yte = np.asarray(y_train), np.asarray(y_test)
    if Ytr.ndim == 1:
        classes = np.unique(Ytr)
        Ytr = (Ytr[:, None] == classes[None, :]).astype(int)
        Yte = (Yte[:, None] == classes[None, :]).astype(int)
        default_names = [str(c) for c in classes]
    else:
        if Yte.ndim != 2 or Yte.shape[1] != Ytr.shape[1]:
            raise DataError("y_train and y_test must have the same number of concepts.")
        default_names = [str(i) for i in range(Ytr.shape[1])]
    names = list(class_names) if class_names is not None else default_names
    if len(names) != Ytr.shape[1]:
        raise DataError(f"class_names has {len(names)} names for {Ytr.shape[1]} concepts.")
    check_float(C, "C", strict=True)
    table: dict[str, dict[str, float]] = {}
    for fname in features_train:
        Ftr = np.asarray(features_train[fname], dtype=np.float64)
        Fte = np.asarray(features_test[fname], dtype=np.float64)
        if len(Ftr) != len(Ytr) or len(Fte) != len(Yte):
            raise DataError(f"features {fname!r} and the labels have different numbers of rows.")
        row: dict[str, float] = {}
        for j, cname in enumerate(names):
            ytr, yte = Ytr[:, j], Yte[:, j]
            if len(np.unique(yte)) < 2 or len(np.unique(ytr)) < 2:
                row[cname] = float("nan")
                continue
            clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
            clf.fit(Ftr, ytr)
            row[cname] = float(roc_auc_score(yte, clf.decision_function(Fte)))
        vals = [v for v in row.values() if np.isfinite(v)]
        row["mean"] = float(np.mean(vals)) if vals else float("nan")
        table[fname] = row
    return table


def format_auc_table(table: Mapping[str, Mapping[str, float]], digits: int = 3) -> str:
    """A Markdown table of :func:`concept_auc_table` (features as rows)."""
    cols = list(next(iter(table.values())))
    lines = [
        "| features | " + " | ".join(cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for name, row in table.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[c]:.{digits}f}" for c in cols) + " |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- models


class FlickrNet(nn.Module):
    """One sigmoid hidden layer and a linear output layer.

    Attributes
    ----------
    encoder : nn.Linear
        ``W1, b1``: input -> hidden.
    decoder : nn.Linear
        ``W2, b2``: hidden -> reconstruction (``[υ̂; τ̂]`` or ``τ̂``).
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__()
        self.encoder = nn.Linear(spec["n_input"], spec["n_hidden"])
        self.decoder = nn.Linear(spec["n_hidden"], spec["n_output"])

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.encoder(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.hidden(x))


class _FlickrAE(EarlyStoppingModel):
    """Shared preprocessing (image PCA whitening, text standardisation) and constraints."""

    _variant_dims: ClassVar[tuple[str, ...]] = ()
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "image_view": [None, str],  # a view name, checked against the views at fit
        "mu": [Interval(float, 0, None, closed="neither")],
        "overcomplete": [Interval(float, 0, None, closed="neither")],
        "n_hidden": [None, Interval(int, 1, None)],
        "whiten": [None, Interval(int, 1, None)],
    }
    _: KW_ONLY
    epochs: int = 200
    batch_size: int = 100

    def _roles(self) -> tuple[str, str]:
        """(image view, text view) names."""
        names = self.view_names_
        img = names[0] if self.image_view is None else self.image_view
        if img not in names:
            raise ConfigError(f"image_view={img!r} is not one of the views {list(names)}.")
        return img, next(k for k in names if k != img)

    def _fit_preprocess(self, V: Mapping[str, np.ndarray]) -> None:
        img, _ = self._roles()
        super()._fit_preprocess(V)
        if self.whiten is None:
            return
        X = V[img]
        mean = X.mean(axis=0)
        Xc = X - mean
        cov = Xc.T @ Xc / max(len(X) - 1, 1)
        ev, vec = np.linalg.eigh(cov)
        ev, vec = ev[::-1], vec[:, ::-1]
        # drop directions without variance (a histogram's rows sum to 1: one is exactly 0)
        rank = int(np.sum(ev > 1e-9 * max(float(ev[0]), 1e-300)))
        k = max(1, min(int(self.whiten), rank))
        eps = 1e-6 * float(ev[:k].mean())
        proj = vec[:, :k] / np.sqrt(ev[:k] + eps)
        idx = np.argmax(np.abs(proj), axis=0)
        proj = proj * np.sign(proj[idx, np.arange(k)])
        self.preprocess_[img] = {"mean": mean, "scale": None, "proj": proj}

    def _width(self, n_in: Mapping[str, int], which: str) -> int:
        img, txt = self._roles()
        return int(n_in[img] if which == "image" else n_in[img] + n_in[txt])

    def _split(self, out: torch.Tensor, n_img: int) -> tuple[torch.Tensor, torch.Tensor]:
        return out[:, :n_img], out[:, n_img:]


class JointAE(_FlickrAE):
    r"""Joint autoencoder over ``[image; mean word vector]`` (Flickr report, section 3.3).

    See the module docstring for the objective.  :meth:`transform_joint` gives the
    joint features of pairs (the report's "Joint Features"); ``transform`` embeds each
    view alone, the other one at zero (its training mean after preprocessing).

    Parameters
    ----------
    n_hidden : int, optional
        Hidden units; default ``round(overcomplete * (d_image' + d_text))`` with
        ``d_image'`` the whitened image width.
    overcomplete : float, default 1.4
        Hidden width relative to the input width when ``n_hidden`` is None.
    mu : float, default 10.0
        ``μ``: weight of the text reconstruction error.
    image_view : str, optional
        Name of the image view (``υ``; default: the first view given to ``fit``); the
        other view is the text ``τ`` (e.g. :func:`mean_word_vectors`).
    whiten : int or None, default 200
        PCA-whiten the image view to at most this many components, directions of zero
        variance dropped (None: standardise it instead).  The text view is
        standardised (``standardize=True``).
    drop_rate : float in [0, 1), default 0.0
        Not in the report (0 reproduces it): the probability that a training pair is
        shown with one view (equal odds) zeroed while both are reconstructed -- the
        input dropping of Ngiam et al. 2011 (:class:`bridge.models.bimodal_ae.BimodalAE`),
        which makes the one-view codes of ``transform`` usable for retrieval.  The
        report notes the plain joint model "is not very robust to missing modalities".
    epochs : int, default 200
    batch_size : int, default 100
    learning_rate : float, default 1e-3
    weight_decay : float, default 1e-4
        ``λ`` of the Frobenius penalties.
    patience, monitor, standardize, device, random_state, progress
        As in :class:`bridge.models.bimodal_ae.BimodalAE`.
    center : bool, default True
        ``transform`` (the one-view codes) subtracts each view's mean training code;
        ``transform_joint`` always returns the raw activations ``h``.

    Attributes
    ----------
    view_names_ : tuple of str
    n_features_in_ : dict[str, int]
    module_ : FlickrNet
    preprocess_ : dict[str, dict]
        Image: ``mean`` and whitening ``proj`` (d_image, d_image'); text: ``mean``,
        ``scale``.
    embedding_mean_ : dict[str, ndarray of shape (n_hidden,)]
        Mean one-view code of the training pairs (with ``center=True``).
    history_, best_epoch_

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.models.flickr_ae import JointAE
    >>> views, _ = make_paired_views(200, dims=(12, 5), names=("image", "text"))
    >>> m = JointAE(epochs=2).fit(views)
    >>> m.transform_joint(views).shape
    (200, 24)
    """

    n_hidden: int | None = None
    overcomplete: float = 1.4
    mu: float = 10.0
    image_view: str | None = None
    whiten: int | None = 200
    drop_rate: float = 0.0
    _: KW_ONLY
    center: bool = True

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_FlickrAE._parameter_constraints,
        "drop_rate": [Interval(float, 0, 1, closed="left")],
    }

    def _make_spec(self, n_in: Mapping[str, int]) -> dict[str, Any]:
        img, txt = self._roles()
        d = n_in[img] + n_in[txt]
        h = self.n_hidden if self.n_hidden is not None else round(self.overcomplete * d)
        return {"n_input": d, "n_hidden": max(int(h), 1), "n_output": d, "n_image": n_in[img]}

    def _build(self, spec: Mapping[str, Any]) -> FlickrNet:
        return FlickrNet(spec)

    def _input(self, module: FlickrNet, X: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``[υ; τ]`` with a missing view at zero (its training mean after preprocessing)."""
        img, txt = self._roles()
        ref = next(iter(X.values()))
        n_txt = self.n_features_in_[txt]
        widths = {img: module.encoder.in_features - n_txt, txt: n_txt}
        parts = [
            X[k] if k in X else torch.zeros(ref.shape[0], widths[k], device=ref.device)
            for k in (img, txt)
        ]
        return torch.cat(parts, dim=1)

    def _loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
    ) -> torch.Tensor:
        img, txt = self._roles()
        xv, xt = batch[img], batch[txt]
        if self.drop_rate > 0:  # Ngiam-style input dropping (not in the report)
            u = torch.rand(xv.shape[0], generator=generator).to(xv.device)[:, None]
            xv = torch.where(u < self.drop_rate / 2, torch.zeros_like(xv), xv)
            xt = torch.where((u >= self.drop_rate / 2) & (u < self.drop_rate), 0.0 * xt, xt)
        x = torch.cat([xv, xt], dim=1)
        v_hat, t_hat = self._split(module(x), batch[img].shape[1])
        err = (batch[img] - v_hat).pow(2).sum(1) + self.mu * (batch[txt] - t_hat).pow(2).sum(1)
        return 0.5 * err.mean()

    def _embed(self, module: nn.Module, X: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: module.hidden(self._input(module, {k: x})) for k, x in X.items()}

    def transform_joint(self, views: Views) -> np.ndarray:
        """Joint features ``h`` of the pairs (a missing view at its mean).

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            The image view, the text view or both; a missing one is fed as zeros (its
            training mean when ``standardize``).

        Returns
        -------
        ndarray of shape (n_samples, n_hidden)
        """
        X = self._input_tensors(views)
        with torch.no_grad():
            h = self.module_.hidden(self._input(self.module_, X))
        return h.cpu().numpy()


class CrossModalAE(_FlickrAE):
    r"""Image-in autoencoder reconstructing the text (I) or both (II) (Flickr report 3.4).

    See the module docstring for the objectives.  Only the image view is needed at
    ``transform``; a text view given there is validated but has no embedding (the
    network has no text input).  :meth:`predict_text` gives ``τ̂``.

    Parameters
    ----------
    variant : {"I", "II"}, default "II"
        "I": reconstruct the text only; "II": reconstruct image and text.
    n_hidden : int, optional
        Default ``round(overcomplete * d_image')``.
    overcomplete : float, default 1.4
    mu : float, default 10.0
        Text weight of variant II (unused by variant I).
    image_view, whiten, epochs, batch_size, learning_rate, weight_decay, patience, \
monitor, standardize, device, random_state, progress
        As in :class:`JointAE` (``monitor`` "map" is not available: the text has no
        embedding).

    Attributes
    ----------
    As in :class:`JointAE`.

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.models.flickr_ae import CrossModalAE
    >>> views, _ = make_paired_views(200, dims=(12, 5), names=("image", "text"))
    >>> m = CrossModalAE(variant="I", epochs=2).fit(views)
    >>> m.transform({"image": views["image"]})["image"].shape
    (200, 17)
    >>> m.predict_text({"image": views["image"]}).shape
    (200, 5)
    """

    _supports_map = False

    variant: str = "II"
    n_hidden: int | None = None
    overcomplete: float = 1.4
    mu: float = 10.0
    image_view: str | None = None
    whiten: int | None = 200

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "variant": [Options("I", "II")],
        **_FlickrAE._parameter_constraints,
    }

    def _make_spec(self, n_in: Mapping[str, int]) -> dict[str, Any]:
        img, txt = self._roles()
        d = n_in[img]
        h = self.n_hidden if self.n_hidden is not None else round(self.overcomplete * d)
        out = n_in[txt] if self.variant == "I" else n_in[img] + n_in[txt]
        return {"n_input": d, "n_hidden": max(int(h), 1), "n_output": out, "n_image": d}

    def _build(self, spec: Mapping[str, Any]) -> FlickrNet:
        return FlickrNet(spec)

    def _loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
    ) -> torch.Tensor:
        img, txt = self._roles()
        out = module(batch[img])
        if self.variant == "I":
            err = (batch[txt] - out).pow(2).sum(1)
        else:
            v_hat, t_hat = self._split(out, batch[img].shape[1])
            err = (batch[img] - v_hat).pow(2).sum(1) + self.mu * (batch[txt] - t_hat).pow(2).sum(1)
        return 0.5 * err.mean()

    def _embed(self, module: nn.Module, X: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        img, _ = self._roles()
        if img not in X:
            raise DataError(
                f"CrossModalAE embeds the image view {img!r} only (the network has no text "
                "input); pass it in views."
            )
        return {img: module.hidden(X[img])}

    def _text_hat(self, views: Views) -> torch.Tensor:
        img, _ = self._roles()
        V = self._validate_transform(views, dtype=np.float64)
        if img not in V:
            raise DataError(f"predict_text needs the image view {img!r}.")
        with torch.no_grad():
            out = self.module_(self._tensors({img: V[img]})[img])
        if self.variant == "II":
            out = out[:, self.module_.encoder.in_features :]
        return out

    def predict_text(self, views: Views) -> np.ndarray:
        """Reconstructed text features ``τ̂`` from the image, in the text view's units.

        Parameters
        ----------
        views : dict[str, array-like]
            Must hold the image view.

        Returns
        -------
        ndarray of shape (n_samples, n_features_text)
        """
        _, txt = self._roles()
        return self._undo_preprocess(txt, self._text_hat(views).cpu().numpy().astype(np.float64))

    def transform_text_space(self, views: Views) -> dict[str, np.ndarray]:
        """Both views in the (preprocessed) text-feature space, for cross-modal retrieval.

        The image maps to its reconstruction ``τ̂``, the text to its own preprocessed
        ``τ``, so an image query can rank texts and vice versa.

        Parameters
        ----------
        views : dict[str, array-like]

        Returns
        -------
        dict[str, ndarray of shape (n_samples, n_features_text)]
        """
        img, txt = self._roles()
        V = self._validate_transform(views, dtype=np.float64)
        out = {}
        if img in V:
            out[img] = self._text_hat({img: V[img]}).cpu().numpy()
        if txt in V:
            out[txt] = self._apply_preprocess(txt, V[txt]).astype(np.float32)
        return out
