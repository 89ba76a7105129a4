"""Fuzz campaign over every checkpoint format: N random byte damages per format.

Each damaged file (truncated; 1-4 bytes XORed; a block zeroed; bytes inserted,
deleted or swapped -- see ``tests/boltz/crafting.py``) is loaded and classified:

* ``rejected``  -- ``boltz.CheckpointError`` (the documented error);
* ``identical`` -- loaded, and the model equals the original (every array, the
  metadata, the embeddings);
* ``other``     -- anything else: a different model, or another exception.  Must be 0.

Formats: boltz RBM (Bernoulli+PCD, Gaussian), DBN, MultimodalDBN in format 2 and in
format 1 (written before the manifest, CRC-32 only); bridge BimodalAE, SDML, DCCA; an
HRL directory (one of its four files damaged at a time).

    python scripts/fuzz_checkpoints.py --n 2000 --out fuzz.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boltz
from boltz.errors import CheckpointError
from tests.boltz import crafting


def sources(d: Path) -> dict[str, tuple]:
    """name -> (kind, payload, loader, reference)."""
    import torch

    torch.set_num_threads(1)
    from bridge.models import DCCA, HRL, SDML, BimodalAE
    from bridge.synthetic import make_paired_views

    boltz_models = crafting.boltz_models()
    out: dict[str, tuple] = {}
    for name, m in boltz_models.items():
        raw = m.save(d / f"{name}.npz").read_bytes()
        out[name] = ("file", raw, boltz.load, crafting.model_state(m))
        out[name + " (format 1)"] = (
            "file",
            crafting.format1(m),
            boltz.load,
            crafting.model_state(m),
        )
    V, y = make_paired_views(60, dims=(6, 5), n_classes=3, random_state=0, names=("image", "text"))
    bridge_models = {
        "BimodalAE": BimodalAE(n_components=3, hidden=(4,), epochs=1, progress=False).fit(V),
        "SDML": SDML(hidden=(4,), epochs=1, progress=False).fit(V, y),
        "DCCA": DCCA(n_components=2, hidden=(4,), epochs=1, progress=False).fit(V),
    }
    for name, m in bridge_models.items():
        raw = m.save(d / f"{name}.pt").read_bytes()
        out[name] = ("file", raw, type(m).load, crafting.model_state(m))
    h = HRL(**crafting.SMALL_HRL, random_state=0).fit(V, y)
    hd = h.save(d / "hrl")
    out["HRL directory"] = ("dir", hd, HRL.load, (V, h.transform(V)))
    return out


def classify(kind: str, payload, loader, ref, rng, work: Path) -> tuple[str, str]:
    if kind == "file":
        what, blob = crafting.damage(payload, rng)
        p = work / "c.bin"
        p.write_bytes(blob)
        target = p
    else:
        files = sorted(payload.rglob("*.npz"))
        f = files[int(rng.integers(len(files)))]
        original = f.read_bytes()
        what, blob = crafting.damage(original, rng)
        f.write_bytes(blob)
        target = payload
    try:
        model = loader(target)
    except CheckpointError:
        return what, "rejected"
    except Exception:
        return what, "other: " + traceback.format_exc(limit=1).strip().splitlines()[-1][:120]
    finally:
        if kind == "dir":
            f.write_bytes(original)
    if kind == "file":
        same = crafting.model_state(model) == ref
    else:
        V, emb = ref
        out = model.transform(V)
        same = all(np.array_equal(out[k], emb[k]) for k in emb)
    return what, "identical" if same else "other: loaded a different model"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="damaged files per format")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="JSON file for the counts")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        srcs = sources(tmp)
        for name, (kind, payload, loader, ref) in srcs.items():
            t0 = time.perf_counter()
            counts: Counter = Counter()
            by_kind: Counter = Counter()
            for _ in range(args.n):
                what, outcome = classify(kind, payload, loader, ref, rng, tmp)
                counts["other" if outcome.startswith("other") else outcome] += 1
                by_kind[f"{what}:{outcome}"] += 1
                if outcome.startswith("other"):
                    print(f"  {name}: {what}: {outcome}", flush=True)
            results[name] = {
                "n": args.n,
                "rejected": counts["rejected"],
                "identical": counts["identical"],
                "other": counts["other"],
                "by_damage": dict(sorted(by_kind.items())),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            r = results[name]
            print(
                f"{name:26s} n={args.n}  rejected {r['rejected']:5d}  identical "
                f"{r['identical']:5d}  other {r['other']}  ({r['seconds']} s)",
                flush=True,
            )
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
