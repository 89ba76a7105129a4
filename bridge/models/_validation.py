"""Hyperparameter checks of the torch models, and how ``random_state``, ``device`` and
``progress`` are resolved at ``fit`` time.

The device and progress vocabularies are boltz's (:mod:`boltz.devices`,
:mod:`boltz.progress`): ``device`` in "auto" / "cpu" / "gpu" / "cuda" (and "cuda:N"),
``progress`` in "auto" / None / True / False.

Every check returns the value it accepted (converted to the plain Python type) or raises
:class:`~boltz.errors.ConfigError` (a ``ValueError``) naming the parameter, what it must be
and what came.  The models' constraint tables (:mod:`boltz.constraints`) use
:data:`ACTIVATION`, :data:`HIDDEN`, :data:`HIDDEN_PER_VIEW` and :data:`HIDDEN_OR_DICT` from
here.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from boltz.constraints import Check, Options
from boltz.devices import parse_device
from boltz.errors import ConfigError, DeviceError
from boltz.progress import check_progress, progress_enabled

from ._layers import ACTIVATIONS

__all__ = [
    "ACTIVATION",
    "HIDDEN",
    "HIDDEN_OR_DICT",
    "HIDDEN_PER_VIEW",
    "check_float",
    "check_hidden",
    "check_hidden_per_view",
    "check_int",
    "check_progress",
    "progress_enabled",
    "resolve_device",
    "resolve_seed",
]

logger = logging.getLogger(__name__)


def check_int(value: Any, name: str, lo: int = 1) -> int:
    """An integer >= ``lo`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ConfigError(f"{name} must be an integer >= {lo}; got {value!r}.")
    return int(value)


def check_float(value: Any, name: str, lo: float = 0.0, *, strict: bool = False) -> float:
    """A finite real number >= ``lo`` (> ``lo`` with ``strict``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < lo or (strict and value == lo):
        op = ">" if strict else ">="
        raise ConfigError(f"{name} must be a finite number {op} {lo}; got {value!r}.")
    return float(value)


def check_outputs(model: Any, term: str) -> int:
    """The network output width of a model with a final CCA (DCCA, DRUMN): ``n_outputs``,
    default ``n_components``; checked against ``n_components`` and ``batch_size``
    (``term``, what needs each batch's covariance, words the error).  The widths
    themselves are the model's table's (:class:`~bridge.models._final_cca.FinalCCAModel`)."""
    k = int(model.n_components)
    o = k if model.n_outputs is None else int(model.n_outputs)
    if k > o:
        raise ConfigError(
            f"n_components={k} exceeds n_outputs={o}: the final CCA cannot find more "
            "components than the networks output. Raise n_outputs."
        )
    if model.batch_size <= o:
        raise ConfigError(
            f"batch_size={model.batch_size} must exceed n_outputs={o}: {term} needs the "
            "covariance of each batch (use a large batch)."
        )
    return o


def check_hidden(value: Any, name: str = "hidden") -> tuple[int, ...]:
    """A non-empty sequence of layer widths (one int is read as one layer)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) == 0:
        raise ConfigError(
            f"{name} must be a non-empty sequence of layer widths, e.g. (256,); got {value!r}."
        )
    return tuple(check_int(v, f"{name}[{i}]") for i, v in enumerate(value))


def check_hidden_per_view(
    value: Any, name: str = "hidden", *, entries: bool = True
) -> tuple[int, ...] | Mapping[str, Any]:
    """Layer widths for every view (:func:`check_hidden`) or a dict of them per view.

    Parameters
    ----------
    value : int, sequence of int or dict[str, sequence of int]
    name : str, default "hidden"
    entries : bool, default True
        Whether the widths of a dict are checked here (False: where each view is known).
    """
    if isinstance(value, Mapping):
        if entries:
            for k, h in value.items():
                check_hidden(h, f"{name}[{k!r}]")
        return value
    return check_hidden(value, name)


def _widths(check: Callable[..., Any], what: str) -> Check:
    """A constraint that accepts what ``check(value)`` accepts and refuses with
    ``check(value, name)``'s own message (which names the bad layer)."""
    return Check(lambda v: check(v) is not None, what, refuse=lambda v, name: check(v, name))


#: Table constraints (:mod:`boltz.constraints`): an activation of :data:`ACTIVATIONS`;
#: layer widths (:func:`check_hidden`); widths or a dict of widths per view, its entries
#: checked (:data:`HIDDEN_PER_VIEW`) or left to where each view is known
#: (:data:`HIDDEN_OR_DICT`).
ACTIVATION = Options(*sorted(ACTIVATIONS))
HIDDEN = _widths(check_hidden, "a non-empty sequence of layer widths, e.g. (256,)")
HIDDEN_PER_VIEW = _widths(
    check_hidden_per_view, "a non-empty sequence of layer widths or a dict of them per view"
)
HIDDEN_OR_DICT = _widths(
    lambda v, name="hidden": check_hidden_per_view(v, name, entries=False),
    "a non-empty sequence of layer widths or a dict of them per view",
)


def resolve_seed(random_state: Any) -> int:
    """An int seed: ``random_state`` itself, or a fresh one drawn from the OS when None."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ConfigError(f"random_state must be None or an integer; got {random_state!r}.")
    if random_state < 0:
        raise ConfigError(f"random_state must be >= 0; got {random_state!r}.")
    return int(random_state)


def resolve_device(device: Any) -> torch.device:
    """The torch device of a ``device`` hyperparameter (see :mod:`boltz.devices`).

    ``"cpu"``; ``"gpu"`` / ``"cuda"`` (or ``"gpu:N"`` / ``"cuda:N"``), a DeviceError when
    torch sees no CUDA device; ``"auto"``: CUDA when available, else the CPU.
    """
    kind, index = parse_device(device, indexed=True)
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        logger.info("device='auto': no CUDA device, using the CPU")
        return torch.device("cpu")
    if kind == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise DeviceError(
            f"device={device!r} but torch sees no CUDA device; use device='cpu' or 'auto'."
        )
    return torch.device("cuda" if index is None else f"cuda:{index}")
