"""Greedy and beam-search decoding of a :class:`~workbench.seq2seq.network.Seq2SeqTransformer`.

Both encode the source once and then grow the target one token at a time, re-running the
decoder over the whole prefix (targets here are short; a key/value cache would save the
repeated work on long ones). The padding and start tokens are never generated. A target
that never emits end-of-sequence stops after ``max_new_tokens`` with the stop reason
``"max_length"``.

Beam search keeps the ``beam_size`` best prefixes by summed log-probability; a prefix that
ends is ranked by its score divided by ``length ** length_penalty`` (1.0: the mean
log-probability per token; 0: no normalisation). As in Hugging Face's implementation, an
end-of-sequence is accepted only from the ``beam_size`` best candidates of a step, so beam
size 1 is exactly greedy decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.seq2seq.network import Encoded, Seq2SeqTransformer

EOS_REASON, LENGTH_REASON = "eos", "max_length"


@dataclass(frozen=True)
class Hypothesis:
    """One decoded target: its token ids (no start token, no end-of-sequence), the summed
    log-probability of every generated token (end-of-sequence included when emitted) and
    why decoding stopped (``"eos"`` or ``"max_length"``)."""

    ids: tuple[int, ...]
    score: float
    stop_reason: str


def _next_log_probs(
    network: Seq2SeqTransformer, prefixes: torch.Tensor, encoded: Encoded
) -> torch.Tensor:
    """Log-probabilities (B, V) of the token after each prefix, start and padding barred."""
    logits = network.decode(prefixes, encoded).logits[:, -1].float()  # (B, V)
    config = network.config
    logits[:, [config.pad_token_id, config.bos_token_id]] = float("-inf")
    return logits.log_softmax(-1)


def _check_budget(network: Seq2SeqTransformer, max_new_tokens: int) -> None:
    top = network.config.max_target_length
    if not 1 <= max_new_tokens <= top:
        raise ValueError(f"max_new_tokens must be from 1 to max_target_length={top}")


@torch.inference_mode()
def greedy_decode(
    network: Seq2SeqTransformer,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    max_new_tokens: int,
) -> list[Hypothesis]:
    """The most probable token at every step, for a padded batch of sources ``(B, S)``."""
    _check_budget(network, max_new_tokens)
    config = network.config
    encoded = network.encode(input_ids, attention_mask)
    B = input_ids.shape[0]
    prefixes = torch.full((B, 1), config.bos_token_id, dtype=torch.long, device=input_ids.device)
    scores = torch.zeros(B, dtype=torch.float64, device=input_ids.device)
    done = torch.zeros(B, dtype=torch.bool, device=input_ids.device)
    for _ in range(max_new_tokens):
        log_probs = _next_log_probs(network, prefixes, encoded)  # (B, V)
        best = log_probs.argmax(-1)  # (B,)
        gained = log_probs.gather(1, best[:, None]).squeeze(1).double()
        scores += gained.masked_fill(done, 0.0)
        best = best.masked_fill(done, config.pad_token_id)  # finished rows only pad
        prefixes = torch.cat([prefixes, best[:, None]], dim=1)
        done |= best == config.eos_token_id
        if bool(done.all()):
            break
    out = []
    for row, score in zip(prefixes[:, 1:].tolist(), scores.tolist(), strict=True):
        if config.eos_token_id in row:
            out.append(Hypothesis(tuple(row[: row.index(config.eos_token_id)]), score, EOS_REASON))
        else:
            out.append(Hypothesis(tuple(row), score, LENGTH_REASON))
    return out


def normalised(score: float, length: int, length_penalty: float) -> float:
    """A finished hypothesis' ranking score: ``score / length ** length_penalty``."""
    return score / max(length, 1) ** length_penalty


@torch.inference_mode()
def beam_search(
    network: Seq2SeqTransformer,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    max_new_tokens: int,
    beam_size: int = 4,
    length_penalty: float = 1.0,
) -> Hypothesis:
    """The best target for one source ``(1, S)`` by beam search (see the module's notes)."""
    _check_budget(network, max_new_tokens)
    if input_ids.shape[0] != 1:
        raise ValueError("beam_search decodes one source at a time; loop over a batch")
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    config = network.config
    eos = config.eos_token_id
    encoded = network.encode(input_ids, attention_mask)
    alive: list[tuple[list[int], float]] = [([config.bos_token_id], 0.0)]
    finished: list[tuple[float, Hypothesis]] = []  # (ranking score, hypothesis)
    for _ in range(max_new_tokens):
        prefixes = torch.tensor([ids for ids, _ in alive], device=input_ids.device)
        log_probs = _next_log_probs(network, prefixes, encoded).double()  # (k, V)
        totals = torch.tensor([s for _, s in alive], dtype=torch.float64, device=log_probs.device)
        totals = (totals[:, None] + log_probs).flatten()  # (k * V,)
        vocab = log_probs.shape[1]
        top = totals.topk(min(2 * beam_size, int(torch.isfinite(totals).sum())))
        survivors: list[tuple[list[int], float]] = []
        for rank, (value, index) in enumerate(
            zip(top.values.tolist(), top.indices.tolist(), strict=True)
        ):
            beam, token = divmod(index, vocab)
            ids = alive[beam][0]
            if token == eos:
                if rank < beam_size:  # only a top candidate may end
                    length = len(ids)  # the words plus end-of-sequence
                    hypothesis = Hypothesis(tuple(ids[1:]), value, EOS_REASON)
                    finished.append((normalised(value, length, length_penalty), hypothesis))
                continue
            survivors.append(([*ids, token], value))
            if len(survivors) == beam_size:
                break
        alive = survivors
        if len(finished) >= beam_size or not alive:
            break
    else:  # out of budget: the prefixes still alive end here
        for ids, value in alive:
            hypothesis = Hypothesis(tuple(ids[1:]), value, LENGTH_REASON)
            finished.append((normalised(value, len(ids) - 1, length_penalty), hypothesis))
    return max(finished, key=lambda pair: pair[0])[1]
