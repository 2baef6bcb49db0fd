"""Gradient and attention views of the workbench's own networks, on the shared word units.

Integrated gradients and gradient × input come from Captum (``LayerIntegratedGradients``,
``LayerGradientXActivation``) on the token-embedding layer, summed over the embedding
dimensions; each word is one token, so token scores are word scores. They explain the
*logit* of each class. The integrated-gradients baseline replaces every word by the padding
embedding (all zeros) and keeps ``[CLS]`` and the positions: the gradient-side stand-in for
"every word absent".

Attention is reported separately and labelled as such: it shows where the model looked,
which is not the same as what changed its decision.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from workbench.errors import InputError
from workbench.explain.base import Explanation, check_text, plain


def _network_inputs(model: Any, text: str):
    """The fitted network and the encoded text, or a message for models without one."""
    network = getattr(model, "model_", None)
    tokenizer = getattr(model, "tokenizer_", None)
    if network is None or tokenizer is None:
        raise InputError(
            f"gradient and attention methods need a workbench TextClassifier; "
            f"{type(model).__name__} has no network to differentiate. Use shap or lime"
        )
    check_text(text)
    words = tokenizer.words(text)
    if not words:
        raise InputError(f"no words found in {text!r}; type a sentence with some words in it")
    encoding = tokenizer.encode(text, network.config.max_length)
    device = next(network.parameters()).device
    input_ids = torch.tensor([encoding.ids], device=device)  # (1, T)
    mask = torch.ones_like(input_ids, dtype=torch.bool)  # (1, T)
    notes = []
    visible = len(encoding.words)
    if encoding.truncated:
        notes.append(
            f"the model reads only its first {visible} words (max_length); the "
            f"{len(words) - visible} words from '{words[visible].text}' on get no attribution"
        )
    if all(i == tokenizer.unk_id for i in encoding.ids[1:]):
        notes.append("every word is unknown to the model's vocabulary ([UNK])")
    return network.eval(), tokenizer, words, input_ids, mask, notes, visible


def _word_scores(token_scores: torch.Tensor, num_words: int) -> np.ndarray:
    """(T,) token scores -> (num_words,), dropping [CLS] and zero for unread words."""
    scores = np.zeros(num_words)
    values = token_scores[1:].detach().cpu().double().numpy()
    scores[: len(values)] = values
    return scores


def _probabilities(network, input_ids, mask) -> np.ndarray:
    with torch.no_grad():
        return network(input_ids, mask).logits[0].double().softmax(-1).cpu().numpy()


def gradient_explanation(
    model: Any, text: str, *, method: str = "integrated-gradients", n_steps: int = 50
) -> Explanation:
    """Integrated gradients (``n_steps`` Riemann steps) or gradient × input, per class.

    Integrated gradients is complete: for each class, ``base_values + attributions.sum(0)``
    equals the logit of the text up to the integration error, which the result's
    ``settings["convergence_delta"]`` reports per class.
    """
    from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

    if method not in ("integrated-gradients", "gradient-x-input"):
        raise InputError(f"unknown gradient method {method!r}")
    network, tokenizer, words, input_ids, mask, notes, visible = _network_inputs(model, text)

    def logits(ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return network(ids, attention_mask).logits  # (B, k)

    baseline = input_ids.clone()
    baseline[:, 1:] = tokenizer.pad_id  # keep [CLS]: every word absent
    classes = [plain(c) for c in model.classes_]
    attributions = np.zeros((len(words), len(classes)))
    settings: dict[str, Any] = {
        "units": "logit",
        "layer": "token_embedding",
        "visible_words": visible,
    }
    if method == "integrated-gradients":
        explainer = LayerIntegratedGradients(logits, network.token_embedding)
        deltas = []
        for c in range(len(classes)):
            scores, delta = explainer.attribute(
                input_ids,
                baselines=baseline,
                target=c,
                additional_forward_args=(mask,),
                n_steps=n_steps,
                return_convergence_delta=True,
            )
            attributions[:, c] = _word_scores(scores.sum(-1)[0], len(words))
            deltas.append(float(delta.abs().max()))
        with torch.no_grad():
            base_values = network(baseline, mask).logits[0].double().cpu().numpy()
        settings |= {
            "n_steps": n_steps,
            "baseline": "padding embedding",
            "convergence_delta": deltas,
        }
        evaluations = n_steps * len(classes)
    else:
        explainer = LayerGradientXActivation(logits, network.token_embedding)
        for c in range(len(classes)):
            scores = explainer.attribute(input_ids, target=c, additional_forward_args=(mask,))
            attributions[:, c] = _word_scores(scores.sum(-1)[0], len(words))
        base_values = None
        evaluations = len(classes)
    return Explanation(
        text=text,
        words=words,
        classes=classes,
        attributions=attributions,
        probabilities=_probabilities(network, input_ids, mask),
        method=method,
        settings=settings,
        evaluations=evaluations,
        base_values=base_values,
        notes=notes,
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


def attention_explanation(model: Any, text: str) -> Explanation:
    """Attention weights of every layer and head, and attention rollout per word.

    The per-word score is the rollout read from what the classifier pools: the ``[CLS]``
    row for ``pooling="cls"``, the mean of all rows for mean pooling. Scores are
    non-negative and identical for every class (attention is not class-specific).
    """
    network, _, words, input_ids, mask, notes, visible = _network_inputs(model, text)
    if network.config.architecture != "transformer":
        raise InputError(
            f"a {network.config.architecture} model has no attention to show; "
            "use shap, lime or a gradient method"
        )
    with torch.no_grad():
        out = network(input_ids, mask, output_attentions=True)
    attention = torch.stack(out.attentions)[:, 0].double().cpu().numpy()  # (L, H, T, T)
    rollout = attention_rollout(attention)  # (T, T)
    pooled = rollout[0] if network.config.pooling == "cls" else rollout.mean(axis=0)  # (T,)
    scores = _word_scores(torch.from_numpy(pooled), len(words))
    classes = [plain(c) for c in model.classes_]
    return Explanation(
        text=text,
        words=words,
        classes=classes,
        attributions=np.repeat(scores[:, None], len(classes), axis=1),
        probabilities=out.logits[0].double().softmax(-1).cpu().numpy(),
        method="attention",
        settings={
            "score": "rollout",
            "pooling": network.config.pooling,
            "rollout": rollout.tolist(),
            "visible_words": visible,
        },
        evaluations=1,
        kind="attention",
        notes=notes,
        attention=attention,
    )
