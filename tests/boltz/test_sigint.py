"""A fit interrupted by SIGINT leaves the last complete checkpoint, and resuming from it
gives the same weights as an uninterrupted fit (CPU, bitwise)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import boltz

SCRIPT = """
import sys, time, numpy as np, boltz
X = (np.random.default_rng(0).random((2000, 64)) > 0.5).astype(np.float32)
def slow(rbm, epoch, rec):
    print("epoch", epoch, flush=True)
    time.sleep(0.3)
boltz.RBM(n_hidden=32, epochs=50, persistent=True, progress=False, random_state=0,
          checkpoint=sys.argv[1], callbacks=[slow]).fit(X)
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigint_then_resume_is_bitwise(tmp_path):
    ck = tmp_path / "r.npz"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(ck)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stdout:
            if line.startswith("epoch 2"):
                break
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    done = boltz.load(ck)
    assert 3 <= done.epoch_ < 50
    assert not list(tmp_path.glob("*.tmp"))
    X = (np.random.default_rng(0).random((2000, 64)) > 0.5).astype(np.float32)
    target = done.epoch_ + 2
    resumed = done.set_params(epochs=target, warm_start=True, callbacks=None, checkpoint=None).fit(
        X
    )
    straight = boltz.RBM(
        n_hidden=32, epochs=target, persistent=True, progress=False, random_state=0
    ).fit(X)
    np.testing.assert_array_equal(resumed.weights_, straight.weights_)
    np.testing.assert_array_equal(resumed.hidden_bias_, straight.hidden_bias_)
