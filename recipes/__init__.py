"""Runnable programs: ``python -m recipes.NAME --help``."""

from bridge import extras as _extras  # noqa: F401  (names the extra when torch is missing)
