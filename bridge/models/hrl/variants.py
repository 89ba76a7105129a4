"""The seven variants of HRL (the ablations of the paper's Tables 8 and 9), as one table.

Each entry of :data:`VARIANTS` says which torch stages the variant trains, what its
first stage is fed and what it embeds; the model reads these flags and never compares
variant names.

``"hrl"``        the full model.
``"joint"``      Joint-HRL (Table 8): the joint AE of each view is trained on
                 ``[F_v, P]`` with ``P = P(h_joint | x_a, x_b)`` the MDBN representation
                 of the *pair* -- a joint representation in which both views are
                 observed -- instead of the hybrid ``M_v`` inferred from ``v`` alone.
                 A retrieval query has only one view, so at test time ``P`` can only be
                 ``M_v`` (the model is trained on pairs and used on single views).
``"no_bae"``     no stacked BAEs: the embedding is the feed-forward nets' class
                 posteriors (the two hidden layers belong to two unrelated networks,
                 the posteriors share the label space).
``"no_ff"``      no feed-forward nets: the BAEs take the joint-AE codes ``Y_v``.
``"no_ff_bae"``  neither: the embedding is ``Y_v``.  Nothing ties the two views'
                 codes together (two separate autoencoders, no labels), so cross-modal
                 retrieval is expected near chance -- as in the paper's Table 9.
``"no_srbm"``    only the mutual representation, no joint AE: ``M_v`` -> FF -> BAEs.
``"no_mdbn"``    only the friendly representation, no joint AE: ``F_v`` -> FF -> BAEs.
"""

from __future__ import annotations

from dataclasses import dataclass

from boltz.errors import ConfigError

__all__ = ["INPUTS", "MUTUAL_FROM", "VARIANTS", "Variant", "get_variant"]

#: What the first torch stage of a variant sees per view: the concatenation ``[F_v,
#: M_v]`` ("hybrid"), the mutual ``M_v`` only, or the friendly ``F_v`` only.
INPUTS = ("hybrid", "mutual", "friendly")

#: ``HRL(mutual_from=...)``: "self" (single-view, the default) or "pair" (the paper's
#: literal eqs. 12-13: each view's mutual part from its paired other view; leaks).
MUTUAL_FROM = ("self", "pair")


@dataclass(frozen=True)
class Variant:
    """What one variant of HRL trains and embeds.

    Parameters
    ----------
    name : str
        The ``HRL(variant=...)`` value.
    joint_ae : bool
        Trains a joint autoencoder per view (step 2a).
    ff : bool
        Trains a feed-forward net per view (step 2b).
    bae : bool
        Trains the stacked bimodal autoencoders (step 3).
    inputs : {"hybrid", "mutual", "friendly"}
        What the first torch stage is fed (see :data:`INPUTS`).
    pair_in_training : bool
        Training replaces ``M_v`` by the MDBN representation of the pair (Joint-HRL);
        transform still uses ``M_v``.
    posteriors : bool
        The embedding is the feed-forward nets' class posteriors rather than their top
        hidden layer (the variant without BAEs).
    """

    name: str
    joint_ae: bool
    ff: bool
    bae: bool
    inputs: str = "hybrid"
    pair_in_training: bool = False
    posteriors: bool = False

    @property
    def single_view_mutual(self) -> bool:
        """Whether training uses the mutual representation of one view (what
        ``mutual_from="pair"`` replaces by the paired other view's)."""
        return self.inputs != "friendly" and not self.pair_in_training

    @property
    def ae_key(self) -> str:
        """What the joint AE is trained on, for the stage keys of ``reuse``."""
        return "pair" if self.pair_in_training else "hybrid"


#: The variants by name, in the paper's order (the full model first).
VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("hrl", joint_ae=True, ff=True, bae=True),
        Variant("joint", joint_ae=True, ff=True, bae=True, pair_in_training=True),
        Variant("no_bae", joint_ae=True, ff=True, bae=False, posteriors=True),
        Variant("no_ff", joint_ae=True, ff=False, bae=True),
        Variant("no_ff_bae", joint_ae=True, ff=False, bae=False),
        Variant("no_srbm", joint_ae=False, ff=True, bae=True, inputs="mutual"),
        Variant("no_mdbn", joint_ae=False, ff=True, bae=True, inputs="friendly"),
    )
}


def get_variant(name: object) -> Variant:
    """The entry of :data:`VARIANTS` called ``name``.

    Raises
    ------
    ConfigError
        ``name`` is not a variant.
    """
    if not isinstance(name, str) or name not in VARIANTS:
        raise ConfigError(f"variant must be one of {list(VARIANTS)}; got {name!r}.")
    return VARIANTS[name]
