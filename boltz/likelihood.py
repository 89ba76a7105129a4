"""Log-partition functions: exact enumeration and annealed importance sampling.

Exact enumeration sums over the smaller binary side (the hidden side whenever
the visible layer is Gaussian or replicated softmax; the other side is summed
in closed form by the unit's ``log_partition``).  AIS follows Salakhutdinov &
Murray (2008): a base-rate model with zero weights and data-derived visible
biases, geometric intermediate distributions, and one Gibbs transition per
inverse temperature, batched over runs (one GEMM per step and direction).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import Backend
from .errors import ConfigError
from .model import RBMModel

logger = logging.getLogger(__name__)

__all__ = ["AISResult", "ais_log_partition", "beta_schedule", "exact_log_partition"]

MAX_STATES = 2**24


def _host64(model: RBMModel) -> RBMModel:
    """A float64 NumPy copy of ``model`` (enumeration is done in double precision)."""
    be = Backend("numpy", np, np.dtype(np.float64))
    m = RBMModel([(g.name, g.unit, g.size) for g in model.groups], model.n_hidden, be)
    return m.set_params({k: v.astype(np.float64) for k, v in model.to_host().items()})


def _states(bits: int, start: int, stop: int) -> np.ndarray:
    codes = np.arange(start, stop, dtype=np.int64)
    return ((codes[:, None] >> np.arange(bits, dtype=np.int64)) & 1).astype(np.float64)


def _logsumexp(x: np.ndarray) -> float:
    m = float(np.max(x))
    return m + math.log(float(np.sum(np.exp(x - m))))


def exact_log_partition(
    model: RBMModel, n_words: Any = None, max_states: int = MAX_STATES, chunk: int = 1 << 14
) -> Any:
    """``log Z`` by brute-force enumeration.

    Parameters
    ----------
    model : RBMModel
    n_words : int or array of int, optional
        Document length(s) D; required for a replicated-softmax layer, whose
        partition function depends on D.
    max_states : int
        Refuse (ConfigError) when the enumerated side has more states than this.

    Returns
    -------
    float, or array of float with one entry per ``n_words`` when it is an array.
    """
    m = _host64(model)
    V, H = m.n_visible, m.n_hidden
    has_len = m._length_group is not None
    if has_len and n_words is None:
        raise ConfigError(
            "a replicated-softmax model's log Z depends on the document length: "
            "pass n_words=D (an int or an array of ints)."
        )
    all_binary = all(g.unit.name == "bernoulli" for g in m.groups)
    side = "visible" if (all_binary and V < H) else "hidden"
    bits = V if side == "visible" else H
    if 2.0**bits > max_states:
        raise ConfigError(
            f"exact log Z enumerates 2^{bits} {side} states, more than max_states={max_states}. "
            "Use method='ais' for models this size."
        )
    if side == "visible":
        parts = [-m.free_energy(_states(V, s, min(s + chunk, 2**V))) for s in range(0, 2**V, chunk)]
        return _logsumexp(np.concatenate(parts))
    Ds = np.atleast_1d(np.asarray(n_words if has_len else [0], dtype=np.float64))
    W, c = m.params["weights"], m.params["hidden_bias"]
    acc = [[] for _ in Ds]
    for s in range(0, 2**H, chunk):
        h = _states(H, s, min(s + chunk, 2**H))
        a = h @ W.T
        for i, D in enumerate(Ds):
            length = np.full(h.shape[0], D) if has_len else None
            term = h @ c * (D if has_len else 1.0)
            for g in m.groups:
                term = term + g.unit.log_partition(
                    a[:, g.slice], m.group_params(g), length, m.backend
                )
            acc[i].append(term)
    out = np.array([_logsumexp(np.concatenate(t)) for t in acc])
    if has_len and np.ndim(n_words) > 0:
        return out
    return float(out[0])


def beta_schedule(n_betas: int = 10000, breaks: tuple = ((0.5, 0.01), (0.9, 0.1), (1.0, 1.0))):
    """Inverse temperatures from 0 to 1.

    Parameters
    ----------
    n_betas : int
        Total number of intermediate distributions.
    breaks : tuple of (beta, cumulative fraction)
        Piecewise-linear schedule: beta reaches 0.5 after 1% of the steps, 0.9
        after 10% and 1.0 at the end (the proportions 1,000 : 10,000 : 100,000),
        so most of the steps are spent near beta = 1 where the distributions change fastest.

    Returns
    -------
    ndarray, shape (n_betas + 1,)
    """
    if int(n_betas) < 2:
        raise ConfigError(f"n_betas must be >= 2; got {n_betas!r}.")
    n = int(n_betas)
    out = [np.zeros(1)]
    prev_b, prev_i = 0.0, 0
    for b, frac in breaks:
        i = max(prev_i + 1, round(frac * n))
        out.append(np.linspace(prev_b, b, i - prev_i + 1)[1:])
        prev_b, prev_i = b, i
    return np.concatenate(out)


@dataclass
class AISResult:
    """An AIS estimate of ``log Z`` with a +-3 sigma interval.

    Attributes
    ----------
    log_z : float
        ``log Z_A + log mean(w)``.
    log_z_low, log_z_high : float
        ``log(mean(w) -+ 3 std(w)/sqrt(n_runs))`` + ``log Z_A`` (low may be -inf).
    log_weights : ndarray, shape (n_runs,) or (n_lengths, n_runs)
    n_betas : int
    """

    log_z: Any
    log_z_low: Any
    log_z_high: Any
    log_weights: np.ndarray
    n_betas: int

    def __float__(self) -> float:
        return float(self.log_z)


def _summarise(log_w: np.ndarray, log_za: np.ndarray) -> tuple[Any, Any, Any]:
    mx = log_w.max(axis=-1, keepdims=True)
    w = np.exp(log_w - mx)
    mean = w.mean(axis=-1)
    sd = w.std(axis=-1) / math.sqrt(w.shape[-1])
    mx = mx[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(mean - 3 * sd > 0, np.log(np.maximum(mean - 3 * sd, 1e-300)), -np.inf)
    return log_za + mx + np.log(mean), log_za + mx + low, log_za + mx + np.log(mean + 3 * sd)


def ais_log_partition(
    model: RBMModel,
    base_bias: np.ndarray,
    n_runs: int = 100,
    n_betas: int = 10000,
    betas: np.ndarray | None = None,
    n_words: Any = None,
    rng: Any = None,
) -> AISResult:
    """Estimate ``log Z`` by annealed importance sampling.

    Parameters
    ----------
    model : RBMModel
        Its backend is used (runs are batched into one matrix of shape
        (n_lengths * n_runs, V)).
    base_bias : ndarray, shape (V,)
        Visible biases of the base-rate model (W = 0, c = 0); from data means.
    n_runs : int
        Independent AIS runs.
    n_betas, betas
        Number of intermediate distributions (:func:`beta_schedule`) or an explicit
        increasing schedule from 0 to 1.
    n_words : int or array of int
        Document lengths for a replicated-softmax model (one estimate per length).
    rng : device generator

    Returns
    -------
    AISResult
    """
    be, xp = model.backend, model.backend.xp
    if betas is None:
        betas = beta_schedule(n_betas)
    betas = np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1 or betas[0] != 0 or betas[-1] != 1 or np.any(np.diff(betas) < 0):
        raise ConfigError("betas must increase from 0 to 1.")
    if int(n_runs) < 2:
        raise ConfigError(f"n_runs must be >= 2; got {n_runs!r}.")
    has_len = model._length_group is not None
    if has_len and n_words is None:
        raise ConfigError("pass n_words=D for a replicated-softmax model.")
    Ds = np.atleast_1d(np.asarray(n_words if has_len else [0], dtype=np.float64))
    R = int(n_runs)
    n = R * len(Ds)
    length = be.asarray(np.repeat(Ds, R)) if has_len else None
    W, c, bB = model.params["weights"], model.params["hidden_bias"], model.params["visible_bias"]
    bA = be.asarray(base_bias)
    scale = length[:, None] if has_len else 1.0

    def group_p(g, bias):
        p = model.group_params(g)
        p["bias"] = bias[g.slice]
        return p

    zero = be.zeros((n, model.n_visible))
    # at beta = 0 the H hidden units are free: each contributes a factor 2
    log_za = np.full(n, model.n_hidden * np.log(2.0))
    v = be.empty((n, model.n_visible))
    for g in model.groups:
        pa = group_p(g, bA)
        log_za += be.to_host(g.unit.log_partition(zero[:, g.slice], pa, length, be))
        v[:, g.slice] = g.unit.sample(zero[:, g.slice], pa, length, be, rng)

    def bias_terms(v):
        ta = 0.0
        tb = 0.0
        for g in model.groups:
            ta = ta + g.unit.bias_term(v[:, g.slice], group_p(g, bA), be)
            tb = tb + g.unit.bias_term(v[:, g.slice], group_p(g, bB), be)
        return ta, tb

    log_w = xp.zeros((n,), dtype=xp.float64)
    for k in range(1, len(betas)):
        b_prev, b_k = float(betas[k - 1]), float(betas[k])
        x = model.scaled_visible(v) @ W + scale * c  # (n, H)
        ta, tb = bias_terms(v)
        # p*_k(v) = sum_h exp(-(1-b_k) E_A(v) - b_k E_B(v, h)): the marginal of the joint
        # that the Gibbs transition below leaves invariant (Salakhutdinov & Murray 2008,
        # eq. 13), i.e. softplus(b_k x), not b_k softplus(x).
        sp = (be.softplus(b_k * x) - be.softplus(b_prev * x)).sum(axis=1)
        log_w += ((b_k - b_prev) * (tb - ta) + sp).astype(xp.float64)
        # transition T_k: h ~ P_k(h|v), v ~ P_k(v|h)
        ph = be.sigmoid(b_k * x)
        h = be.bernoulli(rng, ph)
        a = b_k * (h @ W.T)
        for g in model.groups:
            mix = (1 - b_k) * bA[g.slice] + b_k * bB[g.slice]
            p = model.group_params(g)
            p["bias"] = mix
            v[:, g.slice] = g.unit.sample(a[:, g.slice], p, length, be, rng)
    lw = be.to_host(log_w).reshape(len(Ds), R)
    lza = log_za.reshape(len(Ds), R)[:, 0]
    est, low, high = _summarise(lw, lza)
    if not (has_len and np.ndim(n_words) > 0):
        return AISResult(float(est[0]), float(low[0]), float(high[0]), lw[0], len(betas) - 1)
    return AISResult(est, low, high, lw, len(betas) - 1)
