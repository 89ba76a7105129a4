"""The papers' deep cross-modal models, one module each, on one interface.

Every model is a :class:`bridge.base.MultiViewModel`: ``fit(views, y=None,
views_val=None, y_val=None)`` and ``transform(views) -> {name: (n, k)}`` on a
dict of named views, so a comparison is a loop over classes.  The classes are
imported on first use (each module imports torch).

=================  ==========================================================
``BimodalAE``      Ngiam et al. 2011, input-dropping bimodal autoencoder
``CorrAE``         Feng, Wang & Li 2014 (``variant="corr" | "cross" | "full"``)
``DCCA``           Andrew et al. 2013, deep CCA
``DCCAE``          Wang et al. 2015, deep canonically correlated autoencoders
``DRUMN``          deep robust unsupervised multi-modal network (``threshold=``)
``SDML``           scalable deep multimodal learning (fixed orthogonal label space)
``DM2C``           deep mixed-modal clustering (``fit_predict(views)``)
``JointAE``        Flickr report, joint autoencoder over image + word vectors
``CrossModalAE``   Flickr report, Cross-Modal I / II (``variant="I" | "II"``)
``HRL``            Cao et al. 2019, hybrid representation learning
=================  ==========================================================

The models other than HRL share a small private base, one job per module:
``_torch_model`` (:class:`TorchMultiViewModel`: preprocessing, seeding, device,
``fit``/``transform``, ``save``/``load``), ``_training`` (``train_loop``: minibatch Adam,
early stopping, data-parallel under ``torch.distributed``), ``_layers`` (layer specs,
``Decoder``), ``_view_codecs`` (per-view encoder/decoder specs, pretrained DBNs),
``_validation`` (hyperparameter checks, ``random_state`` / ``device`` / ``progress``) and
``_checkpoint`` (checkpoint content checks).  A new model is one module here, a subclass
of ``TorchMultiViewModel`` implementing its hooks, and one entry in ``_WHERE`` below.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "BimodalAE": "bimodal_ae",
    "CorrAE": "corr_ae",
    "DCCA": "dcca",
    "DCCAE": "dcca",
    "DRUMN": "drumn",
    "SDML": "sdml",
    "DM2C": "dm2c",
    "JointAE": "flickr_ae",
    "CrossModalAE": "flickr_ae",
    "HRL": "hrl",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
