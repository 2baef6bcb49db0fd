"""A small transformer encoder for text classification, read from the smallest part up.

attention -> MLP -> block -> model. Attention is softmax(QKᵀ/√d_k)·V (:func:`attend`, shared
by self-attention, its causal form and cross-attention, which the encoder–decoder in
``workbench.seq2seq`` builds on). The fast path calls
``F.scaled_dot_product_attention`` (Flash / memory-efficient kernels on a GPU); the path
that returns the weights computes the formula by hand, and a test checks both agree.
Shapes: B batch, T tokens, C = d_model, H heads, d = C / H.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

from workbench.config import ModelConfig
from workbench.errors import InputError


class BlockSizes(Protocol):
    """What the blocks read from a config: :class:`ModelConfig` and the seq2seq config
    (``workbench.config.Seq2SeqConfig``) both have these."""

    d_model: int
    num_heads: int
    d_ff: int
    dropout: float


def causal_mask(length: int, device: torch.device | None = None) -> torch.Tensor:
    """(T, T) bool, True on and below the diagonal: query i may read keys 0..i only."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    key_mask: torch.Tensor,
    *,
    causal: bool = False,
    dropout: float = 0.0,
    output_attentions: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """softmax(QKᵀ/√d + mask)·V for (B, H, Tq, d) queries and (B, H, Tk, d) keys/values.

    ``key_mask`` (B, 1, 1, Tk): True where the key is a real token, or a float bias added
    to the scores (log presence). ``causal`` also hides every key after the query's own
    position (decoder self-attention, Tq == Tk). With ``output_attentions`` the formula is
    computed by hand and the weights (B, H, Tq, Tk) returned; otherwise
    ``F.scaled_dot_product_attention`` runs (the fast kernels) and the weights are None.
    ``dropout`` is applied to the weights (pass 0.0 outside training).
    """
    if causal:
        allowed = causal_mask(q.shape[-2], q.device)  # (Tq, Tk)
        if key_mask.dtype == torch.bool:
            key_mask = key_mask & allowed  # (B, 1, Tq, Tk)
        else:  # filled, not added: the lowest float plus a log presence would be -inf
            key_mask = key_mask.masked_fill(~allowed, torch.finfo(key_mask.dtype).min)
    if not output_attentions:
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask, dropout_p=dropout)
        return y, None
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, Tq, Tk)
    if key_mask.dtype == torch.bool:
        scores = scores.masked_fill(~key_mask, float("-inf"))
    else:
        scores = scores + key_mask
    weights = scores.softmax(dim=-1)  # (B, H, Tq, Tk), rows sum to 1
    return F.dropout(weights, dropout, dropout > 0) @ v, weights  # (B, H, Tq, d)


class SelfAttention(nn.Module):
    """Multi-head self-attention over the unpadded tokens of each sequence; with
    ``causal`` each token reads only itself and the tokens before it (a decoder's)."""

    def __init__(self, config: BlockSizes, causal: bool = False) -> None:
        super().__init__()
        self.num_heads = config.num_heads
        self.head_dim = config.d_model // config.num_heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.dropout = config.dropout
        self.causal = causal

    def forward(
        self, x: torch.Tensor, key_mask: torch.Tensor, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=-1)  # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.num_heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        # (B, H, T, d) each; key_mask (B, 1, 1, T): True where the key is a real token, or
        # a float bias added to the scores (log presence, see TransformerClassifier.forward).
        dropout = self.dropout if self.training else 0.0
        y, weights = attend(
            q,
            k,
            v,
            key_mask,
            causal=self.causal,
            dropout=dropout,
            output_attentions=output_attentions,
        )
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.proj(y), weights


class CrossAttention(nn.Module):
    """Multi-head attention from decoder tokens (queries) to encoder outputs (keys and
    values): where each target position reads the source. Its weights (B, H, Tt, Ts) are
    what attention-based alignment reads."""

    def __init__(self, config: BlockSizes) -> None:
        super().__init__()
        self.num_heads = config.num_heads
        self.head_dim = config.d_model // config.num_heads
        self.query = nn.Linear(config.d_model, config.d_model)
        self.key_value = nn.Linear(config.d_model, 2 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.dropout = config.dropout

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x`` (B, Tt, C) decoder states, ``memory`` (B, Ts, C) encoder outputs,
        ``memory_mask`` (B, 1, 1, Ts) bool or float bias over the source tokens."""
        B, Tt, C = x.shape
        Ts = memory.shape[1]

        def heads(t: torch.Tensor, length: int) -> torch.Tensor:
            return t.view(B, length, self.num_heads, self.head_dim).transpose(1, 2)

        q = heads(self.query(x), Tt)  # (B, H, Tt, d)
        k, v = (heads(t, Ts) for t in self.key_value(memory).split(C, dim=-1))  # (B, H, Ts, d)
        dropout = self.dropout if self.training else 0.0
        y, weights = attend(
            q, k, v, memory_mask, dropout=dropout, output_attentions=output_attentions
        )
        return self.proj(y.transpose(1, 2).reshape(B, Tt, C)), weights


class FeedForward(nn.Module):
    def __init__(self, config: BlockSizes) -> None:
        super().__init__()
        self.up = nn.Linear(config.d_model, config.d_ff)
        self.down = nn.Linear(config.d_ff, config.d_model)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.down(F.gelu(self.up(x))))  # (B, T, C)


class Block(nn.Module):
    """Pre-norm encoder block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: BlockSizes) -> None:
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


class DecoderBlock(nn.Module):
    """Pre-norm decoder block: causal self-attention over the target prefix, then
    cross-attention to the encoder's outputs, then the MLP, each added to the residual."""

    def __init__(self, config: BlockSizes) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.d_model)
        self.attention = SelfAttention(config, causal=True)
        self.norm_cross = nn.LayerNorm(config.d_model)
        self.cross_attention = CrossAttention(config)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.mlp = FeedForward(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        x: torch.Tensor,
        key_mask: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Returns the new states (B, Tt, C), the self-attention weights (B, H, Tt, Tt)
        and the cross-attention weights (B, H, Tt, Ts) (both None on the fast path)."""
        attended, self_weights = self.attention(self.norm1(x), key_mask, output_attentions)
        x = x + self.dropout(attended)
        read, cross_weights = self.cross_attention(
            self.norm_cross(x), memory, memory_mask, output_attentions
        )
        x = x + self.dropout(read)
        return x + self.mlp(self.norm2(x)), self_weights, cross_weights


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
