"""The multimodal DBN (Srivastava & Salakhutdinov 2012), HRL's "modality-mutual" model.

One :class:`boltz.dbn.DBN` per modality (a *pathway*) and a joint
:class:`boltz.RBM` whose visible layer is the concatenation of the pathways' top
hidden layers.  For inference the joint layer is an :class:`boltz.model.RBMModel`
with one visible group per pathway sharing the joint RBM's parameter arrays, so
missing modalities are filled in by the same unit code that trains the RBMs.

Inference with missing modalities (mean-field or Gibbs chains through the joint layer) is
in :mod:`boltz.crossmodal`; :func:`top_words` (re-exported here) reads generated words.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone

from ._version import __version__
from .backend import Backend, make_streams
from .checkpoint import (
    CheckpointError,
    check_no_extra,
    clean_json,
    need,
    register,
    write_checkpoint,
)
from .constraints import Interval, Options, validate_params
from .crossmodal import chain_average, check_inference, run_chains, top_words
from .dbn import DBN, add_sub_state, check_int, sub_arrays, unit_name
from .errors import ConfigError, DataError, DataTypeError, NotFittedError
from .layer import move
from .model import RBMModel
from .multiprediction import MultiPredictionTrainer, ViewDecoder, rows_to_targets
from .passthrough import Passthrough
from .rbm import RBM
from .trainer import iter_batches, take_rows
from .validation import check_views

logger = logging.getLogger(__name__)

__all__ = ["MultimodalDBN", "top_words"]

_EVAL_BATCH = 4096
_TRAININGS = ("multiprediction", "likelihood")

#: What MultimodalDBN's own hyperparameters may be (:mod:`boltz.constraints`);
#: ``pathways``, ``joint`` and ``finetune_views`` (names from ``pathways``) are checked
#: in code.
MULTIMODAL_CONSTRAINTS: dict[str, list[Any]] = {
    "joint_training": [Options(*_TRAININGS)],
    "inference_steps": [Interval(int, 1, None)],
    "finetune_epochs": [Interval(int, 0, None)],
    "finetune_learning_rate": [Interval(float, 0, None, closed="neither")],
    "finetune_weight_decay": [Interval(float, 0, None)],
    "finetune_average": [Interval(float, 0, 1, closed="left")],
    "validation_fraction": [Interval(float, 0, 1, closed="left")],
    "n_jobs": [None, Interval(int, 1, None), Interval(int, None, -1)],  # joblib's meaning
    "random_state": ["random_state"],
}


def _fit_pathway(name: str, dbn: DBN, X: Any, X_val: Any) -> DBN:
    """Top-level (picklable) job: fit one pathway DBN and return it."""
    logger.info("MultimodalDBN: training pathway %r", name)
    try:
        return dbn.fit(X, X_val=X_val)
    except (DataError, DataTypeError) as e:  # name the view the bad data came in
        raise type(e)(f"view {name!r}: {e}") from e


def _top_size(pw: DBN | Passthrough) -> int:
    """Width of a fitted pathway's top layer."""
    return pw.n_top_ if isinstance(pw, Passthrough) else pw.layers_[-1].n_hidden


def _check_input(pw: DBN | Passthrough, X: Any, name: str) -> Any:
    """A fitted pathway's input validated for it."""
    if isinstance(pw, Passthrough):
        return pw.check_input(X, name)
    return pw.layers_[0].layer_.check_input(X, name)


def _targets(pw: DBN | Passthrough, rows: Any, be: Backend) -> tuple[Any, Any]:
    """A view's rows as multi-prediction targets (see :func:`rows_to_targets`)."""
    if isinstance(pw, Passthrough):
        x = be.asarray(pw.check_input(rows, "X"))
        return x, be.xp.ones((x.shape[0],), dtype=x.dtype)
    return rows_to_targets(pw.layers_[0], rows, be)


@dataclass(eq=False, repr=False)
@register("MultimodalDBN")
class MultimodalDBN(BaseEstimator):
    """Multimodal deep belief net: one DBN per modality joined by a top RBM.

    Parameters
    ----------
    pathways : dict of str -> boltz.DBN
        Two or more (unfitted) modality DBNs, e.g. ``{"image": dbn_i, "text": dbn_t}``.
        Names are free (no ``"."``); their order fixes the order of the groups in
        the joint layer.
    joint : boltz.RBM
        The joint RBM, ``visible="bernoulli"``: its visible layer is the
        concatenation of the pathways' top hidden layers.
    joint_training : {"multiprediction", "likelihood"}, default "multiprediction"
        How the joint layer learns after its greedy CD/PCD pretraining.
        "likelihood" stops there (the joint RBM of Srivastava & Salakhutdinov 2012);
        "multiprediction" then trains it for the inference it is used for: one view
        hidden per batch, inferred from the others by ``inference_steps`` mean-field
        alternations, decoded by its pathway, the reconstruction loss
        back-propagated into the joint layer (Goodfellow et al. 2013; see
        :mod:`boltz.multiprediction`). On small multimodal data the likelihood-trained
        joint layer carries almost nothing from one view to another; see
        ``docs/multimodal.md``.
    inference_steps : int, default 5
        Mean-field alternations joint <-> missing views: trained with by
        multi-prediction, and the default ``steps`` of :meth:`transform` and
        :meth:`generate`.
    finetune_epochs : int, default 50
        Multi-prediction epochs.
    finetune_learning_rate : float, default 0.001
        Adam step size of the multi-prediction updates.
    finetune_views : list of str, optional
        The views multi-prediction hides and infers (and scores on validation);
        default every view.  A model used only to generate one view from the others
        (a tagger) trains for that alone, e.g. ``["tags"]``.
    finetune_weight_decay : float, default 0.0
        L2 penalty on the joint weights during multi-prediction.
    finetune_average : float, default 0.0
        Polyak averaging of the multi-prediction updates: with ``0 < x < 1`` the
        joint layer ends with (and validation scores) an exponential moving average
        of its parameters, decay ``x`` per update; 0 keeps Adam's iterate.  See
        :class:`boltz.multiprediction.MultiPredictionTrainer`.
    validation_fraction : float, default 0.1
        Without ``X_val``, the share of the rows held out of the multi-prediction
        updates to choose the best epoch (the pathways and the joint pretraining see
        every row); 0 keeps the last epoch. With ``X_val``, ``X_val`` is used.
    random_state : None or int, default None
        Seed of the multi-prediction stage (validation split, which view is hidden).
        None takes the joint RBM's ``random_state``, so a model whose RBMs are all
        seeded is reproducible; None there too means fresh entropy.
    n_jobs : int or None, default None
        Pathways are independent and are trained in parallel with joblib (process
        based by default; fitted layers travel through their checkpoint state).
        None means 1 unless in a ``joblib.parallel_config`` context; -1 all cores.

    Attributes
    ----------
    pathways_ : dict of str -> boltz.DBN
        The fitted pathways, in the order of ``views_``.
    joint_ : boltz.RBM
        The fitted joint RBM, ``n_features_in_ = sum(top sizes)``.
    views_ : list of str
        Pathway names in joint-layer order.
    n_hidden_ : int
        Number of joint hidden units.
    finetune_history_ : list of dict
        One record per multi-prediction epoch (``loss``, ``loss_val``, ``best``,
        ``seconds``); empty for ``joint_training="likelihood"``.
    validation_rows_ : ndarray of int
        The rows of ``X`` held out of the multi-prediction updates to choose the
        best epoch (sorted); empty with ``X_val``, ``validation_fraction=0`` or
        ``joint_training="likelihood"``.  Not saved in checkpoints.

    Examples
    --------
    >>> import numpy as np, boltz
    >>> from boltz.dbn import DBN
    >>> from boltz.multimodal import MultimodalDBN
    >>> rng = np.random.default_rng(0)
    >>> Xi, Xt = rng.normal(size=(100, 8)), (rng.random((100, 12)) > 0.5).astype(float)
    >>> kw = dict(epochs=2, progress=False)
    >>> m = MultimodalDBN({"image": DBN([boltz.RBM(6, "gaussian", **kw)]),
    ...                    "text": DBN([boltz.RBM(6, **kw)])},
    ...                   joint=boltz.RBM(4, **kw)).fit({"image": Xi, "text": Xt})
    >>> m.transform({"image": Xi}).shape, m.generate("text", given={"image": Xi}).shape
    ((100, 4), (100, 12))
    """

    pathways: Mapping[str, DBN]
    joint: RBM
    _: KW_ONLY
    joint_training: str = "multiprediction"
    inference_steps: int = 5
    finetune_epochs: int = 50
    finetune_learning_rate: float = 0.001
    finetune_views: Sequence[str] | None = None
    finetune_weight_decay: float = 0.0
    finetune_average: float = 0.0
    validation_fraction: float = 0.1
    n_jobs: int | None = None
    random_state: Any = None

    # ================================================================ validation
    def _check_params(self) -> tuple[dict[str, DBN], RBM]:
        pw = self.pathways
        if not isinstance(pw, Mapping) or len(pw) < 2:
            raise ConfigError(
                "pathways must be a dict of at least two named DBNs, e.g. "
                f"{{'image': DBN([...]), 'text': DBN([...])}}; got {pw!r}."
            )
        for name, dbn in pw.items():
            if not isinstance(name, str) or not name or "." in name:
                raise ConfigError(
                    f"pathway names must be non-empty strings without '.'; got {name!r}."
                )
            if not isinstance(dbn, (DBN, Passthrough)):
                hint = " (wrap a single RBM as DBN([rbm]))" if isinstance(dbn, RBM) else ""
                raise ConfigError(
                    f"pathways[{name!r}] must be a boltz.DBN or a boltz.Passthrough{hint}; got "
                    f"{type(dbn).__name__}."
                )
            dbn._check_params()  # every layer's settings, before anything trains
        if not isinstance(self.joint, RBM):
            raise ConfigError(f"joint must be a boltz.RBM; got {type(self.joint).__name__}.")
        self.joint._validate_params()
        if unit_name(self.joint.visible) != "bernoulli":
            raise ConfigError(
                "joint must have visible='bernoulli' (it models the pathways' top hidden "
                f"probabilities); got visible={self.joint.visible!r}."
            )
        validate_params(self, MULTIMODAL_CONSTRAINTS)
        fv = self.finetune_views
        if fv is not None and (
            isinstance(fv, str)
            or not isinstance(fv, Sequence)
            or not fv
            or any(v not in pw for v in fv)
        ):
            raise ConfigError(
                f"finetune_views must be None or a non-empty list of view names from "
                f"{list(pw)}; got {fv!r}."
            )
        return dict(pw), self.joint

    def _is_fitted(self) -> bool:
        return hasattr(self, "joint_")

    def _check_fitted(self) -> None:
        if not self._is_fitted():
            raise NotFittedError(
                "This MultimodalDBN instance is not fitted yet. Call 'fit' with a dict of "
                "views before using this estimator."
            )

    @property
    def n_hidden_(self) -> int:
        self._check_fitted()
        return self.joint_.n_hidden

    # ================================================================ fit
    def fit(self, X: Mapping[str, Any], y: Any = None, X_val: Any = None) -> MultimodalDBN:
        """Train the pathways (in parallel), then the joint RBM on their top layers.

        Parameters
        ----------
        X : dict of str -> array-like
            One array per pathway, all with the same rows: ``X[name]`` has shape
            (n_samples, n_features_name) (CSR counts for a replicated-softmax
            first layer).
        y : ignored
        X_val : dict of str -> array-like, optional
            Validation views, monitored by every layer.

        Returns
        -------
        self
        """
        pathways, joint = self._check_params()
        names = list(pathways)
        X = check_views(X, "X", names, require_all=True)
        if X_val is not None:
            X_val = check_views(X_val, "X_val", names, require_all=True)
        jobs = [
            delayed(_fit_pathway)(n, clone(pathways[n]), X[n], None if X_val is None else X_val[n])
            for n in names
        ]
        fitted = Parallel(n_jobs=self.n_jobs, prefer="processes")(jobs)
        self.pathways_ = dict(zip(names, fitted))
        self.views_ = names
        logger.info("MultimodalDBN: training the joint layer")
        Z = self._tops(X)
        Z_val = None if X_val is None else self._tops(X_val)
        self.joint_ = clone(joint).fit(Z, X_val=Z_val)
        self._finetune(X, Z, X_val, Z_val)
        return self

    def fit_joint(
        self,
        X: Mapping[str, Any],
        X_val: Any = None,
        *,
        pathways: Mapping[str, DBN] | None = None,
        joint: RBM | None = None,
    ) -> MultimodalDBN:
        """Train only the joint RBM, on the top layers of already fitted pathways.

        The resumable route used by ``recipes.pretrain``: pathways are fitted (and
        checkpointed) one by one, then the joint layer.

        Parameters
        ----------
        X, X_val : dict of str -> array-like
            As in :meth:`fit`.
        pathways : dict of str -> fitted DBN, optional
            Default: ``self.pathways_``.
        joint : boltz.RBM, optional
            An RBM to train as the joint layer as it is (e.g. loaded from a checkpoint
            with ``warm_start=True``); default: a clone of ``self.joint``.

        Returns
        -------
        self
        """
        given, spec = self._check_params()
        fitted = dict(pathways) if pathways is not None else getattr(self, "pathways_", None)
        if fitted is None or set(fitted) != set(given):
            raise ConfigError(
                f"fit_joint needs fitted pathways named {sorted(given)}; got "
                f"{None if fitted is None else sorted(fitted)}."
            )
        for dbn in fitted.values():
            dbn._check_fitted()
        names = list(given)
        X = check_views(X, "X", names, require_all=True)
        if X_val is not None:
            X_val = check_views(X_val, "X_val", names, require_all=True)
        self.pathways_ = {n: fitted[n] for n in names}
        self.views_ = names
        Z = self._tops(X)
        Z_val = None if X_val is None else self._tops(X_val)
        self.joint_ = (clone(spec) if joint is None else joint).fit(Z, X_val=Z_val)
        self._finetune(X, Z, X_val, Z_val)
        return self

    def _finetune(self, X: dict[str, Any], Z: np.ndarray, X_val: Any, Z_val: Any) -> None:
        """Multi-prediction training of the joint layer (``joint_training``)."""
        self.finetune_history_ = []
        self.validation_rows_ = np.zeros(0, dtype=np.intp)
        if self.joint_training != "multiprediction" or self.finetune_epochs == 0:
            return
        jm = self._joint_model()
        be = jm.backend
        seed = self.random_state if self.random_state is not None else self.joint_.random_state
        rng = np.random.default_rng(make_streams(seed, 1)[0])
        n = Z.shape[0]
        if X_val is None:
            n_val = int(round(self.validation_fraction * n)) if n >= 10 else 0
            perm = rng.permutation(n)
            val_rows, train_rows = np.sort(perm[:n_val]), np.sort(perm[n_val:])
            X_val, Z_val = X, Z
            self.validation_rows_ = val_rows
        else:
            train_rows, val_rows = np.arange(n), np.arange(Z_val.shape[0])
        decoders = {
            g: ViewDecoder([r.layer_.model for r in self.pathways_[g].layers_], be)
            for g in self.views_
        }

        def sources(Xs: dict[str, Any], Zs: np.ndarray, rows: np.ndarray) -> tuple[Any, Any]:
            def tops(idx: np.ndarray) -> Any:
                return be.asarray(Zs[rows[idx]])

            def target(idx: np.ndarray, view: str) -> tuple[Any, Any]:
                return _targets(self.pathways_[view], take_rows(Xs[view], rows[idx]), be)

            return tops, target

        trainer = MultiPredictionTrainer(
            jm,
            decoders,
            steps=self.inference_steps,
            learning_rate=self.finetune_learning_rate,
            batch_size=self.joint_.batch_size,
            rng=rng,
            targets=None if self.finetune_views is None else list(self.finetune_views),
            weight_decay=float(self.finetune_weight_decay),
            average=float(self.finetune_average),
        )
        logger.info("MultimodalDBN: multi-prediction training of the joint layer")
        v_tops, v_target = sources(X_val, Z_val, val_rows)
        trainer.fit(
            *sources(X, Z, train_rows),
            len(train_rows),
            int(self.finetune_epochs),
            val=(v_tops, v_target, len(val_rows)),
            history=self.finetune_history_,
            progress=self.joint_.progress,
        )

    def _tops(self, X: dict[str, Any]) -> np.ndarray:
        return np.concatenate([self.pathways_[n].transform(X[n]) for n in self.views_], axis=1)

    # ================================================================ joint model
    def _joint_model(self) -> RBMModel:
        """The joint layer with one visible group per pathway, sharing ``joint_``'s arrays."""
        groups = [(n, _top_size(self.pathways_[n])) for n in self.views_]
        return self.joint_.layer_.joint_model(groups)

    def _given_tops(self, X: dict[str, Any], idx: np.ndarray, be: Backend) -> dict[str, Any]:
        """Up-pass of the given views for rows ``idx``, on the joint device."""
        tops = {}
        for n, Xn in X.items():
            h, hbe = self.pathways_[n].up_device(take_rows(Xn, idx))
            tops[n] = move(h, hbe, be)
        return tops

    # ================================================================ inference
    def pathway_transform(self, name: str, X: Any) -> np.ndarray:
        """Top representation of one pathway (HRL's "modality-friendly" one).

        Parameters
        ----------
        name : str
            A pathway name.
        X : array-like, shape (n_samples, n_features_name)

        Returns
        -------
        ndarray, shape (n_samples, pathways_[name].layers_[-1].n_hidden)
            The pathway DBN's up-pass ``P(h_top = 1 | X)``.
        """
        self._check_fitted()
        if name not in self.pathways_:
            raise ConfigError(f"unknown pathway {name!r}; this model has {self.views_}.")
        return self.pathways_[name].transform(X)

    def transform(
        self,
        X: Mapping[str, Any],
        missing: str = "meanfield",
        steps: int | None = None,
        *,
        n_samples: int = 1,
        init: str = "bias",
        return_pathways: bool = False,
        random_state: Any = None,
    ) -> Any:
        """Joint representation ``P(h_joint = 1 | given views)`` (HRL's "modality-mutual").

        Views absent from ``X`` are inferred (see the module docstring): their top
        layer starts at ``init`` and alternates with the joint layer ``steps`` times.

        Parameters
        ----------
        X : dict of str -> array-like
            Any non-empty subset of the views, all with the same rows.
        missing : {"meanfield", "gibbs"}, default "meanfield"
            Mean-field is deterministic; Gibbs samples ``h_joint`` and the missing
            tops and averages the final probabilities over ``n_samples`` chains.
        steps : int, optional
            Alternations joint <-> missing tops (ignored when nothing is missing);
            default ``inference_steps``.
        n_samples : int, default 1
            Gibbs chains per row (ignored by mean-field).
        init : {"bias", "zeros"}, default "bias"
            Start of the missing tops: ``sigmoid`` of their joint visible biases (what
            multi-prediction training starts from), or zeros.
        return_pathways : bool, default False
            Also return the top representation of every pathway: the up-pass for the
            given views, the inferred ``P(top | h_joint)`` (last step, chain average)
            for the missing ones.
        random_state : None or int
            Seed of the Gibbs stream.

        Returns
        -------
        joint : ndarray, shape (n_samples, n_hidden_)
        tops : dict of str -> ndarray, shape (n_samples, top size)
            Only with ``return_pathways=True``.
        """
        self._check_fitted()
        steps = self.inference_steps if steps is None else steps
        reps = check_inference(missing, steps, n_samples, init, what="missing")
        X = check_views(X, "X", self.views_, require_all=False)
        X = {n: _check_input(self.pathways_[n], Xn, f"X[{n!r}]") for n, Xn in X.items()}
        n_rows = next(iter(X.values())).shape[0]
        jm = self._joint_model()
        be = jm.backend
        rng = be.generator(make_streams(random_state, 1)[0])
        joint, tops = [], {n: [] for n in self.views_}
        for idx in iter_batches(n_rows, max(1, _EVAL_BATCH // reps)):
            n = len(idx)
            given = self._given_tops(X, idx, be)
            ph, _, pm = run_chains(jm, given, n, int(steps), missing, reps, init, rng)
            joint.append(np.asarray(be.to_host(chain_average(ph, n, reps))))
            if return_pathways:
                for g in jm.groups:
                    val = (
                        given[g.name] if g.name in given else chain_average(pm[:, g.slice], n, reps)
                    )
                    tops[g.name].append(np.asarray(be.to_host(val)))
        out = np.concatenate(joint, axis=0)
        if not return_pathways:
            return out
        return out, {k: np.concatenate(v, axis=0) for k, v in tops.items()}

    def generate(
        self,
        target: str,
        given: Mapping[str, Any],
        steps: int | None = None,
        method: str = "meanfield",
        n_samples: int = 1,
        *,
        init: str = "bias",
        random_state: Any = None,
    ) -> np.ndarray:
        """Generate the ``target`` modality from the ``given`` ones.

        Up-pass of the given views, ``steps`` alternations through the joint layer
        (the target and any other absent view inferred), then a deterministic
        down-pass of the target pathway from its top state.

        Parameters
        ----------
        target : str
            The pathway to generate (must not be in ``given``).
        given : dict of str -> array-like
            The conditioning views, all with the same rows.
        steps : int, optional
            Alternations joint <-> missing tops (>= 1); default ``inference_steps``.
        method : {"meanfield", "gibbs"}, default "meanfield"
            Gibbs: the down-pass starts from the *sampled* target top of each chain
            and the results are averaged over ``n_samples`` chains, which estimates
            the model's conditional mean (exactly, for a one-layer target pathway,
            once the chains have mixed). Mean-field: the down-pass starts from the
            target top's probabilities (what multi-prediction training optimises).
        n_samples : int, default 1
            Gibbs chains per row (ignored by mean-field).
        init : {"bias", "zeros"}, default "bias"
            Start of the missing tops.
        random_state : None or int
            Seed of the Gibbs stream.

        Returns
        -------
        ndarray, shape (n_samples_given, n_features_target)
            In the target's data units: probabilities (Bernoulli), values (Gaussian),
            or word probabilities with rows summing to 1 (replicated softmax; the
            mean for a document of length 1). See :func:`top_words`.
        """
        self._check_fitted()
        if target not in self.pathways_:
            raise ConfigError(f"unknown target {target!r}; this model has views {self.views_}.")
        steps = self.inference_steps if steps is None else steps
        reps = check_inference(method, steps, n_samples, init)
        check_int("steps", steps, 1)
        given = check_views(given, "given", self.views_, require_all=False)
        if target in given:
            raise ConfigError(
                f"target {target!r} is also in given; generate infers a view that is not given."
            )
        given = {n: _check_input(self.pathways_[n], Xn, f"given[{n!r}]") for n, Xn in given.items()}
        n_rows = next(iter(given.values())).shape[0]
        jm = self._joint_model()
        be = jm.backend
        rng = be.generator(make_streams(random_state, 1)[0])
        dbn = self.pathways_[target]
        first = dbn.layers_[0].layer_ if dbn.layers_ else None
        sl = next(g.slice for g in jm.groups if g.name == target)
        outs = []
        for idx in iter_batches(n_rows, max(1, _EVAL_BATCH // reps)):
            n = len(idx)
            tops = self._given_tops(given, idx, be)
            _, v, pm = run_chains(jm, tops, n, int(steps), method, reps, init, rng)
            if first is None:  # a Passthrough view: its units are the joint layer's visibles
                out, obe = pm[:, sl], be  # (Gibbs: the chains' conditional means, averaged)
            else:
                top = v[:, sl] if method == "gibbs" else pm[:, sl]
                fbe = first.backend
                has_len = first.unit.has_length
                length = fbe.xp.ones((n * reps,), dtype=fbe.dtype) if has_len else None
                out, obe = dbn.down_device(top, be, length)
            outs.append(np.asarray(obe.to_host(chain_average(out, n, reps))))
        out = np.concatenate(outs, axis=0)
        return out if first is None else first.unstandardize(out)

    # ================================================================ checkpoints
    def checkpoint_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(meta, arrays)``: pathways under ``pathways.{name}.``, the joint under ``joint.``."""
        self._check_fitted()
        n_jobs = self.n_jobs if isinstance(self.n_jobs, (int, type(None))) else None
        meta: dict[str, Any] = {
            "class": "MultimodalDBN",
            "library_version": __version__,
            "config": clean_json(
                {
                    "n_jobs": n_jobs,
                    "joint_training": self.joint_training,
                    "inference_steps": int(self.inference_steps),
                    "finetune_epochs": int(self.finetune_epochs),
                    "finetune_learning_rate": float(self.finetune_learning_rate),
                    "finetune_weight_decay": float(self.finetune_weight_decay),
                    "finetune_views": None
                    if self.finetune_views is None
                    else [str(v) for v in self.finetune_views],
                    "validation_fraction": float(self.validation_fraction),
                    "random_state": self.random_state
                    if isinstance(self.random_state, (int, type(None)))
                    else None,
                }
            ),
            "finetune_history": clean_json(getattr(self, "finetune_history_", [])),
            "views": list(self.views_),
            "pathways": {},
        }
        if self.finetune_average:  # absent when off: older checkpoints stay byte-equal
            meta["config"]["finetune_average"] = float(self.finetune_average)
        arrays: dict[str, np.ndarray] = {}
        for n in self.views_:
            meta["pathways"][n] = add_sub_state(arrays, f"pathways.{n}.", self.pathways_[n])
        meta["joint"] = add_sub_state(arrays, "joint.", self.joint_)
        return meta, arrays

    def save(self, path: Any) -> Any:
        """Write the whole model to one checkpoint (``.npz``, no pickle, atomic).

        Returns
        -------
        pathlib.Path
        """
        meta, arrays = self.checkpoint_state()
        return write_checkpoint(path, meta, arrays)

    @classmethod
    def from_checkpoint_state(cls, meta: dict, arrays: dict, device: str = "auto") -> MultimodalDBN:
        """Rebuild a fitted model from :meth:`checkpoint_state` output (CheckpointError)."""
        config = dict(need(meta, "config", dict))
        if "joint_training" not in config:  # written before multi-prediction training existed
            config.update(joint_training="likelihood", inference_steps=10)
        views = need(meta, "views", list)
        pw_meta = need(meta, "pathways", dict)
        joint_meta = need(meta, "joint", dict)
        if (
            len(views) < 2
            or len(set(views)) != len(views)
            or not all(isinstance(v, str) and v and "." not in v for v in views)
        ):
            raise CheckpointError(f"checkpoint views must be 2+ distinct names; got {views!r}.")
        if set(pw_meta) != set(views):
            raise CheckpointError(
                f"checkpoint pathways {sorted(pw_meta)} do not match its views {views}."
            )
        allowed: set[str] = set()
        pathways_: dict[str, DBN] = {}
        for n in views:
            prefix = f"pathways.{n}."
            sub = sub_arrays(arrays, prefix)
            allowed |= {prefix + k for k in sub}
            where = f"pathway {n!r}"
            pm = need(pw_meta, n, dict)
            kind = Passthrough if pm.get("class") == "Passthrough" else DBN
            dbn = kind.from_checkpoint_state(pm, sub, device=device, where=where)
            if not dbn._is_complete():
                raise CheckpointError(f"checkpoint {where} is not fully fitted.")
            pathways_[n] = dbn
        sub = sub_arrays(arrays, "joint.")
        allowed |= {"joint." + k for k in sub}
        if need(joint_meta, "class", str, "joint") != "RBM":
            raise CheckpointError("checkpoint joint layer is not an RBM.")
        joint_ = RBM.from_checkpoint_state(joint_meta, sub, device=device)
        check_no_extra(arrays, allowed)
        if joint_.unit_.name != "bernoulli":
            raise CheckpointError("checkpoint joint RBM must have Bernoulli visibles.")
        total = sum(_top_size(p) for p in pathways_.values())
        if joint_.n_features_in_ != total:
            raise CheckpointError(
                f"checkpoint joint RBM has {joint_.n_features_in_} visible units; the "
                f"pathways' top layers add up to {total}."
            )
        try:
            model = cls({n: clone(p) for n, p in pathways_.items()}, clone(joint_), **config)
            model._check_params()
        except (TypeError, ConfigError) as e:
            raise CheckpointError(f"checkpoint config is invalid: {e}") from e
        model.pathways_ = pathways_
        model.views_ = list(views)
        model.joint_ = joint_
        history = meta.get("finetune_history", [])
        if not isinstance(history, list):
            raise CheckpointError("checkpoint finetune_history must be a list.")
        model.finetune_history_ = [dict(r) for r in history if isinstance(r, dict)]
        return model
