"""A pretrained encoder with a classification head: fine-tuned with the workbench's fit
loop, or frozen under a logistic-regression probe; saved and loaded without pickle."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from workbench.artifacts import (
    ARTIFACT_FORMAT,
    check_artifact,
    check_labels,
    read_json,
    write_artifact,
    write_json,
)
from workbench.batching import TokenizedDataset, pad_batch
from workbench.calibration import Calibration, calibrate
from workbench.config import ENCODER_RECIPE, TrainConfig
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
from workbench.model import mean_pool
from workbench.pretrained.loading import (
    MINILM_HUB_NAME,
    _from_pretrained,
    _load_tokenizer,
    _transformers,
    resolve_encoder,
)
from workbench.pretrained.networks import MeanPooledEncoder
from workbench.pretrained.piece_model import _PieceModel
from workbench.progress import progress_bar
from workbench.train import Callback, History, fit, resolve_device, set_seed
from workbench.version import __version__

MODEL_TYPE = "pretrained-encoder"


def _split_for_fit(
    texts: Sequence[str],
    labels: Sequence,
    validation: tuple[Sequence[str], Sequence] | LabeledTexts | None,
    val_size: float,
    seed: int,
) -> tuple[LabeledTexts, LabeledTexts | None]:
    train = LabeledTexts(as_text_list(texts), fit_labels(labels), source="training data")
    validate_labeled(train)
    if validation is not None:
        return train, validation_data(validation)
    if val_size > 0:
        train, val, _ = stratified_split(train, val_size=val_size, seed=seed)
        return train, val
    return train, None


class PretrainedEncoderClassifier(_PieceModel, TextEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A pretrained transformer encoder with a classification head, scikit-learn style.

    Args:
        model_name_or_path: a local directory (works offline), ``"minilm"`` for the
            built-in all-MiniLM-L6-v2, or a hub model name.
        mode: ``"finetune"`` (encoder and head trained together) or ``"probe"`` (frozen
            encoder + logistic regression).
        max_length: word pieces read per text (special tokens included).
        batch_size: texts per forward pass, and per optimiser step when fine-tuning.
        C: inverse regularisation of the probe's logistic regression.
        num_epochs: passes over the training data when fine-tuning.
        learning_rate: peak AdamW learning rate when fine-tuning; 1e-4 suits a 6-layer
            encoder on a few thousand texts, 2e-5 is the usual scale for BERT-base.
        seed: seeds the head's initialisation and the shuffling.
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"`` ...
        calibrate: fit a temperature on the validation split after fine-tuning.
        patience: epochs without a better validation score before fine-tuning stops.
        monitor: the validation score early stopping watches: "accuracy", "macro_f1" or "loss".
    """

    model_: MeanPooledEncoder | None  # None: a frozen encoder under the probe head_

    def __init__(
        self,
        model_name_or_path: str = MINILM_HUB_NAME,
        mode: Literal["probe", "finetune"] = "probe",
        max_length: int = 128,
        batch_size: int = 32,
        C: float = 1.0,
        num_epochs: int = 2,
        learning_rate: float = 2e-5,
        seed: int = 0,
        device: str = "auto",
        calibrate: bool = True,
        patience: int = 2,
        monitor: Literal["accuracy", "macro_f1", "loss"] = "accuracy",
    ) -> None:
        self.model_name_or_path = model_name_or_path
        self.mode = mode
        self.max_length = max_length
        self.batch_size = batch_size
        self.C = C
        self.num_epochs = num_epochs
        self.learning_rate = learning_rate
        self.seed = seed
        self.device = device
        self.calibrate = calibrate
        self.patience = patience
        self.monitor = monitor

    # ----------------------------------------------------------------- training
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence,
        *,
        validation: tuple[Sequence[str], Sequence] | LabeledTexts | None = None,
        val_size: float = 0.1,
        callbacks: Sequence[Callback] = (),
        stop_event: threading.Event | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        progress: bool = True,
    ) -> PretrainedEncoderClassifier:
        """Load the encoder and train the head (and, when fine-tuning, the encoder).

        Fine-tuning holds out ``val_size`` of the data (or uses ``validation``) for early
        stopping, the best checkpoint and the temperature; the probe trains on all of it.
        """
        if self.mode not in ("probe", "finetune"):
            raise InputError(f"mode must be 'probe' or 'finetune', got {self.mode!r}")
        set_seed(self.seed)
        self.device_ = resolve_device(self.device)
        source = resolve_encoder(str(self.model_name_or_path))
        self.hf_tokenizer_ = _load_tokenizer(source)
        encoder = _from_pretrained(_transformers().AutoModel, source)
        if self.mode == "probe":  # the logistic regression's own probabilities
            self.calibration_ = Calibration(note="not fitted: a probe is calibrated by its fit")
            self.temperature_ = 1.0
            train, _ = _split_for_fit(texts, labels, None, 0.0, self.seed)
            self.model_ = None
            self.encoder_ = encoder.to(self.device_).eval()
            features = self._embed(train.texts, progress=progress)
            self.head_ = LogisticRegression(C=self.C, max_iter=2000)
            self.head_.fit(features, np.asarray(train.labels))
            self.classes_ = self.head_.classes_
            return self
        train, val = _split_for_fit(texts, labels, validation, val_size, self.seed)
        self.classes_ = np.array(sorted(set(train.require_labels())))
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        check_validation_labels(val, self.classes_.tolist())
        self.model_ = MeanPooledEncoder(encoder, len(self.classes_))

        def encode(data: LabeledTexts) -> TokenizedDataset:
            return TokenizedDataset(
                self._encode_ids(data.texts), [index[y] for y in data.require_labels()]
            )

        config = TrainConfig(
            num_epochs=self.num_epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            patience=self.patience,
            monitor=self.monitor,
            seed=self.seed,
            device=self.device,
        )
        self.history_: History = fit(
            self.model_,
            encode(train),
            encode(val) if val is not None else None,
            config,
            pad_id=self.hf_tokenizer_.pad_token_id,
            callbacks=callbacks,
            stop_event=stop_event,
            checkpoint_dir=checkpoint_dir,
            progress=progress,
        )
        self.device_ = torch.device(self.history_.device)
        self.calibration_ = calibrate(self, val, self.calibrate)
        self.temperature_ = self.calibration_.temperature
        return self

    @torch.inference_mode()
    def _embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """The probe's features: mean-pooled encoder output ``(n, hidden)``, in order."""
        self.encoder_.eval()
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.encoder_.config.hidden_size), dtype=np.float64)
        starts = range(0, len(order), self.batch_size)
        for start in progress_bar(starts, show=progress, desc="encoding", unit="batch"):
            rows = order[start : start + self.batch_size]
            ids, mask = pad_batch(
                self._encode_ids([texts[i] for i in rows]), self.hf_tokenizer_.pad_token_id
            )
            hidden = self.encoder_(
                input_ids=ids.to(self.device_), attention_mask=mask.long().to(self.device_)
            ).last_hidden_state  # (B, T, C)
            pooled = mean_pool(hidden, mask.to(self.device_))  # (B, C)
            out[rows] = pooled.double().cpu().numpy()
        return out

    # ---------------------------------------------------------------- inference
    def num_parameters(self) -> int:
        """Encoder and head weights together: inference needs both."""
        check_fitted(self, "hf_tokenizer_")
        if self.model_ is not None:
            return self.model_.num_parameters()
        encoder = sum(p.numel() for p in self.encoder_.parameters())
        return encoder + int(self.head_.coef_.size + self.head_.intercept_.size)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``(n, k)``, columns in ``classes_`` order, rows summing to 1."""
        check_fitted(self, "hf_tokenizer_")
        if self.model_ is not None:
            return super().predict_proba(texts)
        return self.head_.predict_proba(self._embed(as_text_list(texts)))

    # ---------------------------------------------------------------- artifacts
    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json``, ``head.safetensors`` and, fine-tuned, ``encoder/``."""
        check_fitted(self, "hf_tokenizer_")
        source = resolve_encoder(str(self.model_name_or_path))
        if Path(source).is_dir():
            source = str(Path(source).resolve())  # the artifact must not depend on the cwd
        config = {
            "model_type": MODEL_TYPE,
            "artifact_format": ARTIFACT_FORMAT,
            "workbench_version": __version__,
            "labels": self.classes_.tolist(),
            "params": {**self.get_params(), "model_name_or_path": source},
            "encoder": "encoder" if self.model_ is not None else source,
            "calibration": self.calibration_.to_dict(),
        }
        if self.model_ is not None:
            head = {"weight": self.model_.head.weight, "bias": self.model_.head.bias}
        else:
            head = {
                "coef": torch.as_tensor(self.head_.coef_),
                "intercept": torch.as_tensor(self.head_.intercept_),
            }
        head = {k: v.detach().cpu().contiguous() for k, v in head.items()}

        def write(staging: Path) -> None:
            write_json(staging / "config.json", config)
            save_file(head, str(staging / "head.safetensors"), metadata={"format": "pt"})
            if self.model_ is not None:
                self.model_.backbone.save_pretrained(staging / "encoder", safe_serialization=True)
                self.hf_tokenizer_.save_pretrained(staging / "encoder")
                history = getattr(self, "history_", None)
                if history is not None:
                    write_json(staging / "metrics.json", {"history": history.to_dict()})

        return write_artifact(directory, write)

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> PretrainedEncoderClassifier:
        """Rebuild the classifier from :meth:`save`'s directory; identical probabilities."""
        path = check_artifact(directory, MODEL_TYPE, ("config.json", "head.safetensors"))
        config = read_json(path / "config.json")
        try:
            model = cls(**{**config["params"], "device": device})
            labels = config["labels"]
            encoder_source = str(config["encoder"])
        except (KeyError, TypeError) as exc:
            raise InputError(
                f"{path}: missing or malformed entry {exc}; save the model again"
            ) from exc
        if model.mode == "finetune":
            encoder_source = str(path / encoder_source)
        model.device_ = resolve_device(device)
        model.hf_tokenizer_ = _load_tokenizer(encoder_source)
        encoder = _from_pretrained(_transformers().AutoModel, encoder_source)
        try:
            head = load_file(str(path / "head.safetensors"))
        except (SafetensorError, OSError) as exc:
            raise InputError(f"{path}/head.safetensors: corrupt ({exc}); save again") from exc
        model.calibration_ = Calibration.from_dict(config.get("calibration"), f"{path}/config.json")
        model.temperature_ = model.calibration_.temperature
        try:
            rows = head["weight" if model.mode == "finetune" else "coef"].shape[0]
            outputs = rows if model.mode == "finetune" else max(rows, 2)  # sklearn: 1 row for 2
            model.classes_ = np.array(check_labels(labels, outputs, f"{path}/config.json"))
            if model.mode == "finetune":
                model.model_ = MeanPooledEncoder(encoder, len(labels))
                model.model_.head.load_state_dict(head)
                model.model_.to(model.device_).eval()
            else:
                model.model_ = None
                model.encoder_ = encoder.to(model.device_).eval()
                model.head_ = LogisticRegression(C=model.C, max_iter=2000)
                model.head_.coef_ = head["coef"].numpy()
                model.head_.intercept_ = head["intercept"].numpy()
                model.head_.classes_ = model.classes_
                model.head_.n_features_in_ = model.head_.coef_.shape[1]
        except (KeyError, RuntimeError) as exc:
            raise InputError(
                f"{path}/head.safetensors does not match config.json ({exc}); save again"
            ) from exc
        return model


FINETUNE_EPOCHS: int = ENCODER_RECIPE["num_epochs"]


def finetuned_encoder(
    encoder: str = "minilm", *, seed: int = 0, num_epochs: int | None = None, **params: Any
) -> PretrainedEncoderClassifier:
    """The workbench's fine-tuning recipe for a small encoder (all-MiniLM-L6-v2 by default):
    ``config.ENCODER_RECIPE``, where its settings are explained. ``params`` override any
    setting.
    """
    settings: dict[str, Any] = {
        **ENCODER_RECIPE,
        "num_epochs": num_epochs or FINETUNE_EPOCHS,
        "seed": seed,
    }
    return PretrainedEncoderClassifier(encoder, **{**settings, **params})
