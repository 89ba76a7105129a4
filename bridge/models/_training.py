"""The training loop of the torch models: seeded minibatch Adam with early stopping.

:func:`train_loop` reshuffles every epoch, applies weight decay to the weights only, stops
early on a validation score, shows a tqdm bar, and trains data-parallel
(``DistributedDataParallel``) under an initialised ``torch.distributed`` process group,
see :mod:`bridge.distributed`.  :class:`FitContext` is what one ``fit`` call of a
:class:`~bridge.models._torch_model.TorchMultiViewModel` trains with.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from boltz.errors import ConfigError, DivergenceError

from .. import distributed as bd
from ..batches import minibatches

logger = logging.getLogger(__name__)


@dataclass
class FitContext:
    """What one ``fit`` call trains with, handed to the model's hooks.

    It lives for one call: nothing of it is stored on the model, so a model holds only
    its hyperparameters and (after ``fit``) its learned ``*_`` attributes.

    Attributes
    ----------
    device : torch.device
        Where the network and the training tensors live.
    seed : int
        The resolved ``random_state``: parameter initialisation (``torch.manual_seed``
        inside :func:`torch.random.fork_rng`) and :attr:`generator`.
    monitor : str
        The early-stopping criterion, "loss" or "map".
    distributed : str, bool or None
        :func:`train_loop`'s ``distributed`` (None outside a process group).
    spec : dict
        The network's spec (``_make_spec``), set before the network is built.
    data : dict[str, Any]
        The preprocessed training data, as the model's training step reads it (by
        default one float32 tensor of shape (n_samples, n_features_v) per view).
    val_data : dict[str, Any] or None
        The same for ``views_val``.
    y_val : array-like or None
        The validation labels (for ``monitor="map"``).
    generator : torch.Generator or None
        Seeded with :attr:`seed` when training starts: minibatch orders, random masks.
    extra : dict[str, Any]
        Anything else the model's hooks hand on to its training step (e.g. DRUMN's
        missing-row masks, DM2C's row index per view, SDML's label targets).
    """

    device: Any
    seed: int
    monitor: str = "loss"
    distributed: str | bool | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    val_data: dict[str, Any] | None = None
    y_val: Any = None
    generator: torch.Generator | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def weight_penalty(module: nn.Module) -> torch.Tensor:
    """``0.5 * sum ||W||_F^2`` over the weight matrices (parameters with ndim >= 2)."""
    terms = [p.pow(2).sum() for p in module.parameters() if p.ndim >= 2 and p.requires_grad]
    if not terms:
        return torch.zeros(())
    return 0.5 * torch.stack(terms).sum()


#: The :func:`train_loop` settings that models declare as hyperparameters of the same
#: names, with their types.
LOOP_HYPERPARAMETERS: dict[str, type] = {
    "epochs": int,
    "batch_size": int,
    "learning_rate": float,
    "weight_decay": float,
    "patience": int,
}


def loop_settings(model: Any) -> dict[str, Any]:
    """``{name: value}`` of :data:`LOOP_HYPERPARAMETERS`, read from ``model``'s
    attributes of the same names (in that order)."""
    return {name: kind(getattr(model, name)) for name, kind in LOOP_HYPERPARAMETERS.items()}


def train_loop(
    module: nn.Module,
    loss_fn: Callable[[dict[str, torch.Tensor], torch.Generator], torch.Tensor],
    data: Mapping[str, torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    generator: torch.Generator,
    validate: Callable[[], float] | None = None,
    maximize: bool = False,
    patience: int = 10,
    progress: bool = False,
    desc: str = "train",
    distributed: str | bool | None = None,
) -> tuple[list[dict[str, float]], int]:
    """Minibatch Adam on ``loss_fn`` with early stopping.

    Every epoch reshuffles the rows (same permutation for all views: pairs stay
    paired), takes one Adam step per batch on
    ``loss_fn(batch, generator) + weight_decay * weight_penalty(module)``, then calls
    ``validate()`` (module in eval mode, no grad) when given.  Training stops after
    ``patience`` epochs without improvement of the validation score and the
    parameters of the best epoch are restored.

    Under an initialised ``torch.distributed`` process group (e.g. ``torchrun``) the
    loop is data-parallel (see :mod:`bridge.distributed`): the module is wrapped in
    ``DistributedDataParallel``, every rank takes a contiguous share of each global
    batch of ``batch_size`` rows (the same batches as one process), validation scores
    are rank 0's, and only rank 0 logs and shows progress.  ``distributed`` says how the
    objective splits:

    * ``"mean"`` -- ``loss_fn`` is a mean over the given rows of per-row terms; each
      rank's mean is weighted by its share, so the averaged gradient is the one of the
      global batch (also for uneven shards);
    * ``"gather"`` -- ``loss_fn`` collects the global batch's outputs with
      :func:`bridge.distributed.gather_rows` and returns the whole batch's objective;
    * ``False`` -- no DDP: every rank runs the whole loop on its own;
    * ``None`` (default) -- single-process without a process group; under one, a
      :class:`~boltz.errors.ConfigError` (the caller has not said whether its loss can
      be split).

    Returns
    -------
    history : list of dict
        Per epoch: ``epoch``, ``loss`` (mean training objective incl. penalty) and
        ``val`` (when ``validate``).
    best_epoch : int
        The epoch whose parameters the module holds (1-based).
    """
    from tqdm.auto import tqdm

    n = next(iter(data.values())).shape[0]
    ddp = None
    if distributed is not False and bd.is_active():
        if distributed is None:
            raise ConfigError(
                f"train_loop({desc!r}) runs under an initialised torch.distributed process "
                "group but its caller did not declare how the loss splits over processes: "
                "pass distributed='mean' (the loss is a mean of per-row terms), 'gather' "
                "(it gathers the batch with bridge.distributed.gather_rows) or False (every "
                "process trains the whole model), or train inside "
                "bridge.distributed.replicated()."
            )
        ddp = bd.DataParallelStep(
            module, loss_fn, n, batch_size, generator, mode=distributed, desc=desc
        )
        progress = progress and bd.rank() == 0

    def penalty() -> torch.Tensor:
        return weight_decay * weight_penalty(module)

    opt = torch.optim.Adam(module.parameters(), lr=learning_rate)
    history: list[dict[str, float]] = []
    best, best_epoch, best_state, stale = -math.inf, epochs, None, 0
    bar = tqdm(range(1, epochs + 1), desc=desc, disable=not progress, leave=False)
    with bd.quiet_logs() if ddp is not None else contextlib.nullcontext():
        for epoch in bar:
            module.train()
            total = 0.0
            batches = minibatches(n, batch_size, generator) if ddp is None else ddp.epoch(epoch)
            for item in batches:
                if ddp is None:
                    batch = {k: v[item.to(v.device)] for k, v in data.items()}
                    loss = loss_fn(batch, generator)
                    if weight_decay > 0:
                        loss = loss + penalty()
                    value, rows = loss, len(item)
                else:
                    loss, value, rows = ddp.loss(item, data, penalty if weight_decay > 0 else None)
                if not torch.isfinite(value):
                    raise DivergenceError(
                        f"training diverged: the loss became {value.item()} at epoch {epoch}; "
                        f"lower learning_rate (now {learning_rate:g}; try "
                        f"{learning_rate / 10:g}), standardise the inputs or raise the "
                        "regularisation."
                    )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += value.item() * rows
            bad = [k for k, p in module.named_parameters() if not bool(torch.isfinite(p).all())]
            if bad:
                raise DivergenceError(
                    f"training diverged at epoch {epoch}: the parameters {bad[:3]} hold NaN or "
                    f"inf; lower learning_rate (now {learning_rate:g}; try "
                    f"{learning_rate / 10:g})."
                )
            record = {"epoch": float(epoch), "loss": total / n}
            if validate is not None:
                module.eval()
                with torch.no_grad():
                    score = float(validate())
                if ddp is not None:
                    score = ddp.broadcast(score)
                record["val"] = score
                signed = score if maximize else -score
                if best_state is None or signed > best + 1e-7 * max(1.0, abs(best)):
                    best, best_epoch, stale = signed, epoch, 0
                    best_state = copy.deepcopy(module.state_dict())
                else:
                    stale += 1
            history.append(record)
            bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k != "epoch"})
            if validate is not None and stale >= patience:
                logger.info("early stop at epoch %d (best epoch %d)", epoch, best_epoch)
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    if validate is None:
        best_epoch = len(history)
    module.eval()
    return history, best_epoch
