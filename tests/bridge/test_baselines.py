"""CCA, KCCA and CFA against independent computations written here, plus retrieval checks."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import scipy.io
import scipy.linalg as sla
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from boltz.errors import ConfigError, DataError
from bridge.baselines import CCA, CFA, KCCA
from bridge.baselines import kcca as kcca_module
from bridge.synthetic import make_paired_views

from .paired import split_pairs

# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small dense eigenproblems run fastest on one BLAS thread; on a loaded machine
    OpenBLAS threads spinning against other processes make them 10-50x slower."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def classic_cca_correlations(Xa, Xb, reg=0.0):
    """sqrt of the eigenvalues of Σaa^-1 Σab Σbb^-1 Σba (ridge r_v = reg tr(Σvv)/d_v)."""
    Xa, Xb = Xa - Xa.mean(0), Xb - Xb.mean(0)
    n = len(Xa)
    Saa, Sbb, Sab = Xa.T @ Xa / (n - 1), Xb.T @ Xb / (n - 1), Xa.T @ Xb / (n - 1)
    Saa = Saa + reg * np.trace(Saa) / len(Saa) * np.eye(len(Saa))
    Sbb = Sbb + reg * np.trace(Sbb) / len(Sbb) * np.eye(len(Sbb))
    M = np.linalg.solve(Saa, Sab) @ np.linalg.solve(Sbb, Sab.T)
    ev = np.sort(np.real(sla.eigvals(M)))[::-1]
    return np.sqrt(np.clip(ev[: min(Xa.shape[1], Xb.shape[1])], 0, None))


def column_corr(A, B):
    """Pearson correlation of column i of A with column i of B."""
    A, B = A - A.mean(0), B - B.mean(0)
    return (A * B).sum(0) / np.sqrt((A * A).sum(0) * (B * B).sum(0))


def rank1_partner_rate(Q, D):
    """Fraction of queries whose cosine nearest neighbour in D is their own partner."""
    Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    D = D / np.linalg.norm(D, axis=1, keepdims=True)
    return float(np.mean(np.argmax(Q @ D.T, axis=1) == np.arange(len(Q))))


def circle_views(n, seed):
    """View a: (cos t, sin t) + noise; view b: (cos 2t, sin 2t) + noise, plus noise columns.

    Every linear correlation between the views is zero in expectation; a smooth
    nonlinear map (cos 2t = cos^2 t - sin^2 t) links them.
    """
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    a = np.c_[np.cos(t), np.sin(t)] + 0.05 * rng.normal(size=(n, 2))
    b = np.c_[np.cos(2 * t), np.sin(2 * t)] + 0.05 * rng.normal(size=(n, 2))
    return {
        "a": np.c_[a, 0.3 * rng.normal(size=(n, 2))],
        "b": np.c_[b, 0.3 * rng.normal(size=(n, 2))],
    }


@pytest.fixture(scope="module")
def small():
    views, _ = make_paired_views(400, dims=(8, 6), latent=3, noise=1.0, random_state=0)
    return views


# --------------------------------------------------------------------------- CCA


def test_cca_matches_classic_formula_without_reg(small):
    cca = CCA(n_components=6, reg=0.0).fit(small)
    ref = classic_cca_correlations(small["view0"], small["view1"])
    np.testing.assert_allclose(cca.correlations_, ref, atol=1e-6, rtol=0)
    # nearly-zero reg behaves the same
    cca2 = CCA(n_components=6, reg=1e-12).fit(small)
    np.testing.assert_allclose(cca2.correlations_, ref, atol=1e-6, rtol=0)


def test_cca_regularisation_is_the_documented_relative_ridge(small):
    cca = CCA(n_components=6, reg=0.3).fit(small)
    ref = classic_cca_correlations(small["view0"], small["view1"], reg=0.3)
    np.testing.assert_allclose(cca.correlations_, ref, atol=1e-10)
    assert np.all(cca.correlations_ < CCA(n_components=6, reg=0).fit(small).correlations_)


def test_cca_projections_have_correlations_and_are_whitened(small):
    cca = CCA(n_components=6, reg=0.0).fit(small)
    emb = cca.transform(small)
    Za, Zb = emb["view0"], emb["view1"]
    np.testing.assert_allclose(column_corr(Za, Zb), cca.correlations_, atol=1e-8)
    n = len(Za)
    np.testing.assert_allclose(Za.T @ Za / (n - 1), np.eye(6), atol=1e-8)
    np.testing.assert_allclose(Zb.T @ Zb / (n - 1), np.eye(6), atol=1e-8)
    np.testing.assert_allclose(Za.T @ Zb / (n - 1), np.diag(cca.correlations_), atol=1e-8)
    assert np.all(np.diff(cca.correlations_) <= 0)
    assert cca.weights_["view0"].shape == (8, 6) and cca.weights_["view1"].shape == (6, 6)
    assert cca.view_names_ == ("view0", "view1")


def test_cca_transform_subset_and_scale_invariance(small):
    cca = CCA(n_components=3).fit(small)
    full = cca.transform(small)
    only = cca.transform({"view1": small["view1"]})
    assert list(only) == ["view1"]
    np.testing.assert_array_equal(only["view1"], full["view1"])
    # the relative ridge makes the correlations independent of each view's scale
    scaled = CCA(n_components=3).fit({"view0": 1e3 * small["view0"], "view1": small["view1"]})
    np.testing.assert_allclose(scaled.correlations_, cca.correlations_, rtol=1e-10)


def test_cca_deterministic_signs_under_row_permutation(small):
    perm = np.random.default_rng(1).permutation(400)
    a = CCA(n_components=4).fit(small)
    b = CCA(n_components=4).fit({k: v[perm] for k, v in small.items()})
    for k in small:
        np.testing.assert_allclose(a.weights_[k], b.weights_[k], atol=1e-8)


def test_cca_float32_and_int_input_give_float64(small):
    v = {"view0": small["view0"].astype(np.float32), "view1": np.round(small["view1"]).astype(int)}
    emb = CCA(n_components=2).fit(v).transform(v)
    assert all(e.dtype == np.float64 for e in emb.values())


def test_cca_errors(small):
    with pytest.raises(ConfigError, match=r"at most 6 components.*min\(n_features\)"):
        CCA(n_components=7).fit(small)
    for reg in (-1.0, np.nan, "0.1", True):
        with pytest.raises(ConfigError, match="reg must be a finite number >= 0"):
            CCA(reg=reg).fit(small)
    collinear = {"a": np.c_[small["view0"], small["view0"][:, :1]], "b": small["view1"]}
    with pytest.raises(DataError, match=r"singular.*use reg > 0"):
        CCA(n_components=2, reg=0.0).fit(collinear)
    CCA(n_components=2, reg=1e-6).fit(collinear)  # the ridge fixes it
    with pytest.raises(DataError, match="at least 2 samples"):
        CCA(n_components=1).fit({"a": np.ones((1, 2)), "b": np.ones((1, 2))})


# --------------------------------------------------------------------------- KCCA


def test_kcca_linear_kernel_equals_cca(small):
    ref = CCA(n_components=5, reg=0.0).fit(small).correlations_
    exact = KCCA(n_components=5, kernel="linear", reg=1e-5, approx="exact").fit(small)
    nys = KCCA(n_components=5, kernel="linear", reg=1e-5, approx="nystrom", n_landmarks=50)
    nys.fit(small)
    assert exact.method_ == "exact" and nys.method_ == "nystrom"
    np.testing.assert_allclose(exact.correlations_, ref, atol=1e-5)
    np.testing.assert_allclose(nys.correlations_, ref, atol=1e-5)


@pytest.mark.parametrize("kernel", ["rbf", "poly"])
def test_kcca_solves_the_generalised_eigenproblem(kernel):
    """Against scipy.linalg.eigh(A, B) on the Hardoon et al. matrices built here."""
    views, _ = make_paired_views(80, dims=(5, 4), latent=2, noise=0.5, random_state=2)
    k = 4
    model = KCCA(n_components=k, kernel=kernel, degree=2, reg=0.1, approx="exact").fit(views)
    n = 80
    H = np.eye(n) - 1.0 / n
    K = {}
    for name, X in views.items():
        g = 1.0 / (X.shape[1] * X.var())
        raw = (
            np.exp(-g * ((X[:, None] - X[None]) ** 2).sum(-1))
            if kernel == "rbf"
            else (g * X @ X.T + 1.0) ** 2
        )
        K[name] = H @ raw @ H
        assert model.gammas_[name] == pytest.approx(g)
        assert model.kappas_[name] == pytest.approx(0.1 * np.trace(K[name]) / n)
    Ka, Kb = K["view0"], K["view1"]
    ka, kb = model.kappas_["view0"], model.kappas_["view1"]
    Z = np.zeros((n, n))
    A = np.block([[Z, Ka @ Kb], [Kb @ Ka, Z]])
    Ra, Rb = Ka + ka * np.eye(n), Kb + kb * np.eye(n)
    B = sla.block_diag(Ra @ Ra, Rb @ Rb)
    rho = sla.eigh(A, B, eigvals_only=True)[::-1][:k]
    np.testing.assert_allclose(model.correlations_, rho, atol=1e-8)
    # the dual coefficients are eigenvectors, normalised as documented
    v = np.concatenate([model.weights_["view0"], model.weights_["view1"]])
    np.testing.assert_allclose(A @ v, B @ v * model.correlations_, atol=1e-6 * np.abs(A @ v).max())
    for name, R in (("view0", Ra), ("view1", Rb)):
        al = model.weights_[name]
        np.testing.assert_allclose(np.diag(al.T @ R @ R @ al), n - 1, rtol=1e-8)
    # embedding the training views applies the training centering: K_c @ alpha
    emb = model.transform(views)
    np.testing.assert_allclose(emb["view0"], Ka @ model.weights_["view0"], atol=1e-8)


def test_kcca_test_kernel_centering_matches_feature_space_centering(small):
    """Linear kernel: centered test kernel @ alpha == (X - train mean) @ (Xc_train' alpha)."""
    tr, te = split_pairs(small, 300)
    model = KCCA(n_components=3, kernel="linear", reg=1e-3, approx="exact").fit(tr)
    emb = model.transform(te)
    for name in tr:
        Xc = tr[name] - tr[name].mean(0)
        w = Xc.T @ model.weights_[name]
        np.testing.assert_allclose(emb[name], (te[name] - tr[name].mean(0)) @ w, atol=1e-8)


def test_kcca_rbf_beats_linear_cca_on_nonlinear_latent():
    tr, te = circle_views(500, seed=0), circle_views(300, seed=1)
    kcca = KCCA(n_components=2).fit(tr)
    cca = CCA(n_components=2).fit(tr)
    r_kcca = column_corr(*kcca.transform(te).values())
    r_cca = column_corr(*cca.transform(te).values())
    assert r_kcca[0] > 0.8, r_kcca
    assert abs(r_cca[0]) < 0.3, r_cca
    er = kcca.transform(te)
    assert rank1_partner_rate(er["a"], er["b"]) > 10 / 300


def test_kcca_nystrom_with_all_landmarks_approximates_exact():
    views, _ = make_paired_views(200, dims=(6, 5), latent=2, noise=0.7, random_state=4)
    exact = KCCA(n_components=3, reg=0.01, approx="exact").fit(views)
    nys = KCCA(n_components=3, reg=0.01, approx="nystrom", n_landmarks=500).fit(views)
    assert len(nys.landmark_indices_) == 200
    np.testing.assert_allclose(nys.correlations_, exact.correlations_, atol=3e-3)
    assert np.all(nys.correlations_ >= exact.correlations_ - 1e-9)  # no κ² α'α term


def test_kcca_auto_switch_and_seeded_landmarks(small, monkeypatch, caplog):
    monkeypatch.setattr(kcca_module, "EXACT_MAX_SAMPLES", 100)
    with caplog.at_level(logging.INFO, logger="bridge.baselines.kcca"):
        m1 = KCCA(n_components=2, n_landmarks=40, random_state=7).fit(small)
    assert m1.method_ == "nystrom" and "Nyström" in caplog.text
    assert not hasattr(m1, "X_fit_")
    m2 = KCCA(n_components=2, n_landmarks=40, random_state=7).fit(small)
    m3 = KCCA(n_components=2, n_landmarks=40, random_state=8).fit(small)
    np.testing.assert_array_equal(m1.landmark_indices_, m2.landmark_indices_)
    assert not np.array_equal(m1.landmark_indices_, m3.landmark_indices_)
    np.testing.assert_allclose(m1.transform(small)["view0"], m2.transform(small)["view0"])
    assert m1.landmarks_["view0"].shape == (40, 8)
    # refitting exactly drops the Nyström state
    m1.set_params(approx="exact").fit(small)
    assert m1.method_ == "exact" and not hasattr(m1, "landmarks_")


def test_kcca_errors(small):
    bad = [
        ({"kernel": "sigmoid"}, "kernel must be one of"),
        ({"approx": "rff"}, "approx must be one of"),
        ({"reg": 0.0}, "reg must be a finite number > 0"),
        ({"kernel": "poly", "degree": 0}, "degree must be an integer >= 1"),
        ({"n_landmarks": 0}, "n_landmarks must be an integer >= 1"),
        ({"gamma": -1.0}, "gamma must be a number > 0"),
        ({"gamma": {"view0": 1.0}}, "without an entry for view .view1."),
        ({"coef0": np.nan}, "coef0 must be a finite number"),
    ]
    for kw, pattern in bad:
        with pytest.raises(ConfigError, match=pattern):
            KCCA(n_components=2, **kw).fit(small)
    with pytest.raises(ConfigError, match="at most 10 components"):
        KCCA(n_components=11).fit({k: v[:10] for k, v in small.items()})
    with pytest.raises(DataError, match="constant view"):
        KCCA(n_components=1).fit({"a": np.ones((20, 2)), "b": small["view1"][:20]})


# --------------------------------------------------------------------------- CFA


def test_cfa_matches_direct_svd(small):
    cfa = CFA(n_components=4).fit(small)
    Xa = small["view0"] - small["view0"].mean(0)
    Xb = small["view1"] - small["view1"].mean(0)
    U, s, Vt = np.linalg.svd(Xa.T @ Xb)
    np.testing.assert_allclose(cfa.singular_values_, s[:4], rtol=1e-10)
    for i in range(4):
        sign = np.sign(U[:, i] @ cfa.weights_["view0"][:, i])
        np.testing.assert_allclose(cfa.weights_["view0"][:, i], sign * U[:, i], atol=1e-10)
        np.testing.assert_allclose(cfa.weights_["view1"][:, i], sign * Vt[i], atol=1e-10)
    for W in cfa.weights_.values():
        np.testing.assert_allclose(W.T @ W, np.eye(4), atol=1e-10)
    emb = cfa.transform({"view0": small["view0"]})
    np.testing.assert_allclose(emb["view0"], Xa @ cfa.weights_["view0"], atol=1e-10)


def test_cfa_minimises_the_paired_distance(small):
    """The SVD solution beats random orthonormal projections of the same size."""
    cfa = CFA(n_components=3).fit(small)
    Xa = small["view0"] - small["view0"].mean(0)
    Xb = small["view1"] - small["view1"].mean(0)

    def cost(Wa, Wb):
        return np.sum((Xa @ Wa - Xb @ Wb) ** 2) - np.sum((Xa @ Wa) ** 2) - np.sum((Xb @ Wb) ** 2)

    best = cost(cfa.weights_["view0"], cfa.weights_["view1"])
    rng = np.random.default_rng(0)
    for _ in range(20):
        Wa = np.linalg.qr(rng.normal(size=(8, 3)))[0]
        Wb = np.linalg.qr(rng.normal(size=(6, 3)))[0]
        assert best <= cost(Wa, Wb) + 1e-9


def test_cfa_errors(small):
    with pytest.raises(ConfigError, match="at most 6 components"):
        CFA(n_components=7).fit(small)


# --------------------------------------------------------------------------- retrieval


@pytest.mark.parametrize(
    "model",
    [
        CCA(n_components=5),
        CFA(n_components=5),
        KCCA(n_components=5),
        KCCA(n_components=5, kernel="linear"),
        KCCA(n_components=5, approx="nystrom", n_landmarks=100),
    ],
    ids=["cca", "cfa", "kcca-rbf", "kcca-linear", "kcca-nystrom"],
)
def test_partner_retrieval_far_above_chance(model):
    views, _ = make_paired_views(700, dims=(30, 20), latent=5, noise=0.5, random_state=0)
    tr, te = split_pairs(views, 500)
    emb = model.fit(tr).transform(te)
    chance = 1 / 200
    assert rank1_partner_rate(emb["view0"], emb["view1"]) > 10 * chance
    assert rank1_partner_rate(emb["view1"], emb["view0"]) > 10 * chance


def test_make_paired_views():
    views, y = make_paired_views(50, dims=(4, 3, 2), latent=2, n_classes=3, random_state=5)
    assert [v.shape for v in views.values()] == [(50, 4), (50, 3), (50, 2)]
    assert set(np.unique(y)) <= {0, 1, 2} and y.shape == (50,)
    again, y2 = make_paired_views(50, dims=(4, 3, 2), latent=2, n_classes=3, random_state=5)
    np.testing.assert_array_equal(views["view2"], again["view2"])
    np.testing.assert_array_equal(y, y2)
    named, none = make_paired_views(5, names=("image", "text"))
    assert list(named) == ["image", "text"] and none is None
    for kw in ({"n": 0}, {"latent": 0}, {"noise": -1.0}, {"n_classes": 0}, {"names": ("a", "a")}):
        with pytest.raises(ConfigError):
            make_paired_views(**{"n": 10, **kw})


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(12, 60),
    da=st.integers(1, 6),
    db=st.integers(1, 6),
    m=st.integers(1, 8),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
)
def test_shapes_and_invariants_of_every_baseline(n, da, db, m, seed, scale):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 1))
    views = {
        "x": scale * (z + rng.normal(size=(n, da))),
        "y": z + rng.normal(size=(n, db)),
    }
    k = min(da, db)
    models = [
        CCA(n_components=k),
        CFA(n_components=k),
        KCCA(n_components=k, reg=0.1),
        KCCA(n_components=k, reg=0.1, approx="nystrom", n_landmarks=m + k),
    ]
    for model in models:
        emb = model.fit(views).transform({"y": views["y"][:m]})
        assert list(emb) == ["y"] and emb["y"].shape == (m, k)
        assert emb["y"].dtype == np.float64 and np.isfinite(emb["y"]).all()
        assert model.view_names_ == ("x", "y")
        assert model.n_features_in_ == {"x": da, "y": db}
        corr = getattr(model, "correlations_", None)
        if corr is not None:
            assert corr.shape == (k,)
            assert np.all(corr >= 0) and np.all(corr <= 1 + 1e-9)
            assert np.all(np.diff(corr) <= 1e-12)


# --------------------------------------------------------------------------- real data


def mean_average_precision(Q, D, q_labels, d_labels):
    """MAP over all ranks, cosine similarity, ties by database index."""
    Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    D = D / np.linalg.norm(D, axis=1, keepdims=True)
    order = np.argsort(-(Q @ D.T), axis=1, kind="stable")
    rel = d_labels[order] == q_labels[:, None]
    precision = np.cumsum(rel, axis=1) / np.arange(1, rel.shape[1] + 1)
    return float(np.mean((precision * rel).sum(1) / np.maximum(rel.sum(1), 1)))


@pytest.mark.data
def test_wikipedia_cca_map(data_dir):
    info = data_dir / "wikipedia_info"
    mat = scipy.io.loadmat(info / "raw_features.mat")

    def labels(name):
        lines = (info / name).read_text().splitlines()
        return np.array([int(line.split("\t")[2]) for line in lines if line.strip()])

    y_te = labels("testset_txt_img_cat.list")
    assert len(labels("trainset_txt_img_cat.list")) == 2173 and len(y_te) == 693
    train = {"image": mat["I_tr"], "text": mat["T_tr"]}
    test = {"image": mat["I_te"], "text": mat["T_te"]}
    results = {}
    for name, model in {
        "cca": CCA(n_components=9),
        "cfa": CFA(n_components=9),
        "kcca": KCCA(n_components=9, reg=1.0),  # Nyström (n = 2173 > EXACT_MAX_SAMPLES)
    }.items():
        emb = model.fit(train).transform(test)
        results[name] = (
            mean_average_precision(emb["image"], emb["text"], y_te, y_te),
            mean_average_precision(emb["text"], emb["image"], y_te, y_te),
        )
    i2t, t2i = results["cca"]
    # README sanity figure: about 0.23 image->text and 0.18 text->image (chance is ~0.12)
    assert 0.20 < i2t < 0.28, results
    assert 0.16 < t2i < 0.23, results
    for other in ("cfa", "kcca"):
        assert results[other][0] > 0.20 and results[other][1] > 0.16, results
