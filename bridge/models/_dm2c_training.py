"""The training of :class:`bridge.models.dm2c.DM2C`: autoencoder pretraining, then the
adversarial joint training of autoencoders, generators and critics (single process, or
data-parallel under ``torch.distributed`` for ``training="paper"``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from boltz.errors import ConfigError

from .. import distributed as bd
from ..batches import minibatches
from ._dm2c_nets import DM2CNet, gradient_penalty
from ._training import FitContext
from ._validation import progress_enabled

__all__ = ["adversarial_loop"]


def adversarial_loop(model: Any, module: DM2CNet, ctx: FitContext) -> list[dict[str, float]]:
    """Pretrain the autoencoders, then train everything jointly (in place).

    Parameters
    ----------
    model : DM2C
        Its hyperparameters (``model._settings()`` resolves those left None).
    module : DM2CNet
        The networks, on ``ctx.device``.
    ctx : FitContext
        ``data`` (the observed rows of each view), ``extra["rows"]`` (their indices in
        the mixed set), ``extra["modality"]`` (the view of every row) and the seeded
        ``generator``; ``extra["encoded_rows"]`` is set to the rows this process encoded.

    Returns
    -------
    list of dict
        The per-epoch history (see :class:`DM2C`).
    """
    from tqdm.auto import tqdm

    st = model._settings()
    authors = model.training == "authors"
    a, b = model.view_names_
    dev, gen, mod = ctx.device, ctx.generator, ctx.extra["modality"]
    X = {k: x.to(dev) for k, x in ctx.data.items()}
    # position of each mixed-set row inside its own view's tensor
    pos = np.empty(len(mod), dtype=np.int64)
    for k in (a, b):
        pos[ctx.extra["rows"][k]] = np.arange(len(ctx.extra["rows"][k]))
    mod_t, pos_t = torch.as_tensor(mod), torch.as_tensor(pos)
    n = len(mod)
    ae_params = [*module.encoders.parameters(), *module.decoders.parameters()]
    gen_params = list(module.generators.parameters())
    g_params = [*ae_params, *gen_params]
    critic_params = list(module.critics.parameters())
    groups = [
        {"params": ae_params, "lr": model.learning_rate},
        {"params": gen_params, "lr": st["generator_learning_rate"]},
    ]
    if authors:  # Adam (0.5, 0.999) to pretrain, RMSprop afterwards (their WGAN setting)
        opt_ae = torch.optim.Adam(
            ae_params,
            lr=model.learning_rate,
            betas=(0.5, 0.999),
            weight_decay=st["pretrain_weight_decay"],
        )
        opt_g = torch.optim.RMSprop(groups, weight_decay=model.weight_decay)
        opt_d = torch.optim.RMSprop(
            critic_params, lr=st["critic_learning_rate"], weight_decay=model.weight_decay
        )
    else:
        betas = (0.5, 0.9)
        opt_ae = torch.optim.Adam(
            ae_params,
            lr=model.learning_rate,
            betas=betas,
            weight_decay=st["pretrain_weight_decay"],
        )
        opt_g = torch.optim.Adam(groups, betas=betas, weight_decay=model.weight_decay)
        opt_d = torch.optim.Adam(critic_params, lr=st["critic_learning_rate"], betas=betas)
    G_ab, G_ba = module.generators[f"{a}_to_{b}"], module.generators[f"{b}_to_{a}"]
    D_a, D_b = module.critics[a], module.critics[b]
    lam_cyc, lam_rec = float(model.lambda_cyc), float(model.lambda_rec)
    lam_adv, lam_cr = st["lambda_adv"], st["lambda_cyc_rec"]
    gp_w, clip = st["gp_weight"], st["clip_value"]
    # BatchNorm needs two rows of a view to normalise a batch
    min_rows = 2 if st["batchnorm"] else 1
    # data-parallel under a process group: every rank draws the same global batches
    # (same seed), encodes/decodes its contiguous share of each, and gathers the codes;
    # critics and generators see the whole batch on every rank; gradients are averaged
    ddp = bd.is_active()
    if ddp and (st["batchnorm"] or lam_cr > 0 or authors):
        raise ConfigError(
            "DM2C shards its batches under a process group only for training='paper' "
            "without batchnorm or lambda_cyc_rec; run training='authors' in one process."
        )
    world, rank = (bd.world_size(), bd.rank()) if ddp else (1, 0)
    if ddp:
        bd.broadcast_parameters(module)
    encoded = 0  # rows this process encoded (all of them without DDP)

    def split(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, Any]:
        """This process's rows of each view, and every rank's row counts (or None)."""
        nonlocal encoded
        m = mod_t[idx]
        if not ddp:
            encoded += len(idx)
            return X[a][pos_t[idx[m == 0]].to(dev)], X[b][pos_t[idx[m == 1]].to(dev)], None
        edges = np.cumsum([0, *bd.shard_sizes(len(idx), world)])
        na = tuple(int((m[edges[r] : edges[r + 1]] == 0).sum()) for r in range(world))
        nb = tuple(int(edges[r + 1] - edges[r]) - na[r] for r in range(world))
        own, mo = idx[edges[rank] : edges[rank + 1]], m[edges[rank] : edges[rank + 1]]
        encoded += len(own)
        xa, xb = X[a][pos_t[own[mo == 0]].to(dev)], X[b][pos_t[own[mo == 1]].to(dev)]
        return xa, xb, (na, nb)

    def gathered(za: torch.Tensor, zb: torch.Tensor, sizes: Any) -> tuple[torch.Tensor, ...]:
        if sizes is None:
            return za, zb
        return bd.gather_sized(za, sizes[0]), bd.gather_sized(zb, sizes[1])

    def counts(xa: torch.Tensor, xb: torch.Tensor, sizes: Any) -> tuple[int, int]:
        return (len(xa), len(xb)) if sizes is None else (sum(sizes[0]), sum(sizes[1]))

    def rec_loss(xa: torch.Tensor, xb: torch.Tensor, sizes: Any) -> tuple[torch.Tensor, ...]:
        rec = torch.zeros((), device=dev)
        codes = []
        for i, (x, k, n_rows) in enumerate(zip((xa, xb), (a, b), counts(xa, xb, sizes))):
            if n_rows < min_rows and min_rows > 1:  # (only without DDP)
                codes.append(None)
                continue
            z = module.encoders[k](x)
            codes.append(z)
            if not n_rows:
                continue
            err = module.decoders[k](z) - x
            if sizes is None:
                rec = rec + err.pow(2).mean()
            else:  # the mean over the global batch's rows of this view
                per_row = bd.gather_sized(err.pow(2).sum(1), sizes[i])
                rec = rec + per_row.sum() / (n_rows * x.shape[1])
        return rec, codes[0], codes[1]

    def step(opt: torch.optim.Optimizer, params: list, loss: torch.Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if ddp:
            bd.average_gradients(params)
        opt.step()

    def critic_round(za: torch.Tensor, zb: torch.Tensor, fa: torch.Tensor, fb: torch.Tensor):
        """``n_critic`` steps of both critics on detached real and translated codes."""
        w = torch.zeros(())
        for _ in range(st["n_critic"]):
            w = (D_a(za).mean() - D_a(fa).mean()) + (D_b(zb).mean() - D_b(fb).mean())
            loss = -w
            if gp_w > 0:
                gp = gradient_penalty(D_a, za, fa, gen) + gradient_penalty(D_b, zb, fb, gen)
                loss = loss + gp_w * gp
            step(opt_d, critic_params, loss)
            if clip > 0:
                with torch.no_grad():
                    for p in critic_params:
                        p.clamp_(-clip, clip)
        return w

    history: list[dict[str, float]] = []
    n_pre = st["pretrain_epochs"]
    total = n_pre + st["epochs"]
    bar = tqdm(
        range(total),
        desc="DM2C",
        disable=not progress_enabled(model.progress) or bd.rank() != 0,
        leave=False,
    )
    module.train()
    w = torch.zeros(())
    for epoch in bar:
        joint = epoch >= n_pre
        sums: dict[str, float] = {}
        batches = minibatches(n, int(model.batch_size), gen)
        for i_step, idx in enumerate(batches):
            xa, xb, sizes = split(idx)
            if not joint:
                rec, _, _ = rec_loss(xa, xb, sizes)
                if rec.requires_grad:
                    step(opt_ae, ae_params, rec)
                sums["rec"] = sums.get("rec", 0.0) + float(rec.detach())
                continue
            if min(counts(xa, xb, sizes)) < min_rows:
                continue
            if not authors and i_step % st["critic_interval"] == 0:
                # ---- critics first (paper): maximise E D(real) - E D(fake) (+ GP)
                with torch.no_grad():
                    za, zb = gathered(module.encoders[a](xa), module.encoders[b](xb), sizes)
                    fa, fb = G_ba(zb), G_ab(za)
                w = critic_round(za, zb, fa, fb)
            # ---- autoencoders + generators
            rec, za, zb = rec_loss(xa, xb, sizes)
            za, zb = gathered(za, zb, sizes)
            # paper: L_cyc and L_adv are functions of the generators only (eqs. 2-3),
            # the codes enter them as data and the autoencoders learn from L_rec
            if not st["encoder_gradients"]:
                za, zb = za.detach(), zb.detach()
            fa, fb = G_ba(zb), G_ab(za)
            ca, cb = G_ba(fb), G_ab(fa)
            cyc = (ca - za).abs().mean() + (cb - zb).abs().mean()
            adv = -D_a(fa).mean() - D_b(fb).mean()
            g_loss = lam_adv * adv + lam_cyc * cyc + lam_rec * rec
            if lam_cr > 0:  # input-space cycle reconstruction (authors' code)
                cyc_rec = (module.decoders[a](ca) - xa).pow(2).mean() + (
                    module.decoders[b](cb) - xb
                ).pow(2).mean()
                g_loss = g_loss + lam_cr * cyc_rec
                sums["cyc_rec"] = sums.get("cyc_rec", 0.0) + float(cyc_rec.detach())
            if not torch.isfinite(g_loss):
                raise FloatingPointError(
                    f"the DM2C loss became {g_loss.item()} at epoch {epoch + 1}; lower the "
                    "learning rates or standardise the inputs."
                )
            step(opt_g, g_params, g_loss)
            if authors and (i_step + 1) % st["critic_interval"] == 0:
                # ---- critics after the generator step, on its (detached) codes
                w = critic_round(za.detach(), zb.detach(), fa.detach(), fb.detach())
            for key, val in (("rec", rec), ("cyc", cyc), ("adv", adv), ("wdist", w)):
                sums[key] = sums.get(key, 0.0) + float(val.detach())
        record = {"epoch": float(epoch + 1), "phase": float(joint)}
        record.update({k: v / max(1, len(batches)) for k, v in sums.items()})
        history.append(record)
        bar.set_postfix({k: f"{v:.3g}" for k, v in record.items() if k not in ("epoch",)})
    module.eval()
    ctx.extra["encoded_rows"] = encoded
    return history
