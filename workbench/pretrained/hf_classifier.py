"""A user's own fine-tuned ``AutoModelForSequenceClassification`` directory, loaded as it is."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from workbench.artifacts import write_artifact
from workbench.calibration import Calibration
from workbench.estimators import check_fitted
from workbench.pretrained.loading import (
    _from_pretrained,
    _load_tokenizer,
    _transformers,
    check_model_directory,
)
from workbench.pretrained.networks import SequenceClassificationNetwork
from workbench.pretrained.piece_model import _PieceModel
from workbench.train import resolve_device


class HFSequenceClassifier(_PieceModel):
    """A fine-tuned Hugging Face ``AutoModelForSequenceClassification`` directory, loaded
    as it is to predict, evaluate and explain (it is never trained here).

    ``classes_`` are the config's ``id2label`` names in column order; the temperature is
    1 (the model's own probabilities), since there is no validation split to fit one on.
    """

    model_: SequenceClassificationNetwork
    calibration_: Calibration
    source_: str

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
