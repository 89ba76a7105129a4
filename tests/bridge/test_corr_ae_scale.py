"""CorrAE(loss_scale): the paper's summed squared norms against per-unit means."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boltz.errors import ConfigError
from bridge.models.corr_ae import CorrAE
from bridge.synthetic import make_paired_views


@pytest.fixture(scope="module")
def views():
    v, _ = make_paired_views(120, dims=(30, 6), random_state=0)
    return v


def _loss(m: CorrAE, V: dict) -> float:
    X = m._tensors(V)
    with torch.no_grad():
        return float(m._loss(m.module_, X, torch.Generator().manual_seed(0)))


@pytest.mark.parametrize("variant", ["corr", "cross", "full"])
def test_mean_scale_divides_every_term_by_its_width(views, variant):
    kw = dict(n_components=4, variant=variant, alpha=0.3, hidden=(8,), epochs=1, progress=False)
    m = CorrAE(**kw).fit(views)
    mod = m.module_
    X = m._tensors(views)
    xs = [X[k] for k in m.view_names_]
    with torch.no_grad():
        z = [mod.code(i, x) for i, x in enumerate(xs)]
        rec = [
            dec.loss(mod.top(j, z[s]), xs[t])
            for j, (dec, (s, t)) in enumerate(zip(mod.decoders, mod.pairs))
        ]
        corr = (z[0] - z[1]).pow(2).sum(1)
        widths = [xs[t].shape[1] for _, t in mod.pairs]
        want_sum = (0.7 * sum(rec) + 0.3 * corr).mean()
        want_mean = (0.7 * sum(r / w for r, w in zip(rec, widths)) + 0.3 * corr / 4).mean()
    assert _loss(m, views) == pytest.approx(float(want_sum), rel=1e-5)
    m.set_params(loss_scale="mean")
    assert _loss(m, views) == pytest.approx(float(want_mean), rel=1e-5)
    assert float(want_mean) < float(want_sum) / 5  # the widths (30 and 6) matter


def test_mean_scale_trains_differently_and_bad_value(views):
    kw = dict(n_components=4, hidden=(8,), epochs=3, progress=False)
    a = CorrAE(**kw).fit(views).transform(views)["view0"]
    b = CorrAE(loss_scale="mean", **kw).fit(views).transform(views)["view0"]
    assert not np.allclose(a, b)
    with pytest.raises(ConfigError, match="loss_scale"):
        CorrAE(loss_scale="max", **kw).fit(views)
