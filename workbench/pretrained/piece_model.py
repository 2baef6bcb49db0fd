"""What the two pretrained classifiers share: prediction in batches and the word pieces
tied to the project's words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from workbench.batching import batched_logits
from workbench.calibration import scaled_softmax
from workbench.data import as_text_list
from workbench.estimators import check_fitted
from workbench.pretrained.networks import _HFNetwork
from workbench.tokenizer import WordPieces, align_pieces, split_words


class _PieceModel:
    """Prediction and word alignment for a fitted network that reads word pieces.

    Needs ``model_`` (an :class:`_HFNetwork`), ``hf_tokenizer_``, ``classes_``,
    ``device_``, ``max_length`` and ``temperature_``.
    """

    model_: _HFNetwork | None  # None: PretrainedEncoderClassifier's frozen-encoder probe
    hf_tokenizer_: Any  # a transformers tokenizer; transformers is imported lazily
    classes_: np.ndarray
    device_: torch.device
    max_length: int
    temperature_: float

    def _encode_ids(self, texts: list[str]) -> list[list[int]]:
        return self.hf_tokenizer_(texts, truncation=True, max_length=self.max_length)["input_ids"]

    @torch.inference_mode()
    def predict_logits(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Raw scores ``(n, k)`` (before the temperature); texts are length-sorted into
        batches, results returned in the input order."""
        check_fitted(self, "hf_tokenizer_")
        network = self.model_
        assert network is not None  # a frozen-encoder probe predicts with its head_ instead
        if network.training:
            network.eval()
        ids = self._encode_ids(as_text_list(texts))
        pad_id = self.hf_tokenizer_.pad_token_id
        return batched_logits(network, ids, pad_id, len(self.classes_), self.device_, batch_size)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated class probabilities ``(n, k)``, columns in ``classes_`` order:
        ``softmax(predict_logits / temperature_)``."""
        return scaled_softmax(self.predict_logits(texts), self.temperature_)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable label of each text, as found in ``classes_``."""
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def num_parameters(self) -> int:
        check_fitted(self, "hf_tokenizer_")
        assert self.model_ is not None  # PretrainedEncoderClassifier counts its probe itself
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
