"""One vocabulary for ``device`` and ``progress`` across boltz and bridge."""

from __future__ import annotations

import io

import numpy as np
import pytest

import boltz
from boltz.backend import _cupy_available, get_backend
from boltz.devices import parse_device
from boltz.errors import ConfigError, DeviceError
from boltz.progress import check_progress, progress_enabled

NO_CUPY_GPU = _cupy_available() is None


def _binary(n=64, d=8, seed=0):
    return (np.random.default_rng(seed).random((n, d)) > 0.6).astype(np.float32)


# ----------------------------------------------------------------------------- device


@pytest.mark.parametrize(
    ("given", "kind"),
    [("auto", "auto"), ("cpu", "cpu"), ("gpu", "gpu"), ("cuda", "gpu")],
)
def test_device_names_and_the_cuda_alias(given, kind):
    assert parse_device(given) == (kind, None)
    assert parse_device(given, indexed=True) == (kind, None)


def test_indexed_gpus_only_where_the_caller_can_address_them():
    assert parse_device("cuda:1", indexed=True) == ("gpu", 1)
    assert parse_device("gpu:0", indexed=True) == ("gpu", 0)
    with pytest.raises(ConfigError, match=r"cupy\.cuda\.Device\(1\)\.use\(\)"):
        parse_device("cuda:1")


@pytest.mark.parametrize("bad", ["tpu", "GPU", "cuda:", "cuda:x", "cpu:0", None, 0, "auto:1"])
def test_unknown_devices_are_a_config_error(bad):
    with pytest.raises(ConfigError, match="device must be"):
        parse_device(bad, indexed=True)
    assert issubclass(ConfigError, ValueError)


def test_boltz_accepts_cuda_for_gpu():
    rbm = boltz.RBM(4, epochs=1, progress=False, device="cuda", random_state=0)
    assert rbm.get_params()["device"] == "cuda"  # stored as given (sklearn)
    if NO_CUPY_GPU:
        with pytest.raises(DeviceError, match="device='cuda' needs CuPy"):
            rbm.fit(_binary())
    else:
        assert get_backend("cuda").name == get_backend("gpu").name == "cupy"


def test_boltz_refuses_an_unknown_device_before_training():
    with pytest.raises(ConfigError, match="device must be"):
        boltz.RBM(4, epochs=1, progress=False, device="tpu").fit(_binary())


def test_bridge_accepts_gpu_for_cuda():
    torch = pytest.importorskip("torch")
    from bridge.models._validation import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    if torch.cuda.is_available():
        assert resolve_device("gpu") == torch.device("cuda")
        assert resolve_device("gpu:0") == torch.device("cuda:0")
    else:
        for name in ("gpu", "cuda", "gpu:0", "cuda:0"):
            with pytest.raises(DeviceError, match="torch sees no CUDA device"):
                resolve_device(name)
    with pytest.raises(ConfigError, match="device must be"):
        resolve_device("cuda:x")


def test_a_bridge_model_on_gpu_without_one_is_a_device_error():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    from bridge.models import CorrAE
    from bridge.synthetic import make_paired_views

    views, _ = make_paired_views(40, dims=(6, 5), latent=2, random_state=0)
    with pytest.raises(DeviceError):
        CorrAE(hidden=(4,), n_components=2, epochs=1, device="gpu", progress=False).fit(views)


# ----------------------------------------------------------------------------- progress


@pytest.mark.parametrize("value", ["auto", None, True, False])
def test_progress_values_accepted_everywhere(value):
    assert check_progress(value) is value


@pytest.mark.parametrize("bad", ["on", "yes", 2, np.array([True])])
def test_other_progress_values_are_a_config_error(bad):
    with pytest.raises(ConfigError, match="progress must be 'auto', None, True or False"):
        check_progress(bad)


@pytest.mark.parametrize("value", ["auto", None])
def test_auto_and_none_follow_the_terminal(monkeypatch, value):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", Tty())
    assert progress_enabled(value) is True
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress_enabled(value) is False
    assert progress_enabled(True) is True and progress_enabled(False) is False


def test_boltz_takes_none_and_bridge_takes_auto():
    pytest.importorskip("torch")
    from bridge.models import CorrAE
    from bridge.synthetic import make_paired_views

    boltz.RBM(4, epochs=1, progress=None, random_state=0).fit(_binary())
    views, _ = make_paired_views(40, dims=(6, 5), latent=2, random_state=0)
    CorrAE(hidden=(4,), n_components=2, epochs=1, progress="auto").fit(views)
    with pytest.raises(ConfigError, match="progress must be"):
        CorrAE(hidden=(4,), n_components=2, epochs=1, progress="on").fit(views)
    with pytest.raises(ConfigError, match="progress must be"):
        boltz.RBM(4, epochs=1, progress="on").fit(_binary())
