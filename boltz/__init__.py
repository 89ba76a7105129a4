"""boltz: restricted Boltzmann machines, deep belief nets and the multimodal DBN.

``import boltz`` imports neither torch nor CuPy.
"""

from __future__ import annotations

import logging

from ._version import __version__
from .checkpoint import load
from .dbn import DBN
from .errors import (
    BoltzError,
    CheckpointError,
    ConfigError,
    DataError,
    DataRangeWarning,
    DataTypeError,
    DeviceError,
    DivergenceError,
    NotFittedError,
)
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
    "BoltzError",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DataRangeWarning",
    "DataTypeError",
    "DeviceError",
    "DivergenceError",
    "Gaussian",
    "MultimodalDBN",
    "NotFittedError",
    "Passthrough",
    "ReplicatedSoftmax",
    "Tagger",
    "__version__",
    "load",
    "top_words",
]
