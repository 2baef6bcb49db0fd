"""Gradient and attention views of a torch network, on the shared word units.

They work for every model with a torch network ``model_`` that follows the workbench
forward contract and a ``word_pieces(text)`` method: the from-scratch ``TextClassifier``
(one token per word after ``[CLS]``) and the fine-tuned encoders of
:mod:`workbench.pretrained` (sub-word pieces tied to words by character offsets). Every
score is reported per word:

- **Integrated gradients** (Captum's ``IntegratedGradients``) explains each class's *logit*
  against the empty text. Its path runs over each piece's *presence* (see
  ``presence`` in :meth:`workbench.model.TransformerClassifier.forward`): presence 1 is the
  text as written, presence 0 deletes the piece exactly (its attention keys and its share
  of the pooling vanish). So the baseline means "no words": its prediction is the
  prediction of the empty text (up to where the special tokens sit), the same absence that
  SHAP, LIME and the faithfulness metrics use, and ``base_values + attributions.sum(0)``
  equals the logits up to the integration error reported in ``convergence_delta``. A word's
  score is the sum of its pieces' scores.
- **Gradient × input** (Captum's ``LayerGradientXActivation`` on the token-embedding
  layer, summed over the embedding dimensions and over a word's pieces): one backward pass,
  no baseline.
- **Attention** is reported separately and labelled as such: it shows where the model
  looked, which is not the same as what changed its decision. Piece-level weights are
  aggregated to words by the rule of Clark et al. (2019, "What Does BERT Look At?"):
  attention *to* a word is the sum over its pieces, attention *from* a word is the mean
  over its pieces, so rows still sum to 1. Special tokens (``[CLS]``, ``[SEP]``) share
  the first unit, shown as ``[CLS]``. For the from-scratch model every word is one token
  and the rule changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

import numpy as np
import torch

from workbench.data import check_count, plain
from workbench.errors import InputError
from workbench.estimators import TextModel, check_fitted
from workbench.explain.base import Explanation, check_text, truncation_note
from workbench.tokenizer import WordPieces


class NetworkModel(TextModel, Protocol):
    """A text model with a torch network to look into: what :func:`supports_gradients`
    checks for (a workbench ``TextClassifier`` or a fine-tuned encoder)."""

    @property
    def model_(self) -> torch.nn.Module: ...

    def word_pieces(self, text: str) -> WordPieces: ...


def supports_gradients(model: TextModel) -> TypeGuard[NetworkModel]:
    """Whether ``model`` has a network the gradient methods can differentiate."""
    network = getattr(model, "model_", None)
    return isinstance(network, torch.nn.Module) and callable(getattr(model, "word_pieces", None))


def supports_attention(model: TextModel) -> bool:
    """Whether ``model``'s network has attention (a bag-of-embeddings model has none)."""
    if not supports_gradients(model):
        return False
    config = getattr(model.model_, "config", None)
    return getattr(config, "architecture", "transformer") == "transformer"


# Integrated gradients walks presence p = t**PATH_POWER as t goes from 0 to 1: the same
# straight path, so the same attributions, but with the quadrature's steps crowded near
# p = 0, where a trained encoder's prediction moves fastest (a word's attention weight
# grows like p·exp(score), and scores run to 10 or more). See benchmarks/RESULTS.md.
PATH_POWER = 3.0


@dataclass
class _Inputs:
    network: torch.nn.Module
    pieces: WordPieces
    input_ids: torch.Tensor  # (1, T)
    mask: torch.Tensor  # (1, T)
    units: np.ndarray  # (U, T): piece t belongs to unit u; unit 0 holds special tokens
    notes: list[str]


def _network_inputs(model: TextModel, text: str) -> _Inputs:
    """The fitted network, the encoded text and its pieces, or a message saying why not."""
    check_fitted(model, "classes_")
    if not supports_gradients(model):
        raise InputError(
            f"gradient and attention methods need a model with a torch network (a workbench "
            f"TextClassifier or a fine-tuned encoder); {type(model).__name__} has none to "
            "differentiate. Use shap or lime"
        )
    check_text(text)
    pieces = model.word_pieces(text)
    words = pieces.words
    if not words:
        raise InputError(f"no words found in {text!r}; type a sentence with some words in it")
    network = model.model_.eval()
    device = next(network.parameters()).device
    input_ids = torch.tensor([pieces.input_ids], device=device)  # (1, T)
    notes = [truncation_note(words, pieces.visible)] if pieces.visible < len(words) else []
    unk_id = getattr(getattr(model, "tokenizer_", None), "unk_id", None)
    if unk_id is not None and all(i == unk_id for i in pieces.input_ids[1:]):
        notes.append("every word is unknown to the model's vocabulary ([UNK])")
    owners = np.asarray(pieces.piece_words)
    units = np.zeros((pieces.visible + 1, len(owners)))
    units[owners + 1, np.arange(len(owners))] = 1.0  # owner -1 (special) -> unit 0
    return _Inputs(
        network, pieces, input_ids, torch.ones_like(input_ids, dtype=torch.bool), units, notes
    )


def _word_scores(piece_scores: torch.Tensor | np.ndarray, inputs: _Inputs) -> np.ndarray:
    """(T,) piece scores -> one score per word: the sum over its pieces; 0 for unread words."""
    values = np.asarray(torch.as_tensor(piece_scores).detach().cpu().double())
    scores = np.zeros(len(inputs.pieces.words))
    scores[: inputs.pieces.visible] = (inputs.units @ values)[1:]
    return scores


def gradient_explanation(
    model: TextModel, text: str, *, method: str = "integrated-gradients", n_steps: int = 50
) -> Explanation:
    """Integrated gradients (``n_steps`` Gauss–Legendre steps) or gradient × input, per class.

    Integrated gradients is complete: for each class, ``base_values + attributions.sum(0)``
    equals the logit of the text up to the integration error, which the result's
    ``settings["convergence_delta"]`` reports per class; ``base_values`` are the logits
    of the text with every word absent.
    """
    from captum.attr import IntegratedGradients, LayerGradientXActivation

    if method not in ("integrated-gradients", "gradient-x-input"):
        raise InputError(f"unknown gradient method {method!r}")
    n_steps = check_count("n_steps (CLI: --steps)", n_steps, 1)
    inputs = _network_inputs(model, text)
    network, input_ids, mask = inputs.network, inputs.input_ids, inputs.mask
    classes = [plain(c) for c in model.classes_]
    attributions = np.zeros((len(inputs.pieces.words), len(classes)))
    settings: dict[str, Any] = {"units": "logit", "visible_words": inputs.pieces.visible}
    if method == "integrated-gradients":

        def logits_at(presence: torch.Tensor) -> torch.Tensor:
            batch = presence.shape[0]  # Captum stacks the path's steps into one batch
            ids, batch_mask = input_ids.expand(batch, -1), mask.expand(batch, -1)
            return network(ids, batch_mask, presence=presence**PATH_POWER).logits  # (steps, k)

        present = torch.ones(input_ids.shape, dtype=torch.float32, device=input_ids.device)
        special = torch.as_tensor(inputs.pieces.piece_words, device=input_ids.device) < 0
        absent = special.to(torch.float32)[None, :]  # (1, T): every word deleted
        explainer = IntegratedGradients(logits_at)
        deltas = []
        for c in range(len(classes)):
            scores, delta = explainer.attribute(
                present,
                baselines=absent,
                target=c,
                n_steps=n_steps,
                return_convergence_delta=True,
            )
            attributions[:, c] = _word_scores(scores[0], inputs)
            deltas.append(float(delta.abs().max()))
        with torch.no_grad():
            base_values = logits_at(absent)[0].double().cpu().numpy()
        settings |= {
            "n_steps": n_steps,
            "baseline": "empty text (every word's presence 0)",
            "path": "presence",
            "convergence_delta": deltas,
        }
        evaluations = n_steps * len(classes)
    else:

        def logits(ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return network(ids, attention_mask).logits  # (B, k)

        explainer = LayerGradientXActivation(logits, network.token_embedding)
        for c in range(len(classes)):
            scores = explainer.attribute(input_ids, target=c, additional_forward_args=(mask,))
            attributions[:, c] = _word_scores(scores.sum(-1)[0], inputs)
        base_values = None
        settings["layer"] = "token_embedding"
        evaluations = len(classes)
    return Explanation(
        text=text,
        words=inputs.pieces.words,
        classes=classes,
        attributions=attributions,
        probabilities=model.predict_proba([text])[0],  # calibrated, as every method shows
        method=method,
        settings=settings,
        evaluations=evaluations,
        base_values=base_values,
        notes=inputs.notes,
    )


def attention_rollout(attention: np.ndarray) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema, 2020): how much each token's information reaches
    each position after all layers, mixing in the residual stream.

    ``attention`` is (layers, heads, T, T); each layer's heads are averaged, the identity is
    added for the residual connection (0.5·A + 0.5·I), rows are renormalised, and the
    layers are multiplied from the first up. Returns (T, T); rows sum to 1.
    """
    rollout = np.eye(attention.shape[-1])
    for layer in attention:
        mixed = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(layer.shape[-1])
        rollout = (mixed / mixed.sum(axis=-1, keepdims=True)) @ rollout
    return rollout


def attention_to_words(attention: np.ndarray, units: np.ndarray) -> np.ndarray:
    """(..., T, T) piece attention -> (..., U, U) unit attention (Clark et al., 2019).

    ``units`` is (U, T) with one 1 per column (the unit each piece belongs to). Attention
    to a unit sums over its pieces (columns), attention from a unit averages over its
    pieces (rows), so rows that summed to 1 still do.
    """
    mean_rows = units / units.sum(axis=1, keepdims=True).clip(min=1.0)  # (U, T)
    return mean_rows @ attention @ units.T


def attention_explanation(model: TextModel, text: str) -> Explanation:
    """Attention weights of every layer and head, and attention rollout per word.

    The per-word score is the rollout read from what the classifier pools: the ``[CLS]``
    row for ``pooling="cls"``, the mean of all rows for mean pooling; a word's score sums
    its pieces. Scores are non-negative and identical for every class (attention is not
    class-specific). Weights and rollout are aggregated to words (see the module notes).
    """
    inputs = _network_inputs(model, text)
    network = inputs.network
    if not supports_attention(model):
        raise InputError(
            # torch types a Module's attributes as Tensor | Module; config is a plain object
            f"a {network.config.architecture} model has no attention to show; "  # type: ignore[union-attr]
            "use shap, lime or a gradient method"
        )
    with torch.no_grad():
        out = network(inputs.input_ids, inputs.mask, output_attentions=True)
    pieces_attention = torch.stack(out.attentions)[:, 0].double().cpu().numpy()  # (L, H, T, T)
    rollout = attention_rollout(pieces_attention)  # (T, T)
    # torch types a Module's attributes as Tensor | Module; config is a plain object
    pooling = getattr(network, "pooling", None) or network.config.pooling  # type: ignore[union-attr]
    pooled = rollout[0] if pooling == "cls" else rollout.mean(axis=0)  # (T,)
    scores = _word_scores(pooled, inputs)
    classes = [plain(c) for c in model.classes_]
    return Explanation(
        text=text,
        words=inputs.pieces.words,
        classes=classes,
        attributions=np.repeat(scores[:, None], len(classes), axis=1),
        probabilities=model.predict_proba([text])[0],
        method="attention",
        settings={
            "score": "rollout",
            "pooling": pooling,
            "rollout": attention_to_words(rollout, inputs.units).tolist(),
            "visible_words": inputs.pieces.visible,
        },
        evaluations=1,
        kind="attention",
        notes=inputs.notes,
        attention=attention_to_words(pieces_attention, inputs.units),
    )
