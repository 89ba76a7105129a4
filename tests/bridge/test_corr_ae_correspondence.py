"""CorrAE(correspondence="normalized"): the code distance over the codes' minibatch spread."""

from __future__ import annotations

import pytest
import torch

from boltz.errors import ConfigError
from bridge.models.corr_ae import CorrAE
from bridge.synthetic import make_paired_views


@pytest.fixture(scope="module")
def views():
    return make_paired_views(120, dims=(30, 6), random_state=0)[0]


def _loss(m: CorrAE, X: dict, **params) -> float:
    m.set_params(**params)
    with torch.no_grad():
        return float(m._loss(m.module_, X, torch.Generator().manual_seed(0)))


@pytest.mark.parametrize("scale", ["sum", "mean"])
def test_normalized_term_is_the_distance_over_the_spread(views, scale):
    m = CorrAE(n_components=4, hidden=(8,), epochs=1, loss_scale=scale, progress=False)
    m.fit(views)
    X = m._tensors(views)
    a = 0.4
    rec = _loss(m, X, alpha=0.0)

    def corr_term(kind: str) -> float:  # L(a) = (1 - a) rec + a corr
        return (_loss(m, X, alpha=a, correspondence=kind) - (1 - a) * rec) / a

    with torch.no_grad():
        z = [m.module_.code(i, X[k]) for i, k in enumerate(m.view_names_)]
    spread = float((z[0].var(0, unbiased=False).sum() + z[1].var(0, unbiased=False).sum()) / 2)
    assert corr_term("normalized") == pytest.approx(
        corr_term("distance") / (spread + 1e-6), rel=1e-4
    )


def test_normalized_codes_keep_a_spread_where_the_distance_collapses():
    # at alpha close to 1 the paper's code distance pulls both codes to one point; the
    # normalized term cannot be lowered that way
    views, _ = make_paired_views(300, dims=(12, 8), latent=3, random_state=0)
    std = {}
    for kind in ("distance", "normalized"):
        m = CorrAE(
            n_components=4,
            alpha=0.99,
            hidden=(16,),
            epochs=40,
            correspondence=kind,
            center=False,
            monitor="loss",
            random_state=0,
            progress=False,
        ).fit(views)
        std[kind] = min(float(z.std(0).mean()) for z in m.transform(views).values())
    assert std["normalized"] > 2 * std["distance"], std


def test_bad_correspondence_is_a_config_error(views):
    with pytest.raises(ConfigError, match="correspondence"):
        CorrAE(correspondence="cosine", epochs=1).fit(views)
