"""The core installs and works without PyTorch (issue: torch is the ``bridge`` extra).

A fresh interpreter sees every installed package but torch: ``-S`` (no site-packages)
plus a folder of links to the site-packages entries, torch's left out.  boltz must fit,
save and load its models there; the parts that need torch must say which extra to
install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TORCH_PARTS = ("torch", "functorch", "torchgen", "triton", "nvidia")

_CHECK = textwrap.dedent(
    r"""
    import sys
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    import importlib.util
    assert importlib.util.find_spec("torch") is None, "torch is still visible"
    import numpy as np
    import boltz
    from boltz import config, pretraining

    rng = np.random.default_rng(0)
    X = (rng.random((60, 12)) > 0.5).astype("float32")
    rbm = boltz.RBM(n_hidden=4, epochs=2, random_state=0, progress=False).fit(X)
    dbn = boltz.DBN([boltz.RBM(n_hidden=5, epochs=1), boltz.RBM(n_hidden=3, epochs=1)],
                    random_state=0).fit(X)
    views = {"a": X[:, :6], "b": X[:, 6:]}
    mdbn = boltz.MultimodalDBN(
        pathways={k: boltz.DBN([boltz.RBM(n_hidden=4, epochs=1)]) for k in views},
        joint=boltz.RBM(n_hidden=4, epochs=1), random_state=0,
    ).fit(views)
    out = sys.argv[3]
    for name, m in (("rbm", rbm), ("dbn", dbn), ("mdbn", mdbn)):
        m.save(f"{out}/{name}.npz")
        boltz.load(f"{out}/{name}.npz")
    np.testing.assert_array_equal(boltz.load(f"{out}/rbm.npz").transform(X), rbm.transform(X))
    mdbn.generate("b", given={"a": views["a"]})
    import bridge.metrics, bridge.baselines  # numpy-only parts of bridge
    from boltz.errors import MissingDependencyError
    import importlib
    for name in ("bridge.models.dcca", "bridge.export", "recipes.hrl", "bridge.models:DCCA"):
        module, _, attr = name.partition(":")
        try:
            m = importlib.import_module(module)
            if attr:
                getattr(m, attr)
        except MissingDependencyError as e:
            assert "boltz-mdbn[bridge]" in str(e) and isinstance(e, ImportError), e
        else:
            raise AssertionError(f"{name} imported without torch")
    assert not any(m.split(".")[0] == "torch" for m in sys.modules)
    print("ok")
    """
)


def _site_without_torch(tmp: Path) -> Path:
    site = Path(sysconfig.get_paths()["purelib"])
    links = tmp / "site"
    links.mkdir()
    for entry in site.iterdir():
        low = entry.name.lower()
        if low.startswith(TORCH_PARTS) or low.endswith(".pth") or low.startswith("__editable__"):
            continue
        if entry.name in ("boltz", "bridge", "recipes"):
            continue
        (links / entry.name).symlink_to(entry)
    return links


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_boltz_works_and_bridge_names_the_extra_without_torch(tmp_path):
    site = _site_without_torch(tmp_path)
    done = subprocess.run(
        [sys.executable, "-S", "-c", _CHECK, str(REPO), str(site), str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def test_the_finder_is_a_last_resort_and_installed_once():
    import bridge  # noqa: F401
    from bridge.extras import MissingTorchFinder, install

    install()
    finders = [f for f in sys.meta_path if isinstance(f, MissingTorchFinder)]
    assert len(finders) == 1
    assert finders[0].find_spec("numpy") is None
    from boltz.errors import MissingDependencyError

    with pytest.raises(MissingDependencyError, match=r"pip install 'boltz-mdbn\[bridge\]'"):
        finders[0].find_spec("torch.nn")
