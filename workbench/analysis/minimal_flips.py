"""Minimal flips: the smallest edit found that changes a model's prediction, shown as a diff.

An explanation says which words a prediction leaned on; a flip checks it on the model
itself: "had *good* been *dull*, it would have said negative". :func:`minimal_flip` searches
for the fewest word edits (delete a word, or replace it by another word) after which the
model's real ``predict_proba`` predicts another class (or ``target``).

**Edits are on word units** (the model's own, as every explanation colours them:
:func:`workbench.explain.base.word_units`). A deleted word takes one neighbouring run of
white space with it; a replacement is one word unit, written in the original word's
capitalisation. Every other character of the text stays as written, so the diff shows the
edits and nothing else.

**The search is guided, then verified.**

- *Where*: positions are ranked by the model's word attributions (integrated gradients,
  16 steps, for a torch network; SHAP for any other model, exact Shapley values for texts
  of up to 8 words; ``explain_method=`` picks another), the words
  that most support the current prediction against the class aimed at first; only the
  ``max_positions`` best are edited.
- *What*: deletion (the project's absence convention); for the from-scratch
  ``TextClassifier`` (one token per word) the replacement words of **HotFlip** (Ebrahimi et
  al., 2018): the first-order estimate of how much replacing the token at position ``i``
  by vocabulary token ``v`` lowers the loss, ``-(e_v - e_i) · ∂J/∂e_i``, for the whole
  vocabulary at once from one backward pass at the token-embedding layer
  (:func:`hotflip_candidates`), recomputed for every text in the beam; and the word's
  antonyms and synonyms from the shipped lexicon (:mod:`workbench.analysis.lexicon`). ``J``
  is ``-log p(target)``, or ``log p(predicted class)`` without a target, on the calibrated
  logits.
- *How far*: a beam search over 1, 2, ... ``max_edits`` edits keeps the ``beam_width``
  edited texts whose real probability moved furthest; every candidate of a depth is scored
  by ``predict_proba`` in one batch (identical texts once), and the search stops at the
  first depth where a candidate flips. A flip is reported only when the real prediction
  changed; estimates only choose what to try.

"Minimal" means the fewest edits this search found, not a proof that no smaller edit
exists: a beam search can miss one. Sub-word encoders (``workbench.pretrained``) get
deletion and lexicon edits only, and the result's ``notes`` say so.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from workbench.analysis.examples import is_word
from workbench.analysis.lexicon import SentimentLexicon, load_lexicon, match_case
from workbench.data import as_text_list, check_count, plain
from workbench.errors import InputError
from workbench.estimators import TextModel, check_fitted
from workbench.explain.base import (
    ModelPredictor,
    check_text,
    visible_word_count,
    word_units,
)
from workbench.explain.gradients import supports_gradients
from workbench.explain.methods import explain, supported_methods
from workbench.explain.render import BLUE, INK, MUTED, RED, shade
from workbench.model import ClassifierNetwork
from workbench.progress import plural, progress_bar
from workbench.tokenizer import Word, WordTokenizer, split_words

__all__ = [
    "FLIP_METHODS",
    "FlipEdit",
    "Flip",
    "hotflip_candidates",
    "minimal_flip",
    "minimal_flips",
    "supports_hotflip",
]

# "auto": HotFlip where the model allows it, the lexicon's replacements and deletion.
# "hotflip" insists on HotFlip; "lexicon" and "deletion" never use gradients (deletion
# also leaves the lexicon out).
FLIP_METHODS = ("auto", "hotflip", "lexicon", "deletion")

# Up to this many words, SHAP ranks positions by exact Shapley values: 2**8 = 256
# coalitions, fewer model calls than the partition explainer's default budget (500).
_EXACT_SHAP_WORDS = 8

# Integrated-gradients steps when they only rank positions: on 25 SST-2 dev sentences
# (ModelConfig() after 100 steps), 16 steps ranked the words exactly as 50 did (Spearman
# >= 0.99999, the same top 8 in every sentence) at a third of the cost.
_RANKING_IG_STEPS = 16

# Background of a deleted and an inserted word: the explanation colours (red against, blue
# towards), light enough for dark ink.
_DELETED_SHADE = 0.3
_INSERTED_SHADE = 0.3


@dataclass(frozen=True)
class FlipEdit:
    """One word edit: the word at ``position`` (an index into the original text's word
    units) deleted (``new is None``) or replaced by ``new``.

    ``start``/``end`` is the old word's span in the original text; ``new_start``/``new_end``
    the new word's span in the edited text (an empty span where a word was deleted).
    ``source`` says what proposed it: ``"deletion"``, ``"hotflip"`` or ``"lexicon"``.
    """

    position: int
    old: str
    new: str | None
    start: int
    end: int
    new_start: int
    new_end: int
    source: str

    @property
    def kind(self) -> Literal["delete", "replace"]:
        return "delete" if self.new is None else "replace"

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "start": self.start,
            "end": self.end,
            "new_start": self.new_start,
            "new_end": self.new_end,
            "source": self.source,
        }


@dataclass
class Flip:
    """What :func:`minimal_flip` found: the edited text, its edits and both predictions.

    ``found`` is true only when the real model's prediction of ``edited_text`` is another
    class (``target`` when one was asked for). Without a flip, ``edited_text`` and
    ``edits`` are the closest candidate (the one that moved the probability furthest) and
    ``reason`` says why none flipped. ``model_calls`` counts every text the model scored
    for this search (``calls`` breaks it down: ``predict_proba`` texts, the explanation's
    evaluations, HotFlip's gradient passes).
    """

    text: str
    edited_text: str
    edits: list[FlipEdit]
    classes: list
    probabilities_before: np.ndarray
    probabilities_after: np.ndarray
    found: bool
    method: str
    explain_method: str
    target: Any = None
    max_edits: int = 3
    model_calls: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    candidates: int = 0
    reason: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label_before(self) -> Any:
        return plain(self.classes[int(np.argmax(self.probabilities_before))])

    @property
    def label_after(self) -> Any:
        return plain(self.classes[int(np.argmax(self.probabilities_after))])

    @property
    def num_edits(self) -> int:
        return len(self.edits)

    def summary(self) -> str:
        """One line: the change of prediction (or why there is none) and the diff."""
        before = f"{self.label_before} ({self.probabilities_before.max():.2f})"
        if not self.found:
            return f"no flip: {self.reason}; the prediction stays {before}"
        after = f"{self.label_after} ({self.probabilities_after.max():.2f})"
        edits = plural(self.num_edits, "edit")
        return f"{before} -> {after} with {edits}: {self.diff_text()}"

    def diff_text(self, style: Literal["markdown", "brackets"] = "markdown") -> str:
        """The original text with the edits marked: ``markdown`` writes a deleted word as
        ``~~good~~`` and a new one as ``**bad**`` ("the movie was ~~good~~ **bad**");
        ``brackets`` as ``[-good-]{+bad+}`` (git's word diff)."""
        if style not in ("markdown", "brackets"):
            raise InputError(f"style must be 'markdown' or 'brackets', got {style!r}")
        if style == "markdown":
            return self._marked(lambda old: f"~~{old}~~", lambda new: f"**{new}**", str)
        return self._marked(lambda old: f"[-{old}-]", lambda new: f"{{+{new}+}}", str, "")

    def _marked(
        self,
        deleted: Callable[[str], str],
        inserted: Callable[[str], str],
        unchanged: Callable[[str], str],
        separator: str = " ",
    ) -> str:
        pieces, cursor = [], 0
        for edit in sorted(self.edits, key=lambda e: e.start):
            pieces.append(unchanged(self.text[cursor : edit.start]))
            pieces.append(deleted(edit.old))
            if edit.new is not None:
                pieces.append(separator + inserted(edit.new))
            cursor = edit.end
        pieces.append(unchanged(self.text[cursor:]))
        return "".join(pieces)

    def to_html(self) -> str:
        """The diff as an HTML fragment: ``<del>`` for removed words, ``<ins>`` for new
        ones, in the explanation colours, under a line with both predictions; every piece
        of text escaped. Inline styles only, like the explanation views."""
        background_del, ink_del = shade(-_DELETED_SHADE)
        background_ins, ink_ins = shade(_INSERTED_SHADE)
        red, blue = "#{:02x}{:02x}{:02x}".format(*RED), "#{:02x}{:02x}{:02x}".format(*BLUE)
        diff = self._marked(
            lambda old: (
                f'<del style="background-color:{background_del};color:{ink_del};'
                f'text-decoration-color:{red}">{_esc(old)}</del>'
            ),
            lambda new: (
                f'<ins style="background-color:{background_ins};color:{ink_ins};'
                f'text-decoration-color:{blue}">{_esc(new)}</ins>'
            ),
            _esc,
        )
        before = f"{_esc(self.label_before)} ({self.probabilities_before.max():.3f})"
        if self.found:
            after = f"{_esc(self.label_after)} ({self.probabilities_after.max():.3f})"
            edits = plural(self.num_edits, "edit")
            header = f"<b>{before} → {after}</b> with {edits}"
        else:
            header = f"<b>no flip</b>: {_esc(self.reason)}; the prediction stays {before}" + (
                " (closest edit shown)" if self.edits else ""
            )
        cost = f"{self.model_calls} model calls · method {_esc(self.method)}"
        notes = "".join(
            f'<div style="color:{MUTED}"><small>{_esc(note)}</small></div>' for note in self.notes
        )
        return (
            f'<div class="wb-flip" style="font-family:system-ui,sans-serif;font-size:14px;'
            f"line-height:1.5;color:{INK};background-color:#ffffff;border:1px solid #d0d0d0;"
            f'border-radius:6px;padding:10px 14px;margin:6px 0">'
            f'<div class="wb-header">{header}</div>'
            f'<div class="wb-text" dir="auto" style="white-space:pre-wrap;'
            f'overflow-wrap:anywhere;font-size:15px">{diff}</div>'
            f'<div style="color:{MUTED}"><small>{cost}</small></div>{notes}</div>'
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: both texts, the edits with spans, the predictions, the search's cost."""
        names = [str(c) for c in self.classes]
        return {
            "text": self.text,
            "edited_text": self.edited_text,
            "found": self.found,
            "reason": self.reason,
            "edits": [edit.to_dict() for edit in self.edits],
            "diff": self.diff_text(),
            "label_before": self.label_before,
            "label_after": self.label_after,
            "probabilities_before": _by_class(names, self.probabilities_before),
            "probabilities_after": _by_class(names, self.probabilities_after),
            "target": plain(self.target),
            "method": self.method,
            "explain_method": self.explain_method,
            "max_edits": self.max_edits,
            "model_calls": self.model_calls,
            "calls": dict(self.calls),
            "candidates": self.candidates,
            "notes": list(self.notes),
        }


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _by_class(names: list[str], values: np.ndarray) -> dict[str, float]:
    return {n: float(v) for n, v in zip(names, values, strict=True)}


# --- HotFlip -----------------------------------------------------------------------------


def supports_hotflip(model: TextModel) -> bool:
    """Whether HotFlip can propose replacement words for ``model``: a workbench network
    that reads one vocabulary token per word unit (the from-scratch ``TextClassifier``,
    transformer or bag of embeddings). Sub-word encoders read pieces, which a one-token
    swap does not turn into a word."""
    return (
        supports_gradients(model)
        and isinstance(model.model_, ClassifierNetwork)
        and isinstance(getattr(model, "tokenizer_", None), WordTokenizer)
    )


def _hotflip_refusal(model: TextModel) -> str:
    if supports_gradients(model):
        why = (
            f"{type(model).__name__} reads sub-word pieces, and HotFlip here swaps one "
            "vocabulary token per word (the from-scratch TextClassifier)"
        )
    else:
        why = f"{type(model).__name__} has no torch network to take embedding gradients from"
    return (
        f"HotFlip cannot propose words for this model: {why}. Use method='auto' (it "
        "falls back to deletion and lexicon replacements by itself), 'lexicon' or 'deletion'"
    )


class _HotFlip:
    """First-order replacement scores for the from-scratch network, one backward pass per
    edited text: ``-(E[v] - E[ids[t]]) · ∂J/∂e_t`` for every vocabulary token ``v``."""

    def __init__(self, model: TextModel, classes_at: tuple[int, int | None]) -> None:
        self.network = model.model_.eval()  # type: ignore[attr-defined]
        self.tokenizer: WordTokenizer = model.tokenizer_  # type: ignore[attr-defined]
        self.temperature = float(getattr(model, "temperature_", 1.0))
        self.predicted, self.target = classes_at
        embedding = self.network.token_embedding.weight.detach()  # (V, C)
        self.embedding = embedding
        vocabulary = [self.tokenizer.id_to_token(i) or "" for i in range(embedding.shape[0])]
        self.tokens = vocabulary
        # Special tokens, punctuation and [UNK] never replace a word.
        self.allowed = torch.tensor(
            [i > self.tokenizer.mask_id and is_word(t) for i, t in enumerate(vocabulary)],
            device=embedding.device,
        )
        self.passes = 0

    def token_ids(self, words: Sequence[str]) -> list[int]:
        """The vocabulary id of each word (one word unit each), ``[CLS]`` first."""
        return [self.tokenizer.cls_id, *(ids[1] for ids in self.tokenizer.encode_ids(words))]

    def scores(self, ids: Sequence[int]) -> torch.Tensor:
        """``(T-1, V)``: for each word token (after ``[CLS]``), the estimated decrease of
        ``J`` when it is replaced by each vocabulary token; -inf where not allowed."""
        device = self.embedding.device
        input_ids = torch.tensor([list(ids)], device=device)  # (1, T)
        with torch.enable_grad():
            embeds = self.embedding[input_ids].clone().requires_grad_(True)  # (1, T, C)
            logits = self.network(input_ids, inputs_embeds=embeds).logits[0]  # (k,)
            log_p = torch.log_softmax(logits.float() / self.temperature, dim=-1)
            loss = log_p[self.predicted] if self.target is None else -log_p[self.target]
            (gradient,) = torch.autograd.grad(loss, embeds)  # (1, T, C)
        self.passes += 1
        g = gradient[0, 1:].float()  # (T-1, C): word tokens only
        own = (self.embedding[input_ids[0, 1:]].float() * g).sum(-1, keepdim=True)  # (T-1, 1)
        scores = own - g @ self.embedding.float().T  # (T-1, V) = -(E[v] - E[old]) · g
        scores[:, ~self.allowed] = -torch.inf
        rows = torch.arange(len(ids) - 1, device=device)
        scores[rows, input_ids[0, 1:]] = -torch.inf  # not the word itself
        return scores


def hotflip_candidates(
    model: TextModel, text: str, *, target: Any = None, top_k: int = 10
) -> list[list[tuple[str, float]]]:
    """HotFlip's replacement words for each word unit of ``text``, best first.

    For word ``i`` and vocabulary token ``v`` the score is the first-order estimate of how
    much the swap lowers the loss ``J`` (``-log p(target)``, or ``log p(predicted class)``
    without a target): ``-(e_v - e_i) · ∂J/∂e_i`` at the token-embedding layer (Ebrahimi et
    al., 2018). Special tokens, punctuation and the word itself are left out. Returns one
    list per word unit the model reads, each ``top_k`` ``(token, score)`` pairs. An
    estimate, not a prediction: :func:`minimal_flip` verifies what it tries.
    """
    check_fitted(model, "classes_")
    if not supports_hotflip(model):
        raise InputError(_hotflip_refusal(model))
    top_k = check_count("top_k", top_k, 1)
    text = _check_flip_text(text)
    predictor = ModelPredictor(model)
    predicted = int(np.argmax(predictor([text])[0]))
    hotflip = _HotFlip(model, (predicted, _target_index(model, target, predicted)))
    pieces = model.word_pieces(text)  # type: ignore[attr-defined]
    scores = hotflip.scores(pieces.input_ids)
    k = min(top_k, int(hotflip.allowed.sum()))
    values, indices = scores.topk(k, dim=-1)
    return [
        [
            (hotflip.tokens[int(i)], float(v))
            for v, i in zip(row_values, row_indices, strict=True)
            if torch.isfinite(v)
        ]
        for row_values, row_indices in zip(values, indices, strict=True)
    ]


# --- checks ------------------------------------------------------------------------------


def _check_flip_text(text: Any) -> str:
    if isinstance(text, str) and not text.strip():
        raise InputError("the text to flip is empty; give a sentence with some words in it")
    text = check_text(text)
    if not any(is_word(word.text) for word in split_words(text)):
        raise InputError(f"no words found in {text!r}; give a sentence with some words in it")
    return text


def _target_index(model: TextModel, target: Any, predicted: int) -> int | None:
    if target is None:
        return None
    classes = [plain(c) for c in model.classes_]
    if plain(target) not in classes:
        raise InputError(f"target {target!r} is not one of the model's classes {classes}")
    index = classes.index(plain(target))
    if index == predicted:
        raise InputError(
            f"the model already predicts {target!r} for this text; choose another target "
            "or leave target=None for any other class"
        )
    return index


def _default_explain_method(model: TextModel) -> str:
    available = supported_methods(model)
    return "integrated-gradients" if "integrated-gradients" in available else "shap"


def _lexicon_source(
    lexicon: SentimentLexicon | str | os.PathLike | bool,
) -> Callable[[str], list[str]] | None:
    """``word -> replacements`` (antonyms first, then synonyms), or None for no lexicon."""
    if lexicon is False:
        return None
    if lexicon is True:
        lexicon = load_lexicon()
    elif not isinstance(lexicon, SentimentLexicon):
        lexicon = load_lexicon(lexicon)
    chosen = lexicon
    return lambda word: chosen.antonyms(word) + chosen.synonyms(word)


# --- the search --------------------------------------------------------------------------

# An edit in the search: (position, new word or None for deletion, source).
_Change = tuple[int, str | None, str]


def _apply(
    text: str, words: Sequence[Word], changes: Sequence[_Change]
) -> tuple[str, list[FlipEdit]]:
    """``text`` with ``changes`` made, every other character kept, and the edits' spans.

    A deleted word takes the white space before it (or, at the start, after it), so no
    double space is left; where no white space separates it from its neighbours, one
    space keeps them from fusing into one word.
    """
    pieces: list[str] = []
    edits, cursor, length = [], 0, 0

    def emit(piece: str) -> None:
        nonlocal length
        pieces.append(piece)
        length += len(piece)

    for position, new, source in sorted(changes):
        word = words[position]
        start, end = word.start, word.end
        if new is None:
            cut_start, cut_end = start, end
            while cut_start > cursor and text[cut_start - 1].isspace():
                cut_start -= 1
            if cut_start == start:
                while cut_end < len(text) and text[cut_end].isspace():
                    cut_end += 1
            emit(text[cursor:cut_start])
            glued = cut_start == start and cut_end == end and 0 < start and end < len(text)
            edits.append(FlipEdit(position, word.text, None, start, end, length, length, source))
            emit(" " if glued else "")
            cursor = cut_end
        else:
            emit(text[cursor:start])
            edits.append(
                FlipEdit(position, word.text, new, start, end, length, length + len(new), source)
            )
            emit(new)
            cursor = end
    emit(text[cursor:])
    return "".join(pieces), edits


def _rank_positions(
    model: TextModel,
    text: str,
    method: str,
    settings: dict[str, Any],
    predicted: int,
    against: int,
    editable: list[int],
) -> tuple[list[int], int]:
    """Editable positions, the words that most support ``predicted`` over ``against``
    first, and the explanation's evaluations."""
    explanation = explain(model, text, method, progress=False, **settings)
    support = explanation.attributions[:, predicted] - explanation.attributions[:, against]
    order = sorted(editable, key=lambda i: -float(support[i]))  # stable: ties in text order
    return order, explanation.evaluations


def minimal_flip(
    model: TextModel,
    text: str,
    *,
    target: Any = None,
    max_edits: int = 3,
    method: str = "auto",
    explain_method: str | None = None,
    explain_settings: dict[str, Any] | None = None,
    beam_width: int = 5,
    max_positions: int = 8,
    replacements_per_word: int = 5,
    lexicon: SentimentLexicon | str | os.PathLike | bool = True,
    batch_size: int = 256,
) -> Flip:
    """The fewest word edits found (at most ``max_edits``) that change the prediction.

    Args:
        model: any fitted text model with ``predict_proba`` and ``classes_``.
        text: one text.
        target: the class to flip to; None: any class other than the predicted one.
        max_edits: the most words to edit (deletions and replacements together).
        method: ``"auto"`` (HotFlip replacements where the model allows, lexicon ones and
            deletion), ``"hotflip"`` (refused for a model
            HotFlip cannot use: :func:`supports_hotflip`), ``"lexicon"`` (deletion and
            lexicon replacements, no gradients) or ``"deletion"`` (deletion only).
        explain_method: the attributions that rank positions (default:
            integrated-gradients for a torch network, 16 steps, else shap: exact Shapley
            values up to 8 words, 256 coalitions); ``explain_settings`` go to
            :func:`workbench.explain.explain` with it. ``"none"``: no guidance, the
            positions in text order (the unguided search, a baseline).
        beam_width: edited texts kept from one depth to the next.
        max_positions: the most words (best-ranked first) the search edits.
        replacements_per_word: HotFlip words tried per position and edited text.
        lexicon: where antonyms and synonyms come from: True for the shipped lexicon, a
            :class:`~workbench.analysis.lexicon.SentimentLexicon` or the path of a file
            of its shape (:func:`~workbench.analysis.lexicon.load_lexicon`), False for none.
        batch_size: texts per ``predict_proba`` call.

    Returns:
        A :class:`Flip`; ``found`` only when the real prediction changed.

    Raises:
        InputError: for an empty text, a bad setting, a target that is not a class or is
            already predicted, HotFlip asked of a model it cannot use, or a one-word text
            with nothing but deletion to try.
    """
    check_fitted(model, "classes_")
    text = _check_flip_text(text)
    max_edits = check_count("max_edits", max_edits, 1)
    beam_width = check_count("beam_width", beam_width, 1)
    max_positions = check_count("max_positions", max_positions, 1)
    replacements_per_word = check_count("replacements_per_word", replacements_per_word, 0)
    if method not in FLIP_METHODS:
        raise InputError(f"unknown flip method {method!r}; choose from {list(FLIP_METHODS)}")
    notes: list[str] = []
    use_hotflip = method in ("auto", "hotflip") and supports_hotflip(model)
    if method == "hotflip" and not use_hotflip:
        raise InputError(_hotflip_refusal(model))
    if method == "auto" and not use_hotflip:
        notes.append(
            _hotflip_refusal(model).split(". Use")[0]
            + "; the search deletes words and replaces them from the lexicon only"
        )
    replacements = _lexicon_source(lexicon) if method != "deletion" else None

    predictor = ModelPredictor(model, batch_size=batch_size)
    classes = [plain(c) for c in model.classes_]
    before = predictor([text])[0]
    predicted = int(np.argmax(before))
    target_index = _target_index(model, target, predicted)
    runner_up = int(np.argsort(-before, kind="stable")[1])
    against = runner_up if target_index is None else target_index

    words = word_units(model, text)
    visible = visible_word_count(model, text, words)
    editable = [i for i in range(visible) if words[i].text.strip()]
    if visible < len(words):
        notes.append(
            f"the model reads only its first {visible} words (max_length); the "
            f"{len(words) - visible} words after them were not edited"
        )
    can_replace = use_hotflip or replacements is not None
    if len(editable) < 2 and not can_replace:
        raise InputError(
            f"{text!r} has one word, and deleting it leaves nothing to classify; replace it "
            "instead: method='hotflip' (a from-scratch TextClassifier) or 'lexicon'"
        )
    explain_method = explain_method or _default_explain_method(model)
    settings = dict(explain_settings or {})
    if explain_method == "shap" and len(words) <= _EXACT_SHAP_WORDS:
        settings.setdefault("algorithm", "exact")
    if explain_method == "integrated-gradients":
        settings.setdefault("n_steps", _RANKING_IG_STEPS)
    if explain_method == "none":  # unguided: every position in text order
        positions, explain_calls = editable, 0
    else:
        positions, explain_calls = _rank_positions(
            model, text, explain_method, settings, predicted, against, editable
        )
    positions = positions[:max_positions]
    hotflip = _HotFlip(model, (predicted, target_index)) if use_hotflip else None

    def objective(p: np.ndarray) -> float:
        # How far the probability moved towards a flip: p(target), or 1 - p(predicted).
        return float(p[target_index]) if target_index is not None else 1.0 - float(p[predicted])

    def flips(p: np.ndarray) -> bool:
        winner = int(np.argmax(p))
        return winner == target_index if target_index is not None else winner != predicted

    def options(state: tuple[_Change, ...]) -> list[_Change]:
        edited = {position for position, _, _ in state}
        kept = [i for i in range(visible) if not any(p == i and n is None for p, n, _ in state)]
        found: list[_Change] = []
        table = None
        if hotflip is not None:
            current = {p: n for p, n, _ in state}
            reads = [current.get(i) or words[i].text for i in kept]  # kept: not deleted
            ids = hotflip.token_ids(reads)
            table = hotflip.scores(ids)
        for position in positions:
            if position in edited:
                continue
            word = words[position].text
            if len(kept) > 1:
                found.append((position, None, "deletion"))
            if not is_word(word):
                continue
            proposals: list[tuple[str, str]] = []
            if table is not None and replacements_per_word:
                row = table[kept.index(position)]
                values, indices = row.topk(min(replacements_per_word, row.numel()))
                proposals += [
                    (hotflip.tokens[int(i)], "hotflip")  # type: ignore[union-attr]
                    for v, i in zip(values, indices, strict=True)
                    if torch.isfinite(v)
                ]
            if replacements is not None:
                proposals += [(w, "lexicon") for w in replacements(word)]
            seen = {word.lower()}
            for new, source in proposals:
                if new.lower() in seen or len(split_words(new)) != 1:
                    continue  # one word unit in, one out: positions stay aligned
                seen.add(new.lower())
                found.append((position, match_case(new, word), source))
        return found

    beam: list[tuple[_Change, ...]] = [()]
    tried: set[tuple[tuple[int, str | None], ...]] = set()
    closest: tuple[float, str, list[FlipEdit], np.ndarray] | None = None
    flipped: tuple[float, str, list[FlipEdit], np.ndarray] | None = None
    candidates = 0
    for _depth in range(max_edits):
        states, texts, edit_lists = [], [], []
        for state in beam:
            for change in options(state):
                new_state = tuple(sorted((*state, change)))
                key = tuple((p, n) for p, n, _ in new_state)
                if key in tried:
                    continue
                tried.add(key)
                edited_text, edits = _apply(text, words, new_state)
                states.append(new_state)
                texts.append(edited_text)
                edit_lists.append(edits)
        if not states:
            break
        candidates += len(states)
        probabilities = predictor(texts)
        scored = sorted(
            range(len(states)), key=lambda j: -objective(probabilities[j])
        )  # stable: ties keep the search's order (best-ranked positions first)
        best = scored[0]
        if closest is None or objective(probabilities[best]) > closest[0]:
            closest = (
                objective(probabilities[best]),
                texts[best],
                edit_lists[best],
                probabilities[best],
            )
        winners = [j for j in scored if flips(probabilities[j])]
        if winners:
            j = winners[0]
            flipped = (objective(probabilities[j]), texts[j], edit_lists[j], probabilities[j])
            break
        beam = [states[j] for j in scored[:beam_width]]

    calls = {
        "predict_proba": predictor.evaluations,
        "explanation": explain_calls,
        "gradient": hotflip.passes if hotflip is not None else 0,
    }
    result = flipped or closest
    reason = None
    if flipped is None:
        aim = f"to {target!r}" if target_index is not None else "to another class"
        reason = (
            f"no edit of at most {plural(max_edits, 'word')} found that "
            f"flips the prediction {aim} ({candidates} edited texts tried)"
        )
    return Flip(
        text=text,
        edited_text=result[1] if result is not None else text,
        edits=result[2] if result is not None else [],
        classes=classes,
        probabilities_before=before,
        probabilities_after=result[3] if result is not None else before,
        found=flipped is not None,
        method="hotflip" if use_hotflip else ("deletion" if method == "deletion" else "lexicon"),
        explain_method=explain_method,
        target=plain(target),
        max_edits=max_edits,
        model_calls=sum(calls.values()),
        calls=calls,
        candidates=candidates,
        reason=reason,
        notes=notes,
    )


def minimal_flips(
    model: TextModel, texts: Sequence[str], *, progress: bool = True, **settings: Any
) -> list[Flip]:
    """:func:`minimal_flip` for each of ``texts`` (same ``settings``), with a progress bar.

    A text that cannot be searched (empty, one word with deletion only) stops the run with
    its index in the message.
    """
    texts = as_text_list(texts, "the texts to flip")
    flips = []
    for i, text in enumerate(progress_bar(texts, show=progress, desc="minimal flips")):
        try:
            flips.append(minimal_flip(model, text, **settings))
        except InputError as exc:
            raise InputError(f"text {i}: {exc}") from exc
    return flips
