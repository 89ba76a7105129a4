"""A diverging fit stops with DivergenceError, before a checkpoint of the bad epoch."""

from __future__ import annotations

import numpy as np
import pytest

import boltz
from boltz.divergence import check_epoch
from boltz.errors import CheckpointError, DivergenceError

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow on the way


def _gauss():
    return np.random.default_rng(0).normal(size=(200, 20)) * 3 + 5


def _binary(n=120, d=10):
    return (np.random.default_rng(0).random((n, d)) > 0.5).astype(np.float32)


def test_a_gaussian_rbm_at_learning_rate_1_raises_and_says_what_to_change():
    """d01: it used to end all-NaN with only NumPy warnings."""
    rbm = boltz.RBM(16, "gaussian", epochs=5, batch_size=20, learning_rate=1.0, random_state=0)
    with pytest.raises(DivergenceError, match=r"learning_rate \(now 1; try 0.1\)") as e:
        rbm.set_params(progress=False).fit(_gauss())
    assert isinstance(e.value, FloatingPointError) and "epoch 1" in str(e.value)


def _poison_after(epoch_no):
    def cb(rbm, epoch, rec):
        if epoch + 1 == epoch_no:
            rbm.model_.params["weights"][0, 0] = np.nan

    return cb


def test_the_checkpoint_keeps_the_last_good_epoch(tmp_path):
    """d02: the epoch that diverges writes no checkpoint; the file stays loadable."""
    ck = tmp_path / "run.npz"
    rbm = boltz.RBM(
        4, epochs=5, random_state=0, progress=False, checkpoint=ck, callbacks=[_poison_after(2)]
    )
    with pytest.raises(DivergenceError, match="epoch 3: the parameters"):
        rbm.fit(_binary())
    assert boltz.load(ck).epoch_ == 2
    with pytest.raises(CheckpointError, match="NaN or inf"):  # and saving by hand refuses
        rbm.save(ck)
    assert boltz.load(ck).epoch_ == 2


def test_dbn_and_multimodal_dbn_stop_too():
    X = _binary()
    bad = boltz.RBM(3, epochs=3, progress=False, callbacks=[_poison_after(1)])
    with pytest.raises(DivergenceError):
        boltz.DBN([boltz.RBM(4, epochs=1, progress=False), bad]).fit(X)
    kw = dict(epochs=1, progress=False)
    m = boltz.MultimodalDBN(
        {"a": boltz.DBN([boltz.RBM(3, **kw)]), "b": boltz.DBN([boltz.RBM(3, **kw)])},
        joint=boltz.RBM(2, epochs=2, progress=False, callbacks=[_poison_after(1)]),
    )
    with pytest.raises(DivergenceError):
        m.fit({"a": X[:, :5], "b": X[:, 5:]})


class _Model:  # the two attributes check_epoch reads
    class backend:
        xp = np

    class _G:
        class unit:
            name = "gaussian"

    groups = (_G(),)

    def __init__(self, **params):
        self.params = params


def test_check_epoch_criteria():
    ok = _Model(weights=np.zeros((2, 2)))
    check_epoch(ok, {"recon_error": 0.8}, [{"recon_error": 0.5}], 1, 0.01)
    with pytest.raises(DivergenceError, match=r"rose from 0\.5 to 600"):
        check_epoch(ok, {"recon_error": 600.0}, [{"recon_error": 0.5}], 1, 0.01)
    with pytest.raises(DivergenceError, match="standardised units"):
        check_epoch(ok, {"recon_error": 1e7}, [], 0, 0.01)
    with pytest.raises(DivergenceError, match="is nan"):
        check_epoch(ok, {"recon_error": float("nan")}, [], 0, 0.01)
    with pytest.raises(DivergenceError, match=r"\['weights'\]"):
        check_epoch(_Model(weights=np.array([np.inf])), {}, [], 0, None)
    check_epoch(ok, {}, [], 0)  # monitoring off: parameters only


def test_healthy_fits_are_untouched():
    rbm = boltz.RBM(8, "gaussian", epochs=4, learning_rate=0.01, random_state=0, progress=False)
    assert len(rbm.fit(_gauss()).history_) == 4
