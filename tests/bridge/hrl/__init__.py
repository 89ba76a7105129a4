"""Tests of :mod:`bridge.models.hrl`, one module per module of the package."""
