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

__all__ = [
    "AISResult",
    "ais_log_partition",
    "beta_schedule",
    "exact_is_cheap",
    "exact_log_partition",
    "length_knots",
]

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


#: "auto" enumerates when the enumeration costs at most this many multiply-adds.
EXACT_BUDGET = 2**30


def exact_is_cheap(model: RBMModel, n_lengths: int = 1, budget: float = EXACT_BUDGET) -> bool:
    """Whether :func:`exact_log_partition` is cheap enough for ``method="auto"``.

    The enumeration visits ``2^bits`` states of the smaller binary side, each at
    a cost of about ``V H`` (one product with ``W``) plus ``V`` per document length.
    """
    V, H = model.n_visible, model.n_hidden
    all_binary = all(g.unit.name == "bernoulli" for g in model.groups)
    bits = min(V, H) if all_binary else H
    if 2.0**bits > MAX_STATES:
        return False
    return 2.0**bits * (V * H + V * max(1, n_lengths)) <= budget


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


def length_knots(lengths: Any, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Knot lengths for the length ladder of :func:`ais_log_partition`.

    Parameters
    ----------
    lengths : array of int
        Distinct document lengths, sorted.
    ratio : float
        The smallest length is a knot; the next knot is the first length at least
        ``ratio`` times the current one (``ratio <= 1``: every length is a knot;
        ``inf``: one knot, or two when the shortest length is 0: the ladder does not
        start from the empty document, whose one step to a word would be a big one).

    Returns
    -------
    knots : ndarray of int, shape (K,)
    knot_of : ndarray of int, shape (len(lengths),)
        Index of the knot at or below each length.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    knots = [int(lengths[0])]
    for d in lengths[1:]:
        if ratio <= 1 or knots[-1] == 0 or d >= ratio * knots[-1]:
            knots.append(int(d))
    k = np.asarray(knots, dtype=np.int64)
    return k, np.searchsorted(k, lengths, side="right") - 1


def ais_log_partition(
    model: RBMModel,
    base_bias: np.ndarray,
    n_runs: int = 100,
    n_betas: int = 10000,
    betas: np.ndarray | None = None,
    n_words: Any = None,
    rng: Any = None,
    length_ratio: float = 1.0,
    progress: Any = False,
) -> AISResult:
    """Estimate ``log Z`` by annealed importance sampling.

    Parameters
    ----------
    model : RBMModel
        Its backend is used (runs are batched into one matrix of shape
        (n_knots * n_runs, V)).
    base_bias : ndarray, shape (V,)
        Visible biases of the base-rate model (W = 0, c = 0); from data means.
    n_runs : int
        Independent AIS runs (per knot length for a replicated softmax).
    n_betas, betas
        Number of intermediate distributions (:func:`beta_schedule`) or an explicit
        increasing schedule from 0 to 1.
    n_words : int or array of int
        Document lengths for a replicated-softmax model (one estimate per length).
    rng : device generator
    length_ratio : float
        Replicated softmax with several lengths: lengths within this ratio of a
        *knot* length (:func:`length_knots`) are reached from it by the length
        ladder below instead of a temperature schedule of their own.  1 (default):
        every distinct length has its own schedule.
    progress : "auto" or bool
        tqdm bar over the annealing steps.

    Returns
    -------
    AISResult

    Notes
    -----
    **Length ladder.**  Summing out the ordered word sequence of length ``D``, the
    unnormalised hidden marginal of a replicated softmax is
    ``f_D(h) = exp(D g(h)) * (factors of the other groups)`` with
    ``g(h) = c.h + logsumexp_k(b_k + W_k h)``, so ``Z_D = sum_h f_D(h)`` and the
    lengths ``D, D + 1, ...`` form a sequence of distributions on ``h`` whose
    neighbours differ by ``f_{D+1} / f_D = exp(g(h))``.  After the temperature
    schedule at a knot ``D_0`` (whose final hidden state is a weighted sample of
    ``p_{D_0}(h)``), each further length is one more AIS step: the weight gains
    ``g(h)`` and ``h`` moves by a Gibbs transition ``h -> v -> h`` at length ``D + 1``
    (which leaves ``p_{D+1}(h)`` invariant).  Every prefix of an AIS chain is an
    AIS chain, so ``Z_A(D_0) mean(w)`` is an unbiased estimate of ``Z_D`` for every
    length on the ladder (Neal 2001), and one temperature schedule serves all
    lengths from ``D_0`` to the next knot at the cost of one Gibbs step per length.
    The steps are small when ``D`` is large (the log-weight increment's variance
    under ``p_D`` falls like ``1 / D^2``), which is where documents are.
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
    requested = np.atleast_1d(np.asarray(n_words if has_len else [0], dtype=np.int64))
    uniq, inv = np.unique(requested, return_inverse=True)
    knots, knot_of = length_knots(uniq, length_ratio if has_len else 1.0)
    Ds = knots.astype(np.float64)
    R = int(n_runs)
    n = R * len(Ds)
    length = be.asarray(np.repeat(Ds, R)) if has_len else None
    W, c, bB = model.params["weights"], model.params["hidden_bias"], model.params["visible_bias"]
    bA = be.asarray(base_bias)
    scale = length[:, None] if has_len else 1.0
    ladder = int((uniq - knots[knot_of]).max()) if has_len else 0

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

    from .trainer import make_progress

    log_w = xp.zeros((n,), dtype=xp.float64)
    h = None
    with make_progress(len(betas) - 1 + ladder, "AIS", progress) as bar:
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
            bar.update(1)
        lw = be.to_host(log_w).reshape(len(Ds), R)
        lza = log_za.reshape(len(Ds), R)[:, 0]
        # log weights of every requested length: knots now, the ladder fills the rest
        out_w = np.empty((len(uniq), R))
        out_za = np.empty(len(uniq))
        for i, d in enumerate(uniq):
            if d == knots[knot_of[i]]:
                out_w[i], out_za[i] = lw[knot_of[i]], lza[knot_of[i]]
        if ladder:
            _length_ladder(
                model, h, log_w, Ds, R, uniq, knots, knot_of, lza, out_w, out_za, rng, bar
            )
    est, low, high = _summarise(out_w[inv], out_za[inv])
    lw_req = out_w[inv]
    if not (has_len and np.ndim(n_words) > 0):
        return AISResult(float(est[0]), float(low[0]), float(high[0]), lw_req[0], len(betas) - 1)
    return AISResult(est, low, high, lw_req, len(betas) - 1)


def _length_ladder(model, h, log_w, Ds, R, uniq, knots, knot_of, lza, out_w, out_za, rng, bar):
    """Continue the chains of every knot length by one length per step (see
    :func:`ais_log_partition`), writing the log weights of the lengths reached."""
    be = model.backend
    c = model.params["hidden_bias"]
    g_len = model._length_group
    cur = np.repeat(Ds, R)  # each chain's current length
    todo = {}  # offset t -> [(index into uniq, knot index)]
    for i, d in enumerate(uniq):
        off = int(d - knots[knot_of[i]])
        if off:
            todo.setdefault(off, []).append((i, int(knot_of[i])))
    top = max(todo)
    for t in range(1, top + 1):
        a = model.top_down(h)
        p_len = model.group_params(g_len)
        ones = be.asarray(np.ones(h.shape[0]))
        # f_{D+1}(h) / f_D(h) = exp(c.h + logsumexp(b + W h)) over the softmax group
        inc = h @ c + g_len.unit.log_partition(a[:, g_len.slice], p_len, ones, be)
        log_w += inc.astype(log_w.dtype)
        lw = be.to_host(log_w).reshape(len(Ds), R)
        for i, k in todo.get(t, ()):
            out_w[i], out_za[i] = lw[k], lza[k]  # Z_D = Z_A(D_0) E[w]
        if t == top:
            break
        cur += 1
        length = be.asarray(cur)
        # transition at the new length: v ~ P(v | h, D + 1), h ~ P(h | v)
        vv = model.visible(h, length, rng=rng)
        h = model.sample_hidden(model.hidden_mean(vv, length), rng)
        bar.update(1)
