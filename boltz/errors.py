"""Exceptions raised by boltz.

Every error subclasses the matching built-in so callers can catch either the
specific boltz error or the generic Python one (``except ValueError`` works).
Messages say what was expected, what came, and what to do.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SkNotFitted

__all__ = [
    "BoltzError",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DataTypeError",
    "DeviceError",
    "NotFittedError",
]


class BoltzError(Exception):
    """Base class of every error raised on purpose by boltz."""


class DataError(BoltzError, ValueError):
    """Input data has the wrong shape, dtype, range or values (NaN, inf, ...)."""


class DataTypeError(BoltzError, TypeError):
    """Input data has a type boltz cannot use (object/str arrays, sparse where dense is needed)."""


class ConfigError(BoltzError, ValueError):
    """A hyperparameter or configuration entry is invalid."""


class CheckpointError(BoltzError, ValueError):
    """A checkpoint is truncated, corrupted, foreign or from a newer format version."""


class DeviceError(BoltzError, RuntimeError):
    """The requested compute device is not available."""


class NotFittedError(BoltzError, _SkNotFitted):
    """The estimator is used before ``fit`` (also a scikit-learn ``NotFittedError``)."""
