"""The encoder–decoder transformer, from the classifier's blocks plus the decoder's.

The encoder is the classifier's stack of :class:`~workbench.model.Block` over the source
tokens ([CLS] first). The decoder reads the target prefix (the start token, then the words
so far) through :class:`~workbench.model.DecoderBlock`: causal self-attention (no position
sees a later one), cross-attention to the encoder's outputs, the MLP. A linear head turns
each decoder position into scores over the target vocabulary: position ``i`` predicts
target token ``i + 1``. Training feeds the gold prefix (teacher forcing); decoding feeds
the model's own tokens (:mod:`workbench.seq2seq.decode`).

``source_embedding`` and ``target_embedding`` are public: gradient explainers attribute to
their outputs (``inputs_embeds`` / ``decoder_inputs_embeds`` replace the look-ups), and
``output_attentions`` returns every layer's encoder, decoder self- and cross-attention
weights. Shapes: B batch, S source tokens, T target tokens, C = d_model, H heads, V target
vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from workbench.config import Seq2SeqConfig
from workbench.model import Block, ClassifierNetwork, DecoderBlock, presence_bias

IGNORE_INDEX = -100  # label of a padded target position: no loss there


@dataclass
class Encoded:
    """The encoder's outputs and the mask the decoder's cross-attention uses."""

    memory: torch.Tensor  # (B, S, C)
    key_mask: torch.Tensor  # (B, 1, 1, S) bool, or a float log-presence bias
    attentions: tuple[torch.Tensor, ...] | None = None  # per layer, (B, H, S, S)


@dataclass
class Seq2SeqOutput:
    """What :meth:`Seq2SeqTransformer.forward` returns (Hugging Face style)."""

    logits: torch.Tensor  # (B, T, V): position i scores target token i + 1
    loss: torch.Tensor | None = None  # mean cross-entropy over real target tokens
    encoder_attentions: tuple[torch.Tensor, ...] | None = None  # per layer, (B, H, S, S)
    decoder_attentions: tuple[torch.Tensor, ...] | None = None  # per layer, (B, H, T, T)
    cross_attentions: tuple[torch.Tensor, ...] | None = None  # per layer, (B, H, T, S)


def _check_length(length: int, maximum: int, what: str, setting: str) -> None:
    if length > maximum:
        raise ValueError(
            f"{what} has {length} tokens but the model was built for {setting}={maximum}; "
            "truncate when encoding"
        )


class Seq2SeqTransformer(nn.Module):
    """Source and target embeddings with positions (``config.positions``: fixed sinusoids,
    the default, or learned vectors), encoder and decoder stacks, a head."""

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        if config.source_vocab_size < 1 or config.target_vocab_size < 2:
            raise ValueError(
                "Seq2SeqConfig needs source_vocab_size >= 1 and target_vocab_size >= 2 (got "
                f"{config.source_vocab_size}, {config.target_vocab_size}); Translator fills "
                "them in"
            )
        self.config = config
        d, pad = config.d_model, config.pad_token_id
        self.source_embedding = nn.Embedding(config.source_vocab_size, d, padding_idx=pad)
        self.target_embedding = nn.Embedding(config.target_vocab_size, d, padding_idx=pad)
        if config.positions == "learned":
            self.source_position = nn.Embedding(config.max_source_length, d)
            self.target_position = nn.Embedding(config.max_target_length, d)
        else:  # fixed, so not saved with the weights
            table = sinusoidal_positions(max(config.max_source_length, config.max_target_length), d)
            self.register_buffer("position_table", table, persistent=False)
        self.embedding_dropout = nn.Dropout(config.dropout)
        self.encoder = nn.ModuleList(Block(config) for _ in range(config.num_encoder_layers))
        self.encoder_norm = nn.LayerNorm(d)
        self.decoder = nn.ModuleList(DecoderBlock(config) for _ in range(config.num_decoder_layers))
        self.decoder_norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.target_vocab_size)
        self.apply(ClassifierNetwork._init_weights)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _place(self, tokens: torch.Tensor, side: str) -> torch.Tensor:
        """Token vectors (B, T, C) plus their positions' vectors."""
        T = tokens.shape[1]
        if self.config.positions == "sinusoidal":
            table: torch.Tensor = self.position_table  # type: ignore[assignment]
            return tokens * math.sqrt(self.config.d_model) + table[:T].to(tokens.dtype)
        embedding = self.source_position if side == "source" else self.target_position
        return tokens + embedding(torch.arange(T, device=tokens.device))

    def encode(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        *,
        inputs_embeds: torch.Tensor | None = None,
        presence: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> Encoded:
        """Run the encoder over a padded source batch ``(B, S)``.

        ``presence`` (B, S) in [0, 1] scales how far each source token is read, by the
        classifier's log-presence bias on its attention keys, in the encoder's
        self-attention and the decoder's cross-attention alike: 0 is exactly deletion.
        """
        B, S = input_ids.shape
        _check_length(S, self.config.max_source_length, "the source", "max_source_length")
        if attention_mask is None:
            attention_mask = torch.ones(B, S, dtype=torch.bool, device=input_ids.device)
        mask = attention_mask.bool()
        tokens = self.source_embedding(input_ids) if inputs_embeds is None else inputs_embeds
        x = self.embedding_dropout(self._place(tokens, "source"))  # (B, S, C)
        key_mask = mask[:, None, None, :]  # (B, 1, 1, S)
        if presence is not None:
            key_mask = presence_bias(mask, presence, x.dtype)
        attentions = []
        for block in self.encoder:
            x, weights = block(x, key_mask, output_attentions)
            attentions.append(weights)
        return Encoded(
            self.encoder_norm(x), key_mask, tuple(attentions) if output_attentions else None
        )

    def decode(
        self,
        decoder_input_ids: torch.Tensor,
        encoded: Encoded,
        decoder_attention_mask: torch.Tensor | None = None,
        *,
        decoder_inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> Seq2SeqOutput:
        """Scores for the next token at every position of the target prefixes ``(B, T)``."""
        B, T = decoder_input_ids.shape
        _check_length(T, self.config.max_target_length, "the target", "max_target_length")
        if decoder_attention_mask is None:
            decoder_attention_mask = torch.ones(
                B, T, dtype=torch.bool, device=decoder_input_ids.device
            )
        tokens = (
            self.target_embedding(decoder_input_ids)
            if decoder_inputs_embeds is None
            else decoder_inputs_embeds
        )
        x = self.embedding_dropout(self._place(tokens, "target"))  # (B, T, C)
        key_mask = decoder_attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T)
        memory_mask = encoded.key_mask
        if memory_mask.shape[0] != B:  # one source read by several beams
            memory_mask = memory_mask.expand(B, *memory_mask.shape[1:])
        memory = encoded.memory.expand(B, *encoded.memory.shape[1:])
        self_weights, cross_weights = [], []
        for block in self.decoder:
            x, attended, read = block(x, key_mask, memory, memory_mask, output_attentions)
            self_weights.append(attended)
            cross_weights.append(read)
        logits = self.head(self.decoder_norm(x))  # (B, T, V)
        if not output_attentions:
            return Seq2SeqOutput(logits=logits)
        return Seq2SeqOutput(
            logits=logits,
            decoder_attentions=tuple(self_weights),
            cross_attentions=tuple(cross_weights),
        )

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.Tensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool = False,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        presence: torch.Tensor | None = None,
    ) -> Seq2SeqOutput:
        """Teacher-forced scores for a padded batch of pairs.

        Args:
            input_ids, attention_mask: the source ``(B, S)``, ``[CLS]`` first.
            decoder_input_ids, decoder_attention_mask: the target prefix ``(B, T)``: the
                start token, then the gold target words.
            labels: ``(B, T)`` the token each position should predict (the words, then
                end-of-sequence), ``IGNORE_INDEX`` at padding; gives ``loss``.
            output_attentions: also return every layer's attention weights (slower path).
            inputs_embeds, decoder_inputs_embeds: token vectors to use instead of the
                look-ups (integrated gradients interpolates these).
            presence: ``(B, S)`` how far each source token is read (see :meth:`encode`).
        """
        if decoder_input_ids is None:
            raise ValueError("decoder_input_ids are needed: the start token, then the target")
        encoded = self.encode(
            input_ids,
            attention_mask,
            inputs_embeds=inputs_embeds,
            presence=presence,
            output_attentions=output_attentions,
        )
        out = self.decode(
            decoder_input_ids,
            encoded,
            decoder_attention_mask,
            decoder_inputs_embeds=decoder_inputs_embeds,
            output_attentions=output_attentions,
        )
        out.encoder_attentions = encoded.attentions
        if labels is not None:
            out.loss = sequence_loss(out.logits, labels)
        return out


def sinusoidal_positions(length: int, d_model: int) -> torch.Tensor:
    """(length, d_model): sin on even, cos on odd dimensions, wavelengths from 2π to
    10000·2π (Vaswani et al. 2017)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: d_model // 2])
    return table


def sequence_loss(
    logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """Mean cross-entropy over the real target tokens of a batch (padding ignored)."""
    return F.cross_entropy(
        logits.float().flatten(0, 1),
        labels.flatten(),
        ignore_index=IGNORE_INDEX,
        label_smoothing=label_smoothing,
    )
