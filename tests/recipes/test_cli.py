"""``boltz`` command line: ``info`` on every kind of checkpoint, ``--version``, arguments."""

from __future__ import annotations

import json

import numpy as np

import boltz
from recipes.cli import main as cli


def _paired(n=120):
    from bridge.synthetic import make_paired_views

    return make_paired_views(n, dims=(16, 24), latent=3, n_classes=3, names=("image", "text"))


def test_info_on_a_bridge_checkpoint(tmp_path, capsys):
    from bridge.models import SDML, BimodalAE

    V, y = _paired()
    BimodalAE(n_components=3, hidden=(4,), epochs=2, progress=False).fit(V).save(tmp_path / "b.pt")
    assert cli(["info", str(tmp_path / "b.pt")]) == 0
    text = capsys.readouterr().out
    assert "class:    BimodalAE" in text and "shared.weight" in text and "history:" in text
    SDML(hidden=(4,), epochs=2, progress=False).fit(V, y).save(tmp_path / "s.pt")
    assert cli(["info", str(tmp_path / "s.pt"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["class"] == "SDML" and set(out["history"]) == {"image", "text"}
    assert out["config"]["views"] == {"image": 16, "text": 24}
    (tmp_path / "junk.pt").write_bytes(b"junk")
    assert cli(["info", str(tmp_path / "junk.pt")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "CheckpointError" in err[0]


def test_info_on_a_model_directory(tmp_path, capsys):
    """An HRL.save directory: boltz .npz pathways plus the torch stages."""
    from bridge.models.hrl import HRL, HRLStage1

    V, y = _paired(160)
    V = {**V, "text": np.random.default_rng(0).poisson(2.0, (160, 24)).astype(float)}
    tr, va = slice(0, 120), slice(120, 160)
    Vt = {k: v[tr] for k, v in V.items()}
    Vv = {k: v[va] for k, v in V.items()}
    tiny = dict(friendly_hidden=(8, 8), mutual_hidden=(8, 8), joint_hidden=8, epochs=1)
    stage1 = HRLStage1(**tiny, random_state=0).fit(Vt)
    HRL(
        stage1=stage1, joint_ae_hidden=8, ff_hidden=(8, 8), n_bae_max=1, epochs=1, progress=False
    ).fit(Vt, y[tr], Vv, y[va]).save(tmp_path / "hrl")
    assert cli(["info", str(tmp_path / "hrl")]) == 0
    text = capsys.readouterr().out
    assert text.count("== ") >= 3  # stage-1 boltz checkpoints and the torch file
    assert "MultimodalDBN" in text and "DBN" in text
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli(["info", str(empty)]) == 1
    boltz.RBM(4, epochs=1, progress=False).fit(V["image"] > 0).save(empty / "r.npz")
    assert cli(["info", str(empty)]) == 0


def test_version_and_argument_checks(tmp_path, capsys):
    """d27: ``--version`` exists; ``sample --n 0`` / ``-3`` are usage errors (exit 2)."""
    assert cli(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"boltz {boltz.__version__}"
    X = (np.random.default_rng(0).random((20, 6)) > 0.5).astype(float)
    ck = boltz.RBM(4, epochs=1, progress=False).fit(X).save(tmp_path / "r.npz")
    for n in ("0", "-3", "x"):
        assert cli(["sample", str(ck), "--n", n, "--out", str(tmp_path / "s.png")]) == 2
        assert "expected an integer >= 1" in capsys.readouterr().err
    assert not (tmp_path / "s.png").exists()


def test_info_ignores_temporaries_and_names_old_files(tmp_path, capsys):
    X = (np.random.default_rng(0).random((20, 6)) > 0.5).astype(float)
    boltz.RBM(4, epochs=1, progress=False).fit(X).save(tmp_path / "r.npz")
    (tmp_path / "r.npz.boltz-tmp.host.1.abcd").write_bytes(b"partial")
    assert cli(["info", str(tmp_path)]) == 0
    import torch

    torch.save({"meta": "{}"}, tmp_path / "old.pt")
    assert cli(["info", str(tmp_path / "old.pt")]) == 1
    assert "torch.save" in capsys.readouterr().err
