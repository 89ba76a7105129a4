"""boltz.multimodal.MultimodalDBN: missing-modality inference, generation, checkpoints."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.base import clone

import boltz
import boltz.rbm
from boltz.backend import Backend
from boltz.checkpoint import read_checkpoint, write_checkpoint
from boltz.dbn import DBN
from boltz.errors import CheckpointError, ConfigError, DataError, DataTypeError, NotFittedError
from boltz.multimodal import MultimodalDBN, top_words

from .strict_xp import xp

K = 6  # latent classes shared by both views


def rbm(n_hidden: int, **kw) -> boltz.RBM:
    kw.setdefault("epochs", 20)
    kw.setdefault("batch_size", 20)
    return boltz.RBM(n_hidden, progress=False, **kw)


def two_views(n: int, seed: int, text: str = "bernoulli"):
    """A latent class ``y`` generates a Gaussian image and a text view.

    Image: one of ``K`` fixed prototypes (16-d) plus noise. Text: 24 words, 4 per
    class; Bernoulli (word present, 0.9 for the class's words, 0.1 otherwise) or
    counts of an 8-word document drawing 85% of its words from the class's 4 words.
    """
    protos = np.random.default_rng(123).normal(size=(K, 16)) * 1.5
    rng = np.random.default_rng(seed)
    y = rng.integers(K, size=n)
    image = protos[y] + rng.normal(size=(n, 16)) * 0.7
    if text == "bernoulli":
        p = np.full((K, 24), 0.1)
        for k in range(K):
            p[k, 4 * k : 4 * k + 4] = 0.9
        words = (rng.random((n, 24)) < p[y]).astype(np.float64)
    else:
        p = np.full((K, 24), 0.15 / 20)
        for k in range(K):
            p[k, 4 * k : 4 * k + 4] += 0.85 / 4
        p /= p.sum(1, keepdims=True)
        words = np.stack([rng.multinomial(8, p[c]) for c in y]).astype(np.float64)
    return {"image": image, "text": words}, y, protos


def precision_at_1(queries: np.ndarray, database: np.ndarray, yq, yd) -> float:
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    d = database / np.linalg.norm(database, axis=1, keepdims=True)
    return float(np.mean(yd[np.argmax(q @ d.T, axis=1)] == yq))


@pytest.fixture(scope="module")
def model():
    """Gaussian image pathway (1 layer), Bernoulli text pathway (2 layers), joint RBM."""
    views, _, _ = two_views(600, seed=0)
    mdbn = MultimodalDBN(
        pathways={
            "image": DBN([rbm(16, visible="gaussian", learning_rate=0.01)], random_state=0),
            "text": DBN([rbm(32, learning_rate=0.05), rbm(16, learning_rate=0.1)], random_state=10),
        },
        joint=rbm(16, learning_rate=0.05, random_state=20),
    )
    return mdbn.fit(views)


@pytest.fixture(scope="module")
def test_views():
    views, y, protos = two_views(200, seed=1)
    return views, y, protos


# --------------------------------------------------------------------------- structure
def test_fit_builds_pathways_and_joint(model):
    assert model.views_ == ["image", "text"]
    assert [len(model.pathways_[n].layers_) for n in model.views_] == [1, 2]
    assert model.joint_.n_features_in_ == 32 and model.n_hidden_ == 16
    assert not hasattr(model.pathways["image"], "layers_")  # params untouched
    jm = model._joint_model()
    assert [(g.name, g.size) for g in jm.groups] == [("image", 16), ("text", 16)]
    assert jm.params is model.joint_.model_.params  # shared arrays, not a copy
    assert all(g.unit is model.joint_.unit_ for g in jm.groups)


def test_joint_with_every_view_is_the_joint_rbm_transform(model, test_views):
    views, _, _ = test_views
    tops = np.concatenate([model.pathway_transform(n, views[n]) for n in model.views_], axis=1)
    expected = model.joint_.transform(tops)
    for method in ("meanfield", "gibbs"):
        got = model.transform(views, missing=method, steps=3, random_state=0)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- retrieval
@pytest.mark.parametrize("method", ["meanfield", "gibbs"])
def test_missing_text_is_inferred_well_enough_to_retrieve_the_partner(model, test_views, method):
    views, y, _ = test_views
    kw = dict(missing=method, steps=10, n_samples=10, random_state=0)
    image_only = model.transform({"image": views["image"]}, **kw)
    text_only = model.transform({"text": views["text"]}, **kw)
    both = model.transform(views)
    chance = 1 / K
    assert precision_at_1(image_only, text_only, y, y) > 0.8 > 4 * chance
    assert precision_at_1(image_only, both, y, y) > 0.8
    assert precision_at_1(text_only, image_only, y, y) > 0.8


def test_return_pathways(model, test_views):
    views, y, _ = test_views
    joint, tops = model.transform({"image": views["image"]}, return_pathways=True)
    np.testing.assert_array_equal(joint, model.transform({"image": views["image"]}))
    np.testing.assert_allclose(
        tops["image"], model.pathway_transform("image", views["image"]), rtol=1e-6
    )
    true_text = model.pathway_transform("text", views["text"])
    assert tops["text"].shape == true_text.shape
    # the inferred text top is closer to the real one of the same item than to others'
    assert precision_at_1(tops["text"], true_text, y, y) > 0.8


def test_generate_gaussian_target_in_data_units(model, test_views):
    views, y, protos = test_views
    images = model.generate("image", given={"text": views["text"]}, method="meanfield")
    assert images.shape == (200, 16)
    nearest = np.argmin(((images[:, None, :] - protos[None]) ** 2).sum(-1), axis=1)
    assert np.mean(nearest == y) > 0.8


def test_generate_softmax_words_and_top_words():
    views, _, _ = two_views(600, seed=0, text="counts")
    test, y, _ = two_views(100, seed=1, text="counts")
    mdbn = MultimodalDBN(
        {
            "image": DBN([rbm(16, visible="gaussian", learning_rate=0.01)], random_state=0),
            "text": DBN([rbm(16, visible="softmax", learning_rate=0.02)], random_state=10),
        },
        joint=rbm(16, learning_rate=0.05, random_state=20),
    ).fit(views)
    vocab = [f"w{j}" for j in range(24)]
    for method in ("meanfield", "gibbs"):
        probs = mdbn.generate("text", {"image": test["image"]}, method=method, n_samples=20)
        assert probs.shape == (100, 24)
        np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
        words = top_words(probs, vocab, k=4)
        hits = [int(w[1:]) // 4 == c for row, c in zip(words, y) for w, _ in row]
        assert np.mean(hits) > 0.8  # chance: 4 of 24 words belong to the class


# --------------------------------------------------------------------------- exact oracle
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def make_tiny(scale: float = 2.5, seed: int = 3):
    """Bernoulli 4 -> 3 pathways, joint 6 -> 4, float64, with strong random parameters."""
    rng = np.random.default_rng(0)
    data = {"image": (rng.random((20, 4)) < 0.5) * 1.0, "text": (rng.random((20, 4)) < 0.5) * 1.0}
    kw = dict(epochs=1, dtype="float64", device="cpu")
    mdbn = MultimodalDBN(
        {"image": DBN([rbm(3, **kw)], random_state=0), "text": DBN([rbm(3, **kw)], random_state=1)},
        joint=rbm(4, random_state=2, **kw),
    ).fit(data)
    p = np.random.default_rng(seed)
    for r in (mdbn.pathways_["image"].layers_[0], mdbn.pathways_["text"].layers_[0], mdbn.joint_):
        V, H = r.n_features_in_, r.n_hidden
        r.model_.set_params(
            {
                "weights": p.normal(0, scale, (V, H)),
                "visible_bias": p.normal(0, 1.0, V),
                "hidden_bias": p.normal(0, 1.0, H),
            }
        )
    given = np.array([[0, 0, 0, 1], [0, 1, 1, 0], [1, 1, 0, 0]], dtype=np.float64)
    return mdbn, given


@pytest.fixture(scope="module")
def tiny():
    return make_tiny()


def exact_conditionals(mdbn, given):
    """E[v_text | v_image] and E[h_joint | v_image] by enumerating the text top."""
    img, txt, J = mdbn.pathways_["image"].layers_[0], mdbn.pathways_["text"].layers_[0], mdbn.joint_
    g = sigmoid(img.hidden_bias_ + given @ img.weights_)  # clamped image top (probabilities)
    W, b, c = J.weights_, J.visible_bias_, J.hidden_bias_
    states = np.array(list(itertools.product([0, 1], repeat=3)), dtype=np.float64)
    v_text, h_joint = [], []
    for gi in g:
        act = c + gi @ W[:3] + states @ W[3:]  # (8, 4)
        logp = states @ b[3:] + np.logaddexp(0, act).sum(1)
        p = np.exp(logp - logp.max())
        p /= p.sum()
        v_text.append(p @ sigmoid(txt.visible_bias_ + states @ txt.weights_.T))
        h_joint.append(p @ sigmoid(act))
    return np.array(v_text), np.array(h_joint), g


@pytest.mark.parametrize("init", ["zeros", "bias"])
def test_gibbs_matches_exact_conditionals(tiny, init):
    mdbn, given = tiny
    v_exact, h_exact, _ = exact_conditionals(mdbn, given)
    assert np.abs(v_exact[0] - v_exact[1]).max() > 0.15  # conditioning matters here
    n = 20000  # MC standard error <= 0.5 / sqrt(n) = 0.0035
    kw = dict(steps=30, n_samples=n, init=init, random_state=0)
    v = mdbn.generate("text", {"image": given}, method="gibbs", **kw)
    h = mdbn.transform({"image": given}, missing="gibbs", **kw)
    np.testing.assert_allclose(v, v_exact, atol=0.015)
    np.testing.assert_allclose(h, h_exact, atol=0.015)
    # mean-field is only an approximation here: the comparison can tell them apart
    mf = mdbn.generate("text", {"image": given}, steps=30, method="meanfield")
    assert np.abs(mf - v_exact).max() > 0.1


def test_meanfield_is_the_fixed_point_iteration(tiny):
    mdbn, given = tiny
    _, _, g = exact_conditionals(mdbn, given)
    txt, J = mdbn.pathways_["text"].layers_[0], mdbn.joint_
    W, b, c = J.weights_, J.visible_bias_, J.hidden_bias_
    for init, m0 in (("zeros", np.zeros(3)), ("bias", sigmoid(b[3:]))):
        m = np.tile(m0, (3, 1))
        for _ in range(7):
            h = sigmoid(c + g @ W[:3] + m @ W[3:])
            m = sigmoid(b[3:] + h @ W[3:].T)
        joint = sigmoid(c + g @ W[:3] + m @ W[3:])
        words = sigmoid(txt.visible_bias_ + m @ txt.weights_.T)
        got_joint, tops = mdbn.transform(
            {"image": given}, missing="meanfield", steps=7, init=init, return_pathways=True
        )
        np.testing.assert_allclose(got_joint, joint, rtol=1e-12)
        np.testing.assert_allclose(tops["text"], m, rtol=1e-12)
        got = mdbn.generate("text", {"image": given}, steps=7, method="meanfield", init=init)
        np.testing.assert_allclose(got, words, rtol=1e-12)


# --------------------------------------------------------------------------- checkpoints
def test_save_load_round_trip(tmp_path, model, test_views):
    views, _, _ = test_views
    path = model.save(tmp_path / "mdbn")
    meta, arrays = read_checkpoint(path)
    assert meta["class"] == "MultimodalDBN" and meta["views"] == ["image", "text"]
    assert {"pathways.text.layers.1.params.weights", "joint.params.weights"} <= set(arrays)
    loaded = boltz.load(path)
    assert isinstance(loaded, MultimodalDBN) and loaded.views_ == model.views_
    assert isinstance(loaded.pathways["text"], DBN) and len(loaded.pathways["text"].layers) == 2
    np.testing.assert_array_equal(loaded.transform(views), model.transform(views))
    given = {"image": views["image"]}
    np.testing.assert_array_equal(
        loaded.generate("text", given, method="meanfield"),
        model.generate("text", given, method="meanfield"),
    )
    np.testing.assert_array_equal(
        loaded.transform(given, missing="gibbs", random_state=3),
        model.transform(given, missing="gibbs", random_state=3),
    )


def test_checkpoint_validation(tmp_path, model):
    src = model.save(tmp_path / "ok.npz")
    cases = {
        "missing_joint": (None, lambda a: a.pop("joint.params.weights")),
        "extra": (None, lambda a: a.__setitem__("other.x", np.zeros(2))),
        "shape": (
            None,
            lambda a: a.__setitem__("pathways.image.layers.0.params.weights", np.zeros((16, 3))),
        ),
        "views": (lambda m: m.__setitem__("views", ["image"]), None),
        "views_mismatch": (lambda m: m.__setitem__("views", ["image", "audio"]), None),
        "pathway_class": (lambda m: m["pathways"]["text"].__setitem__("class", "RBM"), None),
        "joint_size": (lambda m: m["pathways"]["text"]["layers"].pop(), None),
    }
    for name, (mfn, afn) in cases.items():
        meta, arrays = read_checkpoint(src)
        if mfn:
            mfn(meta)
        if afn:
            afn(arrays)
        bad = write_checkpoint(tmp_path / f"{name}.npz", meta, arrays)
        with pytest.raises(CheckpointError):
            boltz.load(bad)


# --------------------------------------------------------------------------- parallel fit
def test_parallel_fit_matches_sequential():
    views, _, _ = two_views(60, seed=3)

    def make(n_jobs):
        return MultimodalDBN(
            {
                "image": DBN([rbm(6, visible="gaussian", epochs=2)], random_state=0),
                "text": DBN([rbm(6, epochs=2), rbm(4, epochs=2)], random_state=1),
            },
            joint=rbm(5, epochs=2, random_state=2),
            n_jobs=n_jobs,
            random_state=0,
        ).fit(views)

    seq, par = make(None), make(2)
    for n in ("image", "text"):
        for a, b in zip(seq.pathways_[n].layers_, par.pathways_[n].layers_):
            np.testing.assert_allclose(a.weights_, b.weights_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(seq.transform(views), par.transform(views), rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- errors
def test_validation_errors(model, test_views):
    views, _, _ = test_views
    one = {"image": DBN([rbm(4)])}
    with pytest.raises(ConfigError, match="at least two"):
        MultimodalDBN(one, joint=rbm(4)).fit(views)
    with pytest.raises(ConfigError, match="DBN"):
        MultimodalDBN({"image": rbm(4), "text": DBN([rbm(4)])}, joint=rbm(4)).fit(views)
    with pytest.raises(ConfigError, match=r"'\.'"):
        MultimodalDBN({"a.b": DBN([rbm(4)]), "text": DBN([rbm(4)])}, joint=rbm(4)).fit(views)
    pw = {"image": DBN([rbm(4, visible="gaussian")]), "text": DBN([rbm(4)])}
    with pytest.raises(ConfigError, match="bernoulli"):
        MultimodalDBN(pw, joint=rbm(4, visible="gaussian")).fit(views)
    with pytest.raises(ConfigError, match="RBM"):
        MultimodalDBN(pw, joint=DBN([rbm(4)])).fit(views)
    with pytest.raises(ConfigError, match="n_hidden"):  # checked before the pathways train
        MultimodalDBN(pw, joint=rbm(0)).fit(views)
    with pytest.raises(ConfigError, match="n_jobs"):
        MultimodalDBN(pw, joint=rbm(4), n_jobs=0).fit(views)
    with pytest.raises(DataError, match=r"'image': 200, 'text': 199"):
        MultimodalDBN(pw, joint=rbm(4)).fit({"image": views["image"], "text": views["text"][1:]})
    with pytest.raises(DataError, match="unknown view"):
        MultimodalDBN(pw, joint=rbm(4)).fit({**views, "audio": views["image"]})
    with pytest.raises(DataError, match="lacks"):
        MultimodalDBN(pw, joint=rbm(4)).fit({"image": views["image"]})
    with pytest.raises(DataTypeError, match="dict"):
        MultimodalDBN(pw, joint=rbm(4)).fit(views["image"])
    with pytest.raises(NotFittedError):
        MultimodalDBN(pw, joint=rbm(4)).transform(views)

    with pytest.raises(DataError, match="unknown view"):
        model.transform({"audio": views["image"]})
    with pytest.raises(DataError, match="at least one"):
        model.transform({})
    with pytest.raises(DataError, match="rows"):
        model.transform({"image": views["image"], "text": views["text"][:5]})
    with pytest.raises(DataError, match="features"):
        model.transform({"image": views["image"][:, :3]})
    with pytest.raises(ConfigError, match="missing"):
        model.transform({"image": views["image"]}, missing="exact")
    with pytest.raises(ConfigError, match="init"):
        model.transform({"image": views["image"]}, init="random")
    with pytest.raises(ConfigError, match="steps"):
        model.transform({"image": views["image"]}, steps=-1)
    with pytest.raises(ConfigError, match="unknown target"):
        model.generate("audio", {"image": views["image"]})
    with pytest.raises(ConfigError, match="also in given"):
        model.generate("text", views)
    with pytest.raises(ConfigError, match="steps"):
        model.generate("text", {"image": views["image"]}, steps=0)
    with pytest.raises(ConfigError, match="unknown pathway"):
        model.pathway_transform("audio", views["image"])


def test_sklearn_conventions(model):
    params = model.get_params()
    assert set(params) >= {"pathways", "joint", "n_jobs"}
    twin = clone(model)
    assert not hasattr(twin, "joint_")
    assert twin.pathways["text"] is not model.pathways["text"]
    assert len(twin.pathways["text"].layers) == 2


def test_top_words():
    probs = np.array([[0.1, 0.5, 0.2, 0.2], [0.4, 0.1, 0.4, 0.1]])
    out = top_words(probs, ["a", "b", "c", "d"], k=2)
    assert out == [[("b", 0.5), ("c", 0.2)], [("a", 0.4), ("c", 0.4)]]
    assert top_words(probs[0], "abcd", k=10)[0][0] == ("b", 0.5)  # 1-D input, k capped at V
    with pytest.raises(DataError, match="vocabulary"):
        top_words(probs, ["a", "b"])
    with pytest.raises(ConfigError):
        top_words(probs, "abcd", k=0)


def test_inference_runs_on_a_strict_device_namespace(monkeypatch):
    be = Backend("strict", xp, np.dtype("float32"))
    monkeypatch.setattr(boltz.rbm, "get_backend", lambda device, dtype: be)
    views, _, _ = two_views(40, seed=4, text="counts")
    mdbn = MultimodalDBN(
        {
            "image": DBN([rbm(6, visible="gaussian", epochs=1), rbm(4, epochs=1)]),
            "text": DBN([rbm(6, visible="softmax", epochs=1)]),
        },
        joint=rbm(5, epochs=1),
    ).fit(views)
    image = {"image": views["image"]}
    for method in ("meanfield", "gibbs"):
        joint, tops = mdbn.transform(
            image, missing=method, n_samples=3, init="bias", return_pathways=True
        )
        assert joint.shape == (40, 5) and tops["text"].shape == (40, 6)
        assert mdbn.generate("text", image, method=method, n_samples=3).shape == (40, 24)
        assert mdbn.generate("image", {"text": views["text"]}, method=method).shape == (40, 16)


def test_bad_data_errors_name_the_view():
    """d27: a NaN in one view's training data is reported with the view's name."""
    kw = dict(epochs=1, progress=False)
    m = boltz.MultimodalDBN(
        {"a": boltz.DBN([boltz.RBM(3, "gaussian", **kw)]), "b": boltz.DBN([boltz.RBM(3, **kw)])},
        joint=boltz.RBM(2, **kw),
    )
    Xa = np.random.default_rng(0).normal(size=(20, 4))
    Xa[0, 0] = np.nan
    Xb = (np.random.default_rng(1).random((20, 6)) > 0.5).astype(float)
    with pytest.raises(DataError, match=r"view 'a': .*NaN"):
        m.fit({"a": Xa, "b": Xb})
