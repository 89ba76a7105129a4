"""Synthetic paired views with a known shared latent structure (for tests and demos)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from boltz.errors import ConfigError

__all__ = ["make_paired_views"]


def make_paired_views(
    n: int,
    dims: Sequence[int] = (30, 20),
    latent: int = 5,
    noise: float = 0.5,
    n_classes: int | None = None,
    random_state: int | None = 0,
    *,
    names: Sequence[str] | None = None,
    class_sep: float = 3.0,
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Views that are noisy linear images of one shared latent variable.

    Each sample has a latent ``z`` (latent,) drawn from ``N(0, I)`` -- or, with
    ``n_classes``, from ``N(μ_c, I)`` around the mean ``μ_c ~ N(0, class_sep^2 I)``
    of its class ``c`` (drawn uniformly).  View ``v`` is::

        x_v = z A_v + noise · ε_v,   A_v ~ N(0, 1/latent) of shape (latent, d_v),
        ε_v ~ N(0, I),

    so the views share exactly ``latent`` directions of signal.  Rows are
    exchangeable: slicing the first rows for training and the rest as held-out
    pairs gives two samples of the same distribution (same ``A_v``).

    Parameters
    ----------
    n : int
        Number of samples.
    dims : sequence of int, default (30, 20)
        Features per view; one view per entry (two or more for multi-view models).
    latent : int, default 5
        Dimension of the shared latent variable.
    noise : float, default 0.5
        Standard deviation of the independent noise of every view.
    n_classes : int, optional
        If given, the latent variable is a mixture of that many classes.
    random_state : int or None, default 0
        Seed of ``numpy.random.default_rng``.
    names : sequence of str, optional
        View names; default ``("view0", "view1", ...)``.
    class_sep : float, default 3.0
        Spread of the class means (with ``n_classes``).

    Returns
    -------
    views : dict[str, ndarray of shape (n, d_v)]
        float64 views.
    labels : ndarray of shape (n,) or None
        Class ids ``0 .. n_classes - 1``, or None without ``n_classes``.

    Examples
    --------
    >>> views, y = make_paired_views(100, dims=(8, 6, 4), n_classes=3, random_state=1)
    >>> sorted((k, v.shape) for k, v in views.items())
    [('view0', (100, 8)), ('view1', (100, 6)), ('view2', (100, 4))]
    >>> y.shape
    (100,)
    """
    names = tuple(names) if names is not None else tuple(f"view{i}" for i in range(len(dims)))
    if len(names) != len(dims) or len(set(names)) != len(names):
        raise ConfigError(f"names must be {len(dims)} distinct strings (one per dim); got {names}.")
    for label, value, lo in (("n", n, 1), ("latent", latent, 1), *(("dims", d, 1) for d in dims)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
            raise ConfigError(f"{label} must hold integers >= {lo}; got {value!r}.")
    if not noise >= 0:
        raise ConfigError(f"noise must be >= 0; got {noise!r}.")
    rng = np.random.default_rng(random_state)
    if n_classes is not None:
        if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer):
            raise ConfigError(f"n_classes must be an integer >= 1 or None; got {n_classes!r}.")
        if n_classes < 1:
            raise ConfigError(f"n_classes must be an integer >= 1 or None; got {n_classes!r}.")
        means = rng.normal(scale=class_sep, size=(n_classes, latent))
        y = rng.integers(n_classes, size=n)
        z = means[y] + rng.normal(size=(n, latent))
    else:
        y = None
        z = rng.normal(size=(n, latent))
    views = {}
    for name, d in zip(names, dims):
        A = rng.normal(scale=1.0 / np.sqrt(latent), size=(latent, d))
        views[name] = z @ A + noise * rng.normal(size=(n, d))
    return views, y
