"""RBM estimator behaviour: sklearn conventions, checkpoints and resume, errors."""

from __future__ import annotations

import errno
import io
import json
import logging
import pickle
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

import boltz
from boltz.checkpoint import read_checkpoint, write_checkpoint
from boltz.errors import ConfigError, DataError


def _binary(n=200, d=12, seed=0):
    return (np.random.default_rng(seed).random((n, d)) > 0.6).astype(np.float32)


def _rbm(**kw):
    base = dict(n_hidden=5, epochs=2, batch_size=32, progress=False, random_state=0)
    base.update(kw)
    return boltz.RBM(**base)


@parametrize_with_checks(
    [boltz.RBM(visible="gaussian", n_hidden=4, epochs=2, progress=False, random_state=0)]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_pipeline_gridsearch_clone():
    X = _binary(120)
    y = (X[:, 0] > 0).astype(int)
    pipe = Pipeline([("rbm", _rbm()), ("clf", LogisticRegression(max_iter=200))])
    gs = GridSearchCV(pipe, {"rbm__n_hidden": [3, 6]}, cv=2).fit(X, y)
    assert gs.best_params_["rbm__n_hidden"] in (3, 6)
    r = _rbm(n_hidden=7).set_params(learning_rate=0.2)
    c = clone(r)
    assert c.get_params()["learning_rate"] == 0.2 and not hasattr(c, "model_")


@pytest.mark.parametrize("persistent", [False, True])
@pytest.mark.parametrize("visible", ["bernoulli", "gaussian", "softmax"])
def test_resume_is_bitwise(tmp_path, persistent, visible):
    rng = np.random.default_rng(0)
    X = {
        "bernoulli": _binary(),
        "gaussian": rng.standard_normal((200, 12)).astype(np.float32),
        "softmax": rng.poisson(2, (200, 12)).astype(np.float32),
    }[visible]
    kw = dict(
        visible=visible,
        persistent=persistent,
        n_chains=16,
        sparsity_target=0.1,
        sparsity_cost=0.1,
        weight_decay=1e-3,
        momentum_epochs=1,
    )
    full = _rbm(epochs=2, **kw).fit(X)
    half = _rbm(epochs=1, **kw).fit(X)
    path = half.save(tmp_path / "half.npz")
    resumed = boltz.load(path).set_params(epochs=2, warm_start=True).fit(X)
    for a in ("weights_", "visible_bias_", "hidden_bias_"):
        np.testing.assert_array_equal(getattr(resumed, a), getattr(full, a))
    assert resumed.epoch_ == 2 and len(resumed.history_) == 2


def test_checkpoint_roundtrip_and_pickle(tmp_path):
    X = _binary()
    r = _rbm(persistent=True).fit(X)
    r2 = boltz.load(r.save(tmp_path / "r"))
    np.testing.assert_array_equal(r2.transform(X), r.transform(X))
    r3 = pickle.loads(pickle.dumps(r))
    np.testing.assert_array_equal(r3.transform(X), r.transform(X))
    meta, arrays = read_checkpoint(tmp_path / "r.npz")
    assert meta["class"] == "RBM" and meta["format_version"] == 2
    assert "pcd.chains" in arrays and "optim.velocity.weights" in arrays


def _corrupt_cases(path):
    raw = path.read_bytes()
    meta, arrays = read_checkpoint(path)
    cases = {
        "truncated": raw[: len(raw) // 2],
        "flipped": bytes(b ^ 0xFF if i % 97 == 0 else b for i, b in enumerate(raw)),
        "text": b"hello, not a checkpoint",
        "empty": b"",
    }

    def npz(meta_, arrays_):
        buf = io.BytesIO()
        blob = np.frombuffer(json.dumps(meta_).encode(), dtype=np.uint8)
        np.savez(buf, __meta__=blob, **arrays_)
        return buf.getvalue()

    cases["newer"] = npz({**meta, "format_version": 99}, arrays)
    cases["foreign"] = npz({"format": "other"}, arrays)
    cases["no_meta"] = (lambda b: (np.savez(b, x=np.zeros(2)), b.getvalue())[1])(io.BytesIO())
    cases["wrong_shape"] = npz(meta, {**arrays, "params.weights": np.zeros((3, 3), np.float32)})
    cases["missing"] = npz(meta, {k: v for k, v in arrays.items() if k != "params.hidden_bias"})
    cases["extra"] = npz(meta, {**arrays, "params.evil": np.zeros(3, np.float32)})
    cases["nan"] = npz(meta, {**arrays, "params.hidden_bias": np.full(5, np.nan, np.float32)})
    cases["bad_epoch"] = npz({**meta, "epoch": "x"}, arrays)
    cases["bad_class"] = npz({**meta, "class": "Evil"}, arrays)
    obj = io.BytesIO()
    with zipfile.ZipFile(obj, "w") as z:
        z.writestr("__meta__.npy", _npy_bytes(np.frombuffer(json.dumps(meta).encode(), np.uint8)))
        z.writestr("params.weights.npy", _npy_bytes(np.array([{"a": 1}], dtype=object)))
    cases["object_array"] = obj.getvalue()
    pk = io.BytesIO()
    with zipfile.ZipFile(pk, "w") as z:
        z.writestr("__meta__.npy", pickle.dumps({"format": "boltz-checkpoint"}))
    cases["pickle"] = pk.getvalue()
    return cases


def _npy_bytes(a):
    b = io.BytesIO()
    np.lib.format.write_array(b, a, allow_pickle=True)
    return b.getvalue()


def test_corrupted_checkpoints_raise_checkpoint_error(tmp_path):
    good = _rbm().fit(_binary()).save(tmp_path / "good.npz")
    for name, blob in _corrupt_cases(good).items():
        p = tmp_path / f"{name}.npz"
        p.write_bytes(blob)
        with pytest.raises(boltz.CheckpointError):
            boltz.load(p)
    assert issubclass(boltz.CheckpointError, ValueError)
    with pytest.raises(FileNotFoundError):
        boltz.load(tmp_path / "absent.npz")


def test_unwritable_checkpoint_directory_fails_before_training(tmp_path):
    calls = []
    r = _rbm(checkpoint=tmp_path / "nope" / "r.npz", callbacks=[lambda *a: calls.append(a)])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        r.fit(_binary())
    assert calls == []


def test_interrupted_fit_keeps_last_checkpoint(tmp_path):
    X = _binary()
    path = tmp_path / "r.npz"

    def boom(rbm, epoch, rec):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _rbm(epochs=3, checkpoint=path, callbacks=[boom]).fit(X)
    resumed = boltz.load(path).set_params(warm_start=True, callbacks=None).fit(X)
    full = _rbm(epochs=3).fit(X)
    np.testing.assert_array_equal(resumed.weights_, full.weights_)
    assert not list(tmp_path.glob("*.tmp"))


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    path = write_checkpoint(tmp_path / "c.npz", {"class": "RBM"}, {"a": np.zeros(2)})
    before = path.read_bytes()

    def fail(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", fail)
    with pytest.raises(OSError, match="no space left") as info:
        write_checkpoint(path, {"class": "RBM"}, {"a": np.ones(2)})
    assert info.value.errno == errno.ENOSPC and str(path) in str(info.value)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(
    ("X", "kw", "exc", "match"),
    [
        (np.array([[np.nan, 0.0]]), {}, ValueError, "NaN"),
        (np.array([[np.inf, 0.0]]), {"visible": "gaussian"}, ValueError, "inf"),
        (np.zeros(5), {}, ValueError, "2D"),
        (np.zeros((0, 3)), {}, ValueError, "0 sample"),
        (np.array([["a", "b"]]), {}, TypeError, "numbers"),
        (np.array([[1.0, -1.0]]), {"visible": "softmax"}, ValueError, "non-negative"),
        (np.array([[1.5, 1.0]]), {"visible": "softmax"}, ValueError, "integer"),
        (np.array([[2.0, 0.0]]), {}, ValueError, r"\[0, 1\]"),
        (sp.csr_matrix(np.eye(3)), {}, TypeError, "sparse"),
    ],
)
def test_bad_input(X, kw, exc, match):
    with pytest.raises(exc, match=match):
        _rbm(**kw).fit(X)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"n_hidden": 0}, "n_hidden"),
        ({"k": 0}, "k must"),
        ({"learning_rate": -1}, "learning_rate"),
        ({"momentum": 1.5}, "momentum"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"visible": "poisson"}, "visible"),
        ({"dtype": "int8"}, "dtype"),
        ({"device": "tpu"}, "device"),
        ({"sparsity_target": 2.0}, "sparsity_target"),
        ({"learn_sigma": True}, "gaussian"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_hyperparameters(kw, match):
    with pytest.raises(ValueError, match=match):
        _rbm(**kw).fit(_binary(20))


def test_wrong_features_and_not_fitted():
    r = _rbm()
    with pytest.raises(boltz.NotFittedError):
        r.transform(_binary())
    r.fit(_binary())
    with pytest.raises(ValueError, match="features"):
        r.transform(_binary(d=3))


def test_gpu_request_without_gpu_and_auto_fallback(caplog):
    pytest.importorskip("numpy")
    try:
        import cupy  # noqa: F401

        pytest.skip("a GPU stack is installed here")
    except ImportError:
        pass
    with pytest.raises(boltz.DeviceError, match="CuPy"):
        _rbm(device="gpu").fit(_binary())
    assert issubclass(boltz.DeviceError, RuntimeError)
    with caplog.at_level(logging.INFO, logger="boltz"):
        _rbm(device="auto").fit(_binary())
    assert "falls back" in caplog.text or "using the CPU" in caplog.text


def test_dtypes_immutability_determinism_sparse():
    X = _binary()
    X0 = X.copy()
    a = _rbm().fit(X)
    assert a.weights_.dtype == np.float32 and a.transform(X).dtype == np.float32
    np.testing.assert_array_equal(X, X0)
    b = _rbm().fit(X)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    c = _rbm(random_state=1).fit(X)
    assert not np.array_equal(a.weights_, c.weights_)
    d = _rbm(dtype="float64").fit(X)
    assert d.weights_.dtype == np.float64 and d.transform(X).dtype == np.float64
    counts = np.random.default_rng(0).poisson(1, (100, 12)).astype(np.float32)
    dense = _rbm(visible="softmax").fit(counts)
    sparse = _rbm(visible="softmax").fit(sp.csr_matrix(counts))
    np.testing.assert_allclose(dense.weights_, sparse.weights_, atol=1e-5)


def test_gaussian_standardises_with_whole_training_set():
    X = np.random.default_rng(0).standard_normal((300, 4)) * [1, 5, 10, 0.1] + [0, 1, 2, 3]
    r = _rbm(visible="gaussian").fit(X)
    np.testing.assert_allclose(r.mean_, X.mean(0), rtol=1e-10)
    np.testing.assert_allclose(r.scale_, X.std(0), rtol=1e-8)
    assert r.reconstruct(X).mean() == pytest.approx(X.mean(), abs=1.0)


def test_schedules_decay_and_sparsity():
    from boltz.optim import SGD

    o = SGD(learning_rate=0.1, lr_decay=2.0, momentum=0.5, final_momentum=0.9, momentum_epochs=3)
    assert o.lr_at(0) == 0.1 and o.lr_at(2) == pytest.approx(0.05)
    assert o.momentum_at(2) == 0.5 and o.momentum_at(3) == 0.9
    X = _binary(400)
    base = _rbm(epochs=5, learning_rate=0.05).fit(X)
    sparse = _rbm(epochs=5, learning_rate=0.05, sparsity_target=0.05, sparsity_cost=1.0).fit(X)
    assert sparse.transform(X).mean() < base.transform(X).mean()
    decayed = _rbm(epochs=5, learning_rate=0.05, weight_decay=0.5).fit(X)
    assert np.abs(decayed.weights_).sum() < np.abs(base.weights_).sum()
    # decay acts on weights only: with a zero learning signal only the weights move
    r = _rbm(epochs=1, weight_decay=0.5, learning_rate=0.1).fit(X)
    before = {k: v.copy() for k, v in r.model_.params.items()}
    from boltz.gradients import Phases

    ph = Phases(
        X[:1], np.zeros((1, 5), np.float32), None, X[:1], np.zeros((1, 5), np.float32), None
    )
    r.optimizer_.velocity = {}
    r.optimizer_.step(r.model_, ph, epoch=10)
    assert not np.array_equal(r.model_.params["weights"], before["weights"])
    np.testing.assert_array_equal(r.model_.params["visible_bias"], before["visible_bias"])
    np.testing.assert_array_equal(r.model_.params["hidden_bias"], before["hidden_bias"])


def test_history_and_partial_fit():
    X = _binary()
    r = _rbm(epochs=3).fit(X, X_val=_binary(seed=1))
    rec = r.history_[-1]
    for k in (
        "recon_error",
        "free_energy",
        "free_energy_val",
        "free_energy_gap",
        "pseudo_likelihood_sampled",
        "seconds",
    ):
        assert k in rec
    assert "pseudo_likelihood" not in rec  # the exact one only with monitor="full"
    full = _rbm(epochs=1, monitor="full").fit(X).history_[-1]
    assert "pseudo_likelihood" in full and "pseudo_likelihood_sampled" not in full
    p = _rbm()
    p.partial_fit(X)
    p.partial_fit(X)
    assert p.epoch_ == 2 and len(p.history_) == 2


def test_gaussian_standardisation_on_device_follows_refits_and_keeps_inputs():
    """The device copies of mean_/scale_ are cached: a refit on other data must not reuse
    them, and standardising a float32 batch must not write into the caller's array."""
    rng = np.random.default_rng(0)
    A = (rng.standard_normal((64, 5)) * 3 + 10).astype(np.float32)
    B = (rng.standard_normal((64, 5)) * 0.5 - 4).astype(np.float32)
    rbm = boltz.RBM(n_hidden=3, visible="gaussian", epochs=1, progress=False, random_state=0)
    for X in (A, B, A):
        keep = X.copy()
        rbm.fit(X)
        z = np.asarray(rbm.layer_.standardize(X))
        np.testing.assert_array_equal(X, keep)
        np.testing.assert_allclose(z, (X - rbm.mean_) / rbm.scale_, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-4)


# --------------------------------------------------------------------------- issue 16
@pytest.mark.parametrize("offset", [1e4, 1e7, 1e8, 1e9])
def test_gaussian_scale_has_no_cancellation_at_large_offsets(offset):
    """d03: var = E[x^2] - mean^2 lost every digit at offset 1e8-1e9 (scale 20-46x off)."""
    X = offset + np.random.default_rng(0).normal(size=(1000, 3))
    r = _rbm(visible="gaussian", epochs=1).fit(X)
    np.testing.assert_allclose(r.scale_, X.std(0), rtol=1e-6)
    np.testing.assert_allclose(r.mean_, X.mean(0), rtol=1e-12)


@pytest.mark.parametrize("size", [1e154, 1e200, 1e300])
def test_gaussian_scale_does_not_overflow_on_huge_finite_inputs(size):
    X = np.random.default_rng(0).normal(size=(40, 6)) * size
    r = _rbm(visible="gaussian", epochs=1, batch_size=8).fit(X)
    ref = (X / size).std(0) * size  # np.std itself overflows here
    np.testing.assert_allclose(r.scale_, ref, rtol=1e-10)
    small = _rbm(visible="gaussian", epochs=1, batch_size=8).fit(X / size)  # scale-free
    np.testing.assert_allclose(r.transform(X), small.transform(X / size), atol=1e-5)


def test_gaussian_statistics_are_the_same_chunked_out_of_core(tmp_path):
    """Blocks merged one by one (a memmap read in ~8 MB chunks) give np.mean / np.std."""
    rng = np.random.default_rng(1)
    X = np.lib.format.open_memmap(tmp_path / "X.npy", "w+", np.float64, (70_000, 16))
    X[:] = 1e6 + rng.normal(size=X.shape) * np.linspace(0.1, 10, 16)
    r = _rbm(visible="gaussian", epochs=1, monitor_size=0)
    r._data_stats(X, r._unit())
    Xa = np.asarray(X)
    np.testing.assert_allclose(r.mean_, Xa.mean(0), rtol=1e-13)
    np.testing.assert_allclose(r.scale_, Xa.std(0), rtol=1e-9)


def test_constant_columns_keep_scale_one():
    X = np.random.default_rng(0).normal(size=(50, 3))
    X[:, 1] = 7.0
    X[:, 2] = 1e9  # its float64 rounding noise is no spread
    r = _rbm(visible="gaussian", epochs=1).fit(X)
    assert r.scale_[1] == 1.0 and r.scale_[2] == 1.0


@pytest.mark.parametrize("change", [{"visible": "gaussian"}, {"n_hidden": 99}, {"k": 3}])
def test_set_params_after_fit_then_save_loads_the_same_model(tmp_path, change):
    """d21: the checkpoint holds the fitted structure and the current hyperparameters."""
    X = _binary(40)
    r = _rbm(n_hidden=4).fit(X)
    r.set_params(**change)
    back = boltz.load(r.save(tmp_path / "r.npz"))
    np.testing.assert_array_equal(back.transform(X), r.transform(X))
    assert back.get_params()[next(iter(change))] == next(iter(change.values()))
    assert back.model_.n_hidden == 4 and back.unit_.name == "bernoulli"


@pytest.mark.filterwarnings("error::boltz.DataRangeWarning")
def test_transform_clips_out_of_range_bernoulli_input_with_a_warning():
    """d22: a test fold scaled beyond [0, 1] is clipped by transform (with a warning),
    as a Pipeline(MinMaxScaler, RBM, ...) in cross-validation needs; fit refuses it."""
    X = _binary(60)
    r = _rbm().fit(X)
    Y = X.copy()
    Y[0, 0], Y[1, 1] = 2.5, -0.5
    with pytest.warns(boltz.DataRangeWarning, match=r"\[-0.5, 2.5\]"):
        H = r.transform(Y)
    assert Y[0, 0] == 2.5  # the caller's array is untouched
    np.testing.assert_array_equal(H, r.transform(np.clip(Y, 0, 1)))
    with pytest.raises(boltz.DataError, match=r"\[0, 1\]"):
        r.score(Y)
    with pytest.raises(boltz.DataError, match=r"\[0, 1\]"):
        _rbm().fit(Y)
    d = boltz.DBN([_rbm(n_hidden=3)]).fit(X)
    with pytest.warns(boltz.DataRangeWarning):
        d.transform(Y)


def test_pipeline_with_minmax_scaler_cross_validates():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.preprocessing import MinMaxScaler

    X, y = load_digits(return_X_y=True)
    pipe = Pipeline(
        [("s", MinMaxScaler()), ("rbm", _rbm(n_hidden=16)), ("lr", LogisticRegression())]
    )
    with pytest.warns(boltz.DataRangeWarning):
        scores = cross_val_score(pipe, X[:300], y[:300], cv=3, error_score="raise")
    assert np.isfinite(scores).all()


@pytest.mark.parametrize("visible", ["bernoulli", "softmax"])
def test_positive_only_tag(visible):
    """d24: the unit types that refuse negative input say so in their sklearn tags."""
    from sklearn.utils.estimator_checks import check_positive_only_tag_during_fit

    for est in (_rbm(visible=visible), boltz.DBN([_rbm(visible=visible)])):
        assert est.__sklearn_tags__().input_tags.positive_only
        check_positive_only_tag_during_fit(type(est).__name__, est)
    assert not _rbm(visible="gaussian").__sklearn_tags__().input_tags.positive_only


def test_messages_name_the_right_owner_and_range():
    """d27 nits: an infinite learning rate, a DBN's feature count."""
    with pytest.raises(boltz.ConfigError, match=r"finite number in \(0, inf\); got inf"):
        _rbm(learning_rate=float("inf")).fit(_binary(20))
    X = _binary(40)
    d = boltz.DBN([_rbm(n_hidden=3)]).fit(X)
    with pytest.raises(boltz.DataError, match=f"DBN is expecting {X.shape[1]} features"):
        d.transform(X[:, :5])


# ----------------------------------------------------------------- softmax likelihood inputs
@pytest.fixture(scope="module")
def small_rsm():
    rng = np.random.default_rng(0)
    X = rng.poisson(1.0, size=(30, 6)).astype(float)
    X[:, 0] += np.arange(30) % 3  # a few distinct lengths
    return boltz.RBM(3, "softmax", epochs=2, progress=False, random_state=0).fit(X), X


@pytest.mark.parametrize("bad", [-3, 2.5, -0.5, [1, -1], np.nan, "4", True])
def test_log_partition_rejects_invalid_document_lengths(small_rsm, bad):
    rbm, _ = small_rsm
    with pytest.raises(ConfigError, match="n_words"):
        rbm.log_partition(n_words=bad)


def test_log_partition_accepts_whole_float_lengths(small_rsm):
    rbm, _ = small_rsm
    assert rbm.log_partition(n_words=4.0) == rbm.log_partition(n_words=4)


def test_perplexity_of_empty_documents_is_an_error(small_rsm):
    rbm, X = small_rsm
    with pytest.raises(DataError, match="empty"):
        rbm.perplexity(np.zeros((5, X.shape[1])))


def test_log_likelihood_checks_the_length_of_log_z(small_rsm):
    rbm, X = small_rsm
    n_len = len(np.unique(X.sum(axis=1)))
    assert n_len > 2
    for wrong in (np.zeros(2), np.zeros(n_len + 5), 0.0):
        with pytest.raises(DataError, match="log_z"):
            rbm.log_likelihood(X, log_z=wrong)
    lz = rbm.log_partition(n_words=np.unique(X.sum(axis=1)).astype(int))
    assert rbm.log_likelihood(X, log_z=lz) == pytest.approx(rbm.log_likelihood(X))


def test_softmax_sampling_of_long_documents_is_linear_in_vocabulary():
    # 1e12 words in a batch: one entry per word would need ~32 TB; O(V) per row is instant
    from boltz.backend import get_backend

    be = get_backend("cpu", "float64")
    rng = be.generator(np.random.SeedSequence(0))
    probs = np.full((3, 5), 0.2)
    out = be.multinomial(rng, np.array([1e12, 7.0, 0.0]), probs)
    np.testing.assert_array_equal(out.sum(axis=1, dtype=np.float64), [1e12, 7.0, 0.0])
    assert abs(out[0, 0] / 1e12 - 0.2) < 1e-3
    # a short batch keeps the exact inverse-CDF path: same counts per row
    small = be.multinomial(rng, np.array([3.0, 2.0, 0.0]), probs)
    np.testing.assert_array_equal(small.sum(axis=1), [3.0, 2.0, 0.0])


@pytest.mark.parametrize(
    "kw", [{}, {"persistent": True}, {"persistent": True, "n_chains": 7, "k": 2}]
)
def test_fit_changes_no_hyperparameter(kw):
    """fit keeps the effective settings (auto learning rate, PCD chains) in fitted state."""
    X = (np.random.default_rng(0).random((50, 8)) > 0.5).astype(np.float32)
    r = _rbm(epochs=2, batch_size=10, **kw)
    before = r.get_params()
    r.fit(X)
    assert r.get_params() == before
    assert r.learning_rate == "auto" and r.learning_rate_ > 0
    if kw:
        assert r.estimator_.n_chains == kw.get("n_chains")
        assert r.estimator_.chains.shape[0] == kw.get("n_chains", 10)


def test_the_constraint_table_covers_the_rbm_parameters():
    """Every hyperparameter is in RBM's constraint table or checked where it is used
    (SGD for the optimiser's numbers, make_unit for visible, random_state by NumPy)."""
    import inspect

    from boltz.optim import SGD
    from boltz.rbm_params import OPTIMIZER_PARAMS, RBM_CONSTRAINTS

    params = set(inspect.signature(boltz.RBM.__init__).parameters) - {"self"}
    delegated = {"visible", "learning_rate", *OPTIMIZER_PARAMS, "checkpoint", "random_state"}
    assert set(RBM_CONSTRAINTS) | delegated == params
    assert boltz.RBM._parameter_constraints is RBM_CONSTRAINTS
    sgd = set(inspect.signature(SGD.__init__).parameters) - {"self"}
    assert {"learning_rate", *OPTIMIZER_PARAMS} == sgd


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"persistent": "yes"}, r"persistent must be a bool"),
        ({"sample_visible": "always"}, r"sample_visible must be 'auto' or a bool"),
        ({"init_scale": 0.0}, r"init_scale must be a number > 0"),
        ({"callbacks": [1]}, r"callbacks must be None or"),
        ({"monitor": "some"}, r"monitor must be 'auto' or 'full'"),
    ],
)
def test_constraint_errors_name_the_parameter(kw, match):
    X = np.zeros((4, 3), np.float32)
    with pytest.raises(ConfigError, match=match):
        boltz.RBM(n_hidden=2, epochs=1, progress=False, **kw).fit(X)
