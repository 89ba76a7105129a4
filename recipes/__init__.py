"""Runnable programs: ``python -m recipes.NAME --help``."""
