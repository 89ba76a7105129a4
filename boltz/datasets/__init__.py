"""Readers for the real datasets (read from ``../shared/data`` or a path you give)."""

from .corel5k import Corel5k, load_corel5k, read_sparse_arff
from .digits import halves, join, load_digit_halves
from .paths import resolve_data_dir
from .uci_mfeat import MFEAT_VIEWS, UciMfeat, load_uci_mfeat
from .wikipedia import (
    WikipediaBow,
    WikipediaFeatures,
    build_vocabulary,
    count_matrix,
    load_wikipedia_bow,
    load_wikipedia_features,
    read_article,
    rescale_documents,
    tokenize,
)

__all__ = [
    "MFEAT_VIEWS",
    "Corel5k",
    "UciMfeat",
    "WikipediaBow",
    "WikipediaFeatures",
    "build_vocabulary",
    "count_matrix",
    "halves",
    "join",
    "load_corel5k",
    "load_digit_halves",
    "load_uci_mfeat",
    "load_wikipedia_bow",
    "load_wikipedia_features",
    "read_article",
    "read_sparse_arff",
    "rescale_documents",
    "resolve_data_dir",
    "tokenize",
]
