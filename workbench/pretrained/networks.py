"""Hugging Face models behind the workbench forward contract (:mod:`workbench.model`)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from workbench.model import ClassifierOutput, mean_pool, presence_bias


class _HFNetwork(nn.Module):
    """The workbench forward contract (``workbench.model``) around a Hugging Face model.

    ``forward(input_ids, attention_mask, labels, output_attentions, presence)`` returns a
    :class:`~workbench.model.ClassifierOutput`; ``token_embedding`` is the word-piece
    embedding layer the gradient explainers attribute to; ``pooling`` says which rows of
    the attention the head reads ("mean" or "cls").
    """

    pooling: str
    # A transformers PreTrainedModel; transformers is optional and imported lazily.
    backbone: Any

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
        self.head = nn.Linear(self.backbone.config.hidden_size, num_labels)

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
