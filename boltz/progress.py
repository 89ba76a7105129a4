"""The ``progress`` parameter: one convention for boltz and bridge.

``progress="auto"`` (the default) shows tqdm bars on stderr only when stderr is a
terminal; ``True`` always, ``False`` never.  ``None`` means the same as ``"auto"`` (the
bridge models' historical default).
"""

from __future__ import annotations

import numbers
import sys
from typing import Any

from .errors import ConfigError

__all__ = ["check_progress", "progress_enabled"]


def check_progress(progress: Any, name: str = "progress") -> Any:
    """Return ``progress`` if it is ``"auto"``, None, True or False (or 1 / 0).

    Raises
    ------
    ConfigError
        For any other value (a ``ValueError``).
    """
    if progress is None or (
        isinstance(progress, (str, numbers.Number)) and progress in ("auto", True, False)
    ):
        return progress
    raise ConfigError(f"{name} must be 'auto', None, True or False; got {progress!r}.")


def progress_enabled(progress: Any) -> bool:
    """Whether to show a progress bar: ``progress`` itself, or (``"auto"`` / None)
    whether stderr is a terminal.

    Examples
    --------
    >>> progress_enabled(False)
    False
    """
    if progress is None or (isinstance(progress, str) and progress == "auto"):
        return bool(getattr(sys.stderr, "isatty", lambda: False)())
    return bool(progress)
