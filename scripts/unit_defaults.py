"""Default learning rates of Bernoulli and Gaussian RBMs, measured (docs/rbm.md, "Defaults").

Run: ``.venv/bin/python scripts/unit_defaults.py``.

Small models (16 hidden units) so that the validation log-likelihood is exact
(enumeration of the 2^16 hidden states), on validation splits carved from the
training data only:

* Bernoulli: scikit-learn's 8x8 digits binarised at 0.5 (1347 training rows, 20 %
  of them held out), 30 epochs, batch 64.
* Gaussian: the Wikipedia SIFT-128 image features (2173 training rows, 20 % held
  out), 30 epochs, batch 64 (log-likelihood of the original-unit data); then the
  recipe's size, 512 hidden units, by AIS (32 runs x 2,000 betas).
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import boltz
from boltz.datasets import load_wikipedia_bow


def scan(name, X, unit, rates):
    Xtr, Xva = train_test_split(X, test_size=0.2, random_state=0)
    for lr in rates:
        r = boltz.RBM(
            16, unit, learning_rate=lr, epochs=30, batch_size=64, progress=False, random_state=0
        )
        try:
            r.fit(Xtr)
            ll = r.log_likelihood(Xva, method="exact")
        except boltz.DivergenceError:
            ll = float("nan")
        tag = (
            " (auto)" if lr == r.learning_rate_ and lr == boltz.rbm.auto_learning_rate(unit) else ""
        )
        print(
            f"{name} learning_rate={lr:<7g}: validation log-likelihood {ll:9.3f}{tag}", flush=True
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default="../shared/data")
    a = p.parse_args()
    d = load_digits()
    X = (d.data / 16.0 > 0.5).astype(np.float32)
    Xtr, _ = train_test_split(X, test_size=0.25, stratify=d.target, random_state=0)
    scan("bernoulli digits", Xtr, "bernoulli", [0.003, 0.01, 0.03, 0.1])
    w = load_wikipedia_bow(a.data, n_words=2000)
    scan(
        "gaussian SIFT",
        np.asarray(w.image_train, dtype=np.float32),
        "gaussian",
        [0.0003, 0.001, 0.003, 0.01],
    )


if __name__ == "__main__":
    main()
