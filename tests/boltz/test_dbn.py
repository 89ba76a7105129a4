"""boltz.dbn.DBN: greedy fit, up/down passes, sampling, checkpoints and exact resume."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import boltz
import boltz.rbm
import boltz.trainer
from boltz.backend import Backend
from boltz.checkpoint import read_checkpoint, write_checkpoint
from boltz.dbn import DBN
from boltz.errors import CheckpointError, ConfigError, DataError, NotFittedError

from .strict_xp import StrictArray, xp


def prototypes(n: int, seed: int = 0, n_features: int = 30, k: int = 6, flip: float = 0.05):
    """Binary data: ``k`` random prototypes with a fraction ``flip`` of bits flipped."""
    protos = np.random.default_rng(123).random((k, n_features)) < 0.5
    rng = np.random.default_rng(seed)
    y = rng.integers(k, size=n)
    X = protos[y] ^ (rng.random((n, n_features)) < flip)
    return X.astype(np.float32), y


def rbm(n_hidden: int, **kw) -> boltz.RBM:
    kw.setdefault("epochs", 3)
    kw.setdefault("batch_size", 20)
    kw.setdefault("learning_rate", 0.1)
    return boltz.RBM(n_hidden, progress=False, **kw)


def stack(**kw) -> DBN:
    layers = [rbm(16), rbm(8, persistent=True, sparsity_target=0.1, sparsity_cost=0.1), rbm(4)]
    return DBN(layers, random_state=0, **kw)


def same_history(a: list[dict], b: list[dict]) -> bool:
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in h] for h in (a, b)]
    return strip[0] == strip[1]


@pytest.fixture(scope="module")
def data():
    return prototypes(200)


@pytest.fixture(scope="module")
def fitted(data):
    return stack().fit(data[0])


# --------------------------------------------------------------------------- greedy fit
def test_greedy_fit_shapes(data, fitted):
    X, _ = data
    assert [r.n_hidden for r in fitted.layers_] == [16, 8, 4]
    assert [r.n_features_in_ for r in fitted.layers_] == [30, 16, 8]
    assert all(r.epoch_ == 3 for r in fitted.layers_)
    assert fitted.n_features_in_ == 30
    assert not any(hasattr(r, "model_") for r in fitted.layers)  # params are not fitted
    assert fitted.layers_[0] is not fitted.layers[0]
    for i, h in enumerate([16, 8, 4]):
        assert fitted.transform(X, layer=i).shape == (200, h)
    assert len(fitted.history_) == 3 and len(fitted.history_[1]) == 3


def test_fit_leaves_the_layers_params_alone(tmp_path):
    """DBN.fit trains its layers through RBM.train: while a layer trains, its own
    callbacks see its own parameters, and the checkpoint records them."""
    X, _ = prototypes(60)
    path = tmp_path / "dbn.npz"
    seen = []

    def own(r, epoch, rec):
        seen.append((list(r.callbacks), r.warm_start, read_checkpoint(path)[0]))

    dbn = DBN([rbm(6, epochs=2, callbacks=[own]), rbm(3, epochs=1)], checkpoint=path).fit(X)
    assert len(seen) == 2
    for callbacks, warm_start, meta in seen:
        assert callbacks == [own] and warm_start is False
        assert meta["layers"][0]["config"]["warm_start"] is False
    assert dbn.layers_[0].callbacks == [own] and dbn.layers[0].callbacks == [own]


def test_rbm_train_takes_callbacks_and_resume():
    X, _ = prototypes(40)
    calls = []
    r = rbm(4, epochs=1, callbacks=[lambda *a: calls.append("own")])
    r.train(X, callbacks=[lambda *a: calls.append("given")])
    assert calls == ["given"] and r.epoch_ == 1
    r.set_params(epochs=2).train(X, resume=True)
    assert calls == ["given", "own"] and r.epoch_ == 2
    assert r.train(X).epoch_ == 2 and len(r.history_) == 2  # resume=False: afresh


def test_upper_layer_is_an_rbm_on_lower_probabilities(data, fitted):
    """Layer 1 equals an RBM fitted alone on layer 0's hidden probabilities."""
    X, _ = data
    H0 = fitted.layers_[0].transform(X)
    alone = clone(fitted.layers_[1]).fit(H0)
    np.testing.assert_array_equal(alone.weights_, fitted.layers_[1].weights_)


def test_layer_probabilities(data, fitted):
    X, _ = data
    h = X
    for i, r in enumerate(fitted.layers_):
        h = r.transform(h)
        got = fitted.transform(X, layer=i)
        np.testing.assert_allclose(got, h, rtol=1e-6, atol=1e-7)
        assert got.min() >= 0 and got.max() <= 1
    np.testing.assert_array_equal(fitted.transform(X), fitted.transform(X, layer=2))
    np.testing.assert_array_equal(fitted.transform(X, layer=-3), fitted.transform(X, layer=0))


def test_reconstruct_is_the_mean_field_down_pass(data, fitted):
    X, _ = data
    top = fitted.transform(X)
    v = top
    for r in reversed(fitted.layers_):
        m = r.model_
        v = m.visible(m.backend.asarray(v))
    np.testing.assert_allclose(fitted.reconstruct(X), v, rtol=1e-5, atol=1e-6)


def test_reconstruct_improves_over_epochs():
    X, _ = prototypes(300, seed=1)

    def error(epochs: int) -> float:
        layers = [rbm(24, epochs=epochs), rbm(12, epochs=epochs)]
        dbn = DBN(layers, random_state=0).fit(X)
        return float(np.mean((dbn.reconstruct(X) - X) ** 2))

    early, late = error(1), error(15)
    assert late < 0.7 * early, (early, late)


def test_gaussian_first_layer_in_data_units():
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 3.0, size=(150, 6))
    dbn = DBN([rbm(8, visible="gaussian", learning_rate=0.01), rbm(4)], random_state=0).fit(X)
    r = dbn.reconstruct(X)
    assert r.shape == X.shape
    np.testing.assert_allclose(r.mean(axis=0), X.mean(axis=0), atol=1.5)
    s = dbn.sample(50, steps=5, random_state=0)
    assert s.shape == (50, 6) and abs(s.mean() - 5.0) < 2.0


def test_softmax_first_layer_sparse_counts():
    rng = np.random.default_rng(0)
    counts = rng.poisson(1.0, size=(120, 12)).astype(np.float64)
    counts[counts.sum(1) == 0, 0] = 1
    Xs = sp.csr_matrix(counts)
    dbn = DBN([rbm(8, visible="softmax", learning_rate=0.01), rbm(4)], random_state=0).fit(Xs)
    np.testing.assert_allclose(dbn.transform(Xs), dbn.transform(counts), rtol=1e-5)
    rec = dbn.reconstruct(Xs)
    np.testing.assert_allclose(rec.sum(1), counts.sum(1), rtol=1e-4)
    probs = dbn.sample(5, steps=3, random_state=0)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(
        dbn.sample(5, steps=3, n_words=7, random_state=0), 7 * probs, rtol=1e-5
    )
    single = DBN([rbm(4, visible="softmax", learning_rate=0.01)], random_state=0).fit(counts)
    with pytest.raises(ConfigError, match="n_words"):
        single.sample(3)
    assert single.sample(3, steps=2, n_words=5).sum(1) == pytest.approx([5, 5, 5], rel=1e-5)


# --------------------------------------------------------------------------- sampling
def test_sample_shapes_and_streams(fitted):
    s = fitted.sample(7, steps=5, random_state=0)
    assert s.shape == (7, 30) and s.min() >= 0 and s.max() <= 1
    np.testing.assert_array_equal(s, fitted.sample(7, steps=5, random_state=0))
    np.testing.assert_array_equal(s, fitted.generate(7, steps=5, random_state=0))
    assert not np.array_equal(s, fitted.sample(7, steps=5, random_state=1))
    state = fitted.layers_[-1].rng_sample_.bit_generator.state
    fitted.sample(3, steps=2)
    assert fitted.layers_[-1].rng_sample_.bit_generator.state == state  # training streams untouched
    with pytest.raises(ConfigError):
        fitted.sample(0)
    with pytest.raises(ConfigError):
        fitted.sample(2, steps=0)


def test_samples_come_from_the_learned_modes():
    X, _ = prototypes(300, seed=2, k=3, flip=0.02)
    # lr 0.05 x 50 epochs: every seed tried (0-2) puts the chains on a prototype; the
    # earlier lr 0.1 x 20 epochs left some machines' BLAS rounding on a spurious mode.
    layers = [
        rbm(20, epochs=50, learning_rate=0.05),
        rbm(10, epochs=50, learning_rate=0.05, persistent=True),
    ]
    dbn = DBN(layers, random_state=0).fit(X)
    protos = np.random.default_rng(123).random((3, 30)) < 0.5
    s = dbn.sample(60, steps=200, random_state=0) > 0.5
    dist = np.min([(s != p).sum(1) for p in protos], axis=0)
    rnd = np.min(
        [((np.random.default_rng(9).random((60, 30)) < 0.5) != p).sum(1) for p in protos], 0
    )
    assert np.median(dist) < np.median(rnd) / 2


# --------------------------------------------------------------------------- checkpoints
def test_save_load_round_trip(tmp_path, data, fitted):
    X, _ = data
    path = fitted.save(tmp_path / "dbn")
    assert path.suffix == ".npz"
    meta, arrays = read_checkpoint(path)
    assert meta["class"] == "DBN"
    assert {"layers.0.params.weights", "layers.2.params.hidden_bias"} <= set(arrays)
    assert "layers.1.pcd.chains" in arrays
    loaded = boltz.load(path)
    assert isinstance(loaded, DBN)
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(loaded.reconstruct(X), fitted.reconstruct(X))
    assert [r.get_params()["n_hidden"] for r in loaded.layers] == [16, 8, 4]
    assert loaded.random_state == 0
    for a, b in zip(loaded.layers_, fitted.layers_):
        assert same_history(a.history_, b.history_)


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("stop_epoch", [0, 1])
def test_interrupted_fit_resumes_at_the_unfinished_layer(tmp_path, data, stop_epoch):
    """Stop in layer 2 (index 1), reload the checkpoint, resume: bitwise the same fit."""
    X, _ = data
    X_val = X[:40]
    reference = stack().fit(X, X_val=X_val)

    def stop(dbn, layer, epoch, record):
        if layer == 1 and epoch == stop_epoch:
            raise Interrupt

    path = tmp_path / "run.npz"
    with pytest.raises(Interrupt):
        stack(checkpoint=path, callbacks=[stop]).fit(X, X_val=X_val)
    partial = boltz.load(path)
    assert len(partial.layers_) == 2 and partial.layers_[1].epoch_ == stop_epoch + 1
    assert partial.layers_[1].warm_start is False
    with pytest.raises(NotFittedError, match="unfinished"):
        partial.transform(X)

    calls = []
    partial.set_params(warm_start=True, callbacks=[lambda d, i, e, r: calls.append((i, e))])
    partial.fit(X, X_val=X_val)
    assert calls[0] == (1, stop_epoch + 1) and calls[-1] == (2, 2)  # layer 0 is not retrained
    for a, b in zip(partial.layers_, reference.layers_):
        np.testing.assert_array_equal(a.weights_, b.weights_)
        np.testing.assert_array_equal(a.visible_bias_, b.visible_bias_)
        np.testing.assert_array_equal(a.hidden_bias_, b.hidden_bias_)
        assert same_history(a.history_, b.history_)
    final = boltz.load(path)  # the checkpoint now holds the finished stack
    np.testing.assert_array_equal(final.transform(X), reference.transform(X))


def test_resume_in_memory_after_a_callback_exception(data):
    X, _ = data
    reference = stack().fit(X)

    def stop(dbn, layer, epoch, record):
        if layer == 2:
            raise Interrupt

    dbn = stack(callbacks=[stop])
    with pytest.raises(Interrupt):
        dbn.fit(X)
    assert len(dbn.layers_) == 3 and dbn.layers_[2].epoch_ == 1
    dbn.set_params(warm_start=True, callbacks=None).fit(X)
    np.testing.assert_array_equal(dbn.transform(X), reference.transform(X))


def test_a_layer_interrupted_in_its_first_epoch_restarts(monkeypatch, data):
    """A layer without a finished epoch is dropped; warm_start then starts it afresh."""
    X, _ = data
    reference = stack().fit(X)
    run_epoch = boltz.trainer.Trainer.run_epoch

    def interrupted(self, X, epoch, bar=None):
        if self.model.n_hidden == 4:
            raise KeyboardInterrupt
        return run_epoch(self, X, epoch, bar)

    dbn = stack()
    monkeypatch.setattr(boltz.trainer.Trainer, "run_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        dbn.fit(X)
    assert len(dbn.layers_) == 2
    monkeypatch.setattr(boltz.trainer.Trainer, "run_epoch", run_epoch)
    dbn.set_params(warm_start=True).fit(X)
    np.testing.assert_array_equal(dbn.transform(X), reference.transform(X))


def _tamper(src, dst, meta_fn=None, arrays_fn=None):
    meta, arrays = read_checkpoint(src)
    if meta_fn:
        meta_fn(meta)
    if arrays_fn:
        arrays_fn(arrays)
    return write_checkpoint(dst, meta, arrays, check_finite=False)


def test_checkpoint_validation(tmp_path, fitted):
    src = fitted.save(tmp_path / "ok.npz")
    cases = {
        "missing": (None, lambda a: a.pop("layers.1.params.weights")),
        "shape": (None, lambda a: a.__setitem__("layers.2.params.weights", np.zeros((3, 4)))),
        "extra": (None, lambda a: a.__setitem__("layers.9.params.weights", np.zeros(2))),
        "nan": (None, lambda a: a["layers.0.params.hidden_bias"].__setitem__(0, np.nan)),
        "too_many": (lambda m: m["layer_configs"].pop(), None),
        "bad_config": (lambda m: m["layer_configs"][0].__setitem__("bogus", 1), None),
        "not_rbm": (lambda m: m["layers"][0].__setitem__("class", "DBN"), None),
        "unfinished_below": (lambda m: m["layers"][0].__setitem__("epoch", 1), None),
    }
    for name, (mfn, afn) in cases.items():
        bad = _tamper(src, tmp_path / f"{name}.npz", mfn, afn)
        with pytest.raises(CheckpointError):
            boltz.load(bad)


# --------------------------------------------------------------------------- conventions
def test_validation_errors(data):
    X, _ = data
    with pytest.raises(ConfigError, match="non-empty list"):
        DBN([]).fit(X)
    with pytest.raises(ConfigError, match=r"boltz\.RBM"):
        DBN([rbm(4), "rbm"]).fit(X)
    with pytest.raises(ConfigError, match="visible='bernoulli'"):
        DBN([rbm(4), rbm(2, visible="gaussian")]).fit(X)
    with pytest.raises(ConfigError):
        DBN([rbm(4)], checkpoint_every=0).fit(X)
    with pytest.raises(ConfigError):
        DBN([rbm(4)], random_state=-1).fit(X)
    with pytest.raises(ConfigError):
        DBN([rbm(4)], callbacks=print).fit(X)
    trained = []
    with pytest.raises(ConfigError, match="k must be"):  # before layer 0 trains
        DBN([rbm(4, callbacks=[lambda *a: trained.append(1)]), rbm(2, k=0)]).fit(X)
    assert not trained
    with pytest.raises(NotFittedError):
        DBN([rbm(4)]).transform(X)
    with pytest.raises(NotFittedError):
        DBN([rbm(4)]).save("unused.npz")
    dbn = DBN([rbm(4, epochs=1)]).fit(X)
    with pytest.raises(ConfigError, match="layer"):
        dbn.transform(X, layer=1)
    with pytest.raises(DataError, match="features"):
        dbn.transform(X[:, :5])
    with pytest.raises(FileNotFoundError):
        DBN([rbm(4)], checkpoint="/nonexistent/dir/x.npz").fit(X)


def test_sklearn_conventions(data):
    X, y = data
    dbn = DBN([rbm(8), rbm(4)], random_state=0)
    params = dbn.get_params()
    assert set(params) >= {"layers", "checkpoint", "warm_start", "random_state"}
    twin = clone(dbn)
    assert twin.layers[0] is not dbn.layers[0] and twin.layers[0].n_hidden == 8
    assert dbn.fit(X) is dbn
    assert not hasattr(clone(dbn), "layers_")
    layers = [rbm(16, epochs=20), rbm(8, epochs=20)]
    pipe = Pipeline([("dbn", DBN(layers, random_state=0)), ("clf", LogisticRegression())])
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.9


def test_runs_on_a_strict_device_namespace(monkeypatch, data):
    X, _ = data
    be = Backend("strict", xp, np.dtype("float32"))
    monkeypatch.setattr(boltz.rbm, "get_backend", lambda device, dtype: be)
    dbn = DBN([rbm(8, epochs=1), rbm(4, epochs=1)], random_state=0).fit(X)
    assert isinstance(dbn.layers_[1].model_.params["weights"], StrictArray)
    assert dbn.transform(X).shape == (200, 4)
    assert dbn.reconstruct(X).shape == X.shape
    assert dbn.sample(3, steps=2, random_state=0).shape == (3, 30)
