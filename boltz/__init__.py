"""boltz: restricted Boltzmann machines, deep belief nets and the multimodal DBN.

``import boltz`` imports neither torch nor CuPy.
"""

from __future__ import annotations

import logging

from ._version import __version__
from .checkpoint import load
from .errors import (
    BoltzError,
    CheckpointError,
    ConfigError,
    DataError,
    DataTypeError,
    DeviceError,
    NotFittedError,
)
from .rbm import RBM
from .units import Bernoulli, Gaussian, ReplicatedSoftmax

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "RBM",
    "Bernoulli",
    "BoltzError",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DataTypeError",
    "DeviceError",
    "Gaussian",
    "NotFittedError",
    "ReplicatedSoftmax",
    "__version__",
    "load",
]
