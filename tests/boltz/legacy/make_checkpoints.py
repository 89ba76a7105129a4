"""Write the legacy checkpoints of ``tests/boltz/test_legacy_checkpoints.py``.

Run once with the code *before* a change to the checkpoint code (here: before the
fitted-layer object of issue 17, step 4) to freeze what an old checkpoint looks
like and what it computes::

    OPENBLAS_NUM_THREADS=1 python -m tests.boltz.legacy.make_checkpoints

Each model ``NAME`` is saved as ``NAME.npz`` and its outputs on fixed inputs as
``NAME.outputs.npz``.  The test loads the checkpoints with the current code and
checks the outputs and that saving again writes the same content.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

import boltz
from boltz.dbn import DBN
from boltz.multimodal import MultimodalDBN
from boltz.passthrough import Passthrough

HERE = Path(__file__).resolve().parent


def data() -> dict[str, np.ndarray]:
    """The fixed inputs (training and evaluation)."""
    rng = np.random.default_rng(17)
    gauss = rng.normal(3.0, 2.0, size=(40, 6))
    binary = (rng.random((40, 7)) > 0.6).astype(np.float64)
    counts = rng.poisson(1.0, size=(40, 8)).astype(np.float64)
    return {"gauss": gauss, "binary": binary, "counts": counts}


def models(d: dict[str, np.ndarray]) -> dict[str, object]:
    kw = dict(epochs=3, batch_size=10, progress=False, monitor_size=0)
    rbm_g = boltz.RBM(4, "gaussian", learn_sigma=True, random_state=1, **kw).fit(d["gauss"])
    rbm_s = boltz.RBM(3, "softmax", persistent=True, n_chains=5, random_state=2, **kw).fit(
        sp.csr_matrix(d["counts"])
    )
    dbn = DBN(
        [boltz.RBM(5, "gaussian", **kw), boltz.RBM(3, persistent=True, **kw)], random_state=3
    ).fit(d["gauss"])
    mdbn = MultimodalDBN(
        {
            "image": DBN([boltz.RBM(5, "gaussian", **kw), boltz.RBM(4, **kw)], random_state=6),
            "text": DBN([boltz.RBM(4, "softmax", **kw)], random_state=7),
            "tags": Passthrough(dtype="float32"),
        },
        joint=boltz.RBM(6, random_state=4, **kw),
        finetune_epochs=2,
        random_state=5,
    ).fit({"image": d["gauss"], "text": d["counts"], "tags": d["binary"]})
    return {"rbm_gaussian": rbm_g, "rbm_softmax": rbm_s, "dbn": dbn, "mdbn": mdbn}


def outputs(name: str, model: object, d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What each model computes on ``d`` (deterministic methods and seeded sampling)."""
    if name == "rbm_gaussian":
        X = d["gauss"]
        return {
            "transform": model.transform(X),
            "reconstruct": model.reconstruct(X),
            "free_energy": model.free_energy(X),
        }
    if name == "rbm_softmax":
        X = sp.csr_matrix(d["counts"])
        return {"transform": model.transform(X), "reconstruct": model.reconstruct(X)}
    if name == "dbn":
        X = d["gauss"]
        return {
            "transform": model.transform(X),
            "transform0": model.transform(X, layer=0),
            "reconstruct": model.reconstruct(X),
            "sample": model.sample(5, steps=3, random_state=0),
        }
    given = {"image": d["gauss"]}
    joint, tops = model.transform(given, return_pathways=True)
    out = {
        "transform": joint,
        "transform_gibbs": model.transform(given, missing="gibbs", n_samples=2, random_state=0),
        "generate_text": model.generate("text", given=given),
        "generate_image": model.generate("image", given={"text": d["counts"]}),
        "generate_tags": model.generate("tags", given=given),
        "generate_text_gibbs": model.generate(
            "text", given=given, method="gibbs", n_samples=2, random_state=0
        ),
    }
    out.update({f"tops.{k}": v for k, v in tops.items()})
    return out


def main() -> None:
    d = data()
    for name, model in models(d).items():
        model.save(HERE / f"{name}.npz")
        np.savez(HERE / f"{name}.outputs.npz", **outputs(name, model, d))


if __name__ == "__main__":
    main()
