"""``TextClassifier``: the scikit-learn-style face of tokenizer + transformer + fit loop.

``TextClassifier(...)`` stores settings only; ``fit`` learns the tokenizer, the model and
``classes_``; ``predict_proba`` takes a list or NumPy array of strings and returns an
``(n, k)`` array whose columns follow ``classes_``. ``save``/``load`` use an artifact
directory with no pickle in it (see :func:`TextClassifier.save`).

Probabilities are calibrated by temperature scaling (:mod:`workbench.calibration`) on the
validation data after training; ``fit(..., soft_labels=)`` distils from a teacher (see
:mod:`workbench.distill`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from sklearn.base import BaseEstimator, ClassifierMixin

from workbench.artifacts import (
    ARTIFACT_FORMAT,
    check_artifact,
    check_labels,
    load_network,
    read_json,
    write_artifact,
    write_json,
)
from workbench.batching import TokenizedDataset, batched_logits, check_soft_labels
from workbench.calibration import Calibration, calibrate, scaled_softmax
from workbench.config import ModelConfig, TokenizerConfig, TrainConfig
from workbench.data import (
    LabeledTexts,
    as_text_list,
    check_validation_labels,
    stratified_split,
    validate_labeled,
    validation_data,
)
from workbench.errors import InputError
from workbench.estimators import TextEstimatorMixin, check_fitted, fit_labels
from workbench.model import build_model
from workbench.segment import Segmenter
from workbench.tokenizer import WordPieces, WordTokenizer
from workbench.train import Callback, History, fit, resolve_device, set_seed
from workbench.version import __version__

_FILES = ("config.json", "model.safetensors", "tokenizer.json", "metrics.json")
_CONFIGS: dict[str, type[ModelConfig] | type[TrainConfig] | type[TokenizerConfig]] = {
    "model_config": ModelConfig,
    "train_config": TrainConfig,
    "tokenizer_config": TokenizerConfig,
}


class TextClassifier(TextEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A from-scratch transformer text classifier with the scikit-learn estimator API.

    Args:
        model_config: architecture (vocabulary size and label count are filled in by fit).
        train_config: optimiser, schedule, early stopping, distillation, seed and device.
        tokenizer_config: lower-casing, punctuation splitting, minimum word frequency.
        calibrate: after training, fit a temperature on the validation data so that
            ``predict_proba`` says 0.9 where the model is right nine times in ten
            (``temperature_``; 1.0 when off or without validation data).

    Example:
        >>> clf = TextClassifier(train_config=TrainConfig(num_epochs=3)).fit(texts, labels)
        >>> clf.predict_proba(["not bad at all"])  # doctest: +SKIP
    """

    def __init__(
        self,
        model_config: ModelConfig | None = None,
        train_config: TrainConfig | None = None,
        tokenizer_config: TokenizerConfig | None = None,
        calibrate: bool = True,
    ) -> None:
        self.model_config = model_config
        self.train_config = train_config
        self.tokenizer_config = tokenizer_config
        self.calibrate = calibrate

    # ----------------------------------------------------------- parameters
    def get_params(self, deep: bool = True) -> dict:
        """The constructor's arguments; ``deep=True`` adds each setting of the three
        configs as ``train_config__num_epochs`` and so on, as scikit-learn lists the
        parameters of nested estimators."""
        params = super().get_params(deep=False)
        if deep:
            for name, kind in _CONFIGS.items():
                config = kind() if params[name] is None else params[name]
                if isinstance(config, kind):  # anything else is refused by fit, not here
                    params.update({f"{name}__{key}": v for key, v in config.to_dict().items()})
        return params

    def set_params(self, **params) -> TextClassifier:
        """Set constructor arguments, or single settings such as
        ``train_config__num_epochs=5``, so a grid search can vary one setting. A changed
        config is a new object: the one passed to ``__init__`` is never mutated."""
        nested: dict[str, dict] = {}
        for key in [key for key in params if "__" in key]:
            name, setting = key.split("__", 1)
            if name not in _CONFIGS:
                raise InputError(
                    f"invalid parameter {key!r}: only {', '.join(_CONFIGS)} take nested settings"
                )
            nested.setdefault(name, {})[setting] = params.pop(key)
        super().set_params(**params)
        for name, settings in nested.items():
            config = getattr(self, name) or _CONFIGS[name]()
            setattr(self, name, _CONFIGS[name].from_dict({**config.to_dict(), **settings}))
        return self

    # ----------------------------------------------------------------- training
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence,
        *,
        soft_labels: np.ndarray | None = None,
        validation: tuple[Sequence[str], Sequence] | LabeledTexts | None = None,
        val_size: float = 0.1,
        callbacks: Sequence[Callback] = (),
        stop_event: threading.Event | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        progress: bool = True,
    ) -> TextClassifier:
        """Learn the vocabulary, build the model and train it; returns ``self``.

        Args:
            texts, labels: training examples; labels may be strings or integers.
            soft_labels: a teacher's probabilities ``(n, k)``, one row per text, columns in
                sorted label order (what ``classes_`` will be). Training then minimises
                :func:`workbench.train.distillation_loss`. With soft labels a label may be
                ``None``: that text (e.g. an augmented one) learns from the teacher only.
            validation: ``(texts, labels)`` or ``LabeledTexts`` for early stopping, the best
                checkpoint and the calibration temperature. Without it, ``val_size`` of the
                gold-labelled training rows is held out (stratified, soft labels split with
                their texts);
                ``val_size=0`` trains on everything, keeps the last weights and does not
                calibrate.
            callbacks, stop_event, checkpoint_dir, progress: passed to :func:`workbench.train.fit`.
        """
        texts, labels = as_text_list(texts), fit_labels(labels)
        train_config = self.train_config or TrainConfig()
        gold, classes, soft = _check_training_rows(texts, labels, soft_labels)
        train_rows, val = _hold_out(texts, labels, gold, validation, val_size, train_config)
        train_texts = [texts[i] for i in train_rows]
        train_labels = [labels[i] for i in train_rows]
        train_soft = None if soft is None else soft[train_rows]

        self.classes_ = np.array(classes)
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        check_validation_labels(val, self.classes_.tolist())

        model_config = self._build(train_texts, train_config)

        def encode(rows: list[str], golds: list, teacher: np.ndarray | None) -> TokenizedDataset:
            ids = self.tokenizer_.encode_ids(rows, model_config.max_length)
            # -1: no gold label (a transfer text), learnt from the teacher's soft label only.
            return TokenizedDataset(ids, [-1 if y is None else index[y] for y in golds], teacher)

        self.history_: History = fit(
            self.model_,
            encode(train_texts, train_labels, train_soft),
            encode(val.texts, val.require_labels(), None) if val is not None else None,
            train_config,
            pad_id=self.tokenizer_.pad_id,
            callbacks=callbacks,
            stop_event=stop_event,
            checkpoint_dir=checkpoint_dir,
            progress=progress,
        )
        self.device_ = torch.device(self.history_.device)
        self.calibration_ = calibrate(self, val, self.calibrate)
        self.temperature_ = self.calibration_.temperature
        return self

    def _build(self, train_texts: list[str], train_config: TrainConfig) -> ModelConfig:
        """Learn ``tokenizer_`` on the training texts and build ``model_`` for its vocabulary
        and ``classes_``; returns the model's config, sizes filled in."""
        self.tokenizer_ = WordTokenizer.train(train_texts, self.tokenizer_config)
        set_seed(train_config.seed)  # before the model exists: its initial weights use it
        model_config = ModelConfig.from_dict(
            {
                **(self.model_config or ModelConfig()).to_dict(),
                "vocab_size": self.tokenizer_.vocab_size,
                "num_labels": len(self.classes_),
                "pad_token_id": self.tokenizer_.pad_id,
            }
        )
        self.model_ = build_model(model_config)
        return model_config

    def num_parameters(self) -> int:
        """Number of weights in the trained network (embeddings included)."""
        check_fitted(self, "model_")
        return self.model_.num_parameters()

    # ---------------------------------------------------------------- inference
    @torch.inference_mode()
    def predict_logits(
        self, texts: Sequence[str], batch_size: int = 256, precision: str = "float32"
    ) -> np.ndarray:
        """Raw scores ``(n, k)``; texts are length-sorted into batches, results unsorted.

        These are the network's logits *before* calibration: ``predict_proba`` is
        ``softmax(predict_logits / temperature_)``, so the arg-max is the same.

        ``precision="bfloat16"`` runs a bfloat16 copy of the network (made once per fitted
        or loaded model, then reused): about 1.4x the batched throughput on CPUs with AMX
        or AVX-512 BF16 in ``benchmarks/inference.py``, at the price of probabilities that
        differ in the third decimal. Explanations and evaluations keep the float32
        default, so their numbers match the saved model.
        """
        check_fitted(self, "model_")
        model = self._inference_model(precision)
        ids = self.tokenizer_.encode_ids(as_text_list(texts), self.model_.config.max_length)
        pad_id = self.tokenizer_.pad_id
        return batched_logits(model, ids, pad_id, len(self.classes_), self.device_, batch_size)

    def word_pieces(self, text: str) -> WordPieces:
        """``text`` as the network reads it: ``[CLS]``, then one token per word unit, cut
        to ``max_length`` (what explainers use to tie scores to words)."""
        check_fitted(self, "model_")
        encoding = self.tokenizer_.encode(text, self.model_.config.max_length)
        owners = [-1, *range(len(encoding.words))]
        return WordPieces(self.tokenizer_.words(text), encoding.ids, owners, len(encoding.words))

    def _inference_model(self, precision: str) -> torch.nn.Module:
        # eval() only when needed (e.g. after a user's own model_.train()): it walks every
        # module, a cost each single-text call would pay (benchmarks/inference.py measures
        # that latency).
        if self.model_.training:
            self.model_.eval()
        if precision == "float32":
            return self.model_
        if precision != "bfloat16":
            raise InputError(f"precision must be 'float32' or 'bfloat16', not {precision!r}")
        cached = getattr(self, "_bfloat16_model", None)
        if cached is None or cached[0] is not self.model_:  # a new fit or load: copy again
            copy = build_model(self.model_.config).to(self.device_, torch.bfloat16)
            copy.load_state_dict(self.model_.state_dict())
            self._bfloat16_model = (self.model_, copy.eval())
        return self._bfloat16_model[1]

    def predict_proba(
        self, texts: Sequence[str], batch_size: int = 256, precision: str = "float32"
    ) -> np.ndarray:
        """Calibrated class probabilities ``(n, k)``, columns in ``classes_`` order, rows
        summing to 1: ``softmax(logits / temperature_)``.

        ``batch_size``, ``precision``: see :meth:`predict_logits`.
        """
        return scaled_softmax(self.predict_logits(texts, batch_size, precision), self.temperature_)

    def predict(
        self, texts: Sequence[str], batch_size: int = 256, precision: str = "float32"
    ) -> np.ndarray:
        """The most probable label of each text, as found in ``classes_``."""
        check_fitted(self, "model_")
        return self.classes_[self.predict_proba(texts, batch_size, precision).argmax(axis=1)]

    # ---------------------------------------------------------------- artifacts
    def save(self, directory: str | os.PathLike) -> Path:
        """Write the artifact directory atomically and return its path.

        Contents: ``model.safetensors`` (weights), ``config.json`` (model, training and
        tokenizer settings, the word segmenter and its version, label names, the
        calibration temperature with the validation NLL before and after, library version,
        artifact format),
        ``tokenizer.json`` and ``metrics.json`` (training history). No pickle anywhere, so
        loading never executes code from the artifact. An existing artifact at the same
        path is replaced only once the new one is completely written.
        """
        check_fitted(self, "model_")

        def write(staging: Path) -> None:
            state = {k: v.detach().cpu().contiguous() for k, v in self.model_.state_dict().items()}
            save_file(state, staging / "model.safetensors", metadata={"format": "pt"})
            self.tokenizer_.save(staging / "tokenizer.json")
            config = {
                "artifact_format": ARTIFACT_FORMAT,
                "workbench_version": __version__,
                "labels": self.classes_.tolist(),
                "model": self.model_.config.to_dict(),
                "training": (self.train_config or TrainConfig()).to_dict(),
                "tokenizer": (self.tokenizer_config or TokenizerConfig()).to_dict(),
                "segmentation": self.tokenizer_.segmenter.to_dict(),
                "calibrate": self.calibrate,
                "calibration": self.calibration_.to_dict(),
            }
            write_json(staging / "config.json", config)
            write_json(staging / "metrics.json", {"history": self.history_.to_dict()})

        return write_artifact(directory, write)

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> TextClassifier:
        """Rebuild a classifier from :meth:`save`'s directory; gives identical probabilities."""
        path = check_artifact(directory, None, _FILES)
        config = read_json(path / "config.json")
        try:
            model_config = ModelConfig.from_dict(config["model"])
            clf = cls(
                model_config=model_config,
                train_config=TrainConfig.from_dict(config["training"]),
                tokenizer_config=TokenizerConfig.from_dict(config["tokenizer"]),
                calibrate=bool(config.get("calibrate", True)),
            )
            labels = config["labels"]
        except (KeyError, TypeError) as exc:
            raise InputError(f"{path}/config.json: missing or malformed entry {exc}") from exc
        except InputError as exc:  # a setting out of range: say which file holds it
            raise InputError(f"{path}/config.json: {exc}; save the model again") from exc
        clf.classes_ = np.array(
            check_labels(labels, model_config.num_labels, f"{path}/config.json")
        )
        # An artifact written before calibration existed has no entry: temperature 1.
        clf.calibration_ = Calibration.from_dict(config.get("calibration"), f"{path}/config.json")
        clf.temperature_ = clf.calibration_.temperature
        # Read text as in training: the segmenter recorded, or none for older artifacts.
        segmenter = None
        if "segmentation" in config:
            segmenter = Segmenter.from_dict(config["segmentation"], f"{path}/config.json")
        clf.tokenizer_ = WordTokenizer.load(path / "tokenizer.json", segmenter)
        if clf.tokenizer_.vocab_size > model_config.vocab_size:
            raise InputError(
                f"{path}: tokenizer.json has {clf.tokenizer_.vocab_size} words but the network "
                f"embeds {model_config.vocab_size}; the files do not belong together: save the "
                "model again"
            )
        clf.model_ = load_network(path, lambda: build_model(model_config))
        clf.device_ = resolve_device(device)
        clf.model_.to(clf.device_).eval()
        clf.history_ = History.from_artifact(path)
        return clf


def _check_training_rows(
    texts: list[str], labels: list, soft_labels: np.ndarray | None
) -> tuple[list[int], list, np.ndarray | None]:
    """Check the training table; the positions of the gold-labelled rows, the classes (their
    sorted labels) and the soft labels, checked against both."""
    if soft_labels is None:
        validate_labeled(LabeledTexts(texts, labels, source="training data"))
    else:
        # Rows without a gold label stand in as an existing label, so the usual checks
        # (kinds, classes, row numbers) still run on the whole table.
        stand_in = next((y for y in labels if y is not None), None)
        filled: list[Any] = [stand_in if y is None else y for y in labels]
        validate_labeled(LabeledTexts(texts, filled, source="training data"))
    gold = [i for i, y in enumerate(labels) if y is not None]
    classes = sorted({labels[i] for i in gold})
    soft = None
    if soft_labels is not None:
        soft = check_soft_labels(soft_labels, len(texts), len(classes))
    return gold, classes, soft


def _hold_out(
    texts: list[str],
    labels: list,
    gold: list[int],
    validation: tuple[Sequence[str], Sequence] | LabeledTexts | None,
    val_size: float,
    config: TrainConfig,
) -> tuple[np.ndarray, LabeledTexts | None]:
    """The positions of the rows to train on, and the validation data: ``validation`` as
    given (training on every row), else ``val_size`` of the gold-labelled rows held out,
    else none."""
    if validation is not None:
        val = validation_data(validation)
        train_rows = np.arange(len(texts))
    elif val_size > 0:
        train_gold, val_gold = _split_rows([labels[i] for i in gold], val_size, config)
        held_out = np.asarray(gold)[val_gold]
        train_rows = np.setdiff1d(np.arange(len(texts)), held_out)  # sorted, as before
        val = LabeledTexts(
            [texts[i] for i in held_out], [labels[i] for i in held_out], "training data"
        )
    else:
        train_rows, val = np.arange(len(texts)), None
    return train_rows, val


def _split_rows(
    labels: list, val_size: float, config: TrainConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of :func:`workbench.data.stratified_split`'s train and validation rows.

    The split depends only on the labels and the seed, so splitting the positions (given
    as the texts) holds out exactly the rows a split of the texts would, and lets soft
    labels follow their texts.
    """
    positions = LabeledTexts([str(i) for i in range(len(labels))], labels, "training data")
    train, val, _ = stratified_split(positions, val_size=val_size, seed=config.seed)
    return np.array(train.texts, dtype=int), np.array(val.texts, dtype=int)
