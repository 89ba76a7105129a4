"""The optimiser: learning-rate and momentum schedules, L2 weight decay, sparsity.

It applies the update ``velocity = momentum * velocity + lr * (grad - weight_decay * W)``,
``W += velocity`` where ``grad`` is the difference of the positive and negative
phase statistics (:class:`boltz.gradients.Phases`).  Weight decay applies to the
weights only, never to biases.  For the weights the statistics GEMM is fused with
the momentum decay (``Backend.gemm_tn``), so an update allocates no V x H temporary.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ConfigError
from .gradients import Phases
from .model import RBMModel

__all__ = ["SGD"]


def _check(name: str, value: Any, lo: float, hi: float, *, lo_open=False, hi_open=False) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number; got {value!r}.") from None
    bad = (
        not math.isfinite(f) or (f <= lo if lo_open else f < lo) or (f >= hi if hi_open else f > hi)
    )
    if bad:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open or math.isinf(hi) else "]"
        finite = "a finite number " if math.isinf(hi) else ""
        raise ConfigError(f"{name} must be {finite}in {lb}{lo}, {hi}{rb}; got {value!r}.")
    return f


class SGD:
    """Stochastic gradient ascent with momentum for RBM parameters.

    Parameters
    ----------
    learning_rate : float
        Base step size (> 0).
    lr_decay : float or None
        ``tau`` of the schedule ``lr / (1 + epoch / tau)``; None keeps lr constant.
    momentum, final_momentum : float
        Momentum in [0, 1) for the first ``momentum_epochs`` epochs, then the final value.
    momentum_epochs : int
        Epoch at which momentum switches (Hinton's guide: 0.5 then 0.9 after ~5).
    weight_decay : float
        L2 coefficient on the weights only (>= 0).
    sparsity_target : float or None
        Target mean activation of each hidden unit (Lee et al. 2008); None disables.
    sparsity_decay : float
        Decay of the running estimate ``q = decay * q + (1 - decay) * mean(P(h|v))``.
    sparsity_cost : float
        Strength of the penalty ``cost * (target - q)`` added to the hidden-bias
        gradient (as Lee et al. do in practice: biases only).
    """

    def __init__(
        self,
        learning_rate: float = 0.01,
        lr_decay: float | None = None,
        momentum: float = 0.5,
        final_momentum: float = 0.9,
        momentum_epochs: int = 5,
        weight_decay: float = 0.0,
        sparsity_target: float | None = None,
        sparsity_decay: float = 0.95,
        sparsity_cost: float = 0.0,
    ) -> None:
        self.learning_rate = _check("learning_rate", learning_rate, 0, math.inf, lo_open=True)
        self.lr_decay = (
            None if lr_decay is None else _check("lr_decay", lr_decay, 0, math.inf, lo_open=True)
        )
        self.momentum = _check("momentum", momentum, 0, 1, hi_open=True)
        self.final_momentum = _check("final_momentum", final_momentum, 0, 1, hi_open=True)
        if int(momentum_epochs) != momentum_epochs or momentum_epochs < 0:
            raise ConfigError(f"momentum_epochs must be an integer >= 0; got {momentum_epochs!r}.")
        self.momentum_epochs = int(momentum_epochs)
        self.weight_decay = _check("weight_decay", weight_decay, 0, math.inf)
        self.sparsity_target = (
            None
            if sparsity_target is None
            else _check("sparsity_target", sparsity_target, 0, 1, lo_open=True, hi_open=True)
        )
        self.sparsity_decay = _check("sparsity_decay", sparsity_decay, 0, 1, hi_open=True)
        self.sparsity_cost = _check("sparsity_cost", sparsity_cost, 0, math.inf)
        self.velocity: dict[str, Any] = {}
        self.q: Any = None
        self.n_updates = 0

    # schedules ---------------------------------------------------------------
    def lr_at(self, epoch: int) -> float:
        if self.lr_decay is None:
            return self.learning_rate
        return self.learning_rate / (1.0 + epoch / self.lr_decay)

    def momentum_at(self, epoch: int) -> float:
        return self.momentum if epoch < self.momentum_epochs else self.final_momentum

    # update ------------------------------------------------------------------
    def step(self, model: RBMModel, ph: Phases, epoch: int, reducer: Any = None) -> None:
        """Apply one update to ``model.params`` in place.

        Parameters
        ----------
        model : RBMModel
        ph : Phases
            This process's positive and negative phase.
        epoch : int
            Drives the learning-rate and momentum schedules.
        reducer : boltz.distributed.Reducer, optional
            Data-parallel training: the phase statistics of every process are
            summed (all-reduce) before the update, so all processes apply the
            same update, equal to one process's update on the global batch.
        """
        be = model.backend
        xp = be.xp
        if not self.velocity:
            self.velocity = {k: xp.zeros_like(v) for k, v in model.params.items()}
        lr = self.lr_at(epoch)
        mom = self.momentum_at(epoch)
        n_pos = ph.v_pos.shape[0]
        n_neg = ph.v_neg.shape[0]
        if reducer is not None:
            n_pos, n_neg = reducer.total(n_pos), reducer.total(n_neg)
        W = model.params["weights"]
        vw = self.velocity["weights"]
        sv_pos, sv_neg = model.scaled_visible(ph.v_pos), model.scaled_visible(ph.v_neg)
        if reducer is None:
            # vw = mom * vw + lr/n_pos * sv_pos.T h_pos - lr/n_neg * sv_neg.T h_neg
            be.gemm_tn(sv_pos, ph.h_pos, vw, lr / n_pos, mom)
            be.gemm_tn(sv_neg, ph.h_neg, vw, -lr / n_neg, 1.0)
        else:
            g = be.scratch(W.shape, tag="gradient")
            be.gemm_tn(sv_pos, ph.h_pos, g, 1.0 / n_pos, 0.0)
            be.gemm_tn(sv_neg, ph.h_neg, g, -1.0 / n_neg, 1.0)
        pos = model.bias_stats(ph.v_pos, ph.h_pos, ph.len_pos, ph_sum=ph.h_pos_sum)
        neg = model.bias_stats(ph.v_neg, ph.h_neg, ph.len_neg, ph_sum=ph.h_neg_sum)
        grads = {name: s_pos / n_pos - neg[name] / n_neg for name, s_pos in pos.items()}
        mean_h = None
        if self.sparsity_target is not None:
            h_sum = ph.h_pos.sum(axis=0) if ph.h_pos_sum is None else ph.h_pos_sum
            mean_h = h_sum / n_pos
        if reducer is not None:
            reducer.sum_([g, *grads.values()] + ([mean_h] if mean_h is not None else []))
            vw *= mom
            be.axpy(g, vw, lr)
        if self.weight_decay:
            be.axpy(W, vw, -lr * self.weight_decay)
        be.axpy(vw, W, 1.0)

        if mean_h is not None:
            self.q = (
                mean_h
                if self.q is None
                else (self.sparsity_decay * self.q + (1 - self.sparsity_decay) * mean_h)
            )
        for name, g_b in grads.items():
            if name == "hidden_bias" and self.sparsity_target is not None and self.sparsity_cost:
                g_b = g_b + self.sparsity_cost * (self.sparsity_target - self.q)
            v = self.velocity[name]
            v *= mom
            v += lr * g_b
            model.params[name] += v
        if "log_sigma" in model.params:
            xp.clip(
                model.params["log_sigma"], np.log(1e-3), np.log(1e3), out=model.params["log_sigma"]
            )
        self.n_updates += 1

    # checkpoint state ----------------------------------------------------------
    def state(self) -> dict[str, Any]:
        out = {f"velocity.{k}": v for k, v in self.velocity.items()}
        if self.q is not None:
            out["q"] = self.q
        return out

    def load_state(self, arrays: dict[str, np.ndarray], backend: Any, n_updates: int) -> None:
        self.velocity = {
            k.split(".", 1)[1]: backend.asarray(v)
            for k, v in arrays.items()
            if k.startswith("velocity.")
        }
        self.q = backend.asarray(arrays["q"]) if "q" in arrays else None
        self.n_updates = int(n_updates)
