"""scikit-learn's 8x8 digits (embedded, no download) cut into a left and a right half.

Two "modalities" of 32 pixels each, used by the README demo and by the pretraining
config ``recipes/configs/digits.toml`` (dataset ``"digits-halves"``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["halves", "join", "load_digit_halves"]


def halves(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left (columns 0-3) and right (columns 4-7) halves of 8x8 images.

    Parameters
    ----------
    X : ndarray of shape (n, 64)
        Flattened 8x8 images, row by row.

    Returns
    -------
    left, right : ndarray of shape (n, 32) each
    """
    imgs = X.reshape(-1, 8, 8)
    return imgs[:, :, :4].reshape(-1, 32), imgs[:, :, 4:].reshape(-1, 32)


def join(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Inverse of :func:`halves`.

    Parameters
    ----------
    left, right : ndarray of shape (n, 32)

    Returns
    -------
    ndarray of shape (n, 64)
    """
    return np.concatenate([left.reshape(-1, 8, 4), right.reshape(-1, 8, 4)], axis=2).reshape(-1, 64)


def load_digit_halves() -> dict[str, np.ndarray]:
    """All 1,797 digits, pixels scaled to [0, 1] (float32), as the views ``left``, ``right``.

    Returns
    -------
    dict with "left" and "right", ndarray of shape (1797, 32) each
    """
    from sklearn.datasets import load_digits

    X = (load_digits().data / 16.0).astype(np.float32)
    left, right = halves(X)
    return {"left": left, "right": right}
