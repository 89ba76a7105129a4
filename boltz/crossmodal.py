"""Cross-modal inference through a multimodal joint layer: mean-field and Gibbs chains.

The joint layer of :class:`boltz.MultimodalDBN` is an :class:`boltz.model.RBMModel` with
one visible group per pathway (the pathways' top layers).  Inference with missing
modalities (given views ``g``, missing tops ``m``)::

    m <- 0 (init="zeros") or sigmoid(b_m) (init="bias")
    repeat `steps` times:
        p_h = P(h_joint = 1 | g, m)            # sigmoid(c + g W_g + m W_m)
        h   = p_h                (meanfield)  or  h ~ Bernoulli(p_h)  (gibbs)
        p_m = P(m = 1 | h)                     # sigmoid(b_m + h W_m^T)
        m   = p_m                (meanfield)  or  m ~ Bernoulli(p_m)  (gibbs)
    representation: P(h_joint = 1 | g, m)

Gibbs results are averaged over ``n_samples`` independent chains per row
(:func:`chain_average`).  :func:`top_words` reads generated word probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .constraints import Interval, Options, validate_params, validate_value
from .errors import DataError
from .model import RBMModel

__all__ = ["INITS", "METHODS", "chain_average", "check_inference", "run_chains", "top_words"]

#: How the missing views are filled in.
METHODS = ("meanfield", "gibbs")
#: Where the missing tops start.
INITS = ("zeros", "bias")


def check_inference(
    method: str, steps: Any, n_samples: Any, init: str, what: str = "method"
) -> int:
    """Validate the inference settings; the number of chains per row (1 for mean-field).

    Parameters
    ----------
    method : {"meanfield", "gibbs"}
    steps : int >= 0
    n_samples : int >= 1
        Gibbs chains per row.
    init : {"bias", "zeros"}
    what : str
        The name of ``method`` in the caller's signature (``"missing"`` for
        ``transform``).

    Raises
    ------
    ConfigError
    """
    validate_params(
        {what: method, "init": init, "steps": steps, "n_samples": n_samples},
        {
            what: [Options(METHODS)],
            "init": [Options(INITS)],
            "steps": [Interval(int, 0, None)],
            "n_samples": [Interval(int, 1, None)],
        },
    )
    return int(n_samples) if method == "gibbs" else 1


def run_chains(
    jm: RBMModel,
    tops: dict[str, Any],
    n: int,
    steps: int,
    method: str,
    reps: int,
    init: str,
    rng: Any,
) -> tuple[Any, Any, Any]:
    """Run ``reps`` chains per row with the given tops clamped.

    Returns
    -------
    ph : array, shape (n * reps, H)
        ``P(h_joint | given, missing state)`` at the end.
    v : array, shape (n * reps, V)
        The final joint visible state (missing groups: samples for gibbs,
        probabilities for meanfield).
    pm : array, shape (n * reps, V)
        The missing groups' last conditional probabilities ``P(m | h)``
        (the initial values when ``steps == 0``).
    """
    be, xp = jm.backend, jm.backend.xp
    missing = [g.name for g in jm.groups if g.name not in tops]
    v = be.zeros((n * reps, jm.n_visible))
    for g in jm.groups:
        if g.name in tops:
            t = tops[g.name]
            v[:, g.slice] = xp.repeat(t, reps, axis=0) if reps > 1 else t
        elif init == "bias":
            v[:, g.slice] = be.sigmoid(jm.params["visible_bias"][g.slice])
    pm = v
    gibbs = method == "gibbs"
    for _ in range(steps if missing else 0):
        ph = jm.hidden_mean(v)
        h = jm.sample_hidden(ph, rng) if gibbs else ph
        pm = jm.visible(h, only=missing, base=v)
        if gibbs:
            v = pm.copy()
            for g in jm.groups:
                if g.name in missing:
                    v[:, g.slice] = be.bernoulli(rng, pm[:, g.slice])
        else:
            v = pm
    return jm.hidden_mean(v), v, pm


def chain_average(x: Any, n: int, reps: int) -> Any:
    """Mean over the ``reps`` chains of each row: shape (n * reps, d) -> (n, d)."""
    if reps == 1:
        return x
    return x.reshape(n, reps, x.shape[1]).mean(axis=1)


def top_words(probs: Any, vocabulary: Sequence[Any], k: int = 10) -> list[list[tuple[Any, float]]]:
    """The ``k`` most probable words of each row, most probable first.

    Parameters
    ----------
    probs : array-like, shape (n, V) or (V,)
        Word probabilities, e.g. ``MultimodalDBN.generate("text", ...)``.
    vocabulary : sequence, length V
        The word of each column.
    k : int, default 10
        Words per row (at most V).

    Returns
    -------
    list of list of (word, probability)
        One list per row; ties are broken by column order.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 1:
        p = p[None, :]
    if p.ndim != 2:
        raise DataError(f"probs must be a 1-D or 2-D array; got shape {p.shape}.")
    vocab = list(vocabulary)
    if len(vocab) != p.shape[1]:
        raise DataError(
            f"vocabulary has {len(vocab)} words but probs has {p.shape[1]} columns; "
            "pass the vocabulary of the text pathway's input."
        )
    k = min(int(validate_value(k, [Interval(int, 1, None)], "k")), p.shape[1])
    order = np.argsort(-p, axis=1, kind="stable")[:, :k]
    return [[(vocab[j], float(row[j])) for j in idx] for row, idx in zip(p, order)]
