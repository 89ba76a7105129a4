"""The hyperparameters of :class:`boltz.RBM`: their checks, defaults and JSON form.

:func:`check_params` validates an estimator's constructor parameters at the
boundary (``fit``, and before a composite model trains any layer) and builds what
they describe: the visible unit, the optimiser and the gradient estimator (CD-k or
PCD-k).  :func:`auto_learning_rate` is the step ``learning_rate="auto"`` resolves
to, and :func:`rbm_config` the parameters as checkpoint ``config`` data.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .checkpoint import clean_json
from .constraints import Interval, Options, SequenceOf, validate_params
from .errors import ConfigError
from .gradients import CD, make_estimator
from .optim import SGD
from .units import VisibleUnit, make_unit

__all__ = [
    "AUTO_LEARNING_RATE",
    "OPTIMIZER_PARAMS",
    "RBM_CONSTRAINTS",
    "auto_learning_rate",
    "check_int",
    "check_params",
    "rbm_config",
]

#: ``learning_rate="auto"``: the step per unit type; the softmax one is divided by
#: the mean training document length.
AUTO_LEARNING_RATE = {"bernoulli": 0.01, "gaussian": 0.001, "softmax": 0.05}


def auto_learning_rate(unit_name: str, data_mean: np.ndarray | None = None) -> float:
    """The learning rate ``learning_rate="auto"`` resolves to.

    Parameters
    ----------
    unit_name : {"bernoulli", "gaussian", "softmax"}
    data_mean : ndarray, shape (V,), optional
        Column means of the training counts (softmax: they sum to the mean length).

    Returns
    -------
    float
    """
    lr = AUTO_LEARNING_RATE.get(unit_name, AUTO_LEARNING_RATE["bernoulli"])
    if unit_name == "softmax" and data_mean is not None:
        lr /= max(1.0, float(np.sum(data_mean)))
    return lr


def rbm_config(rbm: Any) -> dict[str, Any]:
    """The constructor parameters of an RBM as JSON-able data (the checkpoint ``config``).

    Callbacks are dropped (not serialisable), a unit object becomes its config dict,
    a path ``checkpoint`` a string, a non-integer ``random_state`` None.

    Parameters
    ----------
    rbm : boltz.RBM

    Returns
    -------
    dict of str -> JSON-able value
    """
    params = rbm.get_params(deep=False)
    params.pop("callbacks", None)
    if isinstance(params["visible"], VisibleUnit):
        params["visible"] = params["visible"].config()
    if params.get("checkpoint") is not None:
        params["checkpoint"] = str(params["checkpoint"])
    rs = params.get("random_state")
    params["random_state"] = int(rs) if isinstance(rs, (int, np.integer)) else None
    return clean_json(params)


_COUNT = [Interval(int, 1, None)]

#: What each :class:`boltz.RBM` hyperparameter may be (:mod:`boltz.constraints`); the
#: optimiser's numbers (learning rate, momentum, decay, sparsity) are checked by
#: :class:`boltz.optim.SGD` and the visible unit by :func:`boltz.units.make_unit`, both
#: with the same vocabulary; :func:`check_params` adds the rules that tie parameters
#: together.
RBM_CONSTRAINTS: dict[str, list[Any]] = {
    "n_hidden": _COUNT,
    "learn_sigma": ["boolean"],
    "k": _COUNT,
    "persistent": ["boolean"],
    "n_chains": [None, *_COUNT],
    "sample_visible": [Options("auto"), "boolean"],
    "batch_size": _COUNT,
    "epochs": [Interval(int, 0, None)],
    "monitor_size": [Interval(int, 0, None)],
    "monitor": [Options("auto", "full")],
    "ais_every": [Interval(int, 0, None)],
    "init_scale": [Interval(float, 0, None, closed="neither")],
    "device": ["device"],
    "dtype": ["dtype"],
    "progress": ["progress"],
    "callbacks": [None, SequenceOf("callable")],
    "checkpoint_every": _COUNT,
    "warm_start": ["boolean"],
}


#: The estimator settings that :class:`~boltz.optim.SGD` takes under the same names
#: (``learning_rate`` aside: :func:`make_optimizer` resolves ``"auto"`` first).
OPTIMIZER_PARAMS = (
    "lr_decay",
    "momentum",
    "final_momentum",
    "momentum_epochs",
    "weight_decay",
    "sparsity_target",
    "sparsity_decay",
    "sparsity_cost",
)


def check_int(name: str, value: Any, lo: int, allow_none: bool = False) -> None:
    """Refuse ``value`` unless it is an integer ``>= lo`` (or None with ``allow_none``).

    Raises
    ------
    ConfigError
        Naming the parameter, the bound and the value (booleans are refused).
    """
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ConfigError(f"{name} must be an integer >= {lo}; got {value!r}.")


def make_optimizer(rbm: Any) -> SGD:
    """The optimiser of the estimator's settings.

    ``learning_rate="auto"`` starts at the Bernoulli step; the estimator resolves it
    with the data at ``fit`` (``learning_rate_``).

    Parameters
    ----------
    rbm : boltz.RBM

    Returns
    -------
    SGD

    Raises
    ------
    ConfigError
        When ``learning_rate`` is a string other than "auto".
    """
    lr = rbm.learning_rate
    if isinstance(lr, str):
        if lr != "auto":
            raise ConfigError(f"learning_rate must be a positive number or 'auto'; got {lr!r}.")
        lr = AUTO_LEARNING_RATE["bernoulli"]
    return SGD(learning_rate=lr, **{k: getattr(rbm, k) for k in OPTIMIZER_PARAMS})


def check_params(rbm: Any) -> tuple[VisibleUnit, SGD, CD]:
    """Validate an RBM's hyperparameters and build what they describe.

    Parameters
    ----------
    rbm : boltz.RBM
        Read only: nothing is set on it.

    Returns
    -------
    unit : VisibleUnit
    optimizer : SGD
    estimator : CD
        CD-k, or PCD-k with ``persistent``.

    Raises
    ------
    ConfigError
        For the first invalid parameter or combination.
    """
    validate_params(rbm, RBM_CONSTRAINTS)
    unit = make_unit(rbm.visible, learn_sigma=rbm.learn_sigma)
    if rbm.learn_sigma and unit.name != "gaussian":
        raise ConfigError("learn_sigma=True needs visible='gaussian'.")
    if rbm.sample_visible == "auto":
        sample = unit.name == "softmax" or bool(rbm.learn_sigma)
    else:
        sample = bool(rbm.sample_visible)
    return unit, make_optimizer(rbm), make_estimator(rbm.k, rbm.persistent, rbm.n_chains, sample)
