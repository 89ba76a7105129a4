r"""Hybrid representation learning (HRL; Cao et al., Neurocomputing 2019).

Cao, Li, Zhu et al., "Hybrid representation learning for cross-modal retrieval",
Neurocomputing 2019 (sections 3 and 4.2).  Three learning steps, for two views named
``a`` and ``b`` below (image and text in the paper):

**Step 1 -- modality-friendly and modality-mutual representations** (boltz, CD-1).

* *Friendly*: one stacked RBM (SRBM, a :class:`boltz.DBN`) per view, a visible
  layer of the view's unit type (Gaussian for real features, replicated softmax for
  word counts) then Bernoulli RBMs, paper widths ``1024 -> 512 -> 512``::

      F_v = P(h^(3) = 1 | h^(2)) o P(h^(2) | h^(1)) o P(h^(1) | x_v)     (up-pass)

* *Mutual*: a multimodal DBN (:class:`boltz.MultimodalDBN`, Srivastava & Salakhutdinov
  2012), paper pathways image ``2048 -> 1024``, text ``1024 -> 1024``, joint RBM 2048.
  ``M_v = P(h_joint | x_v)`` is the joint representation inferred from view ``v``
  *alone*: the other view's top layer is missing and filled in by ``meanfield_steps``
  mean-field alternations through the joint layer (:meth:`MultimodalDBN.transform`).
  The joint RBM is trained by CD-1 only (``HRLStage1(joint_training="likelihood")``, the
  paper's model); boltz's multi-prediction default put HRL at chance on Wikipedia.

**Step 2 -- hybrid representation** (PyTorch), per view: a joint autoencoder over
``[F_v, M_v]`` with one sigmoid code layer (paper: 1024 units)::

      Y_v = s(W_v [F_v, M_v] + c_v),   [F̂_v, M̂_v] = s(U_v Y_v + e_v),
      L_ae = sum_v sum_{part in (F, M)} mean_j BCE(part_j, part̂_j)

(both parts are probabilities in [0, 1]; each part's cross-entropy is averaged over
its features so the 2048 mutual units do not outweigh the 512 friendly ones), then a
feed-forward net ``Y_v -> 1024 -> 1024 -> 1024`` (``activation``, dropout) with a
softmax classifier on the labels (cross-entropy): the label information enters here.
The representation passed on is the net's **top hidden layer** ``H_v`` (1024), not
its 10 class posteriors: the paper's bimodal AEs halve the width of their input
(1024 -> 512 -> ...), which only makes sense on the hidden layer, and the posteriors
would leave the next step nothing to model but the predicted class.

**Step 3 -- stacked bimodal autoencoders** on ``(H_a, H_b)``.  Level ``l`` has inputs
``(A_a, A_b)`` of width ``d`` (standardised with training statistics), a shared
sigmoid code of width ``d / 2``, one linear decoder per view and a softmax layer on
the code (supervised)::

      z = s(V_a A_a + V_b A_b + c),   Â_v = R_v z + r_v,   p(class) = softmax(C z + k)
      L_bae = 1/3 sum_{S in {ab, a, b}} [ sum_v mean_j (A_vj - Â_vj(z_S))^2
                                          + label_weight * CE(y, p(z_S)) ]

where ``z_S`` is the code with the views outside ``S`` replaced by their training
mean (zero after standardisation): Ngiam et al.'s input dropping, here with all three
cases in every minibatch, always reconstructing both views.  The levels are trained
bottom-up; level ``l + 1`` is fed the one-view codes ``(z_a, z_b)`` of level ``l``.
Up to ``n_bae_max`` levels are trained and the number ``n`` kept is the one with the
largest cross-modal MAP of the one-view codes on the validation pairs.

**Retrieval.** Each view is embedded alone: ``transform({"image": X})`` runs the
image through its SRBM, the MDBN (text inferred), its joint AE and feed-forward net,
and the BAEs with the text input at its training mean (zero).  With ``center=True``
the training mean of each view's embedding is subtracted (cosine retrieval on sigmoid
codes otherwise mostly sees their common positive offset).

**Variants** (the ablations of the paper's Tables 8 and 9), ``variant=``: ``"hrl"``
(the full model), ``"joint"``, ``"no_bae"``, ``"no_ff"``, ``"no_ff_bae"``, ``"no_srbm"``,
``"no_mdbn"``; :mod:`bridge.models.hrl.variants` describes each and holds the table
(:data:`VARIANTS`) of what each trains and embeds.

**The paper's literal reading** (``mutual_from="pair"``, a *diagnostic*, not a
retrieval method).  Eqs. (12)-(13) define ``X_mutual^image`` as the joint layer
``h^(3)`` inferred from the **text** ``v_t`` ("which can generate the image"), and
``X_mutual^text`` from the image.  With ``mutual_from="pair"`` each view's mutual part
is computed from its *paired* other view: ``M_image = P(h_joint | x_text)``,
``M_text = P(h_joint | x_image)``, in training and in :meth:`transform`, which then
needs both views of every row.  A query image is thereby represented partly by its
own caption -- the partner that a cross-modal query is supposed to find -- so its
retrieval scores leak the answer and are not comparable with any single-view
method.  The default ``mutual_from="self"`` (``M_v`` from ``v`` alone) is the
non-leaking reading.

**Reuse.** Step 1 is the slow part.  :class:`HRLStage1` holds the fitted SRBMs and
MDBN; pass it as ``stage1=`` to every variant (it caches its features per input
array).  ``reuse=`` a fitted :class:`HRL` copies the trained torch stages the two
models share (same stage-1 object, data, hyperparameters and seed -- e.g. ``"no_bae"``
reuses the joint AEs and feed-forward nets of ``"hrl"``).  Every stage is seeded from
``(random_state, stage)`` alone, so a reused stage is bitwise the stage a fresh fit
would train.

**Modules.**  :mod:`~bridge.models.hrl.stage1` (:class:`HRLStage1`),
:mod:`~bridge.models.hrl.model` (:class:`HRL`), :mod:`~bridge.models.hrl.stages` (the
torch stages: seeds, ``reuse`` keys, training), :mod:`~bridge.models.hrl.networks` (the
``nn.Module``\ s), :mod:`~bridge.models.hrl.variants`, :mod:`~bridge.models.hrl.checkpoint`
(the saved directory), :mod:`~bridge.models.hrl.validation` (input checks),
:mod:`~bridge.models.hrl.fingerprint` (content hashes, the feature cache) and
:mod:`~bridge.models.hrl.split` (the held-out validation pairs).
"""

from __future__ import annotations

from .fingerprint import fingerprint
from .model import HRL
from .networks import BimodalLayer, FeedForward, JointAutoencoder
from .stage1 import DEFAULT_MUTUAL, DEFAULT_VISIBLE, RBM_DEFAULTS, HRLStage1
from .stages import stage_seed
from .validation import UNITS, check_hrl_views
from .variants import MUTUAL_FROM, VARIANTS, Variant

__all__ = [
    "DEFAULT_MUTUAL",
    "DEFAULT_VISIBLE",
    "HRL",
    "MUTUAL_FROM",
    "RBM_DEFAULTS",
    "UNITS",
    "VARIANTS",
    "BimodalLayer",
    "FeedForward",
    "HRLStage1",
    "JointAutoencoder",
    "Variant",
    "check_hrl_views",
    "fingerprint",
    "stage_seed",
]
