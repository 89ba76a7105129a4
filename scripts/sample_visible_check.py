"""sample_visible on binarised digits: exact test log-likelihood and a logistic probe (docs/rbm.md).

Run: ``.venv/bin/python scripts/sample_visible_check.py``.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import boltz

d = load_digits()
X = (d.data / 16.0 > 0.5).astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(
    X, d.target, test_size=0.25, stratify=d.target, random_state=0
)
fit = dict(learning_rate=0.05, epochs=30, batch_size=20, random_state=0, progress=False)
for sv in (False, True):
    r = boltz.RBM(16, sample_visible=sv, **fit).fit(Xtr)
    clf = LogisticRegression(max_iter=3000).fit(r.transform(Xtr), ytr)
    print(
        "sample_visible",
        sv,
        "exact test LL",
        round(r.log_likelihood(Xte), 2),
        "probe",
        round(clf.score(r.transform(Xte), yte), 3),
    )
