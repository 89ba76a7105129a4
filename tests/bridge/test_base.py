"""bridge.base: the shared validation of every multi-view model and the sklearn contract."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SkNotFittedError

from boltz.errors import ConfigError, DataError, DataTypeError, NotFittedError
from bridge.base import MultiViewModel, check_n_components, validate_labels, validate_views
from bridge.baselines import CCA, CFA, KCCA


class ColumnMeans(MultiViewModel):
    """Smallest concrete model: embeds each view by its centered row mean (1 to 3 views)."""

    min_views = 1
    max_views = 3

    def __init__(self, scale: float = 1.0, allow_nan_rows: bool = False) -> None:
        self.scale = scale
        self.allow_nan_rows = allow_nan_rows

    def fit(self, views, y=None, views_val=None, y_val=None):
        V, Y, V_val, Y_val = self._validate_fit(
            views, y, views_val, y_val, allow_nan_rows=self.allow_nan_rows
        )
        self.means_ = {k: np.nanmean(X, axis=0) for k, X in V.items()}
        self.seen_ = (Y, V_val, Y_val)
        return self

    def transform(self, views):
        V = self._validate_transform(views, allow_nan_rows=self.allow_nan_rows)
        return {
            k: self.scale * (X - self.means_[k]).mean(axis=1, keepdims=True) for k, X in V.items()
        }


def two_views(n=6, da=3, db=2, seed=0):
    rng = np.random.default_rng(seed)
    return {"image": rng.normal(size=(n, da)), "text": rng.normal(size=(n, db))}


# ------------------------------------------------------------------ validate_views


def test_validate_views_returns_float_arrays_in_order_without_copy():
    v = two_views()
    v["text"] = v["text"].astype(np.float32)
    out = validate_views({"text": v["text"], "image": v["image"]})
    assert list(out) == ["text", "image"]
    assert out["image"] is v["image"]  # float64 in, no copy
    assert out["text"].dtype == np.float32  # float32 kept
    out64 = validate_views(v, dtype=np.float64)
    assert out64["text"].dtype == np.float64


def test_validate_views_converts_ints_bools_lists_and_numeric_objects():
    out = validate_views(
        {
            "i": np.arange(6).reshape(3, 2),
            "b": np.ones((3, 1), dtype=bool),
            "l": [[1, 2], [3, 4], [5, 6]],
            "o": np.array([[1, 2.5], [3, 4], [5, 6]], dtype=object),
        }
    )
    for A in out.values():
        assert A.dtype == np.float64 and A.ndim == 2
    np.testing.assert_array_equal(out["o"], [[1, 2.5], [3, 4], [5, 6]])


@pytest.mark.parametrize("bad", [[np.zeros((2, 2))], np.zeros((2, 2)), "image", None, 3])
def test_views_not_a_mapping(bad):
    with pytest.raises(DataTypeError, match=r"views must be a dict.*got"):
        validate_views(bad)


def test_views_error_uses_given_argument_name():
    with pytest.raises(DataTypeError, match=r"views_val must be a dict.*got list"):
        validate_views([], name="views_val")


def test_empty_dict():
    with pytest.raises(DataError, match="views is an empty dict"):
        validate_views({})


def test_non_string_names():
    with pytest.raises(DataTypeError, match=r"string keys.*got 0 of type int"):
        validate_views({0: np.zeros((2, 2)), "text": np.zeros((2, 2))})


@pytest.mark.parametrize(
    "X, pattern",
    [
        (np.zeros(5), r"views\['a'\] must be a 2-D array.*1-D array of shape \(5,\)"),
        (np.zeros((2, 2, 2)), r"views\['a'\] must be a 2-D array.*3-D"),
        (np.zeros((0, 3)), r"views\['a'\] must have at least one row and one column"),
        (np.zeros((3, 0)), r"at least one row and one column; got shape \(3, 0\)"),
    ],
)
def test_bad_shapes(X, pattern):
    with pytest.raises(DataError, match=pattern):
        validate_views({"a": X})


@pytest.mark.parametrize(
    "X, pattern",
    [
        (np.array([["a", "b"], ["c", "d"]]), r"views\['a'\] must hold real numbers.*dtype <U1"),
        (np.array([[1, "x"], [2, 3]], dtype=object), r"views\['a'\] has dtype object"),
        (np.ones((2, 2), dtype=complex), r"must hold real numbers.*complex"),
        (np.array([["2020-01-01"]], dtype="datetime64[D]"), r"must hold real numbers"),
        (sp.random(4, 3, density=0.5, format="csr"), r"scipy.sparse.*toarray"),
        (None, r"views\['a'\] must be a 2-D array of numbers; got None"),
    ],
)
def test_bad_types(X, pattern):
    with pytest.raises(DataTypeError, match=pattern):
        validate_views({"a": X})


def test_ragged_list():
    with pytest.raises(DataTypeError, match="could not be converted"):
        validate_views({"a": [[1.0, 2.0], [3.0]]})


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nan_inf(value):
    v = two_views()
    v["text"] = v["text"].copy()
    v["text"][2, 1] = value
    with pytest.raises(DataError, match=r"views\['text'\] contains NaN or inf"):
        validate_views(v)


def test_rows_differ():
    v = two_views()
    v["text"] = v["text"][:4]
    with pytest.raises(DataError, match=r"same number of rows.*'image': 6, 'text': 4"):
        validate_views(v)


def test_unknown_name_against_fitted():
    with pytest.raises(DataError, match=r"unknown view name\(s\) \['audio'\].*\['image', 'text'\]"):
        validate_views({"audio": np.zeros((2, 2))}, fitted_names=("image", "text"))


def test_subset_allowed_or_required_complete():
    v = two_views()
    out = validate_views({"text": v["text"]}, fitted_names=("image", "text"))
    assert list(out) == ["text"]
    with pytest.raises(DataError, match=r"must hold every fitted view.*missing \['image'\]"):
        validate_views({"text": v["text"]}, fitted_names=("image", "text"), allow_subset=False)


def test_wrong_n_features():
    v = two_views(da=3)
    with pytest.raises(DataError, match=r"views\['image'\] has 3 features.*fitted with 4"):
        validate_views(v, n_features={"image": 4, "text": 2})


@pytest.mark.parametrize(
    "kw, n, pattern",
    [
        ({"min_views": 2, "max_views": 2}, 1, "exactly 2 view"),
        ({"min_views": 2, "max_views": 2}, 3, "exactly 2 view"),
        ({"min_views": 2}, 1, "at least 2 view"),
        ({"min_views": 1, "max_views": 2}, 3, "at least 1 and at most 2 view"),
    ],
)
def test_number_of_views(kw, n, pattern):
    views = {f"v{i}": np.zeros((2, 2)) for i in range(n)}
    with pytest.raises(DataError, match=pattern):
        validate_views(views, **kw)


def test_nan_rows_mark_missing_views_when_allowed():
    v = two_views()
    v["image"] = v["image"].copy()
    v["image"][1] = np.nan
    out = validate_views(v, allow_nan_rows=True)
    assert np.isnan(out["image"][1]).all()
    with pytest.raises(DataError, match="NaN or inf"):
        validate_views(v)


def test_nan_rows_partial_inf_and_all_missing_are_errors():
    v = two_views()
    img = v["image"].copy()
    img[1, 0] = np.nan
    with pytest.raises(DataError, match=r"1 row\(s\) that are only partly NaN \(first: row 1\)"):
        validate_views({**v, "image": img}, allow_nan_rows=True)
    img = v["image"].copy()
    img[1, 0] = np.inf
    with pytest.raises(DataError, match="contains inf"):
        validate_views({**v, "image": img}, allow_nan_rows=True)
    img, txt = v["image"].copy(), v["text"].copy()
    img[3] = np.nan
    txt[3] = np.nan
    with pytest.raises(
        DataError, match=r"missing \(all-NaN\) in every given view \(first: row 3\)"
    ):
        validate_views({"image": img, "text": txt}, allow_nan_rows=True)


def test_caller_data_unmodified():
    v = two_views()
    v["ints"] = np.arange(12).reshape(6, 2)
    before = {k: a.copy() for k, a in v.items()}
    model = ColumnMeans().fit(v)
    model.transform(v)
    for k in v:
        np.testing.assert_array_equal(v[k], before[k])


# ------------------------------------------------------------------ validate_labels


def test_validate_labels_accepts_ids_strings_indicators_and_none():
    assert validate_labels(None, 3) is None
    np.testing.assert_array_equal(validate_labels([1, 2, 1], 3), [1, 2, 1])
    assert validate_labels(["a", "b", "a"], 3).dtype.kind == "U"
    assert validate_labels(np.eye(3, dtype=int), 3).shape == (3, 3)


@pytest.mark.parametrize(
    "y, exc, pattern",
    [
        ([1, 2], DataError, r"y has 2 labels, but the views have 3 rows"),
        (np.zeros((4, 2)), DataError, r"y has 4 labels"),
        (np.zeros((3, 1, 1)), DataError, r"1-D class labels.*3-D"),
        (5, DataError, r"0-D"),
        ([1.0, np.nan, 2.0], DataError, "NaN"),
        (sp.eye(3, format="csr"), DataTypeError, "sparse"),
        ([[1], [2, 3], [4]], DataTypeError, "could not be converted"),
    ],
)
def test_validate_labels_errors(y, exc, pattern):
    with pytest.raises(exc, match=pattern):
        validate_labels(y, 3)


# ------------------------------------------------------------------ check_n_components


@pytest.mark.parametrize("k", [0, -1, 2.0, True, None, "3"])
def test_n_components_type(k):
    with pytest.raises(ConfigError, match="n_components must be an integer >= 1"):
        check_n_components(k, 5, "test")


def test_n_components_limit():
    assert check_n_components(np.int64(5), 5, "x") == 5
    with pytest.raises(ConfigError, match=r"n_components=6 is too large: at most 5.*\(because\)"):
        check_n_components(6, 5, "because")


# ------------------------------------------------------------------ MultiViewModel


def test_base_is_abstract():
    with pytest.raises(TypeError):
        MultiViewModel()


def test_fit_sets_view_names_and_n_features():
    v = {"text": np.zeros((4, 2)), "image": np.ones((4, 5))}
    m = ColumnMeans().fit(v)
    assert m.view_names_ == ("text", "image")
    assert m.n_features_in_ == {"text": 2, "image": 5}
    assert set(m.transform({"image": v["image"]})) == {"image"}


def test_fit_validates_labels_and_validation_views():
    v = two_views()
    m = ColumnMeans().fit(v, y=np.arange(6), views_val=two_views(n=3, seed=1), y_val=[0, 1, 2])
    Y, V_val, Y_val = m.seen_
    assert Y.shape == (6,) and V_val["image"].shape == (3, 3) and Y_val.shape == (3,)
    with pytest.raises(DataError, match=r"^y has 5 labels"):
        ColumnMeans().fit(v, y=np.arange(5))
    with pytest.raises(DataError, match=r"^y_val has 2 labels, but the views have 3 rows"):
        ColumnMeans().fit(v, views_val=two_views(n=3), y_val=[0, 1])
    with pytest.raises(DataError, match="y_val was given without views_val"):
        ColumnMeans().fit(v, y_val=[0, 1])
    with pytest.raises(DataError, match=r"views_val must hold every fitted view.*\['text'\]"):
        ColumnMeans().fit(v, views_val={"image": np.zeros((3, 3))})
    with pytest.raises(DataError, match=r"views_val has unknown view name\(s\) \['audio'\]"):
        ColumnMeans().fit(v, views_val={**two_views(n=3), "audio": np.zeros((3, 1))})
    with pytest.raises(DataError, match=r"views_val\['text'\] has 4 features.*fitted with 2"):
        ColumnMeans().fit(v, views_val={"image": np.zeros((3, 3)), "text": np.zeros((3, 4))})


def test_fit_respects_min_max_views():
    with pytest.raises(DataError, match=r"at least 1 and at most 3 view\(s\); got 4"):
        ColumnMeans().fit({f"v{i}": np.zeros((2, 1)) for i in range(4)})
    for cls in (CCA, KCCA, CFA):
        with pytest.raises(DataError, match=r"exactly 2 view\(s\); got 1"):
            cls().fit({"a": np.zeros((5, 3))})


def test_transform_errors_after_fit():
    m = ColumnMeans().fit(two_views())
    with pytest.raises(DataError, match="unknown view name"):
        m.transform({"audio": np.zeros((2, 3))})
    with pytest.raises(DataError, match=r"views\['image'\] has 2 features.*fitted with 3"):
        m.transform({"image": np.zeros((2, 2))})
    with pytest.raises(DataError, match="views is an empty dict"):
        m.transform({})


def test_transform_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet") as info:
        ColumnMeans().transform(two_views())
    assert isinstance(info.value, SkNotFittedError)


def test_fit_transform_and_missing_rows_model():
    v = two_views()
    v["image"] = v["image"].copy()
    v["image"][0] = np.nan
    out = ColumnMeans(allow_nan_rows=True).fit_transform(v)
    assert np.isnan(out["image"][0]).all() and np.isfinite(out["text"]).all()


def test_errors_subclass_builtins():
    with pytest.raises(ValueError):
        validate_views({})
    with pytest.raises(TypeError):
        validate_views([])


# ------------------------------------------------------------------ sklearn contract


@pytest.mark.parametrize(
    "est",
    [
        ColumnMeans(scale=2.0),
        CCA(n_components=2, reg=0.1),
        CFA(n_components=2),
        KCCA(n_components=2, kernel="poly", gamma={"image": 0.5, "text": 1.0}, degree=2),
    ],
)
def test_get_set_params_clone(est):
    params = est.get_params()
    c = clone(est)
    assert c is not est and c.get_params() == params
    est.fit(two_views(n=20, seed=3))
    c2 = clone(est)
    assert not hasattr(c2, "view_names_")
    first = next(iter(params))
    c2.set_params(**{first: params[first]})
    assert c2.get_params() == params
    assert type(est).__name__ in repr(est)


def test_set_params_changes_fit():
    v = two_views(n=30)
    m = CCA(n_components=1)
    assert m.set_params(n_components=2) is m
    assert m.fit(v).transform(v)["image"].shape == (30, 2)


def test_init_stores_only():
    # sklearn rule: no validation in __init__, errors surface at fit.
    m = CCA(n_components=-3, reg="x")
    assert m.n_components == -3 and m.reg == "x"
    with pytest.raises(ConfigError):
        m.fit(two_views())


def test_no_torch_import():
    code = (
        "import sys, bridge.base, bridge.baselines, bridge.synthetic;"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_failed_refit_leaves_an_unfitted_model():
    v = two_views(n=30)
    m = CCA(n_components=2).fit(v)
    assert hasattr(m, "correlations_")
    with pytest.raises(ConfigError):
        m.set_params(n_components=5).fit(v)  # fails after validation
    assert not hasattr(m, "correlations_")  # stale state removed
    with pytest.raises(NotFittedError):
        m.transform(v)
