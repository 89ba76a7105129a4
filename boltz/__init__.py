"""boltz: restricted Boltzmann machines, deep belief nets and the multimodal DBN.

``import boltz`` imports neither torch nor CuPy.
"""

from __future__ import annotations

import logging

from . import errors
from ._version import __version__
from .checkpoint import load
from .dbn import DBN
from .errors import *  # noqa: F403  (every name in boltz.errors.__all__)
from .multimodal import MultimodalDBN, top_words
from .passthrough import Passthrough
from .rbm import RBM
from .tagger import Tagger
from .units import Bernoulli, Gaussian, ReplicatedSoftmax

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DBN",
    "RBM",
    "Bernoulli",
    "Gaussian",
    "MultimodalDBN",
    "Passthrough",
    "ReplicatedSoftmax",
    "Tagger",
    "__version__",
    "load",
    "top_words",
]
__all__ += errors.__all__
