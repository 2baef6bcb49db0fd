"""A small transformer encoder for text classification, read from the smallest part up.

attention -> MLP -> block -> model. Attention is softmax(QKᵀ/√d_k)·V. The fast path calls
``F.scaled_dot_product_attention`` (Flash / memory-efficient kernels on a GPU); the path
that returns the weights computes the formula by hand, and a test checks both agree.
Shapes: B batch, T tokens, C = d_model, H heads, d = C / H.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from workbench.config import ModelConfig
from workbench.errors import InputError


class SelfAttention(nn.Module):
    """Multi-head self-attention over the unpadded tokens of each sequence."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.num_heads = config.num_heads
        self.head_dim = config.d_model // config.num_heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.dropout = config.dropout

    def forward(
        self, x: torch.Tensor, key_mask: torch.Tensor, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=-1)  # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.num_heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        # (B, H, T, d) each; key_mask (B, 1, 1, T): True where the key is a real token, or
        # a float bias added to the scores (log presence, see TransformerClassifier.forward).
        dropout = self.dropout if self.training else 0.0
        if output_attentions:
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (B, H, T, T)
            if key_mask.dtype == torch.bool:
                scores = scores.masked_fill(~key_mask, float("-inf"))
            else:
                scores = scores + key_mask
            weights = scores.softmax(dim=-1)  # (B, H, T, T), rows sum to 1
            y = F.dropout(weights, dropout, self.training) @ v  # (B, H, T, d)
        else:
            weights = None
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask, dropout_p=dropout)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.proj(y), weights


class FeedForward(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.up = nn.Linear(config.d_model, config.d_ff)
        self.down = nn.Linear(config.d_ff, config.d_model)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.down(F.gelu(self.up(x))))  # (B, T, C)


class Block(nn.Module):
    """Pre-norm encoder block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.d_model)
        self.attention = SelfAttention(config)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.mlp = FeedForward(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, key_mask: torch.Tensor, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attended, weights = self.attention(self.norm1(x), key_mask, output_attentions)
        x = x + self.dropout(attended)
        return x + self.mlp(self.norm2(x)), weights


def mean_pool(
    x: torch.Tensor, mask: torch.Tensor, presence: torch.Tensor | None = None
) -> torch.Tensor:
    """(B, T, C) -> (B, C): the mean over real tokens, each weighted by its presence."""
    weights = mask.to(x.dtype)  # (B, T)
    if presence is not None:
        weights = weights * presence.to(x.dtype)
    weights = weights.unsqueeze(-1)  # (B, T, 1)
    return (x * weights).sum(1) / weights.sum(1).clamp(min=1e-6)


def presence_bias(mask: torch.Tensor, presence: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, T) mask and presence -> (B, 1, 1, T) additive attention bias: log presence for
    real tokens, the most negative number for padding. Softmax then scales each key's
    weight by its presence; presence 0 removes the key exactly as masking does."""
    lowest = torch.finfo(dtype).min
    bias = torch.log(presence.to(dtype)).clamp(min=lowest)
    return bias.masked_fill(~mask.bool(), lowest)[:, None, None, :]


@dataclass
class ClassifierOutput:
    """What ``TransformerClassifier.forward`` returns (Hugging Face style)."""

    logits: torch.Tensor  # (B, num_labels)
    loss: torch.Tensor | None = None  # mean cross-entropy, when labels were given
    attentions: tuple[torch.Tensor, ...] | None = None  # per layer, (B, H, T, T)


class ClassifierNetwork(nn.Module):
    """What every classifier network here shares: the config check, the public token
    embedding (gradient explainers attribute to its output), initialisation and a
    parameter count."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.vocab_size < 1 or config.num_labels < 2:
            raise ValueError(
                "ModelConfig needs vocab_size >= 1 and num_labels >= 2 "
                f"(got {config.vocab_size}, {config.num_labels}); TextClassifier fills them in"
            )
        self.config = config
        self.token_embedding = nn.Embedding(
            config.vocab_size, config.d_model, padding_idx=config.pad_token_id
        )

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        # GPT-2's small-normal init: keeps early logits near zero so warm-up is gentle.
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            nn.init.zeros_(module.weight[module.padding_idx])

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class TransformerClassifier(ClassifierNetwork):
    """Token + position embeddings, pre-norm encoder blocks, pooling, a linear head.

    ``token_embedding`` is public: gradient explainers attribute to its output.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.position_embedding = nn.Embedding(config.max_length, config.d_model)
        self.embedding_dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.num_layers))
        self.final_norm = nn.LayerNorm(config.d_model)
        self.head_dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.d_model, config.num_labels)
        self.apply(self._init_weights)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool = False,
        inputs_embeds: torch.Tensor | None = None,
        presence: torch.Tensor | None = None,
    ) -> ClassifierOutput:
        """Classify a padded batch.

        Args:
            input_ids: (B, T) token ids, ``[CLS]`` first; T <= ``config.max_length``.
            attention_mask: (B, T), true/1 for real tokens; None means no padding.
            labels: (B,) class indices; when given, ``loss`` is the mean cross-entropy.
            output_attentions: also return every layer's attention weights (slower path).
            inputs_embeds: (B, T, C) token vectors to use instead of looking up ``input_ids``
                (integrated gradients interpolates these).
            presence: (B, T) in [0, 1], how far each token is read: its attention keys and
                its share of the mean pooling are scaled by it (log-presence bias), so 0 is
                exactly deletion and 1 is the plain forward. Integrated gradients over
                presence explains a text against the empty text (see explain.gradients).
        """
        B, T = input_ids.shape
        if T > self.config.max_length:
            raise ValueError(
                f"input has {T} tokens but the model was built for max_length="
                f"{self.config.max_length}; truncate when encoding"
            )
        if attention_mask is None:
            attention_mask = torch.ones(B, T, dtype=torch.bool, device=input_ids.device)
        mask = attention_mask.bool()  # (B, T)
        tokens = self.token_embedding(input_ids) if inputs_embeds is None else inputs_embeds
        positions = self.position_embedding(torch.arange(T, device=input_ids.device))  # (T, C)
        x = self.embedding_dropout(tokens + positions)  # (B, T, C)
        key_mask = mask[:, None, None, :]  # (B, 1, 1, T)
        if presence is not None:
            key_mask = presence_bias(mask, presence, x.dtype)  # (B, 1, 1, T) float
        attentions = []
        for block in self.blocks:
            x, weights = block(x, key_mask, output_attentions)
            attentions.append(weights)
        x = self.final_norm(x)  # (B, T, C)
        pooled = x[:, 0] if self.config.pooling == "cls" else mean_pool(x, mask, presence)
        logits = self.head(self.head_dropout(pooled))  # (B, num_labels)
        loss = None if labels is None else F.cross_entropy(logits.float(), labels)
        return ClassifierOutput(
            logits=logits,
            loss=loss,
            attentions=tuple(attentions) if output_attentions else None,
        )


class BagOfEmbeddingsClassifier(ClassifierNetwork):
    """fastText-style baseline: the masked mean of the token vectors, then a linear head.

    No attention and no positions, so word order is invisible to it: whatever a transformer
    gains over this model is what order and context are worth on the task. Same forward
    contract as :class:`TransformerClassifier` (``attentions`` is always None), and
    ``token_embedding`` is public, so the gradient explainers work unchanged.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.d_model, config.num_labels)
        self.apply(self._init_weights)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool = False,
        inputs_embeds: torch.Tensor | None = None,
        presence: torch.Tensor | None = None,
    ) -> ClassifierOutput:
        """Classify a padded batch; arguments as in :meth:`TransformerClassifier.forward`."""
        if output_attentions:
            # InputError is a ValueError that the CLI reports as one line (explain --method).
            raise InputError(
                "a bag-of-embeddings model has no attention to return; use a gradient or "
                "perturbation explainer, or a transformer model for attention weights"
            )
        B, T = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones(B, T, dtype=torch.bool, device=input_ids.device)
        tokens = self.token_embedding(input_ids) if inputs_embeds is None else inputs_embeds
        pooled = mean_pool(tokens, attention_mask, presence)  # (B, C)
        logits = self.head(self.dropout(pooled))  # (B, num_labels)
        loss = None if labels is None else F.cross_entropy(logits.float(), labels)
        return ClassifierOutput(logits=logits, loss=loss, attentions=None)


def build_model(config: ModelConfig) -> TransformerClassifier | BagOfEmbeddingsClassifier:
    """The network ``config.architecture`` names (artifacts without the field: transformer)."""
    if config.architecture == "bag-of-embeddings":
        return BagOfEmbeddingsClassifier(config)
    return TransformerClassifier(config)
