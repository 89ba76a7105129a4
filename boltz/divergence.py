"""Divergence checks of the training loop: a diverging fit stops with a clear error.

At the end of every epoch (before its checkpoint is written) the trainer calls
:func:`check_epoch`.  A fit has diverged when

* a parameter holds NaN or inf, or
* the monitored reconstruction error is NaN / inf, more than :data:`RISE` times
  the lowest value of the run so far, or -- for Gaussian visibles, whose error is
  in standardised units where reconstructing every row by the mean costs 1 --
  above :data:`GAUSSIAN_LIMIT`.

It then raises :class:`boltz.errors.DivergenceError` naming the epoch, what was
seen and the learning rate to lower.  The model is left as it is (diverged); a
checkpoint file keeps the last good epoch.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import DivergenceError

__all__ = ["GAUSSIAN_LIMIT", "RISE", "check_epoch"]

#: A reconstruction error this many times the best of the run is divergence.
RISE = 1e3
#: Reconstruction error (standardised units) beyond which a Gaussian RBM has diverged.
GAUSSIAN_LIMIT = 1e6


def _advice(learning_rate: float | None) -> str:
    if learning_rate is None:
        return "lower the learning rate (e.g. 10x)"
    return f"lower learning_rate (now {learning_rate:g}; try {learning_rate / 10:g})"


def check_epoch(
    model: Any,
    record: dict[str, float],
    history: list[dict[str, float]],
    epoch: int,
    learning_rate: float | None = None,
) -> None:
    """Raise :class:`DivergenceError` if the epoch just trained diverged.

    Parameters
    ----------
    model : boltz.model.RBMModel
        The layer (its ``params`` are checked for NaN / inf).
    record : dict
        This epoch's diagnostics (``recon_error`` when monitored).
    history : list of dict
        Earlier records of the run (``record`` may already be its last entry).
    epoch : int
        0-based epoch index (reported 1-based).
    learning_rate : float, optional
        The base learning rate, named in the message.
    """
    xp = model.backend.xp
    bad = [k for k, v in model.params.items() if not bool(xp.isfinite(v).all())]
    what = None
    if bad:
        what = f"the parameters {bad} contain NaN or inf"
    else:
        err = record.get("recon_error")
        if err is not None:
            best = min(
                (
                    r["recon_error"]
                    for r in history
                    if r is not record and math.isfinite(r.get("recon_error", math.nan))
                ),
                default=None,
            )
            gaussian = any(g.unit.name == "gaussian" for g in model.groups)
            if not math.isfinite(err):
                what = f"the reconstruction error is {err}"
            elif best is not None and err > RISE * max(best, 1e-12):
                what = f"the reconstruction error rose from {best:.4g} to {err:.4g}"
            elif gaussian and err > GAUSSIAN_LIMIT:
                what = (
                    f"the reconstruction error is {err:.4g} in standardised units (reconstructing "
                    "by the mean would cost 1)"
                )
    if what is not None:
        raise DivergenceError(
            f"training diverged at epoch {epoch + 1}: {what}. {_advice(learning_rate).capitalize()}"
            ", or raise weight_decay; Gaussian data should be standardised (the default). "
            "A checkpoint file, if any, still holds the last good epoch."
        )
