"""Per-view encoder and decoder specs of the autoencoder models.

A view is either given a pretrained boltz DBN (its unrolled layers and weights) or an MLP
of the ``hidden`` widths and its mirror; :func:`view_codec_specs` makes the specs of every
view, :func:`check_pretrained` and :func:`hidden_per_view` read the two hyperparameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from boltz.constraints import Check
from boltz.errors import ConfigError, DataError

from ._layers import dbn_specs, mlp_decoder_spec, mlp_encoder_spec
from ._validation import check_hidden


def check_pretrained(pretrained: Any) -> dict[str, Any]:
    """``pretrained`` as a dict ``{view name: fitted boltz.DBN}`` (None -> {})."""
    if pretrained is None:
        return {}
    if not isinstance(pretrained, Mapping):
        raise ConfigError(
            "pretrained must be None or a dict {view name: fitted boltz.DBN}; "
            f"got {type(pretrained).__name__}."
        )
    for k, dbn in pretrained.items():
        if getattr(dbn, "layers_", None) is None:
            raise ConfigError(
                f"pretrained[{k!r}] must be a fitted boltz.DBN; got {type(dbn).__name__} "
                "(fit it first, e.g. with recipes.pretrain)."
            )
    return dict(pretrained)


#: The table constraint (:mod:`boltz.constraints`) of ``pretrained``, refused with
#: :func:`check_pretrained`'s message.
PRETRAINED = Check(
    lambda v: check_pretrained(v) is not None,
    "None or a dict {view name: fitted boltz.DBN}",
    refuse=lambda v, name: check_pretrained(v),
)


def hidden_per_view(hidden: Any, names: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """``hidden`` (one tuple for all views, or a dict per view) as a dict per view."""
    if isinstance(hidden, Mapping):
        missing = [k for k in names if k not in hidden]
        if missing:
            raise ConfigError(f"hidden is a dict but has no entry for view(s) {missing}.")
        return {k: check_hidden(hidden[k], f"hidden[{k!r}]") for k in names}
    h = check_hidden(hidden)
    return {k: h for k in names}


def view_codec_specs(
    names: Sequence[str],
    n_in: Mapping[str, int],
    hidden: Any,
    activation: str,
    pretrained: Mapping[str, Any],
) -> tuple[list[dict], list[dict], dict[str, tuple[dict, dict]]]:
    """Encoder and decoder specs of every view, in ``names`` order.

    A view in ``pretrained`` gets the unrolled DBN's layers (its ``hidden`` is
    ignored); the others an MLP ``n_in -> hidden`` and its mirror.

    Returns
    -------
    encoders, decoders : list of dict
        Specs (see :func:`encoder_from_spec`, :meth:`Decoder.from_spec`).
    states : dict[str, (encoder_state, decoder_state)]
        Initial weights of the pretrained views.
    """
    unknown = sorted(set(pretrained) - set(names))
    if unknown:
        raise ConfigError(
            f"pretrained has DBNs for unknown view(s) {unknown}; the views are {list(names)} "
            "(check the spelling)."
        )
    hid = hidden_per_view(hidden, names)
    encs, decs, states = [], [], {}
    for k in names:
        if k in pretrained:
            dbn = pretrained[k]
            if int(dbn.n_features_in_) != int(n_in[k]):
                raise DataError(
                    f"pretrained[{k!r}] was fitted on {dbn.n_features_in_} features but view "
                    f"{k!r} has {n_in[k]}."
                )
            e, d, es, ds = dbn_specs(dbn)
            states[k] = (es, ds)
        else:
            e = mlp_encoder_spec(n_in[k], hid[k], activation)
            d = mlp_decoder_spec(n_in[k], hid[k], activation)
        encs.append(e)
        decs.append(d)
    return encs, decs, states
