"""``TextClassifier``: the scikit-learn-style face of tokenizer + transformer + fit loop.

``TextClassifier(...)`` stores settings only; ``fit`` learns the tokenizer, the model and
``classes_``; ``predict_proba`` takes a list or NumPy array of strings and returns an
``(n, k)`` array whose columns follow ``classes_``. ``save``/``load`` use an artifact
directory with no pickle in it (see :func:`TextClassifier.save`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from sklearn.base import BaseEstimator, ClassifierMixin

from workbench.artifacts import (
    ARTIFACT_FORMAT,
    check_artifact,
    read_json,
    write_artifact,
    write_json,
)
from workbench.batching import TokenizedDataset, pad_batch
from workbench.config import ModelConfig, TokenizerConfig, TrainConfig
from workbench.data import (
    LabeledTexts,
    as_text_list,
    plain_labels,
    stratified_split,
    validate_labeled,
)
from workbench.errors import InputError
from workbench.model import build_model
from workbench.tokenizer import WordTokenizer
from workbench.train import Callback, History, fit, resolve_device, set_seed
from workbench.version import __version__

_FILES = ("config.json", "model.safetensors", "tokenizer.json", "metrics.json")


class TextClassifier(ClassifierMixin, BaseEstimator):
    """A from-scratch transformer text classifier with the scikit-learn estimator API.

    Args:
        model_config: architecture (vocabulary size and label count are filled in by fit).
        train_config: optimiser, schedule, early stopping, seed and device.
        tokenizer_config: lower-casing, punctuation splitting, minimum word frequency.

    Example:
        >>> clf = TextClassifier(train_config=TrainConfig(num_epochs=3)).fit(texts, labels)
        >>> clf.predict_proba(["not bad at all"])  # doctest: +SKIP
    """

    def __init__(
        self,
        model_config: ModelConfig | None = None,
        train_config: TrainConfig | None = None,
        tokenizer_config: TokenizerConfig | None = None,
    ) -> None:
        self.model_config = model_config
        self.train_config = train_config
        self.tokenizer_config = tokenizer_config

    # ----------------------------------------------------------------- training
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence,
        *,
        validation: tuple[Sequence[str], Sequence] | None = None,
        val_size: float = 0.1,
        callbacks: Sequence[Callback] = (),
        stop_event: threading.Event | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        progress: bool = True,
    ) -> TextClassifier:
        """Learn the vocabulary, build the model and train it; returns ``self``.

        Args:
            texts, labels: training examples; labels may be strings or integers.
            validation: ``(texts, labels)`` for early stopping and the best checkpoint.
                Without it, ``val_size`` of the training data is held out (stratified);
                ``val_size=0`` trains on everything and keeps the last weights.
            callbacks, stop_event, checkpoint_dir, progress: passed to :func:`workbench.train.fit`.
        """
        train = LabeledTexts(as_text_list(texts), plain_labels(labels), source="training data")
        validate_labeled(train)
        train_config = self.train_config or TrainConfig()
        if validation is not None:
            val = LabeledTexts(
                as_text_list(validation[0], "validation texts"),
                plain_labels(validation[1]),
                source="validation data",
            )
            validate_labeled(val)
        elif val_size > 0:
            train, val, _ = stratified_split(train, val_size=val_size, seed=train_config.seed)
        else:
            val = None
        self.classes_ = np.array(sorted(set(train.labels)))
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        if val is not None:
            unseen = sorted(set(val.labels) - set(index), key=str)
            if unseen:
                raise InputError(
                    f"validation labels {unseen} never occur in the training data "
                    f"(training labels: {list(index)}); fix the labels or the split"
                )

        self.tokenizer_ = WordTokenizer.train(train.texts, self.tokenizer_config)
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

        def encode(data: LabeledTexts) -> TokenizedDataset:
            ids = self.tokenizer_.encode_ids(data.texts, model_config.max_length)
            return TokenizedDataset(ids, [index[y] for y in data.labels])

        self.history_: History = fit(
            self.model_,
            encode(train),
            encode(val) if val is not None else None,
            train_config,
            pad_id=self.tokenizer_.pad_id,
            callbacks=callbacks,
            stop_event=stop_event,
            checkpoint_dir=checkpoint_dir,
            progress=progress,
        )
        self.device_ = torch.device(self.history_.device)
        return self

    def num_parameters(self) -> int:
        """Number of weights in the trained network (embeddings included)."""
        self._check_fitted()
        return self.model_.num_parameters()

    # ---------------------------------------------------------------- inference
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise InputError("this TextClassifier is not trained yet: call fit() or load()")

    @torch.inference_mode()
    def predict_logits(
        self, texts: Sequence[str], batch_size: int = 256, precision: str = "float32"
    ) -> np.ndarray:
        """Raw scores ``(n, k)``; texts are length-sorted into batches, results unsorted.

        ``precision="bfloat16"`` runs a bfloat16 copy of the network (made once per fitted
        or loaded model, then reused): about 1.4x the batched throughput on CPUs with AMX
        or AVX-512 BF16 in ``benchmarks/inference.py``, at the price of probabilities that
        differ in the third decimal. Explanations and evaluations keep the float32
        default, so their numbers match the saved model.
        """
        self._check_fitted()
        model = self._inference_model(precision)
        texts = as_text_list(texts)
        ids = self.tokenizer_.encode_ids(texts, self.model_.config.max_length)
        order = np.argsort([len(i) for i in ids], kind="stable")
        logits = np.empty((len(texts), len(self.classes_)), dtype=np.float64)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            input_ids, mask = pad_batch([ids[i] for i in rows], self.tokenizer_.pad_id)
            out = model(input_ids.to(self.device_), mask.to(self.device_))
            logits[rows] = out.logits.double().cpu().numpy()
        return logits

    def _inference_model(self, precision: str) -> torch.nn.Module:
        # eval() only when needed (e.g. after a user's own model_.train()): it walks every
        # module, which cost 0.25 ms on each single-text call.
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
        """Class probabilities ``(n, k)``, columns in ``classes_`` order, rows summing to 1.

        ``batch_size``, ``precision``: see :meth:`predict_logits`.
        """
        logits = self.predict_logits(texts, batch_size, precision)
        logits -= logits.max(axis=1, keepdims=True)  # stable softmax in float64
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(
        self, texts: Sequence[str], batch_size: int = 256, precision: str = "float32"
    ) -> np.ndarray:
        """The most probable label of each text, as found in ``classes_``."""
        self._check_fitted()
        return self.classes_[self.predict_proba(texts, batch_size, precision).argmax(axis=1)]

    # ---------------------------------------------------------------- artifacts
    def save(self, directory: str | os.PathLike) -> Path:
        """Write the artifact directory atomically and return its path.

        Contents: ``model.safetensors`` (weights), ``config.json`` (model, training and
        tokenizer settings, label names, library version, artifact format),
        ``tokenizer.json`` and ``metrics.json`` (training history). No pickle anywhere, so
        loading never executes code from the artifact. An existing artifact at the same
        path is replaced only once the new one is completely written.
        """
        self._check_fitted()

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
            )
            labels = config["labels"]
        except (KeyError, TypeError) as exc:
            raise InputError(f"{path}/config.json: missing or malformed entry {exc}") from exc
        clf.classes_ = np.array(labels)
        clf.tokenizer_ = WordTokenizer.load(path / "tokenizer.json")
        clf.model_ = build_model(model_config)
        try:
            clf.model_.load_state_dict(load_file(path / "model.safetensors"))
        except (SafetensorError, RuntimeError, OSError) as exc:
            raise InputError(
                f"{path}/model.safetensors: corrupt or does not match config.json ({exc})"
            ) from exc
        clf.device_ = resolve_device(device)
        clf.model_.to(clf.device_).eval()
        history = read_json(path / "metrics.json").get("history", {})
        try:
            clf.history_ = History(**history)
        except TypeError as exc:
            raise InputError(
                f"{path}/metrics.json: malformed training history ({exc}); save the model again"
            ) from exc
        return clf
