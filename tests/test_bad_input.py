"""The bad-input matrix: every public entry point x every kind of bad input.

Each case must raise the library's documented error -- a :class:`boltz.errors.BoltzError`
that is also the matching built-in (``ValueError`` or ``TypeError``) -- whose message
names the offending argument.  Nothing else may escape (no ``IndexError`` from deep
inside NumPy, no ``RuntimeError`` from torch).

The rows are the entry points (``boltz.RBM`` for each unit, ``boltz.DBN``,
``boltz.MultimodalDBN``, every ``bridge`` model and baseline, ``bridge.metrics``, the
recipes' ``--data``); the columns are NaN / inf, wrong shapes, empty input, rows that
differ between views, unknown view names, wrong dtypes, negative or non-integer
counts and labels of the wrong length.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import boltz
from boltz.errors import BoltzError

RNG = np.random.default_rng(0)
N = 48
X01 = RNG.random((N, 6)).astype(np.float32)  # Bernoulli data
XR = RNG.standard_normal((N, 6)).astype(np.float32)  # real data
COUNTS = RNG.integers(0, 4, (N, 6)).astype(np.float64)  # word counts
Y = np.arange(N) % 3


def expect(fn: Callable[[], Any], *names: str, kind: type = ValueError) -> str:
    """Run ``fn``; it must raise a BoltzError of built-in ``kind`` naming ``names``."""
    with pytest.raises(BoltzError) as info:
        fn()
    err = info.value
    assert isinstance(err, kind), f"{type(err).__name__} is not a {kind.__name__}: {err}"
    msg = str(err)
    for name in names:
        assert name in msg, f"the message does not name {name!r}: {msg}"
    return msg


def with_nan(X: np.ndarray) -> np.ndarray:
    X = np.array(X, dtype=np.float64)
    X[1, 2] = np.nan
    return X


def with_inf(X: np.ndarray) -> np.ndarray:
    X = np.array(X, dtype=np.float64)
    X[0, 0] = np.inf
    return X


# ------------------------------------------------------------------------ boltz.RBM
def rbm(visible: str, **kw: Any) -> boltz.RBM:
    return boltz.RBM(4, visible=visible, epochs=1, batch_size=16, progress=False, **kw)


UNIT_DATA = {"bernoulli": X01, "gaussian": XR, "softmax": COUNTS}


@pytest.fixture(scope="module")
def fitted_rbms() -> dict[str, boltz.RBM]:
    return {v: rbm(v).fit(X) for v, X in UNIT_DATA.items()}


@pytest.mark.parametrize("visible", sorted(UNIT_DATA))
def test_rbm_fit_rejects_bad_arrays(visible):
    X = UNIT_DATA[visible]
    expect(lambda: rbm(visible).fit(with_nan(X)), "X", "NaN")
    expect(lambda: rbm(visible).fit(with_inf(X)), "X", "inf")
    expect(lambda: rbm(visible).fit(X[:, 0]), "X", "2D")
    expect(lambda: rbm(visible).fit(X[:0]), "X", "0 sample")
    expect(lambda: rbm(visible).fit(X.astype(str)), "X", "dtype", kind=TypeError)
    mixed = X.astype(object)
    mixed[0, 0] = "a"  # numbers in an object array are converted; a string is not
    expect(lambda: rbm(visible).fit(mixed), "X", kind=TypeError)
    # complex is a ValueError here, as scikit-learn's estimator checks require
    expect(lambda: rbm(visible).fit(X + 1j), "X", "Complex")
    expect(lambda: rbm(visible).fit(X, X_val=X[:, :3]), "X_val", "3 features")
    expect(lambda: rbm(visible).fit(X, X_val=with_nan(X)), "X_val", "NaN")


@pytest.mark.parametrize("visible", sorted(UNIT_DATA))
def test_rbm_methods_reject_bad_arrays(fitted_rbms, visible):
    m, X = fitted_rbms[visible], UNIT_DATA[visible]
    for method in (m.transform, m.free_energy, m.reconstruct, m.partial_fit):
        expect(lambda f=method: f(X[:, :3]), "X", "3 features")
        expect(lambda f=method: f(with_nan(X)), "X", "NaN")
    expect(lambda: m.gibbs(X, steps=0), "steps")
    expect(lambda: rbm(visible).transform(X), "fit", kind=ValueError)  # not fitted


def test_rbm_unit_specific_ranges():
    expect(lambda: rbm("bernoulli").fit(X01 * 3), "bernoulli", "[0, 1]")
    expect(lambda: rbm("softmax").fit(-COUNTS), "softmax", "non-negative")
    expect(lambda: rbm("softmax").fit(COUNTS + 0.5), "softmax", "integer")
    expect(lambda: rbm("softmax").fit(sp.csr_matrix(-COUNTS)), "non-negative")
    expect(lambda: rbm("bernoulli").fit(sp.csr_matrix(X01)), "sparse", kind=TypeError)


def test_rbm_hyperparameters_are_checked_at_fit():
    for bad in (
        dict(n_hidden=0),
        dict(visible="poisson"),
        dict(k=0),
        dict(learning_rate=-1.0),
        dict(momentum=1.5),
        dict(weight_decay=-0.1),
        dict(batch_size=0),
        dict(epochs=-1),
        dict(dtype="int8"),
    ):
        kw = {"n_hidden": 4, "visible": "bernoulli", "epochs": 1, "progress": False, **bad}
        name = next(iter(bad))
        expect(lambda kw=kw: boltz.RBM(**kw).fit(X01), name)


# ------------------------------------------------------------------------ boltz.DBN
def test_dbn_rejects_bad_input():
    expect(lambda: boltz.DBN([]).fit(X01), "layers")
    expect(lambda: boltz.DBN([rbm("bernoulli"), "rbm"]).fit(X01), "layers[1]", "boltz.RBM")
    expect(lambda: boltz.DBN([rbm("bernoulli")]).fit(with_nan(X01)), "X", "NaN")
    expect(lambda: boltz.DBN([rbm("bernoulli")]).fit(X01[:0]), "X")
    dbn = boltz.DBN([rbm("bernoulli"), rbm("bernoulli")]).fit(X01)
    expect(lambda: dbn.transform(X01[:, :2]), "X", "2 features")
    expect(lambda: dbn.transform(X01.astype(str)), "X", kind=TypeError)


# ---------------------------------------------------------------- boltz.MultimodalDBN
def mdbn() -> boltz.MultimodalDBN:
    return boltz.MultimodalDBN(
        pathways={
            "image": boltz.DBN([rbm("gaussian")]),
            "text": boltz.DBN([rbm("softmax")]),
        },
        joint=boltz.RBM(4, epochs=1, progress=False),
    )


@pytest.fixture(scope="module")
def fitted_mdbn() -> boltz.MultimodalDBN:
    return mdbn().fit({"image": XR, "text": COUNTS})


def test_multimodal_dbn_fit_rejects_bad_views():
    good = {"image": XR, "text": COUNTS}
    expect(lambda: mdbn().fit(XR), "X", "dict", kind=TypeError)
    expect(lambda: mdbn().fit({"image": XR, "text": COUNTS[:-1]}), "rows", "47")
    expect(lambda: mdbn().fit({"image": XR, "words": COUNTS}), "unknown", "words")
    expect(lambda: mdbn().fit({**good, "image": with_nan(XR)}), "NaN")
    expect(lambda: mdbn().fit({**good, "text": -COUNTS}), "non-negative")
    expect(lambda: mdbn().fit({**good, "text": COUNTS + 0.25}), "integer")
    expect(lambda: mdbn().fit({**good, "image": XR.astype(str)}), "dtype", kind=TypeError)


def test_multimodal_dbn_inference_rejects_bad_views(fitted_mdbn):
    m = fitted_mdbn
    expect(lambda: m.transform({}), "X", "empty")
    expect(lambda: m.transform({"words": COUNTS}), "unknown", "words")
    expect(lambda: m.transform({"image": XR[:, :2]}), "2 features")
    expect(lambda: m.transform({"image": XR}, missing="sample"), "missing")
    expect(lambda: m.transform({"image": XR}, steps=-1), "steps")
    expect(lambda: m.generate("words", given={"image": XR}), "words")
    expect(lambda: m.generate("text", given={"text": COUNTS}), "text")
    expect(lambda: m.generate("text", given={"image": with_inf(XR)}), "inf")


# ------------------------------------------------------------ bridge models + baselines
def _paired() -> tuple[dict[str, np.ndarray], np.ndarray]:
    from bridge.synthetic import make_paired_views

    return make_paired_views(N, dims=(8, 6), latent=3, n_classes=3, names=["image", "text"])


def _factories() -> dict[str, Callable[[], Any]]:
    import bridge.baselines as B
    import bridge.models as M

    fast = dict(epochs=2, progress=False)
    return {
        "CCA": lambda: B.CCA(n_components=2),
        "KCCA": lambda: B.KCCA(n_components=2),
        "CFA": lambda: B.CFA(n_components=2),
        "BimodalAE": lambda: M.BimodalAE(n_components=4, hidden=(8,), batch_size=16, **fast),
        "CorrAE": lambda: M.CorrAE(n_components=4, hidden=(8,), batch_size=16, **fast),
        "DCCA": lambda: M.DCCA(n_components=2, hidden=(8,), batch_size=N, **fast),
        "DCCAE": lambda: M.DCCAE(n_components=2, hidden=(8,), batch_size=N, **fast),
        "DRUMN": lambda: M.DRUMN(n_components=2, **fast),
        "SDML": lambda: M.SDML(**fast),
        "JointAE": lambda: M.JointAE(**fast),
        "CrossModalAE": lambda: M.CrossModalAE(**fast),
    }


MODELS = sorted(_factories())


@pytest.fixture(scope="module")
def fitted_models() -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    V, y = _paired()
    return {name: make().fit(V, y) for name, make in _factories().items()}


@pytest.mark.parametrize("name", MODELS)
def test_bridge_model_fit_rejects_bad_views(name):
    make = _factories()[name]
    V, y = _paired()
    expect(lambda: make().fit(V["image"], y), "views", "dict", kind=TypeError)
    expect(lambda: make().fit({**V, "image": with_inf(V["image"])}, y), "views['image']", "inf")
    expect(lambda: make().fit({**V, "image": V["image"][:, 0]}, y), "views['image']", "2-D")
    expect(lambda: make().fit({k: v[:0] for k, v in V.items()}, y[:0]), "views['image']")
    expect(lambda: make().fit({**V, "text": V["text"][:-3]}, y), "rows", "45")
    expect(lambda: make().fit({**V, "image": V["image"].astype(str)}, y), "dtype", kind=TypeError)
    expect(lambda: make().fit({**V, "image": V["image"] + 1j}, y), "dtype", kind=TypeError)
    expect(lambda: make().fit(V, y[:-2]), "y", "46")
    if name != "DRUMN":  # DRUMN reads whole-NaN rows as a missing view; partial NaN is checked:
        expect(lambda: make().fit({**V, "image": with_nan(V["image"])}, y), "views['image']", "NaN")
    else:
        expect(lambda: make().fit({**V, "image": with_nan(V["image"])}), "views['image']", "NaN")


@pytest.mark.parametrize("name", MODELS)
def test_bridge_model_transform_rejects_bad_views(fitted_models, name):
    m = fitted_models[name]
    V, _ = _paired()
    expect(lambda: m.transform({"txt": V["text"]}), "unknown", "txt")
    expect(lambda: m.transform({"image": V["image"][:, :5]}), "views['image']", "5 features")
    expect(lambda: m.transform({"image": with_nan(V["image"])}), "views['image']", "NaN")
    expect(lambda: m.transform({"image": V["image"].astype(str)}), "dtype", kind=TypeError)
    expect(lambda: _factories()[name]().transform(V), "fit")


def test_dm2c_rejects_paired_and_bad_mixed_views():
    from bridge.models import DM2C
    from bridge.models.dm2c import mix_views

    V, _ = _paired()
    fast = dict(n_clusters=3, latent=4, hidden=(8,), pretrain_epochs=1, epochs=1, n_init=1)
    expect(lambda: DM2C(**fast).fit_predict(V), "views", "exactly one view")
    mixed, _ = mix_views({"image": V["image"][:24], "text": V["text"][24:]})
    expect(lambda: DM2C(**fast).fit_predict({**mixed, "text": mixed["text"][:-1]}), "rows")
    expect(lambda: DM2C(**fast).fit_predict({"image": mixed["image"]}), "views")
    expect(lambda: DM2C(**{**fast, "n_clusters": 0}).fit_predict(mixed), "n_clusters")


# ------------------------------------------------------------------------ metrics
def test_metrics_reject_bad_input():
    import bridge.metrics as bm

    Q = XR
    expect(lambda: bm.mean_average_precision(Q, Q, Y[:-1], Y), "query_labels", "47")
    expect(lambda: bm.mean_average_precision(Q, Q, Y, Y[:-1]), "database_labels")
    expect(lambda: bm.mean_average_precision(with_nan(Q), Q, Y, Y), "queries", "NaN")
    expect(lambda: bm.mean_average_precision(Q, Q[:, :3], Y, Y), "features")
    expect(lambda: bm.mean_average_precision(Q[:, 0], Q, Y, Y), "queries")
    expect(lambda: bm.mean_average_precision(Q, Q, Y, Y, metric="dot"), "metric")
    expect(lambda: bm.mean_average_precision(Q, Q, Y, Y, k=0), "k")
    expect(lambda: bm.mean_average_precision(Q.astype(str), Q, Y, Y), "queries", kind=TypeError)
    expect(lambda: bm.precision_recall_curve(Q, Q, Y[:-1], Y), "query_labels")
    expect(lambda: bm.cross_modal_map({"a": Q, "b": Q}, {"a": Y, "c": Y}), "labels")
    expect(lambda: bm.cross_modal_map({"a": Q, "b": Q[:-1]}, {"a": Y, "b": Y}), "b")
    expect(lambda: bm.clustering_accuracy(Y, Y[:-1]), "y_true", "y_pred")
    expect(lambda: bm.nmi(Y, Y[:-1]), "y_true")
    expect(lambda: bm.clustering_report(Y[:0], Y[:0]), "y_true")


# ------------------------------------------------------------------------ recipes --data
def _recipes() -> list[str]:
    from recipes.cli import RECIPES

    # demo and rbm-digits run on scikit-learn's embedded digits and take no --data
    return sorted(name for name in RECIPES if name not in ("demo", "rbm-digits"))


@pytest.mark.parametrize("recipe", _recipes())
def test_recipe_with_missing_data_fails_in_one_line(recipe, tmp_path, capsys):
    """Every recipe the CLI offers: a --data path that does not exist is exit 1, one line."""
    from recipes.cli import main as cli

    argv = [recipe]
    if recipe == "pretrain":
        argv.append("recipes/configs/wikipedia.toml")
    argv += ["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"), "--smoke", "-q"]
    rc = cli(argv)
    err = [line for line in capsys.readouterr().err.strip().splitlines() if line]
    assert rc == 1, err
    assert len(err) == 1, err
    assert "nowhere" in err[0] or "--data" in err[0], err[0]


@pytest.mark.parametrize("recipe", _recipes())
def test_python_m_recipe_with_missing_data_exits_1_with_one_line(recipe, tmp_path):
    """``python -m recipes.NAME`` (recipes._common.run_cli): exit 1, one line, no traceback."""
    import subprocess
    import sys

    from recipes.cli import RECIPES

    argv = [sys.executable, "-m", RECIPES[recipe][0]]
    if recipe == "pretrain":
        argv.append("recipes/configs/wikipedia.toml")
    argv += ["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"), "--smoke", "-q"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    err = [line for line in r.stderr.strip().splitlines() if line]
    assert r.returncode == 1, r.stderr
    assert len(err) == 1 and err[0].startswith(RECIPES[recipe][0] + ": error:"), err
    assert "nowhere" in err[0] or "--data" in err[0], err[0]
