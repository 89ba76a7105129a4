"""boltz.layer: the fitted-layer object an RBM exposes as ``layer_``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import boltz
from boltz.dbn import DBN
from boltz.errors import ConfigError, DataError, NotFittedError
from boltz.layer import FittedLayer, Standardizer, down_pass, up_pass
from boltz.passthrough import Passthrough

KW = dict(epochs=2, batch_size=16, progress=False, monitor_size=0)


def _gaussian(learn_sigma=False):
    X = np.random.default_rng(0).normal(5.0, 3.0, size=(48, 6))
    rbm = boltz.RBM(4, "gaussian", learn_sigma=learn_sigma, random_state=0, **KW).fit(X)
    return rbm, X


def test_layer_is_a_view_of_the_rbm():
    rbm, _ = _gaussian()
    layer = rbm.layer_
    assert isinstance(layer, FittedLayer)
    assert layer.model is rbm.model_ and layer.unit is rbm.unit_
    assert (layer.n_visible, layer.n_hidden) == (6, 4)
    assert layer.standardizer.mean is rbm.mean_ and layer.standardizer.scale is rbm.scale_
    assert "gaussian" in repr(layer) and "standardized" in repr(layer)
    assert boltz.RBM(3).fit(np.eye(4)).layer_.standardizer is None


def test_unfitted_rbm_has_no_layer():
    with pytest.raises(NotFittedError):
        _ = boltz.RBM(3).layer_


@pytest.mark.parametrize("learn_sigma", [False, True])
def test_passes_match_the_estimator(learn_sigma):
    rbm, X = _gaussian(learn_sigma)
    layer = rbm.layer_
    be = layer.backend
    keep = X.copy()
    v = layer.standardize(X)
    np.testing.assert_array_equal(X, keep)
    np.testing.assert_array_equal(be.to_host(layer.up(v)), rbm.transform(X))
    rec = layer.unstandardize(be.to_host(layer.down(layer.up(v))))
    np.testing.assert_array_equal(rec, rbm.reconstruct(X))


def test_softmax_layer_keeps_sparse_rows_and_lengths():
    C = sp.csr_matrix(np.random.default_rng(1).poisson(1.0, size=(30, 7)).astype(float))
    rbm = boltz.RBM(3, "softmax", random_state=0, **KW).fit(C)
    layer = rbm.layer_
    v = layer.standardize(C)
    np.testing.assert_array_equal(np.asarray(layer.length(v)), np.asarray(C.sum(axis=1)).ravel())
    np.testing.assert_array_equal(layer.backend.to_host(layer.up(v)), rbm.transform(C))


def test_check_input_names_the_owner_and_clips():
    rbm = boltz.RBM(3, random_state=0, **KW).fit(np.eye(5))
    with pytest.raises(DataError, match="DBN"):
        rbm.layer_.check_input(np.ones((2, 4)), owner="DBN")
    with pytest.warns(boltz.DataRangeWarning):
        x = rbm.layer_.check_input(np.full((2, 5), 1.5), clip=True)
    assert x.max() == 1.0


def test_state_is_the_layer_part_of_the_checkpoint():
    rbm, _ = _gaussian(learn_sigma=True)
    _, arrays = rbm.checkpoint_state()
    state = rbm.layer_.state()
    assert set(state) == {k for k in arrays if k.startswith("params.") or "standardize" in k}
    for k, v in state.items():
        np.testing.assert_array_equal(v, arrays[k])


def test_joint_model_shares_the_arrays():
    rbm = boltz.RBM(3, random_state=0, **KW).fit(np.eye(5))
    jm = rbm.layer_.joint_model([("a", 2), ("b", 3)])
    assert jm.params is rbm.model_.params
    assert [g.name for g in jm.groups] == ["a", "b"]
    with pytest.raises(ConfigError, match="add up to"):
        rbm.layer_.joint_model([("a", 2), ("b", 2)])


def test_stack_passes_match_the_dbn():
    X = np.random.default_rng(2).normal(size=(40, 6))
    dbn = DBN([boltz.RBM(5, "gaussian", **KW), boltz.RBM(3, **KW)], random_state=0).fit(X)
    layers = dbn.fitted_layers_
    assert [la.model for la in layers] == [r.model_ for r in dbn.layers_]
    v = layers[0].standardize(X)
    h, hbe = up_pass(layers, v, layers[0].backend, 1)
    np.testing.assert_array_equal(hbe.to_host(h), dbn.transform(X))
    out, obe = down_pass(layers, h, hbe, 1, None)
    np.testing.assert_array_equal(layers[0].unstandardize(obe.to_host(out)), dbn.reconstruct(X))
    top, tbe = dbn.up_device(X)  # the pathway passes MultimodalDBN uses
    np.testing.assert_array_equal(tbe.to_host(top), dbn.transform(X))
    out, obe = dbn.down_device(top, tbe)
    np.testing.assert_array_equal(layers[0].unstandardize(obe.to_host(out)), dbn.reconstruct(X))


def test_passthrough_up_device_is_the_view():
    X = (np.random.default_rng(3).random((5, 4)) > 0.5).astype(np.float64)
    top, be = Passthrough().fit(X).up_device(X)
    assert top.dtype == np.float32
    np.testing.assert_array_equal(be.to_host(top), X)


def test_standardizer_checks_shapes():
    with pytest.raises(ConfigError):
        Standardizer(np.zeros(3), np.ones(2))
    s = Standardizer(np.array([1.0, 2.0]), np.array([2.0, 4.0]))
    np.testing.assert_array_equal(s.invert(s.apply([[3.0, 6.0]])), [[3.0, 6.0]])
