"""The constraint vocabulary of boltz.constraints and the estimators' tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from boltz.constraints import (
    NAMED,
    Check,
    Interval,
    Options,
    SequenceOf,
    describe,
    make_constraint,
    validate_params,
    validate_value,
)
from boltz.errors import ConfigError


@pytest.mark.parametrize(
    ("constraint", "good", "bad"),
    [
        (Interval(int, 1, None), [1, 5, np.int64(3)], [0, -1, 1.0, True, "2", None]),
        (Interval(float, 0, None, closed="neither"), [1e-9, 3, 2.5], [0, -1, math.inf, math.nan]),
        (Interval(float, 0, 1, closed="left"), [0, 0.5, np.float32(0.9)], [1, -0.1, False]),
        (Options("auto", True, False), ["auto", True, False, 1, 0], ["full", 2, None]),
        (SequenceOf(str, min_len=1), [["a"], ("a", "b")], [[], "ab", [1], None]),
        (make_constraint(None), [None], [0, ""]),
        (make_constraint(dict), [{}], [[]]),
        (NAMED["random_state"], [None, 0, 7], [-1, 1.5, True]),
        (NAMED["device"], ["auto", "cpu", "gpu", "cuda"], ["tpu", "gpu:1", 0]),
        (NAMED["progress"], ["auto", None, True, False], ["yes", 2]),
        (NAMED["dtype"], ["float32", "float64", np.float32], ["float16", "int8"]),
        (NAMED["boolean"], [True, np.bool_(False)], [1, "yes"]),
    ],
)
def test_constraints_accept_and_refuse(constraint, good, bad):
    c = make_constraint(constraint)
    assert all(c.is_satisfied_by(v) for v in good)
    assert not any(c.is_satisfied_by(v) for v in bad)


def test_descriptions_read_as_english():
    assert str(Interval(int, 0, None)) == "an integer >= 0"
    assert str(Interval(float, 0, None, closed="neither")) == "a number > 0"
    assert str(Interval(float, 0, 1, closed="left")) == "a number in [0, 1)"
    assert describe([None, Interval(int, 1, None)]) == "None or an integer >= 1"
    assert str(Options("a", "b", "c")) == "'a', 'b' or 'c'"


def test_what_words_the_message_and_changes_nothing_else():
    finite = Interval(float, 0, None, what="a finite number >= 0")
    assert str(finite) == "a finite number >= 0"
    assert finite.is_satisfied_by(0.0) and not finite.is_satisfied_by(np.nan)
    kernel = Options("rbf", "linear", what="one of ('rbf', 'linear')")
    assert kernel.is_satisfied_by("rbf") and not kernel.is_satisfied_by("poly")
    with pytest.raises(ConfigError, match=r"kernel must be one of \('rbf', 'linear'\); got 'x'"):
        validate_value("x", [kernel], "kernel")


def test_validate_value_messages_and_types():
    with pytest.raises(ConfigError, match=r"n_chains must be None or an integer >= 1; got 0\."):
        validate_value(0, [None, Interval(int, 1, None)], "n_chains")
    with pytest.raises(ValueError, match=r"cupy\.cuda\.Device"):  # the vocabulary's own message
        validate_value("gpu:1", ["device"], "device")
    assert validate_value(3, [Check(lambda v: v % 3 == 0, "a multiple of 3")], "n") == 3
    with pytest.raises(ConfigError, match="n must be a multiple of 3; got 4"):
        validate_value(4, [Check(lambda v: v % 3 == 0, "a multiple of 3")], "n")


def test_a_plain_callable_is_described_by_its_docstring():
    def even(v):
        """an even number."""
        return v % 2 == 0

    with pytest.raises(ConfigError, match="k must be an even number; got 3"):
        validate_value(3, [even], "k")


def test_validate_params_on_dicts_and_estimators():
    table = {"k": [Interval(int, 1, None)], "seed": ["random_state"]}
    assert validate_params({"k": 2, "other": "x"}, table) == {"k": 2}
    with pytest.raises(ConfigError, match="seed must be None or an integer >= 0"):
        validate_params({"k": 2, "seed": -1}, table)

    class Est:
        _parameter_constraints = table

        def get_params(self, deep=False):
            return {"k": 0, "seed": None}

    with pytest.raises(ConfigError, match="k must be an integer >= 1; got 0"):
        validate_params(Est())
    with pytest.raises(TypeError, match="no _parameter_constraints"):
        validate_params(object())


def test_unknown_constraint_specs_are_programming_errors():
    with pytest.raises(ValueError, match="unknown constraint name"):
        make_constraint("positive")
    with pytest.raises(TypeError):
        make_constraint(3)
