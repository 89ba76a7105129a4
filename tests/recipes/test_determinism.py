"""Same seed, same numbers: the recipes without a determinism test of their own.

(demo, pretrain, rbm_wikipedia, hrl, compare, drumn, sdml and dm2c check it in
their own test files.)
"""

from __future__ import annotations

from typing import Any


def _numbers(m: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in m.items() if "seconds" not in k}


def test_rbm_digits_smoke_is_deterministic(tmp_path):
    from recipes.rbm_digits import main

    a = main(["--smoke", "--out", str(tmp_path / "a"), "-q", "--seed", "4"])
    b = main(["--smoke", "--out", str(tmp_path / "b"), "-q", "--seed", "4"])
    assert _numbers(a) == _numbers(b)
    c = main(["--smoke", "--out", str(tmp_path / "c"), "-q", "--seed", "5"])
    assert _numbers(c) != _numbers(a)


def test_tags_smoke_is_deterministic(data_dir, tmp_path):
    from recipes.tags import main

    args = ["--smoke", "--data", str(data_dir), "-q", "--seed", "2"]
    a = main([*args, "--out", str(tmp_path / "a")])
    b = main([*args, "--out", str(tmp_path / "b")])
    assert _numbers(a) == _numbers(b)
    assert (tmp_path / "a" / "generated.tsv").read_text() == (
        tmp_path / "b" / "generated.tsv"
    ).read_text()
