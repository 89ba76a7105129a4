"""Visible unit types as small objects.

Every unit knows four things about its own slice of the visible layer: how its
state enters the hidden input (``scaled``), its conditional mean and sample given
the top-down input ``a = h @ W.T``, the energy terms that do not involve the
hidden layer (``bias_term``), and the closed-form log-partition over its own
states for fixed ``a`` (``log_partition``).  Free energy, conditionals, Gibbs
steps and gradient statistics are written once against this contract in
:mod:`boltz.model`, so a joint layer with several input groups is the same code.

Energy convention (hidden units are Bernoulli, ``h`` in {0,1}^H, weights ``W``
(V, H), hidden bias ``c``)::

    E(v, h) = -sum_g bias_term_g(v_g) - s(v) c.h - sum_g scaled_g(v_g) . (W_g h)

where ``s(v)`` is the document length D for a replicated-softmax layer and 1
otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ConfigError, DataError

__all__ = ["Bernoulli", "Gaussian", "ReplicatedSoftmax", "VisibleUnit", "make_unit"]

Params = dict[str, Any]  # slices of the model's visible parameters for one group


class VisibleUnit:
    """Contract of a visible unit type (see the module docstring).

    Parameters passed to the methods
    --------------------------------
    a : array, shape (n, V_g)
        Top-down input ``h @ W_g.T``.
    p : dict
        This group's slices of the visible parameters: ``"bias"`` (V_g,) and,
        for a Gaussian with learned sigma, ``"log_sigma"`` (V_g,).
    length : array, shape (n,) or None
        Document lengths D for a replicated softmax; None for other units.
    out : array, shape (n, V_g), optional
        ``mean`` and ``sample`` may write their result into ``out`` (which may be
        ``a`` itself) instead of allocating; the returned array is the result.
    """

    name: str = "unit"
    learns_sigma: bool = False
    has_length: bool = False

    # how the state enters the hidden input ---------------------------------
    def scaled(self, v: Any, p: Params, backend: Any) -> Any:
        return v

    def length(self, v: Any, xp: Any) -> Any:
        return None

    # conditionals ----------------------------------------------------------
    def mean(self, a: Any, p: Params, length: Any, backend: Any, out: Any = None) -> Any:
        raise NotImplementedError

    def sample(
        self, a: Any, p: Params, length: Any, backend: Any, rng: Any, out: Any = None
    ) -> Any:
        raise NotImplementedError

    # energies --------------------------------------------------------------
    def bias_term(self, v: Any, p: Params, backend: Any) -> Any:
        """Per-row ``-E_v(v)``: the energy terms without the hidden layer, shape (n,)."""
        raise NotImplementedError

    def log_partition(self, a: Any, p: Params, length: Any, backend: Any) -> Any:
        """Per-row ``log sum_v exp(bias_term(v) + scaled(v) . a)``, shape (n,)."""
        raise NotImplementedError

    # gradients -------------------------------------------------------------
    def param_stats(self, v: Any, p: Params, top_down: Any, backend: Any) -> dict[str, Any]:
        """Batch sums of ``-dF/dtheta`` for this unit's parameters.

        ``top_down`` is ``P(h|v) @ W_g.T`` (only needed by a learned sigma; may be None
        otherwise, see :attr:`needs_top_down`).
        """
        raise NotImplementedError

    @property
    def needs_top_down(self) -> bool:
        return self.learns_sigma

    # data ------------------------------------------------------------------
    def validate(self, X: Any, name: str = "X") -> None:
        """Raise :class:`DataError` if ``X`` is outside this unit's support."""

    def init_bias(self, mean: np.ndarray) -> np.ndarray:
        """Visible bias from the data means (Hinton's guide, section 8)."""
        return np.zeros_like(mean)

    def config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Bernoulli(VisibleUnit):
    """Binary (or probability-valued) units in [0, 1]; mean ``sigmoid(b + a)``."""

    name = "bernoulli"

    def mean(self, a, p, length, backend, out=None):
        return backend.sigmoid(a, out=out, bias=p["bias"])

    def sample(self, a, p, length, backend, rng, out=None):
        m = self.mean(a, p, length, backend, out=out)
        return backend.bernoulli(rng, m, out=m)

    def bias_term(self, v, p, backend):
        return v @ p["bias"]

    def log_partition(self, a, p, length, backend):
        return backend.softplus(a + p["bias"]).sum(axis=1)

    def param_stats(self, v, p, top_down, backend):
        return {"bias": v.sum(axis=0)}

    def validate(self, X, name="X"):
        lo, hi = _minmax(X)
        if lo < 0 or hi > 1:
            neg = "Negative values in data: " if lo < 0 else ""
            raise DataError(
                f"{neg}visible='bernoulli' expects {name} in [0, 1] (binary data or "
                f"probabilities); got values in [{lo:.4g}, {hi:.4g}]. Scale the data to [0, 1] "
                "or use visible='gaussian'."
            )

    def init_bias(self, mean):
        m = np.clip(mean, 1e-3, 1 - 1e-3)
        return np.log(m / (1 - m))


class Gaussian(VisibleUnit):
    """Real-valued units, ``v | h ~ N(b + sigma * a, sigma^2)``.

    Parameters
    ----------
    learn_sigma : bool, default False
        False: sigma is fixed at 1 (the estimator standardises the data with
        whole-training-set statistics). True: a per-visible ``log_sigma`` is learned.

    Notes
    -----
    Energy ``sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_ij (v_i / sigma_i) w_ij h_j - c.h``
    (Hinton 2010, "A practical guide", section 13.2).
    """

    name = "gaussian"

    def __init__(self, learn_sigma: bool = False) -> None:
        self.learns_sigma = bool(learn_sigma)

    def _sigma(self, p, backend):
        if "log_sigma" in p:
            return backend.xp.exp(p["log_sigma"])
        return None

    def scaled(self, v, p, backend):
        if "log_sigma" in p:
            return v * backend.xp.exp(-p["log_sigma"])
        return v

    def mean(self, a, p, length, backend, out=None):
        xp = backend.xp
        s = self._sigma(p, backend)
        if s is not None:
            a = xp.multiply(a, s, out=out)
            out = a
        return xp.add(a, p["bias"], out=out)

    def sample(self, a, p, length, backend, rng, out=None):
        mu = self.mean(a, p, length, backend, out=out)
        eps = backend.normal(rng, mu.shape)
        s = self._sigma(p, backend)
        if s is not None:
            eps *= s
        mu += eps
        return mu

    def bias_term(self, v, p, backend):
        d = v - p["bias"]
        if "log_sigma" in p:
            d = d * backend.xp.exp(-p["log_sigma"])
        return -0.5 * (d * d).sum(axis=1)

    def log_partition(self, a, p, length, backend):
        xp = backend.xp
        b = p["bias"]
        const = 0.5 * math.log(2 * math.pi)
        if "log_sigma" in p:
            ls = p["log_sigma"]
            return (b * xp.exp(-ls) * a + 0.5 * a * a + const + ls).sum(axis=1)
        return (b * a + 0.5 * a * a + const).sum(axis=1)

    def param_stats(self, v, p, top_down, backend):
        if "log_sigma" not in p:
            return {"bias": (v - p["bias"]).sum(axis=0)}
        inv2 = backend.xp.exp(-2.0 * p["log_sigma"])
        d = v - p["bias"]
        stats = {"bias": (d * inv2).sum(axis=0)}
        # -dF/dlog(sigma) = (v-b)^2/sigma^2 - (v/sigma) (W P(h|v))
        stats["log_sigma"] = (d * d * inv2 - self.scaled(v, p, backend) * top_down).sum(axis=0)
        return stats

    def config(self):
        return {"name": self.name, "learn_sigma": self.learns_sigma}

    def __repr__(self) -> str:
        return f"Gaussian(learn_sigma={self.learns_sigma})"


class ReplicatedSoftmax(VisibleUnit):
    """Replicated softmax (Salakhutdinov & Hinton 2009) for word-count vectors.

    A document of length ``D = sum(v)`` is ``D`` softmax units over the vocabulary
    sharing one weight matrix; the hidden bias is multiplied by ``D``.  The
    likelihood is that of the *ordered* word sequence: no multinomial coefficient
    ``D! / prod(v_k!)`` is included, as in the paper, so
    ``log p(v) = b.v + sum_j softplus(D c_j + v.W_j) - log Z_D``.
    """

    name = "softmax"
    has_length = True

    def length(self, v, xp):
        return xp.asarray(v.sum(axis=1)).reshape(-1)

    def _probs(self, a, p, backend):
        xp = backend.xp
        z = a + p["bias"]
        z = z - z.max(axis=1, keepdims=True)
        e = xp.exp(z)
        e /= e.sum(axis=1, keepdims=True)
        return e

    def mean(self, a, p, length, backend, out=None):
        return backend.xp.multiply(self._probs(a, p, backend), length[:, None], out=out)

    def sample(self, a, p, length, backend, rng, out=None):
        return backend.multinomial(rng, length, self._probs(a, p, backend))

    def bias_term(self, v, p, backend):
        return backend.xp.asarray(v @ p["bias"]).reshape(-1)

    def log_partition(self, a, p, length, backend):
        return length * backend.logsumexp(a + p["bias"], axis=1)

    def param_stats(self, v, p, top_down, backend):
        return {"bias": backend.xp.asarray(v.sum(axis=0)).reshape(-1)}

    def validate(self, X, name="X"):
        data = X.data if hasattr(X, "data") and not isinstance(X, np.ndarray) else X
        data = np.asarray(data)
        if data.size and data.min() < 0:
            raise DataError(
                f"Negative values in data: visible='softmax' expects {name} to hold non-negative "
                "word counts; "
                f"found a minimum of {data.min():.4g}."
            )
        if data.size and not np.all(data == np.round(data)):
            raise DataError(
                f"visible='softmax' expects {name} to hold integer word counts; found "
                "non-integer values. Pass raw counts, not tf-idf or normalised rows."
            )

    def init_bias(self, mean):
        m = np.maximum(mean, 0)
        total = m.sum()
        if total <= 0:
            return np.zeros_like(mean)
        q = np.maximum(m / total, 1e-6)
        return np.log(q) - np.log(q).mean()


def _minmax(X: Any) -> tuple[float, float]:
    if hasattr(X, "data") and not isinstance(X, np.ndarray):
        d = np.asarray(X.data)
        if d.size == 0:
            return 0.0, 0.0
        lo, hi = float(d.min()), float(d.max())
        if X.nnz < X.shape[0] * X.shape[1]:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        return lo, hi
    return float(np.min(X)), float(np.max(X))


_UNITS = {"bernoulli": Bernoulli, "gaussian": Gaussian, "softmax": ReplicatedSoftmax}


def make_unit(spec: Any, learn_sigma: bool = False) -> VisibleUnit:
    """Build a unit from a name (``"bernoulli"``, ``"gaussian"``, ``"softmax"``) or an instance."""
    if isinstance(spec, VisibleUnit):
        return spec
    if isinstance(spec, dict):
        spec = dict(spec)
        name = spec.pop("name", None)
        if name == "gaussian":
            return Gaussian(**spec)
        if name in _UNITS and not spec:
            return _UNITS[name]()
        raise ConfigError(f"unknown unit configuration {spec!r} for unit {name!r}.")
    if spec not in _UNITS:
        raise ConfigError(
            f"visible must be one of {sorted(_UNITS)} or a VisibleUnit; got {spec!r}."
        )
    if spec == "gaussian":
        return Gaussian(learn_sigma=learn_sigma)
    return _UNITS[spec]()
