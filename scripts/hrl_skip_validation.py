"""HRL around its step 1, on the validation split: the input skip, seed ensembles, fine-tuning.

Wikipedia as in ``recipes.hrl`` (widths x 0.5, the recipe's torch settings); every
number is a validation MAP (the 231 validation pairs; the test pairs are never read).

``--mode skip``      for each seed, one step 1 and the models ``VARIANT:SKIP[:DROPOUT:WD]``
                     (``hrl:0 hrl:1 no_srbm:1 hrl:1:0.5:1e-5``); prints i2t / t2i / avg.
``--mode ensemble``  for seeds s_1..s_n, one step 1 and one HRL per seed
                     (``--skip`` for ``input_skip=True``); prints each model and the
                     ensemble of the first k (``bridge.ensemble.average_cosine``).
``--mode finetune``  the friendly SRBM of each view exported (``bridge.to_torch``) under a
                     fresh feed-forward net and trained end to end on the labels (Adam,
                     ``--finetune-lr`` for the exported layers), then the BAEs; prints the
                     posteriors' and the BAEs' validation MAP.

Usage (one thread)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/hrl_skip_validation.py --mode skip \\
        --seeds 0 1 --models hrl:0 hrl:1 no_srbm:1
    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/hrl_skip_validation.py --mode ensemble \\
        --seeds 0 1 2 3 --skip
"""

from __future__ import annotations

import argparse
import copy
import logging
import time

import numpy as np
import scipy.sparse as sp

log = logging.getLogger("hrl_skip_validation")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--mode", choices=("skip", "ensemble", "finetune"), default="skip")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--models", nargs="*", default=["hrl:0", "hrl:1"])
    p.add_argument("--skip", action="store_true", help="ensemble of HRL(input_skip=True)")
    p.add_argument("--rbm-epochs", type=int, default=5)
    p.add_argument("--step1-lr", choices=("default", "auto"), default="default")
    p.add_argument("--finetune-lr", type=float, default=1e-3)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    torch.set_num_threads(1)
    from bridge.ensemble import average_cosine
    from bridge.metrics import cross_modal_map
    from bridge.models.hrl import HRL, HRLStage1
    from recipes.hrl import model_config, validation_pairs

    _, V, y, Vv, yv = validation_pairs(args.data)  # the test rows are never touched here

    lr = (
        None
        if args.step1_lr == "default"
        else dict.fromkeys(("gaussian", "softmax", "bernoulli"), "auto")
    )
    cfg = model_config(rbm_epochs=args.rbm_epochs)  # the recipe's settings, widths x 0.5
    torch_kw = cfg["torch"]

    def stage1(seed: int) -> HRLStage1:
        return HRLStage1(**cfg["stage1"], learning_rate=lr, random_state=seed, progress=False).fit(
            V
        )

    def val(Z: dict) -> dict:
        return cross_modal_map(Z, yv)

    tag = f"step 1 {args.step1_lr}, {args.rbm_epochs} epochs"
    if args.mode == "skip":
        for seed in args.seeds:
            st, full = stage1(seed), None
            for spec in args.models:
                variant, skip, *reg = spec.split(":")
                extra = dict(dropout=float(reg[0]), weight_decay=float(reg[1])) if reg else {}
                m = HRL(
                    variant=variant,
                    stage1=st,
                    input_skip=skip == "1",
                    reuse=full,
                    random_state=seed,
                    **{**torch_kw, **extra},
                ).fit(V, y, Vv, yv)
                full = m if (variant, skip, reg) == ("hrl", "0", []) else full
                r = val(m.transform(Vv))
                print(
                    f"seed {seed} ({tag}) {spec}: val i2t {r['i2t']:.3f} t2i {r['t2i']:.3f} "
                    f"avg {r['average']:.3f} (n_bae {m.n_bae_})",
                    flush=True,
                )
    elif args.mode == "ensemble":
        embs = []
        for seed in args.seeds:
            m = HRL(stage1=stage1(seed), input_skip=args.skip, random_state=seed, **torch_kw)
            Z = m.fit(V, y, Vv, yv).transform(Vv)
            embs.append(Z)
            print(
                f"input_skip={args.skip} seed {seed}: val avg {val(Z)['average']:.3f}; "
                f"ensemble of the first {len(embs)}: {val(average_cosine(embs))['average']:.3f}",
                flush=True,
            )
    else:
        _finetune(args, stage1, V, Vv, y, yv, torch_kw, val)


def _finetune(args, stage1, V, Vv, y, yv, torch_kw, val) -> None:
    """The friendly SRBMs exported and trained end to end under a feed-forward net."""
    import torch
    from torch import nn

    from bridge.export import to_torch
    from bridge.models.hrl import HRL
    from bridge.models.hrl.networks import FeedForward
    from bridge.models.hrl.stages import StageLabels, fit_baes

    def T(X):
        return torch.as_tensor(
            X.toarray() if sp.issparse(X) else np.asarray(X), dtype=torch.float32
        )

    X, Xv = {k: T(v) for k, v in V.items()}, {k: T(v) for k, v in Vv.items()}
    yt = torch.as_tensor(y, dtype=torch.long)
    for seed in args.seeds:
        t0 = time.perf_counter()
        st = stage1(seed)
        torch.manual_seed(seed)
        enc = nn.ModuleDict({k: to_torch(st.srbm_[k]) for k in V})
        ff = nn.ModuleDict()
        with torch.no_grad():
            for k in V:
                F = enc[k](X[k])
                ff[k] = FeedForward(F.shape[1], torch_kw["ff_hidden"], 10, "sigmoid", 0.2)
                ff[k].set_stats(F)
        opt = torch.optim.Adam(
            [
                {"params": ff.parameters(), "lr": 1e-3},
                {"params": enc.parameters(), "lr": args.finetune_lr},
            ],
            weight_decay=1e-5,
        )
        gen = torch.Generator().manual_seed(seed)

        def posteriors_map(ff: nn.ModuleDict = ff, enc: nn.ModuleDict = enc) -> float:
            ff.eval()
            with torch.no_grad():
                e = {k: torch.softmax(ff[k].classifier(ff[k](enc[k](Xv[k]))), 1).numpy() for k in V}
            ff.train()
            return val({k: v - v.mean(0) for k, v in e.items()})["average"]

        best, state, bad = -1.0, None, 0
        for _ in range(12):
            perm = torch.randperm(len(y), generator=gen)
            for i in range(0, len(y), 64):
                b = perm[i : i + 64]
                loss = sum(
                    nn.functional.cross_entropy(ff[k].classifier(ff[k](enc[k](X[k][b]))), yt[b])
                    for k in V
                )
                opt.zero_grad()
                loss.backward()
                opt.step()
            score = posteriors_map()
            if score > best:
                best, state, bad = score, copy.deepcopy((enc.state_dict(), ff.state_dict())), 0
            else:
                bad += 1
                if bad >= 4:
                    break
        enc.load_state_dict(state[0])
        ff.load_state_dict(state[1])
        ff.eval()
        with torch.no_grad():
            A = {k: ff[k](enc[k](X[k])) for k in V}
            Av = {k: ff[k](enc[k](Xv[k])) for k in V}
        holder = HRL(**torch_kw, random_state=seed)
        holder._device = torch.device("cpu")
        (_, maps), _ = fit_baes(holder, A, Av, StageLabels(yt, yv, 10), seed)
        print(
            f"seed {seed} fine-tuned friendly SRBMs (lr {args.finetune_lr:g}): posteriors val "
            f"{best:.3f}, BAE val per level {[round(m, 3) for m in maps]} "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
