"""DM2C: mixed-set layout, the WGAN-GP penalty, clustering of unpaired mixed views
far above chance, prediction / embedding, determinism, checkpoints and validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boltz.errors import ConfigError, DataError, NotFittedError
from bridge.metrics import clustering_report
from bridge.models.dm2c import DM2C, gradient_penalty, mix_views

FAST = dict(
    n_clusters=3,
    latent=2,
    hidden=(32,),
    generator_hidden=(32,),
    critic_hidden=(16,),
    pretrain_epochs=20,
    epochs=100,
    batch_size=32,
    n_critic=3,
    learning_rate=1e-3,
    critic_learning_rate=2e-3,
    n_init=5,
    progress=False,
)


def mixed_clusters(n=300, latent=2, dims=(20, 15), sep=8.0, noise=0.2, seed=0):
    """Three balanced clusters in a latent space, seen through two random linear maps;
    the first half of the samples only in view "a", the second half only in view "b"."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=sep, size=(3, latent))
    y = rng.integers(3, size=n)
    z = means[y] + rng.normal(size=(n, latent))
    xs = [
        z @ rng.normal(size=(latent, d)) / np.sqrt(latent) + noise * rng.normal(size=(n, d))
        for d in dims
    ]
    views, mod = mix_views({"a": xs[0][: n // 2], "b": xs[1][n // 2 :]})
    return views, y, mod


@pytest.fixture(scope="module")
def data():
    return mixed_clusters()


@pytest.fixture(scope="module")
def fitted(data):
    views, _, _ = data
    return DM2C(**FAST).fit(views)


def test_mix_views_layout():
    views, mod = mix_views({"a": np.ones((2, 3)), "b": 2 * np.ones((3, 2))})
    assert views["a"].shape == (5, 3) and views["b"].shape == (5, 2)
    assert mod.tolist() == [0, 0, 1, 1, 1]
    assert np.isnan(views["a"][2:]).all() and (views["a"][:2] == 1).all()
    assert np.isnan(views["b"][:2]).all() and (views["b"][2:] == 2).all()


def test_gradient_penalty_of_linear_critics():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(20, 3, generator=g), torch.randn(15, 3, generator=g)
    for norm in (1.0, 2.0, 0.5):
        critic = torch.nn.Linear(3, 1)
        with torch.no_grad():
            critic.weight.copy_(torch.tensor([[norm, 0.0, 0.0]]))
        gp = gradient_penalty(critic, real, fake, g)
        assert abs(float(gp.detach()) - (norm - 1.0) ** 2) < 1e-6


def test_clusters_unpaired_mixed_views_far_above_chance(fitted, data):
    _, y, mod = data
    rep = clustering_report(y, fitted.labels_)
    chance = max(np.bincount(y)) / len(y)
    assert rep["acc"] > chance + 0.25
    assert rep["nmi"] > 0.3 and rep["ari"] > 0.3  # both ~0 for random clusters
    # each modality's samples are grouped by class inside the unified space
    for i in (0, 1):
        assert clustering_report(y[mod == i], fitted.labels_[mod == i])["acc"] > 0.8


def test_predict_embed_transform(fitted, data):
    views, _, mod = data
    np.testing.assert_array_equal(fitted.predict(views), fitted.labels_)
    Z = fitted.embed(views)
    assert Z.shape == (len(mod), FAST["latent"]) and np.isfinite(Z).all()
    T = fitted.transform(views)
    np.testing.assert_array_equal(T["a"][mod == 0], Z[mod == 0])
    assert np.isnan(T["a"][mod == 1]).all() and np.isnan(T["b"][mod == 0]).all()
    # samples of one modality alone
    only_b = {"b": views["b"][mod == 1]}
    np.testing.assert_allclose(fitted.embed(only_b), Z[mod == 1], rtol=1e-6, atol=1e-6)
    assert fitted.unify_ == "a"
    assert [h["phase"] for h in fitted.history_].count(0.0) == FAST["pretrain_epochs"]


def test_deterministic_save_load(fitted, data, tmp_path):
    views, _, _ = data
    short = {**FAST, "pretrain_epochs": 3, "epochs": 5}
    a, b = DM2C(**short).fit(views), DM2C(**short).fit(views)
    np.testing.assert_array_equal(a.embed(views), b.embed(views))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    c = DM2C(**short, random_state=3).fit(views)
    assert not np.allclose(a.embed(views), c.embed(views))
    path = tmp_path / "dm2c.pt"
    fitted.save(path)
    loaded = DM2C.load(path)
    np.testing.assert_array_equal(loaded.embed(views), fitted.embed(views))
    np.testing.assert_array_equal(loaded.predict(views), fitted.labels_)
    np.testing.assert_array_equal(loaded.cluster_centers_, fitted.cluster_centers_)


def test_unify_into_the_other_view(data):
    views, y, _ = data
    m = DM2C(**{**FAST, "pretrain_epochs": 2, "epochs": 2, "unify": "b"}).fit(views)
    assert m.unify_ == "b"
    assert m.fit_predict(views).shape == y.shape


def test_encoder_gradients_option_changes_the_encoders(data):
    views, _, _ = data
    short = {**FAST, "pretrain_epochs": 2, "epochs": 3}
    a = DM2C(**short).fit(views)
    b = DM2C(**short, encoder_gradients=True).fit(views)
    enc = "encoders.a.0.weight"
    assert not torch.equal(a.module_.state_dict()[enc], b.module_.state_dict()[enc])
    assert np.isfinite(b.embed(views)).all()
    with pytest.raises(ConfigError, match="encoder_gradients"):
        DM2C(encoder_gradients=1).fit(views)


def test_errors(fitted, data):
    views, _, _ = data
    paired = {k: np.nan_to_num(v) for k, v in views.items()}
    with pytest.raises(DataError, match="exactly one view"):
        DM2C(**FAST).fit(paired)
    neither = {k: v.copy() for k, v in views.items()}
    neither["a"][0] = np.nan
    with pytest.raises(DataError, match="missing"):
        DM2C(**FAST).fit(neither)
    with pytest.raises(DataError, match="exactly 2"):
        DM2C(**FAST).fit({"a": views["a"]})
    with pytest.raises(ConfigError, match="unify"):
        DM2C(unify="c").fit(views)
    with pytest.raises(ConfigError, match="validation"):
        DM2C().fit(views, views_val=views)
    with pytest.raises(ConfigError, match="n_critic"):
        DM2C(n_critic=0).fit(views)
    with pytest.raises(ConfigError, match="n_clusters"):
        DM2C(n_clusters=1000).fit(views)
    with pytest.raises(NotFittedError):
        DM2C().predict(views)
    with pytest.raises(DataError, match="features"):
        fitted.predict({"a": views["b"]})


# ------------------------------------------------------------------ the authors' training
AUTHORS = {
    **FAST,
    "training": "authors",
    "pretrain_epochs": 20,
    "epochs": 60,
    "learning_rate": 1e-3,
    "generator_learning_rate": 1e-3,
    "critic_learning_rate": 1e-3,
    "critic_interval": 2,
}


@pytest.fixture(scope="module")
def fitted_authors(data):
    views, _, _ = data
    return DM2C(**AUTHORS).fit(views)


def test_settings_resolve_per_training(data):
    views, _, _ = data
    short = {**FAST, "pretrain_epochs": 1, "epochs": 1}
    p = DM2C(**short).fit(views)
    a = DM2C(**{**short, "generator_hidden": None, "n_critic": None}, training="authors")
    a.fit(views)
    assert p.settings_["gp_weight"] == 10.0 and p.settings_["clip_value"] == 0.0
    assert p.settings_["encoder_gradients"] is False and p.settings_["batchnorm"] is False
    assert a.settings_["gp_weight"] == 0.0 and a.settings_["clip_value"] == 0.05
    assert a.settings_["encoder_gradients"] is True and a.settings_["lambda_cyc_rec"] == 1.0
    assert a.settings_["critic_interval"] == 5 and a.settings_["n_critic"] == 1
    lat = FAST["latent"]
    assert a.settings_["generator_hidden"] == (lat, 2 * lat, lat)
    kinds = lambda m: {type(x).__name__ for x in m.module_.modules()}  # noqa: E731
    assert "BatchNorm1d" in kinds(a) and "BatchNorm1d" not in kinds(p)
    # the authors' generator is an autoencoder over the latent space, ending in LeakyReLU
    g = a.module_.generators["a_to_b"]
    widths = [x.out_features for x in g.modules() if isinstance(x, torch.nn.Linear)]
    assert widths == [lat, 2 * lat, lat, 2 * lat, lat, lat]
    assert isinstance(list(g.modules())[-1], torch.nn.LeakyReLU)
    # an explicit value wins over the training's default
    b = DM2C(**short, training="authors", batchnorm=False, clip_value=0.01).fit(views)
    assert b.settings_["batchnorm"] is False and "BatchNorm1d" not in kinds(b)


def test_authors_training_clusters_and_clips(fitted_authors, data):
    _, y, mod = data
    m = fitted_authors
    rep = clustering_report(y, m.labels_)
    assert rep["acc"] > max(np.bincount(y)) / len(y) + 0.25 and rep["nmi"] > 0.3
    for i in (0, 1):
        assert clustering_report(y[mod == i], m.labels_[mod == i])["acc"] > 0.7
    clip = m.settings_["clip_value"]
    for p in m.module_.critics.parameters():
        assert float(p.detach().abs().max()) <= clip + 1e-7
    joint = [h for h in m.history_ if h["phase"] == 1.0]
    assert len(joint) == AUTHORS["epochs"] and all(np.isfinite(h["cyc_rec"]) for h in joint)


def test_authors_save_load_keeps_batchnorm_statistics(fitted_authors, data, tmp_path):
    views, _, _ = data
    path = tmp_path / "authors.pt"
    fitted_authors.save(path)
    loaded = DM2C.load(path)
    np.testing.assert_array_equal(loaded.embed(views), fitted_authors.embed(views))
    bn = next(x for x in loaded.module_.modules() if isinstance(x, torch.nn.BatchNorm1d))
    assert not torch.allclose(bn.running_mean, torch.zeros_like(bn.running_mean))


def test_training_option_errors(data):
    views, _, _ = data
    with pytest.raises(ConfigError, match="training must be one of"):
        DM2C(training="official").fit(views)
    with pytest.raises(ConfigError, match="gp_weight and clip_value"):
        DM2C(training="authors", gp_weight=10.0).fit(views)
    with pytest.raises(ConfigError, match="batchnorm"):
        DM2C(batchnorm="yes").fit(views)
    with pytest.raises(ConfigError, match="critic_interval"):
        DM2C(critic_interval=0).fit(views)
