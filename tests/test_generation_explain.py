"""Per-token explanations of a translation (workbench.explain.generation): IG completeness
per step, shapes and spans, cross-attention against the network's weights and the shifted
reading, occlusion by hand, comprehensiveness against random deletions, JSON and escaped
HTML, bad input, and the alignment scores of explanations."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from workbench.config import SEQ2SEQ_PRESETS, Seq2SeqConfig, TrainConfig
from workbench.data import make_synthetic_corpus
from workbench.errors import InputError
from workbench.estimators import NotFittedModelError
from workbench.explain.alignment import alignment_study, score_explanations
from workbench.explain.base import remove_words
from workbench.explain.generation import (
    GenerationExplanation,
    explain_translation,
    step_comprehensiveness,
)
from workbench.seq2seq import Translator

CORPUS = make_synthetic_corpus(n_train=400, n_valid=0, n_test=12, n_long=0)


@pytest.fixture(scope="module")
def translator() -> Translator:
    """A tiny translator, a few seconds of training on 400 synthetic pairs: far from
    perfect, but it has learnt which source word each target word comes from."""
    model = Translator(
        Seq2SeqConfig(
            **SEQ2SEQ_PRESETS["tiny"], dropout=0.0, max_source_length=16, max_target_length=20
        ),
        TrainConfig(
            num_epochs=8, batch_size=16, learning_rate=5e-3, warmup_ratio=0.0, device="cpu"
        ),
    )
    return model.fit(CORPUS.train, val_size=0, progress=False)


def barred_log_probs(translator: Translator, logits: torch.Tensor) -> torch.Tensor:
    """log-softmax with padding and the start token barred, as the decoders do."""
    config = translator.network_.config
    logits = logits.float().clone()
    logits[..., [config.pad_token_id, config.bos_token_id]] = float("-inf")
    return logits.log_softmax(-1)


def teacher_forced(translator: Translator, source: str, target_ids, **kwargs) -> torch.Tensor:
    """(T + 1,) log p of each target token then end-of-sequence, straight from the network."""
    config = translator.network_.config
    source_ids = translator.source_tokenizer_.encode_ids([source])[0]
    decoder = torch.tensor([[config.bos_token_id, *target_ids]])
    labels = torch.tensor([[*target_ids, config.eos_token_id]])
    with torch.no_grad():
        logits = translator.network_(torch.tensor([source_ids]), None, decoder, **kwargs).logits
    return barred_log_probs(translator, logits).gather(-1, labels[..., None])[0, :, 0]


# --- integrated gradients -------------------------------------------------------------------


def test_integrated_gradients_is_complete_per_step(translator):
    pair = CORPUS.test[0]
    e = explain_translation(
        translator, pair.source, target=pair.target, methods=["integrated-gradients"], n_steps=64
    )
    T = len(e.target_tokens)
    assert T == len(pair.target.split()) and e.base_values is not None
    log_p = np.log(e.probabilities)
    source = np.nansum(e.matrices["integrated-gradients"], axis=1)
    prefix = np.nansum(e.prefix["integrated-gradients"], axis=1)
    total = e.base_values + source + prefix
    deltas = np.abs(e.convergence_delta)
    for t in range(T):
        assert abs(total[t] - log_p[t]) <= deltas[t] + 1e-4, t
    assert deltas.max() < 0.05  # the integration error the explanation reports is small
    # Not a tautology: the baseline is far from the prediction, and both the source and
    # the prefix carry part of the difference.
    assert np.abs(log_p - e.base_values).max() > 1.0
    assert np.abs(source).max() > 0.1 and np.abs(prefix[1:]).max() > 0.01

    # The base value, computed here from the network's public inputs: every source word
    # absent (presence 0, [CLS] kept), every prefix word's embedding 0 (the start token kept).
    network = translator.network_
    ids = translator.source_tokenizer_.encode_ids([pair.source])[0]
    target_ids = list(e.target_ids)
    presence = torch.zeros(1, len(ids))
    presence[0, 0] = 1.0
    decoder = torch.tensor([[network.config.bos_token_id, *target_ids]])
    with torch.no_grad():
        vectors = network.target_embedding(decoder)
        vectors[:, 1:] = 0.0
    base = teacher_forced(
        translator, pair.source, target_ids, presence=presence, decoder_inputs_embeds=vectors
    )
    np.testing.assert_allclose(e.base_values, base[:T].numpy(), atol=1e-4)


# --- shapes, spans, probabilities --------------------------------------------------------


def test_shapes_spans_and_the_models_own_translation(translator):
    source = "the  cat sees   a dog"  # extra spaces: spans are offsets into this text
    e = explain_translation(translator, source, n_steps=4)
    translation = translator.translate([source])[0]
    assert e.target_tokens == list(translation.tokens)
    assert e.stop_reason == translation.stop_reason
    T, S = len(e.target_tokens), 5
    assert [w.text for w in e.source_words] == ["the", "cat", "sees", "a", "dog"]
    assert all(source[w.start : w.end] == w.text for w in e.source_words)
    assert set(e.matrices) == {
        "integrated-gradients",
        "gradient-x-input",
        "occlusion",
        "attention",
        "attention-shifted",
    }
    for matrix in e.matrices.values():
        assert matrix.shape == (T, S)
    for name in ("integrated-gradients", "gradient-x-input"):
        prefix = e.prefix[name]
        assert prefix.shape == (T, T)
        below = np.tril(np.ones((T, T), dtype=bool), k=-1)
        assert np.isfinite(prefix[below]).all() and np.isnan(prefix[~below]).all()
    layers, heads = 1, SEQ2SEQ_PRESETS["tiny"]["num_heads"]
    assert e.cross_attention is not None and e.cross_attention.shape == (layers, heads, T, S)
    # The per-step probabilities multiply to the translation's score (end-of-sequence too).
    if translation.stop_reason == "eos":
        assert e.eos_probability is not None
        total = np.log(e.probabilities).sum() + math.log(e.eos_probability)
        assert total == pytest.approx(translation.score, abs=1e-4)


def test_cross_attention_is_the_networks_weights_and_the_shifted_reading_is_a_shift(
    translator,
):
    pair = CORPUS.test[1]
    e = explain_translation(translator, pair.source, target=pair.target, methods=["attention"])
    network = translator.network_
    ids = translator.source_tokenizer_.encode_ids([pair.source])[0]
    decoder = torch.tensor([[network.config.bos_token_id, *e.target_ids]])
    with torch.no_grad():
        out = network(torch.tensor([ids]), None, decoder, output_attentions=True)
    weights = torch.stack(out.cross_attentions)[:, 0].double().numpy()  # (L, H, T + 1, S + 1)
    T = len(e.target_tokens)
    # [CLS] left out; mean over layers and heads; output reading: rows 0..T-1
    np.testing.assert_allclose(e.matrices["attention"], weights[:, :, :T, 1:].mean((0, 1)))
    np.testing.assert_allclose(e.cross_attention, weights[:, :, :T, 1:])
    # shift-att: token t read where it is the decoder's input, one position later
    np.testing.assert_allclose(e.matrices["attention-shifted"][:-1], e.matrices["attention"][1:])
    np.testing.assert_allclose(
        e.matrices["attention-shifted"][-1], weights[:, :, T, 1:].mean((0, 1))
    )
    np.testing.assert_allclose(e.attention_matrix(0, 1), weights[0, 1, :T, 1:])
    # rows sum to 1 with [CLS]'s share
    np.testing.assert_allclose(
        e.matrices["attention"].sum(1) + weights[:, :, :T, 0].mean((0, 1)), 1.0, atol=1e-6
    )
    with pytest.raises(InputError, match="layer must be"):
        e.attention_matrix(layer=3)


def test_occlusion_by_hand(translator):
    pair = CORPUS.test[2]
    e = explain_translation(translator, pair.source, target=pair.target, methods=["occlusion"])
    T = len(e.target_tokens)
    full = teacher_forced(translator, pair.source, e.target_ids)
    for i in range(len(e.source_words)):
        keep = [j != i for j in range(len(e.source_words))]
        without = teacher_forced(translator, remove_words(e.source_words, keep), e.target_ids)
        np.testing.assert_allclose(
            e.matrices["occlusion"][:, i], (full - without)[:T].numpy(), atol=1e-5
        )


# --- faithfulness --------------------------------------------------------------------------


def test_top_source_words_matter_more_than_random_ones(translator):
    drops: dict[str, list[float]] = {}
    for pair in CORPUS.test[:6]:
        e = explain_translation(translator, pair.source, target=pair.target, n_steps=16)
        per_step = step_comprehensiveness(translator, e, k=1, draws=10, seed=0)
        assert set(per_step) == {*e.matrices, "random"}
        assert all(v.shape == (len(e.target_tokens),) for v in per_step.values())
        for name, values in per_step.items():
            drops.setdefault(name, []).extend(values[np.isfinite(values)].tolist())
    random = np.mean(drops["random"])
    for name in ("integrated-gradients", "occlusion", "attention"):
        assert np.mean(drops[name]) > random + 0.02, name
    with pytest.raises(InputError, match="no matrix"):
        step_comprehensiveness(translator, e, methods=["lime"])


# --- JSON, figure, HTML --------------------------------------------------------------------


def test_json_figure_and_escaped_html(translator, tmp_path):
    source = "<script>alert(1)</script> the cat sees a dog"
    e = explain_translation(translator, source, n_steps=4)
    assert any("[UNK]" in note for note in e.notes)  # the markup is unknown to the model
    payload = json.loads(json.dumps(e.to_dict(), allow_nan=False))
    assert [w["text"] for w in payload["source"]] == [w.text for w in e.source_words]
    assert all(source[w["start"] : w["end"]] == w["text"] for w in payload["source"])
    assert payload["target"] == e.target_tokens
    assert set(payload["matrices"]) == set(e.matrices)
    shape = (len(e.target_tokens), len(e.source_words))
    assert np.array(payload["matrices"]["occlusion"], dtype=float).shape == shape
    assert e.to_json(tmp_path / "e.json").read_text("utf-8").startswith("{")

    page = e.to_html(tmp_path / "e.html")
    assert (tmp_path / "e.html").read_text("utf-8") == page
    assert "<script" not in page and "&lt;script&gt;" in page
    assert page.count('class="wb-method"') == len(e.views())

    figure = e.figure("occlusion")
    views = e.views()
    assert len(figure.data) == len(views)
    assert [trace.visible for trace in figure.data] == [n == "occlusion" for n in views]
    buttons = figure.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == list(views)
    ticks = " ".join(figure.data[0].x)
    assert "<" not in ticks and "&lt; (#1) script" in ticks  # each piece of markup escaped
    with pytest.raises(InputError, match="no matrix"):
        e.figure("lime")


# --- bad input ------------------------------------------------------------------------------


def test_bad_input(translator):
    with pytest.raises(InputError, match="empty"):
        explain_translation(translator, "   ")
    with pytest.raises(InputError, match="unknown method"):
        explain_translation(translator, "the cat sleeps", methods=["lime"])
    with pytest.raises(InputError, match="no words"):
        explain_translation(translator, "the cat sleeps", target="   ")
    with pytest.raises(NotFittedModelError, match="not fitted"):
        explain_translation(Translator(), "the cat sleeps")

    unknown = explain_translation(translator, "zorp the blick", n_steps=4)
    assert any("'zorp', 'blick'" in note for note in unknown.notes)
    assert np.isfinite(unknown.matrices["occlusion"]).all()

    words = " ".join(["the cat sees a dog"] * 4)  # 20 words, the model reads 15
    long = explain_translation(translator, words, target="mizi ka wubo mo miru", n_steps=4)
    assert any("reads at most 15" in note for note in long.notes)
    for matrix in long.matrices.values():
        assert np.isfinite(matrix[:, :15]).all() and np.isnan(matrix[:, 15:]).all()
    assert json.dumps(long.to_dict(), allow_nan=False)  # NaN is null in JSON

    other = explain_translation(translator, "the cat sleeps", target="mizi ka qwerty", n_steps=4)
    assert any("qwerty" in note for note in other.notes)

    # a target as long as the model's positions (20): the last token has no next position
    full = explain_translation(translator, "the cat sleeps", target=" ".join(["mizi"] * 25))
    assert len(full.target_tokens) == 20 and any("first 20 are explained" in n for n in full.notes)
    assert full.eos_probability is None and any("last position" in n for n in full.notes)
    shifted = full.matrices["attention-shifted"]
    assert np.isnan(shifted[-1]).all() and np.isfinite(shifted[:-1]).all()


def test_a_translation_ended_at_once_has_no_rows(translator, monkeypatch):
    from workbench.seq2seq import Translation

    def ends_at_once(texts, **kwargs):
        return [Translation(texts[0], (), (), (), (), "eos", -0.1)]

    monkeypatch.setattr(translator, "translate", ends_at_once)
    e = explain_translation(translator, "the cat sleeps")
    assert e.target_tokens == [] and any("at once" in note for note in e.notes)
    assert all(m.shape == (0, 3) for m in e.matrices.values())
    assert json.dumps(e.to_dict(), allow_nan=False) and "wb-generation" in e.to_html()


# --- scoring against gold alignments ------------------------------------------------------


def test_scores_of_explanations_against_gold(translator):
    pair = CORPUS.test[0]
    e = explain_translation(translator, pair.source, target=pair.target, methods=["occlusion"])
    T, S = len(e.target_tokens), len(e.source_words)
    gold_matrix = np.zeros((T, S))
    for i, j in pair.alignment:
        gold_matrix[j, i] = 1.0
    perfect = GenerationExplanation(
        pair.source, e.source_words, e.target_tokens, {"gold": gold_matrix}, e.probabilities
    )
    scores = score_explanations([perfect], [pair])
    assert scores["gold"].precision == 1.0 and scores["random"].aer > 0.3
    with pytest.raises(InputError, match="explain the gold target"):
        score_explanations([perfect], [[(S, 0)]])
    with pytest.raises(InputError, match="1 explanations but 2"):
        score_explanations([perfect], [pair, pair])

    study = alignment_study(
        translator,
        CORPUS.test[:3],
        methods=["occlusion", "attention"],
        draws=4,
        n_resamples=50,
        progress=False,
    )
    assert study.n == 3
    assert {"occlusion", "attention", "attention-shifted", "random"} <= set(study.alignment)
    assert study.alignment["occlusion"].sentences == 3
    assert set(study.comprehensiveness) == {"occlusion", "attention", "attention-shifted"}
    row = next(r for r in study.rows() if r["method"] == "occlusion")
    assert row["low"] <= row["difference"] <= row["high"]
    assert json.dumps(study.to_dict(), allow_nan=False)
    with pytest.raises(InputError, match="no gold alignment"):
        alignment_study(translator, [("the cat sleeps", "mizi ka nemu")], progress=False)
