"""Per-epoch training diagnostics: reconstruction error, free energy, pseudo-likelihood."""

from __future__ import annotations

from typing import Any

from .model import RBMModel

__all__ = ["pseudo_log_likelihood", "reconstruction_error"]


def reconstruction_error(model: RBMModel, v: Any) -> float:
    """Mean squared error between ``v`` and its mean-field reconstruction.

    ``v -> P(h|v) -> E[v | h = P(h|v)]``, averaged over rows and visibles.
    """
    be = model.backend
    length = model.length(v)
    ph = model.hidden_mean(v, length)
    r = model.visible(ph, length)
    dense = v.toarray() if hasattr(v, "toarray") else v
    d = be.xp.asarray(dense) - r
    return float((d * d).mean())


def pseudo_log_likelihood(model: RBMModel, v: Any, block: int = 1 << 17) -> float:
    """Exact pseudo-log-likelihood for Bernoulli visibles, mean per row.

    ``PL(v) = sum_i [v_i log p_i + (1 - v_i) log(1 - p_i)]`` with
    ``p_i = P(v_i = 1 | v_{-i})``, summed over *all* visibles (not one flipped
    bit scaled by V as scikit-learn's ``score_samples`` does).  For binary ``v``
    this is the usual ``sum_i log P(v_i | v_{-i})``; for probabilities in [0, 1]
    it is the expected value under independent Bernoulli data.

    Binary rows take one softplus per (row, visible, hidden):
    ``log P(v_i | v_{-i}) = -softplus(F(v) - F(v^(i)))`` with ``v^(i)`` the row with
    bit ``i`` flipped (``s_i = 1 - 2 v_i``) and
    ``F(v) - F(v^(i)) = s_i b_i + sum_j [softplus(x_j + s_i w_ij) - softplus(x_j)]``,
    ``x = c + v W``.  Other rows use
    ``logit p_i = b_i + sum_j [softplus(x_j + (1 - v_i) w_ij) - softplus(x_j - v_i w_ij)]``
    (two).  Either way the cost is O(n V H) elementwise work, done in chunks of
    visibles of about ``block`` elements.
    """
    if any(g.unit.name != "bernoulli" for g in model.groups):
        raise ValueError("pseudo-likelihood is defined here for Bernoulli visibles only.")
    be, xp = model.backend, model.backend.xp
    W = model.params["weights"]
    b = model.params["visible_bias"]
    n, V = v.shape
    x = model.hidden_input(v)  # (n, H)
    c = max(1, int(block) // max(1, n * model.n_hidden))
    total = xp.zeros((n,), dtype=be.dtype)
    if bool(((v == 0) | (v == 1)).all()):
        sp_x = be.softplus(x)[:, None, :]
        for s in range(0, V, c):
            sgn = 1 - 2 * v[:, s : s + c]  # (n, c): +1 turns a bit on, -1 off
            t = sgn[:, :, None] * W[None, s : s + c]
            t += x[:, None, :]
            be.softplus(t, out=t)
            t -= sp_x
            d = t.sum(axis=2)
            d += sgn * b[s : s + c]
            total -= be.softplus(d).sum(axis=1)
        return float(total.mean())
    for s in range(0, V, c):
        vi = v[:, s : s + c]  # (n, c)
        wi = W[s : s + c]  # (c, H)
        on = x[:, None, :] + (1 - vi)[:, :, None] * wi[None]
        off = x[:, None, :] - vi[:, :, None] * wi[None]
        logit = b[s : s + c] + (be.softplus(on) - be.softplus(off)).sum(axis=2)
        # log p = -softplus(-logit), log(1-p) = -softplus(logit)
        total += -(vi * be.softplus(-logit) + (1 - vi) * be.softplus(logit)).sum(axis=1)
    return float(total.mean())
