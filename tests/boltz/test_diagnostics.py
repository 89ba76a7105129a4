"""Layer diagnostics: unit use, linear probes, dependence of a generation on its input."""

from __future__ import annotations

import numpy as np
import pytest

import boltz
from boltz.dbn import DBN
from boltz.diagnostics import code_stats, dbn_report, dependence_on_given, mdbn_report
from boltz.errors import DataError
from boltz.multimodal import MultimodalDBN


def test_code_stats_counts_weak_and_saturated_units():
    rng = np.random.default_rng(0)
    n = 200
    H = np.column_stack(
        [
            np.full(n, 0.5),  # constant: weakly driven, not saturated
            np.full(n, 0.001),  # always off: weakly driven and saturated
            rng.random(n),  # informative
            (rng.random(n) < 0.5).astype(float),  # switches between 0 and 1: saturated
        ]
    )
    s = code_stats("x", H)
    assert s.n_units == 4
    assert s.weakly_driven == pytest.approx(0.5)
    # saturated = probability at an extreme for nearly every item (no gradient flows),
    # whether or not the unit switches: columns 1 and 3
    assert s.saturated == pytest.approx(0.5)
    assert s.mean_activation == pytest.approx(H.mean())
    assert s.probe_accuracy is None
    assert set(s.as_dict()) >= {"name", "weakly_driven", "saturated", "probe_accuracy"}


def test_probe_reads_label_information():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    informative = np.eye(3)[y] * 0.8 + 0.1 + 0.05 * rng.random((300, 3))
    noise = rng.random((300, 3))
    assert code_stats("a", informative, y).probe_accuracy > 0.95
    assert code_stats("b", noise, y).probe_accuracy < 0.5


def test_code_stats_rejects_bad_input():
    with pytest.raises(DataError):
        code_stats("x", np.zeros(5))
    with pytest.raises(DataError, match="labels"):
        code_stats("x", np.zeros((5, 2)), y=[0, 1])
    with pytest.raises(DataError, match="two classes"):
        code_stats("x", np.random.default_rng(0).random((6, 2)), y=[0] * 6)


def _rbm(n, **kw):
    return boltz.RBM(n, epochs=10, batch_size=10, progress=False, random_state=0, **kw)


def _copies(n=200, seed=0):
    rng = np.random.default_rng(seed)
    proto = (rng.random((4, 16)) < 0.5).astype(float)
    y = rng.integers(0, 4, n)
    flip = lambda a: np.abs(a - (rng.random(a.shape) < 0.05))  # noqa: E731
    return {"a": flip(proto[y]), "b": flip(proto[y])}, y


def test_dbn_report_has_one_row_per_layer():
    X, y = _copies()
    dbn = DBN([_rbm(8), _rbm(6)]).fit(X["a"])
    rows = dbn_report(dbn, X["a"], y, prefix="a ")
    assert [r.name for r in rows] == ["a layer 0", "a layer 1"]
    assert [r.n_units for r in rows] == [8, 6]
    assert rows[0].probe_accuracy > 0.9


def test_mdbn_report_and_dependence_on_given():
    X, y = _copies()
    m = MultimodalDBN(
        {"a": DBN([_rbm(8)]), "b": DBN([_rbm(8)])},
        joint=_rbm(12),
        finetune_epochs=20,
        finetune_learning_rate=0.01,
        random_state=0,
    ).fit(X)
    rows = mdbn_report(m, X, y)
    names = [r.name for r in rows]
    assert names == [
        "a layer 0",
        "b layer 0",
        "joint (all views)",
        "joint (a only)",
        "joint (b only)",
    ]
    assert rows[0].probe_accuracy > 0.9
    assert rows[-1].probe_accuracy > 0.6  # 4 classes: chance 0.25
    dep = dependence_on_given(m, "b", {"a": X["a"]})
    assert dep["spread"] > 0.03
    assert dep["shuffle_change"] > 0.8

    # a generator that ignores its input: identical rows in, no change from shuffling
    same = {"a": np.repeat(X["a"][:1], len(y), axis=0)}
    assert dependence_on_given(m, "b", same)["shuffle_change"] == pytest.approx(0.0)
