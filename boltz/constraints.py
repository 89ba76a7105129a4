"""Hyperparameter constraints: one vocabulary and one check for boltz and bridge.

An estimator declares what each constructor parameter may be, as data, in a class
attribute ``_parameter_constraints``: a dict from the parameter name to a list of
constraints, any one of which accepts the value (the idea of scikit-learn's table of the
same name).  :func:`validate_params` checks the values against the table at the
boundary (``fit``), and every refusal is a :class:`~boltz.errors.ConfigError` (a
``ValueError``) that names the parameter, says what it must be and what came::

    class RBM(TransformerMixin, BaseEstimator):
        _parameter_constraints = {
            "n_hidden": [Interval(int, 1, None)],
            "learning_rate": [Options("auto"), Interval(float, 0, None, closed="neither")],
            "n_chains": [None, Interval(int, 1, None)],
            "device": ["device"],
            ...
        }

A constraint in the table is one of

* a :class:`Constraint`: :class:`Interval`, :class:`Options`, :class:`SequenceOf`,
  :class:`Check`;
* ``None``: the value None;
* a type (or a tuple of types): an instance of it;
* a callable ``f(value) -> bool``: accepted when it returns True (described by the
  first line of its docstring);
* a name from :data:`NAMED`: ``"random_state"`` (None or an int >= 0), ``"device"``
  (:mod:`boltz.devices`), ``"progress"`` (:mod:`boltz.progress`), ``"dtype"``
  (float32 / float64), ``"boolean"``, ``"callable"``, ``"array-like"`` and
  ``"no_validation"`` (anything: checked where it is used).

Rules that tie several parameters together (``learn_sigma`` needs Gaussian visibles)
stay in the estimator's code, after :func:`validate_params`.

Numbers: :class:`Interval` refuses booleans (``True`` is not an epoch count) and, for
real intervals, NaN and infinities.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .devices import parse_device
from .errors import ConfigError
from .progress import check_progress

__all__ = [
    "NAMED",
    "Check",
    "Constraint",
    "Interval",
    "Options",
    "SequenceOf",
    "describe",
    "make_constraint",
    "validate_params",
    "validate_value",
]


class Constraint:
    """What one constraint of a ``_parameter_constraints`` entry knows.

    Subclasses implement :meth:`is_satisfied_by` and :meth:`__str__` (the words that
    follow "must be" in an error message).
    """

    def is_satisfied_by(self, value: Any) -> bool:  # pragma: no cover - abstract
        """Whether ``value`` meets the constraint."""
        raise NotImplementedError

    def __str__(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def refuse(self, value: Any, name: str) -> None:
        """Raise the most helpful error for a refused ``value`` (used when this is the
        only constraint of a parameter); the default says what was expected."""
        raise ConfigError(f"{name} must be {self}; got {value!r}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _fmt(x: float) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"


class Interval(Constraint):
    """A number in an interval.

    Parameters
    ----------
    kind : {int, float}
        ``int``: an integer (Python or NumPy, not bool); ``float``: a finite real
        number (integers included, not bool).
    left, right : number or None
        The bounds; None is unbounded.
    closed : {"both", "left", "right", "neither"}, default "both"
        Which bounds belong to the interval.
    what : str, optional
        The words of the error message (default built from the bounds, e.g.
        ``"a number >= 0"``).

    Examples
    --------
    >>> Interval(int, 1, None).is_satisfied_by(0)
    False
    >>> str(Interval(float, 0, 1, closed="left"))
    'a number in [0, 1)'
    """

    def __init__(
        self,
        kind: type,
        left: float | None,
        right: float | None,
        *,
        closed: str = "both",
        what: str | None = None,
    ) -> None:
        if kind not in (int, float):
            raise TypeError(f"Interval kind must be int or float; got {kind!r}.")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(
                f"closed must be 'both', 'left', 'right' or 'neither'; got {closed!r}."
            )
        self.kind = kind
        self.left = left
        self.right = right
        self.closed = closed
        self.what = what

    def is_satisfied_by(self, value: Any) -> bool:
        if self.kind is int:
            if not _is_int(value):
                return False
        elif not _is_real(value) or not math.isfinite(value):
            return False
        left_in = self.closed in ("both", "left")
        right_in = self.closed in ("both", "right")
        if self.left is not None and (value < self.left if left_in else value <= self.left):
            return False
        if self.right is not None and (value > self.right if right_in else value >= self.right):
            return False
        return True

    def __str__(self) -> str:
        if self.what:
            return self.what
        noun = "an integer" if self.kind is int else "a number"
        lo, hi = self.left, self.right
        if hi is None and lo is not None:
            op = ">=" if self.closed in ("both", "left") else ">"
            return f"{noun} {op} {_fmt(lo)}"
        if lo is None and hi is not None:
            op = "<=" if self.closed in ("both", "right") else "<"
            return f"{noun} {op} {_fmt(hi)}"
        if lo is None:
            return noun if self.kind is int else "a finite number"
        lb = "[" if self.closed in ("both", "left") else "("
        rb = "]" if self.closed in ("both", "right") else ")"
        return f"{noun} in {lb}{_fmt(lo)}, {_fmt(hi)}{rb}"


class Options(Constraint):
    """One of a few values, compared with ``==`` (so ``Options(True, False)`` takes 1 / 0).

    Parameters
    ----------
    *options : object
        The values (or one set, list or tuple of them).
    what : str, optional
        The words of the error message (default the options joined by "or").

    Examples
    --------
    >>> Options("auto", "full").is_satisfied_by("full")
    True
    >>> str(Options("auto", True, False))
    "'auto', True or False"
    """

    def __init__(self, *options: Any, what: str | None = None) -> None:
        if len(options) == 1 and isinstance(options[0], (set, frozenset, list, tuple)):
            options = tuple(options[0])
        self.options = tuple(options)
        self.what = what

    def is_satisfied_by(self, value: Any) -> bool:
        for o in self.options:
            try:
                if bool(value == o):
                    return True
            except (TypeError, ValueError):  # e.g. an array compared with a string
                continue
        return False

    def __str__(self) -> str:
        if self.what:
            return self.what
        return _join([repr(o) for o in self.options], "or")


class SequenceOf(Constraint):
    """A list or tuple (any :class:`~collections.abc.Sequence` but a string) whose items
    all meet ``item``.

    Parameters
    ----------
    item : constraint spec
        What each item must be (anything :func:`make_constraint` takes).
    min_len : int, default 0
    types : tuple of types, optional
        The sequence types accepted (default any non-string Sequence).
    what : str, optional
        The words of the error message (default built from ``item``).
    """

    def __init__(
        self,
        item: Any,
        *,
        min_len: int = 0,
        types: tuple[type, ...] | None = None,
        what: str | None = None,
    ) -> None:
        self.item = make_constraint(item)
        self.min_len = min_len
        self.types = types
        self.what = what

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, str):
            return False
        if not isinstance(value, self.types or Sequence):
            return False
        return len(value) >= self.min_len and all(self.item.is_satisfied_by(v) for v in value)

    def __str__(self) -> str:
        if self.what:
            return self.what
        size = "a non-empty " if self.min_len == 1 else "a "
        return f"{size}list of {self.item}"


class Check(Constraint):
    """A predicate ``f(value) -> bool`` with the words that describe it.

    Parameters
    ----------
    predicate : callable
    what : str
        What the predicate accepts, as it reads after "must be".
    refuse : callable, optional
        ``refuse(value, name)`` raises the error for a refused value (a vocabulary's
        own, more specific message); default the generic one.
    """

    def __init__(
        self,
        predicate: Callable[[Any], bool],
        what: str,
        refuse: Callable[[Any, str], None] | None = None,
    ) -> None:
        self.predicate = predicate
        self.what = what
        self._refuse = refuse

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except (ConfigError, TypeError, ValueError):
            return False

    def __str__(self) -> str:
        return self.what

    def refuse(self, value: Any, name: str) -> None:
        if self._refuse is not None:
            self._refuse(value, name)
        super().refuse(value, name)


class _IsInstance(Constraint):
    def __init__(self, types: type | tuple[type, ...]) -> None:
        self.types = types

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def __str__(self) -> str:
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        return _join([f"a {t.__name__}" for t in types], "or")


class _IsNone(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"


def _parses(parse: Callable[[Any], Any]) -> Callable[[Any], bool]:
    def ok(value: Any) -> bool:
        parse(value)
        return True

    return ok


def _device_refuse(value: Any, name: str) -> None:
    parse_device(value)  # raises its own message (e.g. how to pick GPU N)


def _progress_refuse(value: Any, name: str) -> None:
    check_progress(value, name)


def _dtype_ok(value: Any) -> bool:
    key = value if isinstance(value, str) else np.dtype(value).name
    return key in ("float32", "float64")


def _dtype_refuse(value: Any, name: str) -> None:
    raise ConfigError(f"{name} must be 'float32' or 'float64'; got {value!r}.")


def _array_like(value: Any) -> bool:
    return hasattr(value, "shape") or hasattr(value, "__array__") or isinstance(value, Sequence)


#: The named constraints a table may use by their name.
NAMED: dict[str, Constraint] = {
    "random_state": Check(
        lambda v: v is None or (_is_int(v) and v >= 0), "None or an integer >= 0"
    ),
    "device": Check(
        _parses(parse_device),
        "'auto', 'cpu', 'gpu' or 'cuda'",
        refuse=_device_refuse,
    ),
    "progress": Check(
        _parses(check_progress),
        "'auto', None, True or False",
        refuse=_progress_refuse,
    ),
    "dtype": Check(_dtype_ok, "'float32' or 'float64'", refuse=_dtype_refuse),
    "boolean": _IsInstance((bool, np.bool_)),
    "callable": Check(callable, "a callable"),
    "array-like": Check(_array_like, "an array-like"),
    "no_validation": Check(lambda v: True, "anything"),
}


def make_constraint(spec: Any) -> Constraint:
    """The :class:`Constraint` a table entry stands for (see the module docstring)."""
    if isinstance(spec, Constraint):
        return spec
    if spec is None:
        return _IsNone()
    if isinstance(spec, str):
        try:
            return NAMED[spec]
        except KeyError:
            raise ValueError(f"unknown constraint name {spec!r}; known: {sorted(NAMED)}.") from None
    if isinstance(spec, type) or (
        isinstance(spec, tuple) and spec and all(isinstance(t, type) for t in spec)
    ):
        return _IsInstance(spec)
    if callable(spec):
        doc = (getattr(spec, "__doc__", None) or "").strip().splitlines()
        return Check(spec, doc[0].rstrip(".") if doc else getattr(spec, "__name__", "valid"))
    raise TypeError(f"cannot read {spec!r} as a parameter constraint.")


def _join(words: Sequence[str], conj: str) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conj} {words[-1]}"


def describe(specs: Iterable[Any]) -> str:
    """The words for "must be ..." of a list of constraints, e.g. ``"None or an integer >= 1"``."""
    return _join([str(make_constraint(s)) for s in specs], "or")


def validate_value(value: Any, specs: Sequence[Any], name: str) -> Any:
    """Check one value against a list of constraints; return it unchanged.

    Raises
    ------
    ConfigError
        When no constraint accepts ``value`` (a ``ValueError``): ``"{name} must be
        {what}; got {value!r}."``, or the vocabulary's own message for a parameter with
        one named constraint such as ``"device"``.
    """
    cons = [make_constraint(s) for s in specs]
    if any(c.is_satisfied_by(value) for c in cons):
        return value
    if len(cons) == 1:
        cons[0].refuse(value, name)
    raise ConfigError(f"{name} must be {describe(cons)}; got {value!r}.")


def validate_params(
    params: Any, constraints: Mapping[str, Sequence[Any]] | None = None
) -> dict[str, Any]:
    """Check hyperparameters against a constraint table.

    Parameters
    ----------
    params : estimator or dict
        An estimator (its ``get_params(deep=False)``, or its attributes, are checked)
        or a dict of parameter values.
    constraints : dict of str -> list, optional
        The table; default the estimator's ``_parameter_constraints``.  Parameters
        missing from ``params`` are skipped.

    Returns
    -------
    dict
        The checked values.

    Raises
    ------
    ConfigError
        For the first refused value (see :func:`validate_value`).

    Examples
    --------
    >>> validate_params({"k": 1, "seed": None},
    ...                 {"k": [Interval(int, 1, None)], "seed": ["random_state"]})
    {'k': 1, 'seed': None}
    >>> validate_params({"k": 0}, {"k": [Interval(int, 1, None)]})
    Traceback (most recent call last):
    ...
    boltz.errors.ConfigError: k must be an integer >= 1; got 0.
    """
    if constraints is None:
        constraints = getattr(params, "_parameter_constraints", None)
        if constraints is None:
            raise TypeError(f"{type(params).__name__} has no _parameter_constraints table.")
    if isinstance(params, Mapping):
        values = dict(params)
    elif hasattr(params, "get_params"):
        values = params.get_params(deep=False)
    else:
        values = {k: getattr(params, k) for k in constraints if hasattr(params, k)}
    for name, specs in constraints.items():
        if name in values:
            validate_value(values[name], specs, name)
    return {k: values[k] for k in constraints if k in values}
