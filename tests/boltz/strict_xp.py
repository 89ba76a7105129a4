"""A strict stand-in for CuPy: arrays that refuse to become NumPy arrays.

``StrictArray`` wraps an ndarray, supports the operators and methods the boltz
core uses, and raises ``TypeError`` from ``__array__`` and from NumPy ufuncs
and functions, as CuPy arrays do.  A stray ``np.`` call on device data in the
core therefore fails here on a machine without a GPU.
"""

from __future__ import annotations

import operator
import types
from typing import Any

import numpy as np


class StrictArray:
    __slots__ = ("_a",)
    __array_priority__ = 1000

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    # refusing implicit conversion, like cupy.ndarray
    def __array__(self, *args: Any, **kwargs: Any):
        raise TypeError("Implicit conversion to a NumPy array is not allowed (strict device array)")

    def __array_ufunc__(self, *args: Any, **kwargs: Any):
        raise TypeError("NumPy ufunc called on a strict device array")

    def __array_function__(self, *args: Any, **kwargs: Any):
        raise TypeError("NumPy function called on a strict device array")

    # attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    T = property(lambda self: StrictArray(self._a.T))
    flags = property(lambda self: self._a.flags)

    def __len__(self) -> int:
        return len(self._a)

    def __repr__(self) -> str:
        return f"StrictArray({self._a!r})"

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __getitem__(self, k: Any) -> StrictArray:
        return StrictArray(self._a[_unwrap(k)])

    def __setitem__(self, k: Any, v: Any) -> None:
        self._a[_unwrap(k)] = _unwrap(v)

    def get(self) -> np.ndarray:
        return self._a.copy()

    def astype(self, dtype: Any, copy: bool = True) -> StrictArray:
        return StrictArray(self._a.astype(dtype, copy=copy))

    def copy(self) -> StrictArray:
        return StrictArray(self._a.copy())

    def reshape(self, *shape: Any) -> StrictArray:
        return StrictArray(self._a.reshape(*shape))

    def ravel(self) -> StrictArray:
        return StrictArray(self._a.ravel())

    def item(self) -> Any:
        return self._a.item()


def _unwrap(x: Any) -> Any:
    if isinstance(x, StrictArray):
        return x._a
    if isinstance(x, tuple):
        return tuple(_unwrap(v) for v in x)
    if isinstance(x, list):
        return [_unwrap(v) for v in x]
    if isinstance(x, np.ndarray) and x.ndim > 0:
        raise TypeError("a host NumPy array was mixed with strict device arrays")
    return x


def _wrap(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return StrictArray(x)
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    return x


def _binop(op):
    def f(self, other):
        return _wrap(op(self._a, _unwrap(other)))

    def r(self, other):
        return _wrap(op(_unwrap(other), self._a))

    return f, r


for _name, _op in [
    ("add", operator.add),
    ("sub", operator.sub),
    ("mul", operator.mul),
    ("truediv", operator.truediv),
    ("matmul", operator.matmul),
    ("mod", operator.mod),
    ("pow", operator.pow),
    ("lt", operator.lt),
    ("le", operator.le),
    ("gt", operator.gt),
    ("ge", operator.ge),
    ("eq", operator.eq),
    ("ne", operator.ne),
    ("and", operator.and_),
    ("or", operator.or_),
]:
    _f, _r = _binop(_op)
    setattr(StrictArray, f"__{_name}__", _f)
    if _name not in ("lt", "le", "gt", "ge", "eq", "ne"):
        setattr(StrictArray, f"__r{_name}__", _r)

for _name, _op in [
    ("iadd", operator.iadd),
    ("isub", operator.isub),
    ("imul", operator.imul),
    ("itruediv", operator.itruediv),
]:

    def _make(op):
        def f(self, other):
            op(self._a, _unwrap(other))
            return self

        return f

    setattr(StrictArray, f"__{_name}__", _make(_op))
StrictArray.__neg__ = lambda self: StrictArray(-self._a)
StrictArray.__hash__ = None

for _m in ("sum", "mean", "max", "min", "std", "all", "any"):

    def _method(name):
        def f(self, *args, **kwargs):
            return _wrap(getattr(self._a, name)(*args, **_unwrap(kwargs)))

        return f

    setattr(StrictArray, _m, _method(_m))


def _func(name: str):
    fn = getattr(np, name)

    def f(*args, **kwargs):
        out = kwargs.get("out")
        res = fn(*_unwrap(list(args)), **{k: _unwrap(v) for k, v in kwargs.items()})
        return out if out is not None else _wrap(res)

    f.__name__ = name
    return f


xp = types.ModuleType("strict_xp")
for _n in (
    "empty",
    "zeros",
    "zeros_like",
    "empty_like",
    "ones",
    "full",
    "arange",
    "exp",
    "log",
    "log1p",
    "negative",
    "tanh",
    "multiply",
    "add",
    "subtract",
    "less",
    "logaddexp",
    "maximum",
    "minimum",
    "clip",
    "where",
    "isfinite",
    "concatenate",
    "cumsum",
    "searchsorted",
    "sort",
    "repeat",
    "bincount",
    "rint",
    "sum",
    "max",
    "squeeze",
    "matmul",
    "sqrt",
    "abs",
    "stack",
    "float32",
    "float64",
    "int64",
    "ones_like",
    "outer",
    "dot",
):
    obj = getattr(np, _n)
    setattr(xp, _n, obj if isinstance(obj, type) else _func(_n))


def _asarray(x, dtype=None):
    if isinstance(x, StrictArray):
        return StrictArray(x._a.astype(dtype, copy=False) if dtype is not None else x._a)
    return StrictArray(np.array(x, dtype=dtype))


def _array(x, dtype=None, copy=True):
    return StrictArray(np.array(_unwrap(x), dtype=dtype, copy=copy))


xp.asarray = _asarray
xp.array = _array
xp.asnumpy = lambda x: x._a.copy() if isinstance(x, StrictArray) else np.asarray(x)


class _Gen:
    def __init__(self, seed: int) -> None:
        self._g = np.random.default_rng(seed)

    def random(self, size, dtype=np.float64):
        return StrictArray(self._g.random(size, dtype=dtype))

    def standard_normal(self, size, dtype=np.float64):
        return StrictArray(self._g.standard_normal(size, dtype=dtype))


xp.random = types.SimpleNamespace(default_rng=lambda seed: _Gen(seed))
