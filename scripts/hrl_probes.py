"""Where HRL's step 1 keeps or loses the class: linear probes per layer (validation split).

Fits one :class:`bridge.models.hrl.HRLStage1` on the 2,173 Wikipedia training pairs
with the given settings and reports, on the 231 validation pairs of ``recipes.hrl``
(never the test pairs):

* the validation accuracy of a linear probe (standardised features, logistic
  regression, C in {0.01, 0.1, 1} -- the best of the three is printed, so the number
  is an optimistic upper bound of what a linear read-out of that layer keeps) for the
  inputs, every SRBM layer, every MDBN pathway layer and the joint layer inferred
  from the image, from the text and from both;
* the mean activation and the share of saturated units (p < 0.02 or > 0.98) of each
  layer (a layer stuck at its bias carries nothing);
* the validation cross-modal MAP (cosine, centred) of the joint layer from one view.

With ``--hrl`` it then fits HRL (and ``--variants``) on top of that step 1 and prints
their validation MAP (the recipe's torch settings, widths x ``--width-scale``).

Usage (one thread)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/hrl_probes.py --data ../shared/data \\
        --upper-lr 0.001 --joint-training likelihood --hrl --variants no_srbm no_mdbn

``--upper-pcd`` and ``--upper-sparsity TARGET COST`` change the RBMs with Bernoulli
visibles (the SRBM and MDBN layers above the first, and the joint RBM).
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np

log = logging.getLogger("hrl_probes")


def probe(H: np.ndarray, y: np.ndarray, Hv: np.ndarray, yv: np.ndarray) -> float:
    """Best validation accuracy of a standardised logistic regression over C."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    best = 0.0
    for C in (0.01, 0.1, 1.0):
        m = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=500))
        best = max(best, float(m.fit(H, y).score(Hv, yv)))
    return best


def stats(H: np.ndarray) -> str:
    sat = float(np.mean((H < 0.02) | (H > 0.98)))
    return f"mean {H.mean():.3f} sat {sat:.2f} unit std {float(H.std(0).mean()):.2g}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width-scale", type=float, default=0.5)
    p.add_argument("--rbm-epochs", type=int, default=5)
    p.add_argument("--gaussian-lr", default=None, help="float or auto")
    p.add_argument("--softmax-lr", default=None, help="float or auto")
    p.add_argument("--upper-lr", default=None, help="float or auto (upper + joint RBMs)")
    p.add_argument("--joint-training", default="likelihood")
    p.add_argument("--upper-pcd", action="store_true", help="PCD for the upper + joint RBMs")
    p.add_argument(
        "--upper-sparsity",
        type=float,
        nargs=2,
        default=None,
        metavar=("TARGET", "COST"),
        help="sparsity target and cost of the upper + joint RBMs",
    )
    p.add_argument("--friendly", type=int, nargs="+", default=[1024, 512, 512], help="paper widths")
    p.add_argument("--mutual-image", type=int, nargs="+", default=[2048, 1024])
    p.add_argument("--mutual-text", type=int, nargs="+", default=[1024, 1024])
    p.add_argument("--hrl", action="store_true", help="also fit HRL on top (validation MAP)")
    p.add_argument("--variants", nargs="*", default=[])
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--patience", type=int, default=4)
    p.add_argument("--json", default=None, help="write the numbers to this file")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("boltz").setLevel(logging.WARNING)
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    torch.set_num_threads(1)
    from bridge.metrics import cross_modal_map
    from bridge.models.hrl import HRL, HRLStage1
    from recipes.hrl import validation_pairs

    _, V, y, Vv, yv = validation_pairs(args.data)  # the test rows are never touched here
    w = args.width_scale

    def sc(*s: int) -> tuple[int, ...]:
        return tuple(max(2, int(round(x * w))) for x in s)

    lr = {}
    for unit, v in (
        ("gaussian", args.gaussian_lr),
        ("softmax", args.softmax_lr),
        ("bernoulli", args.upper_lr),
    ):
        if v is not None:
            lr[unit] = v if v == "auto" else float(v)
    upper: dict = {}
    if args.upper_pcd:
        upper["persistent"] = True
    if args.upper_sparsity is not None:
        upper.update(sparsity_target=args.upper_sparsity[0], sparsity_cost=args.upper_sparsity[1])

    class Stage1(HRLStage1):
        """HRLStage1 whose Bernoulli-visible RBMs get the ``upper`` settings."""

        def _rbm(self, n_hidden, unit, seed):
            rbm = super()._rbm(n_hidden, unit, seed)
            return rbm.set_params(**upper) if unit == "bernoulli" else rbm

    t0 = time.perf_counter()
    st = Stage1(
        friendly_hidden=sc(*args.friendly),
        mutual_hidden={"image": sc(*args.mutual_image), "text": sc(*args.mutual_text)},
        joint_hidden=sc(2048)[0],
        epochs=args.rbm_epochs,
        learning_rate=lr or None,
        joint_training=args.joint_training,
        random_state=args.seed,
        progress=False,
    ).fit(V)
    out: dict = {"args": vars(args), "stage1_seconds": time.perf_counter() - t0, "probe": {}}
    rows = [
        ("image input (SIFT-128)", V["image"], Vv["image"]),
        ("text input log1p(counts)", np.log1p(V["text"].toarray()), np.log1p(Vv["text"].toarray())),
    ]
    for k in ("image", "text"):
        for i in range(len(st.srbm_[k].layers_)):
            rows.append(
                (
                    f"SRBM {k} layer {i + 1}",
                    st.srbm_[k].transform(V[k], layer=i),
                    st.srbm_[k].transform(Vv[k], layer=i),
                )
            )
        pw = st.mdbn_.pathways_[k]
        for i in range(len(pw.layers_)):
            rows.append(
                (
                    f"MDBN {k} pathway layer {i + 1}",
                    pw.transform(V[k], layer=i),
                    pw.transform(Vv[k], layer=i),
                )
            )
    f, fv = st.features(V, pair=True), st.features(Vv, pair=True)
    for k in ("image", "text"):
        rows.append((f"MDBN joint from {k} alone", f["mutual"][k], fv["mutual"][k]))
    rows.append(("MDBN joint from both", f["pair"], fv["pair"]))
    for name, H, Hv in rows:
        acc = probe(H, y, Hv, yv)
        out["probe"][name] = acc
        print(f"{name:32s} probe acc {acc:.3f}   {stats(H) if H.min() >= 0 else ''}", flush=True)
    Z = {k: fv["mutual"][k] - f["mutual"][k].mean(0) for k in ("image", "text")}
    out["mdbn_val_map"] = cross_modal_map(Z, yv)["average"]
    print(f"MDBN joint from one view: validation MAP {out['mdbn_val_map']:.3f}", flush=True)
    if args.hrl:
        torch_kw = dict(
            joint_ae_hidden=sc(1024)[0],
            ff_hidden=sc(1024, 1024, 1024),
            epochs=args.epochs,
            patience=args.patience,
        )
        out["hrl_val"] = {}
        full = None
        for v in ["hrl", *args.variants]:
            m = HRL(
                variant=v,
                stage1=st,
                input_skip=False,  # the paper's architecture (its step 1 is probed here)
                reuse=full,
                random_state=args.seed,
                **torch_kw,
            )
            m.fit(V, y, Vv, yv)
            full = m if v == "hrl" else full
            val = cross_modal_map(m.transform(Vv), yv)
            out["hrl_val"][v] = [val["i2t"], val["t2i"], val["average"]]
            print(
                f"HRL {v}: validation i2t {val['i2t']:.3f} t2i {val['t2i']:.3f} "
                f"avg {val['average']:.3f}",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
