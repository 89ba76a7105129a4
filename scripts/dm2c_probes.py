"""DM2C diagnostics on a held-out part of the Wikipedia training pairs (docs/dm2c.md).

Usage::

    .venv/bin/python scripts/dm2c_probes.py '{"training": "authors", "_diag": true}' 0

The first argument is a JSON dict of DM2C parameters (``_diag``: also the linear
probes and both unified spaces), the second the comma-separated model seeds.  20 % of
the training pairs (permutation seed 123) are the held-out mixed set (val), the rest
the training mixed set (tr); test labels are never read.  Per seed it prints one JSON
line: ACC / NMI of DM2C on tr and val, of k-means on the zero-filled concatenation on
val, and with ``_diag``, for each unified space (``imagesp`` / ``textsp``), the accuracy
of a logistic regression fitted on the tr codes of one modality and scored on the val
codes of each modality (``probe_{space}_{fitted on}->{scored on}``): a translated
modality that is class-aligned with the other scores well on the other's probe.
"""

import json
import sys
import time

import numpy as np
import torch

from boltz.datasets import load_wikipedia_bow
from bridge.features import bow_features, zscore
from bridge.metrics import clustering_report
from bridge.models.dm2c import DM2C, mix_views
from recipes.dm2c import _kmeans, mixed_split

torch.set_num_threads(1)

kw = json.loads(sys.argv[1])
seeds = [int(x) for x in sys.argv[2].split(",")]
extra = kw.pop("_diag", False)
d = load_wikipedia_bow("../shared/data", n_words=2000)
C = d.counts_train.toarray()
img, txt, y = zscore(d.image_train, d.image_train), bow_features(C, C), d.y_train
perm = np.random.default_rng(123).permutation(len(y))
nv = len(y) // 5
va, tr = np.sort(perm[:nv]), np.sort(perm[nv:])
sets = {}
for s, rows in (("tr", tr), ("va", va)):
    ia, ib = mixed_split(len(rows), 0 if s == "tr" else 1)
    ia, ib = rows[ia], rows[ib]
    views, mod = mix_views({"image": img[ia], "text": txt[ib]})
    sets[s] = dict(
        views=views,
        mod=mod,
        y=np.concatenate([y[ia], y[ib]]),
        concat=np.nan_to_num(np.hstack([views["image"], views["text"]])),
    )
res = []
for seed in seeds:
    t0 = time.process_time()
    m = DM2C(n_clusters=10, standardize=False, random_state=seed, progress=False, **kw).fit(
        sets["tr"]["views"]
    )
    r = {"seed": seed, "cpu": round(time.process_time() - t0)}
    for s in ("tr", "va"):
        lab = m.labels_ if s == "tr" else m.predict(sets[s]["views"])
        rep = clustering_report(sets[s]["y"], lab)
        r[f"{s}_acc"], r[f"{s}_nmi"] = round(rep["acc"], 4), round(rep["nmi"], 4)
    km = _kmeans(sets["tr"]["concat"], seed, 20)
    rep = clustering_report(sets["va"]["y"], km.predict(sets["va"]["concat"]))
    r["km_va_acc"], r["km_va_nmi"] = round(rep["acc"], 4), round(rep["nmi"], 4)
    if extra:
        import copy

        from sklearn.linear_model import LogisticRegression

        S = sets["tr"]
        V = sets["va"]
        # linear probes on each latent space; alignment
        for uni in ("image", "text"):
            alt = copy.copy(m)
            alt.unify_ = uni
            Ztr, Zva = alt.embed(S["views"]), alt.embed(V["views"])
            for i, v in enumerate(("image", "text")):
                clf = LogisticRegression(max_iter=2000).fit(
                    Ztr[S["mod"] == i], S["y"][S["mod"] == i]
                )
                # probe trained on modality i, tested on both modalities in val
                for j, w in enumerate(("image", "text")):
                    r[f"probe_{uni}sp_{v}->{w}"] = round(
                        clf.score(Zva[V["mod"] == j], V["y"][V["mod"] == j]), 3
                    )
            km2 = _kmeans(Ztr, seed, 20)
            rep = clustering_report(V["y"], km2.predict(Zva))
            r[f"uni_{uni}_va_acc"], r[f"uni_{uni}_va_nmi"] = (
                round(rep["acc"], 4),
                round(rep["nmi"], 4),
            )
    print(json.dumps(r), flush=True)
    res.append(r)
for k in ("va_acc", "va_nmi", "km_va_acc", "km_va_nmi", "tr_acc"):
    v = np.array([r[k] for r in res])
    print(k, f"{v.mean():.4f} ± {v.std():.4f}")
