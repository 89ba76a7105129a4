"""Why Corr-AE is below the bimodal AE on Wikipedia: a validation-split scan.

Uses ``recipes.compare``'s data, split and "shared" features (SIFT-128 z-scored,
2,000-word log1p BoW, L2 rows, one global scale) and its training settings, and
reports for each configuration the validation cross-modal MAP (cosine, centred
codes, mean of the two directions), the best epoch and the size of each loss term
at the end of training.  The test pairs are not scored here (``recipes.compare``
scores the kept configuration once).

Configurations: ``--grid`` names any of

* ``paper``   loss_scale="sum" (the paper's squared norms), α in --alphas
* ``mean``    loss_scale="mean" (per-unit terms), α in --alphas
* ``width``   loss_scale from --scale, α from --alpha, code width in --widths
* ``rbm``     the original Corr-AE paper's RBM initialisation: a Gaussian RBM on the
              raw SIFT and a replicated-softmax RBM on the raw counts (256 units,
              boltz defaults), unrolled into the encoders/decoders
* ``normalized`` correspondence="normalized" (the code distance over the codes'
              minibatch spread), loss_scale from --scale, α in --alphas
* ``bimodal`` the Bimodal AE of ``recipes.compare`` (the row to beat)

Usage::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/corr_ae_scan.py --grid paper mean bimodal
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

log = logging.getLogger("corr_ae_scan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grid", nargs="+", default=["paper", "mean", "bimodal"])
    p.add_argument("--variants", nargs="+", default=["corr", "cross", "full"])
    p.add_argument("--alphas", type=float, nargs="+", default=[0.2, 0.5, 0.8, 0.9])
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--scale", default="mean")
    p.add_argument("--widths", type=int, nargs="+", default=[10, 32, 64, 128])
    p.add_argument("--patience", type=int, default=20)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("bridge").setLevel(logging.WARNING)
    logging.getLogger("boltz").setLevel(logging.WARNING)
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    torch.set_num_threads(1)
    import boltz
    from boltz.datasets import load_wikipedia_bow
    from bridge.metrics import cross_modal_map
    from bridge.models.bimodal_ae import BimodalAE
    from bridge.models.corr_ae import CorrAE
    from recipes.compare import N_VAL, build_features, wikipedia_split

    N_WORDS = 2000  # recipes/configs/wikipedia.toml, as recipes.compare

    d = load_wikipedia_bow(args.data, n_words=N_WORDS)
    va, te = wikipedia_split(d.y_test, N_VAL, 0)
    tr = np.arange(len(d.y_train))
    S = build_features(d, "shared", "bow", tr, va, te, args.seed)
    y, yv = d.y_train, d.y_test[va]
    nn_kw = dict(
        epochs=200,
        patience=args.patience,
        random_state=args.seed,
        progress=False,
        standardize=False,
    )
    rows: list[dict[str, Any]] = []

    def terms(m: CorrAE, V: dict) -> dict[str, float]:
        """Mean per-sample reconstruction and code-distance terms (sum scale)."""
        mod = m.module_
        X = m._tensors(V) if hasattr(m, "_tensors") else None
        if X is None:
            return {}
        with torch.no_grad():
            xs = [X[k] for k in m.view_names_]
            z = [mod.code(i, x) for i, x in enumerate(xs)]
            rec = [
                float(dec.loss(mod.top(j, z[s]), xs[t]).mean())
                for j, (dec, (s, t)) in enumerate(zip(mod.decoders, mod.pairs))
            ]
            corr = float((z[0] - z[1]).pow(2).sum(1).mean())
        return {"rec": rec, "corr": corr}

    def run(name: str, model: Any, train: dict, val: dict) -> None:
        t0 = time.perf_counter()
        model.fit(train, y, val, yv)
        m = cross_modal_map(model.transform(val), yv)
        row = {
            "config": name,
            "val_i2t": m["i2t"],
            "val_t2i": m["t2i"],
            "val_avg": m["average"],
            "best_epoch": getattr(model, "best_epoch_", None),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        if isinstance(model, CorrAE):
            try:
                row.update(terms(model, train))
            except Exception as e:  # diagnostics only
                log.debug("no loss terms: %s", e)
        rows.append(row)
        print(json.dumps(row), flush=True)

    for g in args.grid:
        if g == "bimodal":
            run("bimodal", BimodalAE(n_components=64, hidden=(256,), **nn_kw), S.train, S.val)
        for v in args.variants:
            if g in ("paper", "mean", "normalized"):
                scale = {"paper": "sum", "mean": "mean"}.get(g, args.scale)
                corr = "normalized" if g == "normalized" else "distance"
                for a in args.alphas:
                    model = CorrAE(
                        n_components=64,
                        variant=v,
                        alpha=a,
                        hidden=(256,),
                        loss_scale=scale,
                        correspondence=corr,
                        **nn_kw,
                    )
                    tag = " normalized" if g == "normalized" else ""
                    run(f"{v} {scale}{tag} a={a}", model, S.train, S.val)
            elif g == "width":
                for w in args.widths:
                    model = CorrAE(
                        n_components=w,
                        variant=v,
                        alpha=args.alpha,
                        hidden=(256,),
                        loss_scale=args.scale,
                        **nn_kw,
                    )
                    run(f"{v} {args.scale} a={args.alpha} k={w}", model, S.train, S.val)
            elif g == "rbm":
                raw_tr = {"image": d.image_train, "text": sp.csr_matrix(d.counts_train)}
                raw_va = {
                    "image": d.image_test[va],
                    "text": sp.csr_matrix(d.counts_test[va]),
                }
                kw = dict(epochs=20, batch_size=64, progress=False, random_state=args.seed)
                dbns = {
                    "image": boltz.DBN([boltz.RBM(256, "gaussian", **kw)]).fit(raw_tr["image"]),
                    "text": boltz.DBN([boltz.RBM(256, "softmax", **kw)]).fit(raw_tr["text"]),
                }
                dense_tr = {k: (x.toarray() if sp.issparse(x) else x) for k, x in raw_tr.items()}
                dense_va = {k: (x.toarray() if sp.issparse(x) else x) for k, x in raw_va.items()}
                for a in args.alphas:
                    model = CorrAE(
                        n_components=64,
                        variant=v,
                        alpha=a,
                        pretrained=dbns,
                        loss_scale=args.scale,
                        **nn_kw,
                    )
                    run(f"{v} rbm-init {args.scale} a={a}", model, dense_tr, dense_va)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
