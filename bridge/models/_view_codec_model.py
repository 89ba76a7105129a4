"""The base of the autoencoders with one encoder and decoder per view: :class:`ViewCodecModel`.

BimodalAE (:mod:`bridge.models.bimodal_ae`) and the Corr-AE family
(:mod:`bridge.models.corr_ae`) give every view a private encoder and decoder, an MLP of
the ``hidden`` widths or the unrolled layers of a pretrained boltz DBN
(:mod:`bridge.models._view_codecs`), under a code layer of ``code_activation``.  What
they share lives here: the constraints of ``n_components``, the two activations and
``pretrained``, the pretrained views' raw inputs, the per-view specs and the hand-over
of the pretrained weights to ``_init_module``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from boltz.constraints import Interval

from ._torch_model import EarlyStoppingModel
from ._validation import ACTIVATION
from ._view_codecs import PRETRAINED, check_pretrained, view_codec_specs

__all__ = ["ViewCodecModel"]


class ViewCodecModel(EarlyStoppingModel):
    """An early-stopping torch model with a private encoder and decoder per view.

    A subclass declares the hyperparameters ``hidden``, ``activation``,
    ``code_activation`` and ``pretrained`` (a dict of fitted boltz DBNs, or None) in
    its own order, with ``n_components`` (the code width); the views in ``pretrained``
    reach their DBN unstandardised.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_components": [Interval(int, 1, None)],
        "activation": [ACTIVATION],  # hidden layers
        "code_activation": [ACTIVATION],  # code layer
        "pretrained": [PRETRAINED],
    }

    def _raw_views(self) -> frozenset[str]:
        return frozenset(check_pretrained(self.pretrained))

    def _codec_specs(self, n_in: Mapping[str, int]) -> dict[str, list[dict]]:
        """``{"encoders": [...], "decoders": [...]}``, the specs of every view in
        ``view_names_`` order (:func:`~bridge.models._view_codecs.view_codec_specs`),
        to open the network spec; the pretrained weights wait for
        :meth:`_take_init_states`."""
        encs, decs, self._init_states = view_codec_specs(
            list(self.view_names_),
            n_in,
            self.hidden,
            self.activation,
            check_pretrained(self.pretrained),
        )
        return {"encoders": encs, "decoders": decs}

    def _take_init_states(self) -> dict[str, tuple[dict, dict]]:
        """The pretrained ``(encoder state, decoder state)`` per view that
        :meth:`_codec_specs` set aside, handed over once (for ``_init_module``)."""
        states = getattr(self, "_init_states", {})
        self._init_states = {}
        return states
