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
    "DataRangeWarning",
    "DataTypeError",
    "DeviceError",
    "DivergenceError",
    "MissingDependencyError",
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
    """A checkpoint is truncated, damaged (fails its SHA-256), foreign, inconsistent or from a
    newer format version -- or, on save, the model holds NaN / inf and is not written.

    Missing and unreadable files raise ``FileNotFoundError`` / ``PermissionError``
    instead, a full disk ``OSError`` with ``errno.ENOSPC`` (see docs/checkpoints.md).
    """


class DivergenceError(BoltzError, FloatingPointError):
    """Training diverged: parameters became NaN / inf or the reconstruction error exploded.

    Raised at the end of the epoch where it is detected, before any checkpoint of
    that epoch is written; the message says what to change (usually a lower
    learning rate).
    """


class DeviceError(BoltzError, RuntimeError):
    """The requested compute device is not available."""


class MissingDependencyError(BoltzError, ModuleNotFoundError):
    """An optional dependency is not installed; the message names the extra to install."""


class NotFittedError(BoltzError, _SkNotFitted):
    """The estimator is used before ``fit`` (also a scikit-learn ``NotFittedError``)."""


class DataRangeWarning(UserWarning):
    """Input values outside a unit's range were clipped (``transform`` of Bernoulli data)."""
