"""Explanations of a translation, one generated token at a time.

:func:`explain_translation` takes a fitted :class:`~workbench.seq2seq.Translator`, a source
sentence and (by default) the model's own greedy translation of it, and explains every
target word ``y_t``: how much each **source word**, and each earlier **target word** (the
prefix the decoder read), made the model write ``y_t``. The result,
:class:`GenerationExplanation`, holds one *target × source* matrix per method, on the
source's word units with their character spans (as the classifier's explanations):

- **integrated-gradients** (Captum's ``IntegratedGradients``) explains ``log p(y_t)``
  against a baseline with every source word absent and every prefix word blank. Source
  words walk the network's ``presence`` input from 0 (deleted: their attention keys
  vanish, :meth:`~workbench.seq2seq.Seq2SeqTransformer.encode`) to 1; prefix words scale
  their token embedding from 0 to 1 (the decoder has no presence input; position
  embeddings, ``[CLS]`` and the start token stay). Both walk one straight path (presence
  and scale ``= s**PATH_POWER``, as the classifier's, steps crowded near the baseline), so
  the method is complete per step: ``base_values[t]`` + the source row + the prefix row
  equal ``log p(y_t)`` up to ``convergence_delta[t]``.
- **gradient-x-input** (Captum's ``InputXGradient`` on the token embeddings, summed over
  the embedding dimensions): one backward pass per step, no baseline.
- **occlusion**: leave one out. ``log p(y_t)`` minus ``log p(y_t)`` with that source word
  deleted (the source re-read without it: the deletion convention of the classifier's
  perturbation explainers and faithfulness metrics), the prefix unchanged.
- **attention**: cross-attention weights of every layer and head, and their mean, read two
  ways (Chen et al. 2020, "Accurate Word Alignment Induction from Neural Machine
  Translation"): ``"attention"`` at the step that *outputs* ``y_t`` (decoder position
  ``t``), ``"attention-shifted"`` (their shift-att) at the step where ``y_t`` is the
  decoder's *input* (position ``t + 1``, which predicts the next word): the decoder has
  then read ``y_t`` and looks at what it translated. Weights to ``[CLS]`` are left out,
  so a row sums to at most 1. Attention shows where the model looked, not why.

Scores are in log-probability units (higher: the word raised the token's probability);
attention in weights. A source word the model did not read (beyond ``max_source_length``)
has NaN in every matrix (``None`` in JSON). IG and gradient × input also attribute to the
target prefix: ``prefix[method]`` is *target × target*, defined below the diagonal only.

The matrices are scored against gold word alignments by
:func:`workbench.explain.alignment.score_explanations` and
:func:`~workbench.explain.alignment.alignment_study`; :func:`step_comprehensiveness`
measures how much deleting the top source words of each row lowers that token's
probability, beside deleting random ones.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from workbench.batching import pad_batch
from workbench.data import check_count
from workbench.errors import InputError
from workbench.estimators import check_fitted
from workbench.explain.base import check_text
from workbench.explain.gradients import PATH_POWER
from workbench.explain.render import ATTENTION_CAPTION, INK, MUTED, _esc, shade
from workbench.tokenizer import Word

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from workbench.seq2seq import Translator

GENERATION_METHODS = ("integrated-gradients", "gradient-x-input", "occlusion", "attention")
# The two attention readings: at the step that outputs the word, and at the step where it
# is the decoder's input (shift-att).
ATTENTION_READINGS = ("attention", "attention-shifted")
PREFIX_METHODS = ("integrated-gradients", "gradient-x-input")
UNITS = "log-probability of the target token"


@dataclass
class GenerationExplanation:
    """Every target token of one translation, explained by several methods.

    Shapes: T target tokens (``target_tokens``, end-of-sequence not included), S source
    words (``source_words``: every word of ``source``, with character spans), L decoder
    layers, H heads.

    - ``matrices[method]``: (T, S); row ``t`` explains ``target_tokens[t]``. Methods:
      those asked for, with ``"attention"`` giving both ``"attention"`` and
      ``"attention-shifted"``.
    - ``prefix[method]``: (T, T) for IG and gradient × input; ``[t, k]`` is the score of
      the earlier target token ``k < t``; NaN on and above the diagonal.
    - ``cross_attention`` / ``cross_attention_shifted``: (L, H, T, S) per layer and head;
      the ``"attention"`` matrices are their means over layers and heads.
    - ``probabilities``: (T,) ``p(y_t | source, y_<t)``; ``eos_probability``: the
      probability of ending after the last token (None when the model has no position
      for it).
    - ``base_values`` and ``convergence_delta``: (T,) IG's ``log p(y_t)`` at its baseline
      and its integration error per step.
    """

    source: str
    source_words: list[Word]
    target_tokens: list[str]
    matrices: dict[str, np.ndarray]
    probabilities: np.ndarray
    prefix: dict[str, np.ndarray] = field(default_factory=dict)
    cross_attention: np.ndarray | None = None
    cross_attention_shifted: np.ndarray | None = None
    base_values: np.ndarray | None = None
    convergence_delta: np.ndarray | None = None
    eos_probability: float | None = None
    stop_reason: str | None = None  # "eos", "max_length" for the model's own output
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    source_ids: tuple[int, ...] = ()  # what the encoder read, [CLS] first
    target_ids: tuple[int, ...] = ()  # the explained tokens' ids (no start token)

    @property
    def methods(self) -> list[str]:
        return list(self.matrices)

    @property
    def visible_source_words(self) -> int:
        """How many leading source words the model read (the rest are NaN columns)."""
        return max(len(self.source_ids) - 1, 0)

    def attention_matrix(
        self, layer: int | None = None, head: int | None = None, *, shifted: bool = False
    ) -> np.ndarray:
        """(T, S) cross-attention of one layer and head (counted from 0), or the mean over
        all layers (``layer=None``) and/or heads (``head=None``); ``shifted`` reads it at
        the step where each token is the decoder's input."""
        weights = self.cross_attention_shifted if shifted else self.cross_attention
        if weights is None:
            raise InputError(
                "this explanation holds no cross-attention; explain with methods including "
                "'attention'"
            )
        layers, heads = weights.shape[:2]
        for name, value, top in (("layer", layer, layers), ("head", head, heads)):
            if value is not None and not (isinstance(value, int) and 0 <= value < top):
                raise InputError(
                    f"{name} must be a whole number from 0 to {top - 1}, got {value!r}"
                )
        chosen = weights if layer is None else weights[layer : layer + 1]
        chosen = chosen if head is None else chosen[:, head : head + 1]
        return chosen.mean(axis=(0, 1))

    def views(self, *, per_layer: bool = True) -> dict[str, np.ndarray]:
        """Every matrix to score or show: the methods', then (``per_layer``) each layer's
        mean cross-attention in both readings, named ``"attention layer 1"`` and so on."""
        out = dict(self.matrices)
        if per_layer and self.cross_attention is not None:
            for reading, shifted in zip(ATTENTION_READINGS, (False, True), strict=True):
                for layer in range(self.cross_attention.shape[0]):
                    name = f"{reading} layer {layer + 1}"
                    out[name] = self.attention_matrix(layer, shifted=shifted)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (NaN as null): ``source`` words with spans, ``target`` tokens, the
        matrix per method, the prefix scores, cross-attention per layer and head in both
        readings, probabilities, IG's base values and errors, settings and notes."""
        payload: dict[str, Any] = {
            "source_text": self.source,
            "source": [{"text": w.text, "start": w.start, "end": w.end} for w in self.source_words],
            "target": list(self.target_tokens),
            "matrices": {name: _json_array(m) for name, m in self.matrices.items()},
            "prefix": {name: _json_array(m) for name, m in self.prefix.items()},
            "probabilities": _json_array(self.probabilities),
            "eos_probability": self.eos_probability,
            "stop_reason": self.stop_reason,
            "units": UNITS,
            "settings": self.settings,
            "notes": list(self.notes),
        }
        if self.cross_attention is not None and self.cross_attention_shifted is not None:
            payload["cross_attention"] = {
                "output": _json_array(self.cross_attention),
                "shifted": _json_array(self.cross_attention_shifted),
            }
        if self.base_values is not None and self.convergence_delta is not None:
            payload["base_values"] = _json_array(self.base_values)
            payload["convergence_delta"] = _json_array(self.convergence_delta)
        return payload

    def to_json(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1, allow_nan=False)
        path.write_text(text, "utf-8")
        return path

    def figure(self, method: str | None = None) -> go.Figure:
        """A plotly heatmap, target tokens (rows) × source words (columns), with a dropdown
        that picks the method (and each layer's attention, both readings); ``method`` is
        the one shown first (default: the first method)."""
        return generation_figure(self, method)

    def to_html(self, path: str | os.PathLike | None = None) -> str:
        """A self-contained HTML page (inline styles, no scripts, every text escaped): one
        coloured table per method. Written to ``path`` when given; returned either way."""
        page = generation_html(self, standalone=True)
        if path is not None:
            Path(path).write_text(page, "utf-8")
        return page

    def _repr_html_(self) -> str:
        return generation_html(self)


def _json_array(values: Any) -> Any:
    """A nested list with NaN and infinities as None (strict JSON)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        value = float(array)
        return value if math.isfinite(value) else None
    return (
        [_json_array(v) for v in array]
        if array.ndim > 1
        else [float(v) if math.isfinite(v) else None for v in array.tolist()]
    )


# --- inputs ------------------------------------------------------------------------------


@dataclass
class _Inputs:
    """The encoded source and target of one explanation."""

    words: list[Word]
    source_ids: list[int]  # [CLS] first, cut to max_source_length
    tokens: list[str]  # the explained target tokens
    target_ids: list[int]  # their ids
    decoder_ids: list[int]  # start token, then the tokens, cut to max_target_length
    stop_reason: str | None
    notes: list[str]

    @property
    def visible(self) -> int:
        return len(self.source_ids) - 1


def _inputs(translator: Translator, source: str, target: str | None) -> _Inputs:
    check_fitted(translator, "network_")
    check_text(source)
    config = translator.network_.config
    encoding = translator.source_tokenizer_.encode(source)
    if not encoding.words:
        raise InputError(
            f"the source {source!r} has no words, so there is nothing to translate or explain; "
            "type a sentence"
        )
    source_ids = encoding.ids[: config.max_source_length]
    notes = []
    visible = len(source_ids) - 1
    if visible < len(encoding.words):
        notes.append(
            f"the source has {len(encoding.words)} words but the model reads at most {visible} "
            f"(max_source_length={config.max_source_length} counts [CLS]); the words from "
            f"{encoding.words[visible].text!r} on get no score (NaN)"
        )
    unk = translator.source_tokenizer_.unk_id
    unknown = [w.text for w, i in zip(encoding.words, source_ids[1:], strict=False) if i == unk]
    if unknown:
        shown = ", ".join(repr(w) for w in dict.fromkeys(unknown))
        notes.append(
            f"{len(unknown)} source word(s) never seen in training were read as [UNK]: {shown}; "
            "their scores are those of [UNK]"
        )
    stop_reason = None
    if target is None:
        translation = translator.translate([source])[0]
        tokens, target_ids = list(translation.tokens), list(translation.token_ids)
        stop_reason = translation.stop_reason
        if stop_reason == "max_length":
            notes.append(
                f"the model emitted no end-of-sequence within {len(tokens)} tokens: the "
                "translation was cut at max_length"
            )
    else:
        if not isinstance(target, str):
            raise InputError(f"target must be a string, got {type(target).__name__}")
        if not target.strip():
            raise InputError(
                "the target to explain has no words; give a translation, or target=None to "
                "explain the model's own"
            )
        check_text(target)
        encoded = translator.target_tokenizer_.encode(target)
        tokens = [w.text for w in encoded.words]
        target_ids = encoded.ids[1:]
        if not tokens:
            raise InputError(f"the target {target!r} has no words; give a translation to explain")
        target_unk = translator.target_tokenizer_.unk_id
        unknown_target = [t for t, i in zip(tokens, target_ids, strict=True) if i == target_unk]
        if unknown_target:
            shown = ", ".join(repr(t) for t in dict.fromkeys(unknown_target))
            notes.append(
                f"{len(unknown_target)} target word(s) are not in the model's target vocabulary "
                f"and are explained as [UNK]: {shown}"
            )
    if len(target_ids) > config.max_target_length:
        notes.append(
            f"the target has {len(target_ids)} tokens but the model has positions for "
            f"{config.max_target_length} (max_target_length): only the first "
            f"{config.max_target_length} are explained"
        )
        tokens, target_ids = (
            tokens[: config.max_target_length],
            target_ids[: config.max_target_length],
        )
    if not tokens:
        notes.append(
            "the model ended the translation at once (end-of-sequence first): no target "
            "token to explain"
        )
    decoder_ids = [config.bos_token_id, *target_ids][: config.max_target_length]
    return _Inputs(encoding.words, source_ids, tokens, target_ids, decoder_ids, stop_reason, notes)


def _barred_log_softmax(logits: torch.Tensor, config: Any) -> torch.Tensor:
    """log-probabilities with padding and the start token barred, as the decoders do, so a
    translation's token probabilities multiply to its score."""
    barred = torch.zeros(logits.shape[-1], dtype=torch.bool, device=logits.device)
    barred[[config.pad_token_id, config.bos_token_id]] = True
    return logits.float().masked_fill(barred, float("-inf")).log_softmax(-1)


class _Scorer:
    """``log p`` of the explained tokens under teacher forcing, for batches of sources."""

    def __init__(self, translator: Translator, inputs: _Inputs) -> None:
        self.network = translator.network_
        if self.network.training:
            self.network.eval()
        self.config = self.network.config
        self.device = next(self.network.parameters()).device
        self.inputs = inputs
        self.decoder_ids = torch.tensor([inputs.decoder_ids], device=self.device)  # (1, Td)
        # The label of each decoder position: the next token, end-of-sequence last.
        labels = [*inputs.target_ids, self.config.eos_token_id][: len(inputs.decoder_ids)]
        self.labels = torch.tensor([labels], device=self.device)  # (1, Td)
        self.input_ids = torch.tensor([inputs.source_ids], device=self.device)  # (1, S)

    def gather(self, logits: torch.Tensor) -> torch.Tensor:
        """(B, Td, V) logits -> (B, Td) log p of each position's label."""
        log_probs = _barred_log_softmax(logits, self.config)
        labels = self.labels.expand(logits.shape[0], -1)
        return log_probs.gather(-1, labels[..., None]).squeeze(-1)

    @torch.no_grad()
    def sources(self, source_ids: Sequence[Sequence[int]]) -> torch.Tensor:
        """(B, Td) log p of every label, each row with its own source ids (``[CLS]`` first)."""
        input_ids, mask = pad_batch([list(ids) for ids in source_ids], self.config.pad_token_id)
        B = input_ids.shape[0]
        logits = self.network(
            input_ids.to(self.device),
            mask.to(self.device),
            self.decoder_ids.expand(B, -1),
        ).logits
        return self.gather(logits)


# --- the methods ---------------------------------------------------------------------------


def _integrated_gradients(
    scorer: _Scorer, n_steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Source (T, S+1) and prefix (T, Td) attributions, base values and deltas (T,)."""
    from captum.attr import IntegratedGradients

    network, T = scorer.network, len(scorer.inputs.target_ids)
    S, Td = scorer.input_ids.shape[1], scorer.decoder_ids.shape[1]
    token_vectors = network.target_embedding(scorer.decoder_ids).detach()  # (1, Td, C)

    def log_p(presence: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        B = presence.shape[0]  # Captum stacks the path's steps into one batch
        vectors = token_vectors * (scale**PATH_POWER)[..., None]  # (B, Td, C)
        logits = network(
            scorer.input_ids.expand(B, -1),
            None,
            scorer.decoder_ids.expand(B, -1),
            decoder_inputs_embeds=vectors,
            presence=presence**PATH_POWER,
        ).logits
        return scorer.gather(logits)  # (B, Td): Captum's target picks each row's step

    device = scorer.device
    present = torch.ones(T, S, device=device)
    shown = torch.ones(T, Td, device=device)
    absent, blank = torch.zeros_like(present), torch.zeros_like(shown)
    absent[:, 0] = 1.0  # [CLS] stays: "no words", not "no input"
    blank[:, 0] = 1.0  # the start token stays
    steps = list(range(T))
    explainer = IntegratedGradients(log_p)
    (source, prefix), delta = explainer.attribute(
        (present, shown),
        baselines=(absent, blank),
        target=steps,
        n_steps=n_steps,
        internal_batch_size=max(T, 1024),  # bounds memory on long targets
        return_convergence_delta=True,
    )
    with torch.no_grad():
        base = log_p(absent[:1], blank[:1])[0, :T]
    return (
        source.detach().double().cpu().numpy(),
        prefix.detach().double().cpu().numpy(),
        base.double().cpu().numpy(),
        delta.detach().double().cpu().numpy(),
    )


def _gradient_x_input(scorer: _Scorer) -> tuple[np.ndarray, np.ndarray]:
    """Source (T, S+1) and prefix (T, Td) gradient × input, summed over dimensions."""
    from captum.attr import InputXGradient

    network, T = scorer.network, len(scorer.inputs.target_ids)

    def log_p(source_vectors: torch.Tensor, target_vectors: torch.Tensor) -> torch.Tensor:
        B = source_vectors.shape[0]
        logits = network(
            scorer.input_ids.expand(B, -1),
            None,
            scorer.decoder_ids.expand(B, -1),
            inputs_embeds=source_vectors,
            decoder_inputs_embeds=target_vectors,
        ).logits
        return scorer.gather(logits)

    with torch.no_grad():
        source_vectors = network.source_embedding(scorer.input_ids).expand(T, -1, -1).clone()
        target_vectors = network.target_embedding(scorer.decoder_ids).expand(T, -1, -1).clone()
    source_vectors.requires_grad_()
    target_vectors.requires_grad_()
    source, prefix = InputXGradient(log_p).attribute(
        (source_vectors, target_vectors), target=list(range(T))
    )
    return (
        source.sum(-1).detach().double().cpu().numpy(),
        prefix.sum(-1).detach().double().cpu().numpy(),
    )


def _occlusion(scorer: _Scorer, full: np.ndarray) -> np.ndarray:
    """(T, visible) ``log p(y_t)`` minus its value with source word ``i`` deleted."""
    ids, T = scorer.inputs.source_ids, len(scorer.inputs.target_ids)
    variants = [ids[: i + 1] + ids[i + 2 :] for i in range(scorer.inputs.visible)]
    without = scorer.sources(variants)[:, :T].double().cpu().numpy()  # (visible, T)
    return full[:T, None] - without.T


def _attention(scorer: _Scorer) -> tuple[np.ndarray, np.ndarray]:
    """Cross-attention (L, H, T, visible) at the output step and at the input step."""
    T = len(scorer.inputs.target_ids)
    with torch.no_grad():
        out = scorer.network(scorer.input_ids, None, scorer.decoder_ids, output_attentions=True)
    weights = torch.stack(out.cross_attentions)[:, 0].double().cpu().numpy()  # (L, H, Td, S)
    weights = weights[..., 1:]  # [CLS] left out
    output = weights[:, :, :T]
    shifted = np.full_like(output, np.nan)
    available = min(T, weights.shape[2] - 1)
    shifted[:, :, :available] = weights[:, :, 1 : available + 1]
    return output, shifted


def _word_columns(values: np.ndarray, visible: int, n_words: int) -> np.ndarray:
    """(T, visible) scores -> (T, n_words): NaN for the words the model did not read."""
    out = np.full((values.shape[0], n_words), np.nan)
    out[:, :visible] = values[:, :visible]
    return out


def _prefix_matrix(values: np.ndarray, T: int) -> np.ndarray:
    """(T, Td) per decoder position -> (T, T): ``[t, k]`` for the earlier token k < t."""
    out = np.full((T, T), np.nan)
    for t in range(T):
        out[t, :t] = values[t, 1 : t + 1]  # position k + 1 holds token k; 0 is the start
    return out


def explain_translation(
    translator: Translator,
    source: str,
    *,
    target: str | None = None,
    methods: Sequence[str] = GENERATION_METHODS,
    n_steps: int = 32,
) -> GenerationExplanation:
    """Explain every token of a translation of ``source`` (see the module's notes).

    Args:
        translator: a fitted :class:`~workbench.seq2seq.Translator`.
        source: one source sentence.
        target: the translation to explain, cut into the target tokenizer's word units
            (teacher forcing: to score against gold alignments, give the reference).
            Default: the model's own greedy translation.
        methods: any of ``GENERATION_METHODS``; ``"attention"`` gives both readings.
        n_steps: integrated gradients' Gauss–Legendre steps.

    Bad input: an empty source (or an explicitly empty target) is an ``InputError``.
    Source words never seen in training are read and scored as ``[UNK]``, with a note;
    words past ``max_source_length`` get NaN, with a note; a target longer than the
    model's positions is cut, with a note; a translation the model ended at once has no
    rows. Each matrix's cost is in ``settings["seconds"]``.
    """
    methods = _check_methods(methods)
    n_steps = check_count("n_steps", n_steps, 1)
    inputs = _inputs(translator, source, target)
    scorer = _Scorer(translator, inputs)
    T, n_words, visible = len(inputs.tokens), len(inputs.words), inputs.visible
    full = scorer.sources([inputs.source_ids])[0].double().cpu().numpy()  # (Td,)
    probabilities = np.exp(full[:T])
    eos = float(np.exp(full[T])) if len(full) > T else None
    explanation = GenerationExplanation(
        source=source,
        source_words=inputs.words,
        target_tokens=inputs.tokens,
        matrices={},
        probabilities=probabilities,
        eos_probability=eos,
        stop_reason=inputs.stop_reason,
        settings={"units": UNITS, "visible_source_words": visible, "seconds": {}},
        notes=list(inputs.notes),
        source_ids=tuple(inputs.source_ids),
        target_ids=tuple(inputs.target_ids),
    )
    if eos is None and T:
        explanation.notes.append(
            "the last token fills the model's last position (max_target_length): it has no "
            "end-of-sequence probability and no shifted attention row (NaN)"
        )
    if not T:
        for method in methods:
            for name in ATTENTION_READINGS if method == "attention" else (method,):
                explanation.matrices[name] = np.zeros((0, n_words))
        return explanation
    seconds = explanation.settings["seconds"]
    for method in methods:
        started = time.perf_counter()
        if method == "integrated-gradients":
            source_scores, prefix_scores, base, delta = _integrated_gradients(scorer, n_steps)
            explanation.matrices[method] = _word_columns(source_scores[:, 1:], visible, n_words)
            explanation.prefix[method] = _prefix_matrix(prefix_scores, T)
            explanation.base_values, explanation.convergence_delta = base, delta
            explanation.settings |= {
                "n_steps": n_steps,
                "baseline": "every source word absent (presence 0), every prefix word's "
                "embedding 0; [CLS], the start token and positions kept",
                "path": f"presence and embedding scale s**{PATH_POWER:g}",
            }
        elif method == "gradient-x-input":
            source_scores, prefix_scores = _gradient_x_input(scorer)
            explanation.matrices[method] = _word_columns(source_scores[:, 1:], visible, n_words)
            explanation.prefix[method] = _prefix_matrix(prefix_scores, T)
        elif method == "occlusion":
            explanation.matrices[method] = _word_columns(_occlusion(scorer, full), visible, n_words)
            explanation.settings["occlusion"] = "leave one out: the source re-read without the word"
        else:
            output, shifted = _attention(scorer)
            explanation.cross_attention = _word_columns_4d(output, visible, n_words)
            explanation.cross_attention_shifted = _word_columns_4d(shifted, visible, n_words)
            explanation.matrices["attention"] = explanation.attention_matrix()
            explanation.matrices["attention-shifted"] = explanation.attention_matrix(shifted=True)
        seconds[method] = time.perf_counter() - started
    return explanation


def _word_columns_4d(values: np.ndarray, visible: int, n_words: int) -> np.ndarray:
    out = np.full((*values.shape[:3], n_words), np.nan)
    out[..., :visible] = values[..., :visible]
    return out


def _check_methods(methods: Sequence[str]) -> list[str]:
    if isinstance(methods, str):
        methods = [methods]
    chosen = list(dict.fromkeys(methods))
    unknown = [m for m in chosen if m not in GENERATION_METHODS]
    if unknown or not chosen:
        raise InputError(
            f"unknown method(s) {unknown or methods!r}; choose from {', '.join(GENERATION_METHODS)}"
        )
    return chosen


# --- faithfulness ------------------------------------------------------------------------


def step_comprehensiveness(
    translator: Translator,
    explanation: GenerationExplanation,
    *,
    k: int = 1,
    draws: int = 10,
    seed: int = 0,
    methods: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Per target step, how much deleting the ``k`` source words a method ranks highest
    for that token lowers its probability: ``p(y_t) - p(y_t | source without them)``,
    the prefix unchanged (teacher forcing). ``"random"`` holds the same drop for ``k``
    words drawn at random (the mean of ``draws`` draws per step), the level a method must
    beat. Returns (T,) arrays of probability points, one per method of ``methods``
    (default: every matrix of the explanation) and ``"random"``; NaN where a row has no
    score. Deletion re-reads the source without the words, as occlusion does. ``k`` is
    capped at the number of words read.
    """
    check_fitted(translator, "network_")
    k = check_count("k", k, 1)
    draws = check_count("draws", draws, 1)
    names = list(explanation.matrices) if methods is None else list(methods)
    missing = [m for m in names if m not in explanation.matrices]
    if missing:
        raise InputError(
            f"the explanation has no matrix for {missing}; it has {list(explanation.matrices)}"
        )
    ids = list(explanation.source_ids)
    visible, T = explanation.visible_source_words, len(explanation.target_tokens)
    if not ids or len(explanation.target_ids) != T:
        raise InputError("the explanation lacks its token ids; make it with explain_translation")
    inputs = _Inputs(
        explanation.source_words,
        ids,
        list(explanation.target_tokens),
        list(explanation.target_ids),
        [translator.network_.config.bos_token_id, *explanation.target_ids][
            : translator.network_.config.max_target_length
        ],
        None,
        [],
    )
    scorer = _Scorer(translator, inputs)
    count = min(k, visible)

    def without(drop: Sequence[int]) -> list[int]:
        gone = {i + 1 for i in drop}
        return [token for position, token in enumerate(ids) if position not in gone]

    variants, owners = [ids], []  # owners[v - 1] = (name, step) of variant v
    rng = np.random.default_rng(seed)
    for name in names:
        matrix = explanation.matrices[name]
        for t in range(T):
            row = np.asarray(matrix[t, :visible], dtype=np.float64)
            if not np.isfinite(row).any():
                continue
            order = np.argsort(-np.where(np.isfinite(row), row, -np.inf), kind="stable")
            variants.append(without(order[:count].tolist()))
            owners.append((name, t))
    for t in range(T):
        for _ in range(draws):
            variants.append(without(rng.choice(visible, size=count, replace=False).tolist()))
            owners.append(("random", t))
    probabilities = scorer.sources(variants).double().exp().cpu().numpy()  # (V, Td)
    reference = probabilities[0]
    out = {name: np.full(T, np.nan) for name in [*names, "random"]}
    random_sum = np.zeros(T)
    for v, (name, t) in enumerate(owners, start=1):
        drop = reference[t] - probabilities[v, t]
        if name == "random":
            random_sum[t] += drop
        else:
            out[name][t] = drop
    out["random"] = random_sum / draws if T else out["random"]
    return out


# --- showing it ------------------------------------------------------------------------------


def _labels(texts: Sequence[str]) -> list[str]:
    """Escaped labels; a text that occurs more than once gets its position, "ka (#3)"."""
    counts = Counter(texts)
    return [_esc(t) + (f" (#{i + 1})" if counts[t] > 1 else "") for i, t in enumerate(texts)]


def _is_attention(name: str) -> bool:
    return name.startswith("attention")


def generation_figure(explanation: GenerationExplanation, method: str | None = None) -> go.Figure:
    """See :meth:`GenerationExplanation.figure`."""
    import plotly.graph_objects as go

    views = explanation.views()
    if not views:
        raise InputError("the explanation holds no matrix to show")
    first = next(iter(views)) if method is None else method
    if first not in views:
        raise InputError(f"no matrix {method!r} in this explanation; it has {', '.join(views)}")
    columns = _labels([w.text for w in explanation.source_words])
    rows = _labels(list(explanation.target_tokens))
    rows = [f"{r} (p={p:.2f})" for r, p in zip(rows, explanation.probabilities, strict=True)]
    names = list(views)
    fig = go.Figure()
    for name in names:
        z = np.asarray(views[name], dtype=np.float64)
        attention = _is_attention(name)
        finite = np.abs(z[np.isfinite(z)])
        scale = float(finite.max()) if finite.size else 1.0
        fig.add_trace(
            go.Heatmap(
                z=[[v if math.isfinite(v) else None for v in row] for row in z.tolist()],
                x=columns,
                y=rows,
                colorscale="Blues" if attention else "RdBu",
                zmin=0 if attention else -scale,
                zmax=scale if scale > 0 else 1.0,
                visible=name == first,
                name=_esc(name),
                hovertemplate="target %{y}<br>source %{x}<br>"
                + ("weight" if attention else "score")
                + " %{z:.4g}<extra></extra>",
            )
        )

    def heading(name: str) -> str:
        if _is_attention(name):
            reading = (
                "read where the token is the decoder's input (shift-att)"
                if "shifted" in name
                else "read where the token is output"
            )
            caption = f"{ATTENTION_CAPTION}; {reading}"
        else:
            caption = f"{UNITS}: blue raised it, red lowered it"
        return f"{_esc(name)}<br><sup>{_esc(caption)}</sup>"

    buttons = [
        {
            "label": _esc(name),
            "method": "update",
            "args": [{"visible": [n == name for n in names]}, {"title.text": heading(name)}],
        }
        for name in names
    ]
    fig.update_layout(
        title_text=heading(first),
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "active": names.index(first),
                "showactive": True,
                "x": 1.0,
                "xanchor": "right",
                "y": 1.18,
                "yanchor": "top",
            }
        ],
        xaxis={"title": {"text": "source word"}, "automargin": True, "side": "top"},
        yaxis={"title": {"text": "target token"}, "autorange": "reversed", "automargin": True},
        height=max(380, 26 * len(rows) + 220),
        template="plotly_white",
        margin={"t": 150},
    )
    return fig


_CELL = "padding:2px 6px;border:1px solid #e4e4e4;text-align:center;min-width:2.2em"


def _table(explanation: GenerationExplanation, name: str, matrix: np.ndarray) -> str:
    finite = np.abs(matrix[np.isfinite(matrix)])
    scale = float(finite.max()) if finite.size else 0.0
    head = "".join(
        f'<th style="{_CELL};font-weight:600" title="characters {w.start}-{w.end}">'
        f"{_esc(w.text)}</th>"
        for w in explanation.source_words
    )
    body = []
    for t, token in enumerate(explanation.target_tokens):
        cells = []
        for value in matrix[t]:
            if not math.isfinite(value):
                cells.append(f'<td style="{_CELL};color:{MUTED}" title="no score">·</td>')
                continue
            background, ink = shade(value / scale if scale > 0 else 0.0)
            cells.append(
                f'<td style="{_CELL};background-color:{background};color:{ink}" '
                f'title="{value:+.4g}">{value:+.2f}</td>'
            )
        probability = float(explanation.probabilities[t])
        body.append(
            f'<tr><th style="{_CELL};text-align:right" title="p = {probability:.4f}">'
            f"{_esc(token)}</th>{''.join(cells)}</tr>"
        )
    caption = (
        ATTENTION_CAPTION if _is_attention(name) else f"{UNITS}; blue raised it, red lowered it"
    )
    opened = " open" if name == next(iter(explanation.matrices), name) else ""
    return (
        f'<details class="wb-method" style="margin:6px 0"{opened}>'
        f'<summary style="cursor:pointer"><b>{_esc(name)}</b> · <small style="color:{MUTED}">'
        f"{_esc(caption)}; full colour = {scale:.3g}</small></summary>"
        f'<table style="border-collapse:collapse;margin-top:4px;font-size:13px">'
        f'<tr><th style="{_CELL}"></th>{head}</tr>{"".join(body)}</table></details>'
    )


def generation_html(explanation: GenerationExplanation, *, standalone: bool = False) -> str:
    """The explanation as HTML: the source, the translation, one table per method (rows:
    target tokens; columns: source words; each cell shaded by its score, its exact value in
    its title), and the notes. Inline styles only, every text escaped."""
    card = (
        "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
        f"font-size:14px;line-height:1.5;color:{INK};background-color:#ffffff;"
        "border:1px solid #d0d0d0;border-radius:6px;padding:10px 14px;margin:6px 0"
    )
    parts = [
        f'<div><b>source</b>: <span class="wb-source">{_esc(explanation.source)}</span></div>',
        f'<div><b>target</b>: <span class="wb-target">'
        f"{_esc(' '.join(explanation.target_tokens))}</span></div>",
    ]
    if explanation.base_values is not None and explanation.convergence_delta is not None:
        error = float(np.max(np.abs(explanation.convergence_delta), initial=0.0))
        parts.append(
            f'<div style="color:{MUTED}"><small>integrated gradients: per row, the base value '
            "(log p with every source word absent and the prefix blank) + the source scores + "
            f"the prefix scores = log p of the token, up to {error:.2g}</small></div>"
        )
    parts.extend(_table(explanation, name, m) for name, m in explanation.views().items())
    parts.extend(
        f'<div class="wb-note" style="color:#8a5a00"><small>Note: {_esc(note)}</small></div>'
        for note in explanation.notes
    )
    fragment = f'<div class="wb-generation" style="{card}">{"".join(parts)}</div>'
    if not standalone:
        return fragment
    title = _esc(f"Explanation of a translation of {explanation.source[:60]}")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n"
        f'<body style="margin:24px;background-color:#ffffff">\n{fragment}\n</body>\n</html>\n'
    )
