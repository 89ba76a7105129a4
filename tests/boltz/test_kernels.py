"""The optional compiled kernels: bitwise equal to NumPy, and a clean fallback without them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boltz import _kernels
from boltz.backend import get_backend

needs_kernels = pytest.mark.skipif(
    _kernels._compiler() is None or not _kernels.available(),
    reason="no C compiler here (or BOLTZ_KERNELS=0): the NumPy paths are the only ones",
)


def test_kernels_build_where_a_compiler_exists():
    if _kernels._compiler() is None:
        pytest.skip("no C compiler on this machine")
    if os.environ.get("BOLTZ_KERNELS", "1") == "0":
        pytest.skip("disabled by BOLTZ_KERNELS=0")
    assert _kernels.available()


@needs_kernels
@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 5000),
    dtype=st.sampled_from([np.float32, np.float64]),
    skew=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
    in_place=st.booleans(),
)
def test_bernoulli_is_numpys_stream_bit_for_bit(n, dtype, skew, seed, in_place):
    ref, new = np.random.default_rng(seed), np.random.default_rng(seed)
    for _ in range(skew):  # odd skews leave half a 64-bit output buffered
        ref.random(dtype=np.float32)
        new.random(dtype=np.float32)
    p = np.random.default_rng(seed + 1).random(n).astype(dtype)
    want = (ref.random(n, dtype=dtype) < p).astype(dtype)
    out = p if in_place else np.empty_like(p)
    assert _kernels.bernoulli(new, p, out)
    np.testing.assert_array_equal(out, want)
    assert new.bit_generator.state == ref.bit_generator.state
    assert new.random() == ref.random()  # and the streams go on together


@needs_kernels
def test_bernoulli_frequencies():
    rng = np.random.default_rng(0)
    p = np.repeat(np.array([0.0, 0.01, 0.3, 0.5, 0.97, 1.0], np.float32), 200_000)
    s = np.empty_like(p)
    assert _kernels.bernoulli(rng, p, s)
    freq = s.reshape(6, -1).mean(axis=1)
    np.testing.assert_allclose(freq, [0.0, 0.01, 0.3, 0.5, 0.97, 1.0], atol=4e-3)


@needs_kernels
def test_kernels_decline_what_they_do_not_cover():
    p = np.full((8, 6), 0.5, np.float32)
    for rng in (np.random.Generator(np.random.Philox(0)), np.random.RandomState(0)):
        assert not _kernels.bernoulli(rng, p, np.empty_like(p))
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    assert not _kernels.bernoulli(rng, p[:, ::2], np.empty((8, 3), np.float32))  # strided
    assert not _kernels.bernoulli(rng, p.astype(np.float16), np.empty((8, 6), np.float16))
    assert not _kernels.bernoulli(rng, p, np.empty((8, 6), np.float64))  # mixed dtypes
    assert rng.bit_generator.state == before  # nothing drawn when declined
    assert not _kernels.affine_half(p, np.zeros(5, np.float32))  # wrong bias length
    assert not _kernels.half_shift(p.T)  # not C-contiguous


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_with_bias_matches_the_numpy_formula(dtype):
    be = get_backend("cpu", dtype)
    x = (np.random.default_rng(0).standard_normal((37, 53)) * 20).astype(dtype)
    x[0, :3] = [np.inf, -np.inf, 0.0]
    b = np.random.default_rng(1).standard_normal(53).astype(dtype)
    want = np.tanh((x + b) * dtype(0.5)) * dtype(0.5) + dtype(0.5)
    np.testing.assert_array_equal(be.sigmoid(x, bias=b), want)  # out of place
    y = x.copy()
    assert be.sigmoid(y, out=y, bias=b) is y  # in place: the fused kernel
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(be.sigmoid(x[:, ::2], bias=b[::2]), want[:, ::2])  # strided
    z = x.copy()
    np.testing.assert_array_equal(be.sigmoid(z, out=z), np.tanh(x * dtype(0.5)) * 0.5 + 0.5)


_FIT = textwrap.dedent(
    """
    import hashlib, numpy as np, scipy.sparse as sp, boltz
    from boltz import _kernels
    rng = np.random.default_rng(0)
    Xb = (rng.random((96, 40)) < 0.3).astype(np.float32)
    Xg = rng.standard_normal((96, 40))
    Xs = sp.csr_matrix(rng.poisson(0.4, (96, 40)).astype(np.float32))
    h = hashlib.sha256()
    for X, kw in [(Xb, {}), (Xb, {"persistent": True, "k": 2}), (Xg, {"visible": "gaussian"}),
                  (Xs, {"visible": "softmax"}), (Xb, {"dtype": "float64"})]:
        r = boltz.RBM(n_hidden=11, epochs=2, batch_size=16, random_state=5, progress=False, **kw)
        for k, v in sorted(r.fit(X).model_.to_host().items()):
            h.update(k.encode() + np.ascontiguousarray(v).tobytes())
    print(_kernels.available(), h.hexdigest())
    """
)


def _fit_in_subprocess(tmp_path, **env) -> tuple[str, str]:
    e = {**os.environ, "BOLTZ_CACHE_DIR": str(tmp_path / "cache"), **env}
    res = subprocess.run(
        [sys.executable, "-c", _FIT], capture_output=True, text=True, env=e, timeout=300
    )
    assert res.returncode == 0, res.stderr
    avail, digest = res.stdout.split()
    return avail, digest


@needs_kernels
def test_training_is_bitwise_the_same_with_and_without_kernels(tmp_path):
    on = _fit_in_subprocess(tmp_path)
    off = _fit_in_subprocess(tmp_path, BOLTZ_KERNELS="0")
    broken = _fit_in_subprocess(tmp_path / "b", CC="false")  # a compiler that always fails
    assert (on[0], off[0], broken[0]) == ("True", "False", "False")
    assert on[1] == off[1] == broken[1]
    assert list((tmp_path / "cache").glob("kernels-*.so"))  # built into the cache dir


@needs_kernels
@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 300),
    cols=st.integers(1, 130),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_half_shift_column_sums_are_numpys(rows, cols, dtype, seed):
    x = np.tanh(np.random.default_rng(seed).standard_normal((rows, cols))).astype(dtype)
    want = x * dtype(0.5) + dtype(0.5)
    sums = np.empty(cols, dtype)
    if cols == 1:  # NumPy sums a single column pairwise: the kernel leaves it to NumPy
        assert not _kernels.half_shift(x, colsum=sums)
        return
    assert _kernels.half_shift(x, colsum=sums)
    np.testing.assert_array_equal(x, want)
    np.testing.assert_array_equal(sums, want.sum(axis=0))
    assert not _kernels.half_shift(x[:0], colsum=sums)  # no rows: the NumPy path


@pytest.mark.parametrize("length", [False, True])
def test_hidden_mean_column_sums(length):
    from boltz import RBM

    rng = np.random.default_rng(0)
    X = rng.poisson(0.5, (40, 23)).astype(np.float32) if length else (rng.random((40, 23)) < 0.4)
    rbm = RBM(n_hidden=9, visible="softmax" if length else "bernoulli", epochs=1, batch_size=8)
    m = rbm.set_params(random_state=0, progress=False).fit(X.astype(np.float32)).model_
    v = X.astype(np.float32)
    lens = m.length(v)
    sums = np.empty(9, np.float32)
    ph = m.hidden_mean(v, lens, colsum=sums)
    np.testing.assert_array_equal(ph, m.hidden_mean(v, lens))
    np.testing.assert_array_equal(sums, ph.sum(axis=0))


@needs_kernels
def test_unwritable_cache_dir_falls_back_to_the_temp_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    env = {**os.environ, "BOLTZ_CACHE_DIR": str(blocker / "cache"), "TMPDIR": str(tmp_path)}
    code = "from boltz import _kernels; print(_kernels.available())"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "True"
    assert list(tmp_path.glob(f"boltz-{os.getuid()}/kernels-*.so"))
