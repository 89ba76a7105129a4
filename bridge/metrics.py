"""Retrieval and clustering metrics for cross-modal experiments.

Every recipe reports its numbers through this module, so the conventions are
fixed here once.  Only NumPy, SciPy and scikit-learn are imported (no torch).

Retrieval
---------
Each query (a row of ``queries``) ranks every database item (a row of
``database``):

* ``metric="cosine"``: by cosine similarity, highest first.  A zero vector has
  similarity 0 with everything.
* ``metric="euclidean"``: by squared Euclidean distance, smallest first (the same
  order as the distance; the square root is not taken, so no distinct distances
  are merged by rounding).

**Ties** in the score are broken by database index, lowest first (a stable sort
of the negated similarity, or of the distance), so the ranking -- and the MAP of
data with exact ties such as duplicate items or binary codes -- is reproducible.
The papers' evaluation scripts use NumPy's default quicksort, whose tie order is
unspecified; results agree with them whenever scores are distinct.  Scores are
float64 and computed by BLAS matrix products, one block of queries at a time, so
the memory used is bounded (a few arrays of ``_BLOCK_ELEMENTS`` entries) whatever
the number of queries.

**Relevance**: a database item is relevant to a query when they have the same
label (1-D labels: class ids of any type), or, for multi-label 2-D 0/1 indicator
matrices of shape (n, n_labels), when they share at least one label.  A (n, 1)
column is read as class ids (this is how ``scipy.io.loadmat`` returns them).

**Average precision at k** of one query, with ``rel(r)`` = 1 if the item at rank
``r`` is relevant and ``P(r)`` the precision of the top ``r``::

    AP@k = (1 / N) * sum_{r <= k} P(r) * rel(r)

``normalize`` chooses ``N``:

* ``"retrieved"`` (default): ``N = R_k``, the number of relevant items *within the
  top k*.  This is the cross-modal retrieval convention used for the DCCA,
  Corr-AE, DRUMN and HRL comparisons and in the evaluation code published with
  later papers of that line (``fx_calc_map_label`` in the ACMR/DSCMR code bases,
  which the tests reproduce).  It measures how early the retrieved relevant items
  come, not how many are found: a ranking with a single relevant item at rank 1
  scores 1 whatever ``k``.
* ``"relevant"``: ``N = min(k, R)`` with ``R`` the number of relevant items in the
  whole database.  This is the information-retrieval / recommender definition
  (TREC-style AP truncated at k; ``apk`` of the Kaggle ``ml_metrics`` package)
  and penalises relevant items that fall outside the top k.

Both agree when ``k`` is None (all ranks): then ``N = R``, the classic AP.  A query
with no relevant item (in the top k for "retrieved", in the database for
"relevant") contributes AP = 0 and still counts in the mean.  (Some published
multi-label scripts skip such queries instead; drop them beforehand to
reproduce those numbers.)  ``k`` larger than the database is clamped to its size.

Clustering
----------
:func:`clustering_accuracy` (best one-to-one cluster-to-class map, Hungarian
algorithm), :func:`nmi`, :func:`ari`, :func:`purity`, :func:`pairwise_f_score`
and :func:`clustering_report` compare predicted cluster ids with true classes;
labels can be any integers or strings and the two label sets need not have the
same size.

Examples
--------
>>> import numpy as np
>>> from bridge.metrics import mean_average_precision
>>> q = np.array([[1.0, 0.0]])
>>> db = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
>>> mean_average_precision(q, db, [0], [0, 1, 0])  # relevance [1, 0, 1]
0.8333333333333333
"""

from __future__ import annotations

from .clustering import (
    NMI_AVERAGES,
    ari,
    clustering_accuracy,
    clustering_report,
    nmi,
    pairwise_f_score,
    purity,
)
from .metric_inputs import METRICS, NORMALIZATIONS
from .retrieval import (
    all_modal_map,
    average_precisions,
    cross_modal_map,
    mean_average_precision,
    precision_at_k,
    precision_recall_curve,
)

__all__ = [
    "METRICS",
    "NMI_AVERAGES",
    "NORMALIZATIONS",
    "all_modal_map",
    "ari",
    "average_precisions",
    "clustering_accuracy",
    "clustering_report",
    "cross_modal_map",
    "mean_average_precision",
    "nmi",
    "pairwise_f_score",
    "precision_at_k",
    "precision_recall_curve",
    "purity",
]
