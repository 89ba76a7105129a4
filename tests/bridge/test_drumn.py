"""DRUMN: the weighted correlation and its per-pair scores, the energy model, the
adaptive weights flagging injected anomalies, incomplete (NaN-row) data, DRUMN-Thres,
determinism, checkpoints and validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from boltz.errors import ConfigError, DataError
from bridge.metrics import mean_average_precision
from bridge.models.dcca import total_correlation
from bridge.models.drumn import (
    DRUMN,
    DSEBM,
    batch_probability,
    std_conf,
    weighted_total_correlation,
)

from .paired import paired_split

N_TRAIN, N_TEST = 600, 200
FAST = dict(
    n_components=5,
    n_outputs=8,
    hidden=(32,),
    recon_weight=1.0,
    epochs=60,
    batch_size=200,
    learning_rate=3e-3,
    progress=False,
)


@pytest.fixture(scope="module")
def data():
    return paired_split(
        N_TRAIN, N_TEST, dims=(30, 20), latent=5, noise=0.3, n_classes=5, random_state=0
    )


def contaminate(tr, y, frac=0.075, seed=1):
    """Class anomalies (view1 swapped with a partner of another class) and feature
    anomalies (both views replaced by noise of the data's per-feature scale)."""
    rng = np.random.default_rng(seed)
    n = len(y)
    out = {k: v.copy() for k, v in tr.items()}
    order = rng.permutation(n)
    k = int(frac * n)
    cls = order[:k]
    feat = order[k : 2 * k]
    pool = order[2 * k :]
    for i in cls:
        j = pool[np.flatnonzero(y[pool] != y[i])[0]]
        pool = pool[pool != j]
        out["view1"][i] = tr["view1"][j]
    for name, X in out.items():
        X[feat] = rng.normal(size=(k, X.shape[1])) * tr[name].std(0)
    is_cls, is_feat = np.zeros(n, bool), np.zeros(n, bool)
    is_cls[cls], is_feat[feat] = True, True
    return out, is_cls, is_feat


@pytest.fixture(scope="module")
def contaminated(data):
    tr, ytr, _, _ = data
    return contaminate(tr, ytr)


@pytest.fixture(scope="module")
def robust(contaminated):
    X, _, _ = contaminated
    return DRUMN(**FAST).fit(X)


# ----------------------------------------------------------------------------- pieces


def _pairs(m=120, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(m, 3))
    H1 = torch.as_tensor(np.c_[z, rng.normal(size=(m, 2))] @ rng.normal(size=(5, 5)))
    H2 = torch.as_tensor(np.c_[z[:, :2], rng.normal(size=(m, 2))] + 0.3 * rng.normal(size=(m, 4)))
    return H1, H2


def test_weighted_correlation_without_weights_is_dcca_and_scores_add_up():
    H1, H2 = _pairs()
    corr, scores = weighted_total_correlation(H1, H2, None, reg=1e-3)
    assert abs(float(corr) - float(total_correlation(H1, H2, reg=1e-3))) < 1e-10
    ones, _ = weighted_total_correlation(H1, H2, torch.full((len(H1),), 3.0), reg=1e-3)
    assert abs(float(ones) - float(corr)) < 1e-10
    # the per-pair scores are the terms of the canonical-correlation trace
    assert abs(float(scores.sum()) / (len(H1) - 1) - float(corr)) < 1e-8


def test_weighted_correlation_downweights_a_broken_pair_and_has_gradients():
    H1, H2 = _pairs(m=400)
    H2 = H2.clone()
    H2[:20] = H2[torch.randperm(400, generator=torch.Generator().manual_seed(0))[:20]]
    corr, scores = weighted_total_correlation(H1, H2, None, reg=1e-3)
    assert scores[:20].mean() < scores[20:].mean() / 2
    w = torch.ones(len(H1), dtype=torch.float64)
    w[:20] = 0.0
    better, _ = weighted_total_correlation(H1, H2, w, reg=1e-3)
    assert better > corr
    a = H1[:30, :3].clone().requires_grad_()
    b = H2[:30, :3].clone().requires_grad_()
    ww = torch.rand(30, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert torch.autograd.gradcheck(
        lambda x, y: weighted_total_correlation(x, y, ww, reg=1e-2)[0], (a, b), eps=1e-6, atol=1e-5
    )


def test_std_conf_matches_the_active_bias_formula():
    rng = np.random.default_rng(0)
    vals = rng.normal(size=(4, 8))
    counts = np.array([0, 1, 5, 20])
    got = std_conf(vals, counts)
    assert np.isnan(got[:2]).all()
    for i in (2, 3):
        h = vals[i, : min(counts[i], 8)]
        var = h.var(ddof=1)
        assert abs(got[i] - np.sqrt(var + var**2 / (len(h) - 1))) < 1e-12


def test_batch_probability_orders_and_bounds():
    e = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    p = batch_probability(e, higher_is_normal=False)
    assert np.all(np.diff(p) < 0) and p[-1] < 1e-6 and abs(p[2] - 0.5) < 1e-12
    q = batch_probability(e, higher_is_normal=True)
    np.testing.assert_allclose(p + q, 1.0)


def test_dsebm_energy_score_and_reconstruction():
    torch.manual_seed(0)
    ebm = DSEBM([4, 6, 3]).double()
    with torch.no_grad():
        ebm.prior_mean.normal_()
    x = torch.randn(7, 4, dtype=torch.float64)
    h = x
    for lin in ebm.layers:
        h = torch.nn.functional.softplus(lin(h))
    want = 0.5 * ((x - ebm.prior_mean) ** 2).sum(1) - h.sum(1)
    torch.testing.assert_close(ebm.energy(x), want)
    # the score is the gradient of the energy (central differences)
    eps, g = 1e-6, ebm.score(x)
    for j in range(4):
        d = torch.zeros(4, dtype=torch.float64)
        d[j] = eps
        num = (ebm.energy(x + d) - ebm.energy(x - d)) / (2 * eps)
        torch.testing.assert_close(g[:, j], num.detach(), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ebm.reconstruct(x), x - g)


# ----------------------------------------------------------------------------- learning


def test_weights_flag_injected_anomalies(robust, contaminated):
    _, is_cls, is_feat = contaminated
    omega = robust.feature_weights_.mean(axis=1)
    gamma = robust.pair_weights_
    assert np.isfinite(omega).all() and np.isfinite(gamma).all()
    assert abs(omega.mean() - 1) < 1e-9 and abs(gamma.mean() - 1) < 1e-9
    assert roc_auc_score(is_feat, -omega) > 0.8  # feature anomalies: low ω
    assert roc_auc_score(is_cls[~is_feat], -gamma[~is_feat]) > 0.8  # class anomalies: low γ
    assert robust.energy(contaminated[0])["view0"][is_feat].mean() > (
        robust.energy(contaminated[0])["view0"][~is_feat].mean()
    )


def test_weights_help_retrieval_on_contaminated_data(robust, contaminated, data):
    X, _, _ = contaminated
    _, _, te, yte = data
    plain = DRUMN(**FAST, adaptive_weights=False).fit(X)
    assert np.all(plain.pair_weights_ == 1.0)

    def score(m):
        Z = m.transform(te)
        return mean_average_precision(Z["view0"], Z["view1"], yte, yte, k=50, metric="euclidean")

    chance = max(np.bincount(yte)) / N_TEST
    assert score(robust) > 2 * chance
    assert score(robust) > score(plain)


def test_threshold_variant_gives_zero_one_weights(contaminated, data):
    X, _, is_feat = contaminated
    _, _, te, yte = data
    m = DRUMN(**FAST, threshold=True).fit(X)
    assert set(np.unique(m.pair_weights_)) <= {0.0, 1.0}
    assert set(np.unique(m.feature_weights_)) <= {0.0, 1.0}
    assert abs(m.pair_weights_.mean() - 0.9) < 0.01  # threshold_quantile=0.9 cut
    assert is_feat[m.feature_weights_.min(axis=1) == 0].mean() > 0.5
    Z = m.transform(te)
    chance = max(np.bincount(yte)) / N_TEST
    assert mean_average_precision(Z["view0"], Z["view1"], yte, yte, k=50) > 2 * chance


def test_incomplete_nan_rows(data):
    tr, _, te, yte = data
    X = {k: v.copy() for k, v in tr.items()}
    rng = np.random.default_rng(0)
    order = rng.permutation(N_TRAIN)
    miss1, miss0 = order[:150], order[150:210]
    X["view1"][miss1] = np.nan
    X["view0"][miss0] = np.nan
    m = DRUMN(**FAST).fit(X)
    assert np.isnan(m.feature_weights_[miss1, 1]).all()
    assert np.isnan(m.feature_weights_[miss0, 0]).all()
    assert np.isfinite(m.feature_weights_[miss1, 0]).all()
    assert np.isnan(m.pair_weights_[np.r_[miss0, miss1]]).all()
    assert np.isfinite(m.pair_weights_[order[210:]]).all()
    Z = m.transform(X)
    assert np.isnan(Z["view1"][miss1]).all() and np.isfinite(Z["view1"][miss0]).all()
    Zt = m.transform(te)
    chance = max(np.bincount(yte)) / N_TEST
    assert mean_average_precision(Zt["view0"], Zt["view1"], yte, yte, k=50) > 2 * chance
    # the same through an `observed` mask (values under False are ignored)
    observed = {"view0": np.ones(N_TRAIN, bool), "view1": np.ones(N_TRAIN, bool)}
    observed["view0"][miss0] = observed["view1"][miss1] = False
    m2 = DRUMN(**FAST).fit(tr, observed=observed)
    np.testing.assert_array_equal(m2.transform(te)["view0"], Zt["view0"])
    np.testing.assert_array_equal(m2.pair_weights_, m.pair_weights_)


def test_deterministic_save_load(robust, contaminated, data, tmp_path):
    X, _, _ = contaminated
    _, _, te, _ = data
    again = DRUMN(**FAST).fit(X)
    a, b = robust.transform(te), again.transform(te)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    np.testing.assert_array_equal(robust.pair_weights_, again.pair_weights_)
    path = tmp_path / "drumn.pt"
    robust.save(path)
    loaded = DRUMN.load(path)
    c = loaded.transform(te)
    for k in a:
        np.testing.assert_array_equal(a[k], c[k])
    np.testing.assert_array_equal(loaded.feature_weights_, robust.feature_weights_)


def test_early_stopping_on_validation_map(data):
    tr, _, te, yte = data
    m = DRUMN(**{**FAST, "epochs": 8, "patience": 3}).fit(tr, views_val=te, y_val=yte)
    assert m.monitor_ == "map"
    vals = [h["val"] for h in m.history_]
    assert m.best_epoch_ == int(np.argmax(vals)) + 1


# ----------------------------------------------------------------------------- errors


def test_errors(data):
    tr, _, _, _ = data
    with pytest.raises(ConfigError, match="n_outputs"):
        DRUMN(n_components=5, n_outputs=3).fit(tr)
    with pytest.raises(ConfigError, match="threshold_quantile"):
        DRUMN(threshold_quantile=1.0).fit(tr)
    with pytest.raises(ConfigError, match="batch_size"):
        DRUMN(n_components=5, batch_size=5).fit(tr)
    with pytest.raises(ConfigError, match="threshold must be"):
        DRUMN(threshold="yes").fit(tr)
    with pytest.raises(ConfigError, match="history"):
        DRUMN(history=1).fit(tr)
    with pytest.raises(DataError, match="exactly 2"):
        DRUMN().fit({**tr, "view2": tr["view0"]})
    partial = {k: v.copy() for k, v in tr.items()}
    partial["view0"][3, 0] = np.nan
    with pytest.raises(DataError, match="partly NaN"):
        DRUMN().fit(partial)
    with pytest.raises(DataError, match="boolean array"):
        DRUMN().fit(tr, observed={"view0": np.ones(5, bool)})
    few = {k: v.copy() for k, v in tr.items()}
    few["view1"][5:] = np.nan
    with pytest.raises(DataError, match="complete pairs"):
        DRUMN(**FAST).fit(few)


def test_incomplete_rows_are_used(data):
    """The observed view of a one-view row trains its network; the missing view is ignored."""
    tr, _, te, _ = data
    X = {k: v.copy() for k, v in tr.items()}
    lone = np.arange(300, N_TRAIN)  # 300 rows with view0 only, shifted to a new mode
    X["view0"][lone] += 3.0
    X["view1"][lone] = np.nan
    kw = {**FAST, "standardize": False, "epochs": 40}
    both = DRUMN(**kw).fit(X)
    only = DRUMN(**kw).fit({k: v[:300] for k, v in X.items()})
    probe = {"view0": te["view0"] + 3.0}  # held-out rows of the new mode
    e_both, e_only = both.energy(probe)["view0"], only.energy(probe)["view0"]
    assert e_both.mean() < e_only.mean() - 1.0  # the energy model learned the lone rows
    assert np.isfinite(both.feature_weights_[lone, 0]).all()
    # changing a lone row's observed view changes the fit; its missing view's values do not
    moved = {k: v.copy() for k, v in X.items()}
    moved["view0"][lone[:50]] += 1.0
    Z = both.transform(te)["view0"]
    assert not np.allclose(DRUMN(**kw).fit(moved).transform(te)["view0"], Z)
    observed = {"view0": np.ones(N_TRAIN, bool), "view1": np.ones(N_TRAIN, bool)}
    observed["view1"][lone] = False
    garbage = {k: v.copy() for k, v in X.items()}
    garbage["view1"][lone] = 1e3
    np.testing.assert_array_equal(
        DRUMN(**kw).fit(garbage, observed=observed).transform(te)["view0"], Z
    )


def test_weights_come_from_the_restored_epoch(data):
    """Early stopping restores the best epoch's parameters *and* its weight history."""
    tr, _, te, yte = data
    kw = {**FAST, "learning_rate": 3e-3}
    stopped = DRUMN(**{**kw, "epochs": 30, "patience": 5}).fit(tr, views_val=te, y_val=yte)
    assert stopped.best_epoch_ < len(stopped.history_)  # trained past its best epoch
    short = DRUMN(**{**kw, "epochs": stopped.best_epoch_}).fit(tr)
    np.testing.assert_array_equal(stopped.pair_weights_, short.pair_weights_)
    np.testing.assert_array_equal(stopped.feature_weights_, short.feature_weights_)
    np.testing.assert_array_equal(stopped.transform(te)["view0"], short.transform(te)["view0"])
