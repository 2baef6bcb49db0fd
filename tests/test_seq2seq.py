"""Tests for workbench.seq2seq: causal masking, the two attention paths, decoding, a tiny
model that learns a few pairs, the artifact round trip and the bad inputs of issue 13."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from workbench.artifacts import load_model
from workbench.config import SEQ2SEQ_PRESETS, Seq2SeqConfig, TrainConfig
from workbench.errors import InputError
from workbench.model import attend
from workbench.seq2seq import Seq2SeqTransformer, Translator, beam_search, greedy_decode
from workbench.seq2seq.batches import PairDataset, Seq2SeqTask, collate_pairs, make_pair_loader
from workbench.seq2seq.network import IGNORE_INDEX
from workbench.train import Ranks

# A toy SVO -> SOV pair language with case particles; word order changes, so a model must
# read the whole source (and attend across it) to translate.
PAIRS = [
    ("the cat sees a dog", "neko ga inu o miru"),
    ("a dog sees the cat", "inu ga neko o miru"),
    ("the bird eats", "tori ga taberu"),
    ("a cat eats the fish", "neko ga sakana o taberu"),
    ("the dog chases a bird", "inu ga tori o ou"),
    ("a fish sees the bird", "sakana ga tori o miru"),
]

CONFIG = Seq2SeqConfig(
    source_vocab_size=40,
    target_vocab_size=30,
    max_source_length=12,
    max_target_length=10,
    d_model=32,
    num_heads=4,
    d_ff=64,
    num_encoder_layers=2,
    num_decoder_layers=2,
    dropout=0.0,
    pad_token_id=0,
    bos_token_id=2,
    eos_token_id=29,
)


def make_network(config: Seq2SeqConfig = CONFIG, seed: int = 0) -> Seq2SeqTransformer:
    torch.manual_seed(seed)
    network = Seq2SeqTransformer(config)
    # The init is near zero; larger weights make the outputs far from trivial.
    with torch.no_grad():
        for param in network.parameters():
            param.add_(torch.randn_like(param) * 0.3)
    return network.eval()


def make_batch(seed: int = 1) -> dict[str, torch.Tensor]:
    """Three pairs of different lengths, padded: one full, two shorter on each side."""
    generator = torch.Generator().manual_seed(seed)
    sources = [[2, *torch.randint(4, 40, (n,), generator=generator).tolist()] for n in (7, 3, 1)]
    targets = [[2, *torch.randint(4, 29, (n,), generator=generator).tolist()] for n in (8, 2, 5)]
    return collate_pairs(list(zip(sources, targets, strict=True)), 0, CONFIG.eos_token_id)


def forward(network: Seq2SeqTransformer, batch: dict, **kwargs):
    inputs = ("input_ids", "attention_mask", "decoder_input_ids", "decoder_attention_mask")
    return network(**{k: batch[k] for k in inputs}, **kwargs)


@pytest.fixture(scope="module")
def translator() -> Translator:
    """A tiny translator trained until it knows the six pairs by heart (a few seconds)."""
    model = Translator(
        Seq2SeqConfig(**SEQ2SEQ_PRESETS["tiny"], dropout=0.0, max_source_length=8),
        TrainConfig(
            num_epochs=120, batch_size=6, learning_rate=1e-2, warmup_ratio=0.0, device="cpu"
        ),
    )
    return model.fit(PAIRS, val_size=0, progress=False)


# --- the network --------------------------------------------------------------------


@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
def test_causal_masking_a_later_target_token_leaves_earlier_logits_unchanged(positions):
    network, batch = make_network(replace(CONFIG, positions=positions)), make_batch()
    before = forward(network, batch).logits
    for position in (1, 4, 7):
        changed = dict(batch)
        changed["decoder_input_ids"] = batch["decoder_input_ids"].clone()
        changed["decoder_input_ids"][0, position] = (
            batch["decoder_input_ids"][0, position] + 1
        ) % 25 + 4
        after = forward(network, changed).logits
        torch.testing.assert_close(after[0, :position], before[0, :position], rtol=0, atol=0)
        assert not torch.allclose(after[0, position:], before[0, position:])
        torch.testing.assert_close(after[1:], before[1:])  # other rows untouched


def test_a_changed_source_token_changes_every_target_position():
    network, batch = make_network(), make_batch()
    before = forward(network, batch).logits
    changed = dict(batch)
    changed["input_ids"] = batch["input_ids"].clone()
    changed["input_ids"][0, 3] = (batch["input_ids"][0, 3] + 1) % 36 + 4
    after = forward(network, changed).logits
    assert not torch.isclose(after[0], before[0]).all(dim=-1).any()


@pytest.mark.parametrize(("with_presence", "positions"), [(False, "learned"), (True, "sinusoidal")])
def test_sdpa_path_equals_the_weights_path(with_presence, positions):
    network, batch = make_network(replace(CONFIG, positions=positions)), make_batch()
    extra = {}
    if with_presence:
        extra["presence"] = torch.rand(
            batch["input_ids"].shape, generator=torch.Generator().manual_seed(3)
        )
    fast = forward(network, batch, **extra)
    slow = forward(network, batch, output_attentions=True, **extra)
    assert fast.cross_attentions is None and fast.decoder_attentions is None
    torch.testing.assert_close(slow.logits, fast.logits, rtol=1e-5, atol=1e-5)
    B, S = batch["input_ids"].shape
    T = batch["decoder_input_ids"].shape[1]
    assert len(slow.cross_attentions) == len(slow.decoder_attentions) == 2
    for cross, own in zip(slow.cross_attentions, slow.decoder_attentions, strict=True):
        assert cross.shape == (B, 4, T, S) and own.shape == (B, 4, T, T)
        torch.testing.assert_close(cross.sum(-1), torch.ones(B, 4, T))
        source_pad = ~batch["attention_mask"][:, None, None, :].expand_as(cross)
        assert (cross[source_pad] == 0).all()
        assert (own.triu(diagonal=1) == 0).all()  # no position reads a later one


def test_attend_causal_float_bias_matches_bool_mask_at_full_presence():
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 2, 5, 4, generator=generator) for _ in range(3))
    mask = torch.ones(2, 1, 1, 5, dtype=torch.bool)
    bias = torch.zeros(2, 1, 1, 5)
    for output_attentions in (False, True):
        with_mask, _ = attend(q, k, v, mask, causal=True, output_attentions=output_attentions)
        with_bias, _ = attend(q, k, v, bias, causal=True, output_attentions=output_attentions)
        torch.testing.assert_close(with_mask, with_bias)
    # the first query reads only the first key
    torch.testing.assert_close(with_mask[:, :, 0], v[:, :, 0])


def test_labels_give_the_mean_loss_over_real_tokens_only():
    network, batch = make_network(), make_batch()
    out = forward(network, batch, labels=batch["labels"])
    real = batch["labels"] != IGNORE_INDEX
    picked = out.logits.log_softmax(-1).gather(-1, batch["labels"].clamp(min=0)[..., None])
    torch.testing.assert_close(out.loss, -picked.squeeze(-1)[real].mean())
    assert int(real.sum()) == 8 + 2 + 5 + 3  # each target's words plus its [EOS]


def test_longer_than_the_model_is_refused_by_the_network():
    network = make_network()
    with pytest.raises(ValueError, match="max_source_length=12"):
        network(torch.full((1, 13), 5), decoder_input_ids=torch.full((1, 2), 5))


# --- decoding -------------------------------------------------------------------------


def test_greedy_decoding_equals_beam_size_one():
    network, batch = make_network(), make_batch()
    greedy = greedy_decode(network, batch["input_ids"], batch["attention_mask"], 10)
    reasons = set()
    for row, expected in enumerate(greedy):
        mask = batch["attention_mask"][row : row + 1]
        ids = batch["input_ids"][row : row + 1, : int(mask.sum())]
        found = beam_search(network, ids, torch.ones_like(ids, dtype=torch.bool), 10, beam_size=1)
        assert found.ids == expected.ids and found.stop_reason == expected.stop_reason
        assert found.score == pytest.approx(expected.score, abs=1e-4)
        reasons.add(found.stop_reason)
    assert greedy[0].ids  # not a trivially empty output


def test_beam_search_never_scores_below_greedy(translator):
    # With no length normalisation, a wider beam finds a target at least as probable.
    texts = [s for s, _ in PAIRS] + ["the fish eats a cat"]
    greedy = translator.translate(texts)
    wide = translator.translate(texts, beam_size=4, length_penalty=0.0)
    for g, w in zip(greedy, wide, strict=True):
        if g.stop_reason == w.stop_reason == "eos":
            assert w.score >= g.score - 1e-6


def test_a_tiny_model_learns_a_few_pairs(translator):
    translations = translator.translate([s for s, _ in PAIRS])
    assert [t.text for t in translations] == [t for _, t in PAIRS]
    assert all(t.stop_reason == "eos" and not t.notes for t in translations)
    scores = translator.evaluate(PAIRS, beam_size=3)
    assert scores["exact_match"] == 1.0 and scores["bleu"] == pytest.approx(100.0)
    assert scores["chrf"] == pytest.approx(100.0) and scores["n"] == len(PAIRS)


def test_teacher_forced_accuracy_is_greedy_exact_match(translator):
    wrong = [(s, t.replace("miru", "taberu")) for s, t in PAIRS]  # three of six now differ
    source = translator.source_tokenizer_.encode_ids([s for s, _ in wrong])
    target = translator.target_tokenizer_.encode_ids([t for _, t in wrong])
    data = PairDataset(source, target, translator.network_.config.eos_token_id)
    loader = make_pair_loader(data, 4, 0, shuffle=False)
    metrics = Seq2SeqTask().evaluate(translator.network_, loader, torch.device("cpu"), Ranks())
    assert metrics["accuracy"] == translator.evaluate(wrong)["exact_match"] == 0.5


def test_forced_inputs_reproduce_the_translation_in_one_pass(translator):
    for text, max_length in [("the cat sees a dog", None), ("a dog sees the cat", 3)]:
        [result] = translator.translate([text], max_length=max_length)
        inputs = translator.forced_inputs(result)
        with torch.no_grad():
            out = translator.network_(
                inputs["input_ids"], decoder_input_ids=inputs["decoder_input_ids"]
            )
        assert out.logits.argmax(-1).tolist() == inputs["labels"].tolist()
        picked = out.logits.log_softmax(-1).gather(-1, inputs["labels"][..., None])
        # the start and padding tokens are never generated: their logits do not count
        assert float(picked.sum()) <= result.score + 1e-4


def test_fit_takes_two_lists_and_a_validation_tuple():
    sources, targets = [s for s, _ in PAIRS], [t for _, t in PAIRS]
    model = Translator(
        Seq2SeqConfig(**SEQ2SEQ_PRESETS["tiny"]),
        TrainConfig(num_epochs=2, batch_size=4, device="cpu"),
    ).fit(sources, targets, validation=(sources[:2], targets[:2]), progress=False)
    assert len(model.history_.epochs) == 2
    assert {"val_loss", "val_accuracy", "val_token_accuracy"} <= set(model.history_.epochs[0])


def test_the_stop_button_ends_training_with_the_best_weights_kept():
    import threading

    from workbench.train import Callback

    stop = threading.Event()

    class StopAfterTwoEpochs(Callback):
        def on_epoch_end(self, state):
            if state.epoch == 1:
                stop.set()

    model = Translator(
        Seq2SeqConfig(**SEQ2SEQ_PRESETS["tiny"]),
        TrainConfig(num_epochs=50, batch_size=4, device="cpu", patience=50),
    ).fit(
        PAIRS,
        validation=PAIRS[:2],
        callbacks=[StopAfterTwoEpochs()],
        stop_event=stop,
        progress=False,
    )
    assert model.history_.interrupted and len(model.history_.epochs) == 2
    assert model.history_.best_epoch in (1, 2)


# --- artifacts --------------------------------------------------------------------------


def test_save_and_load_round_trip_without_pickle(translator, tmp_path):
    translator.save(tmp_path / "model")
    files = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert files == [
        "config.json",
        "metrics.json",
        "model.safetensors",
        "source_tokenizer.json",
        "target_tokenizer.json",
    ]
    for name in files:  # no pickle: JSON and safetensors only
        assert b"\x80\x04\x95" not in (tmp_path / "model" / name).read_bytes()
    assert load_file(tmp_path / "model" / "model.safetensors")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["model_type"] == "seq2seq-translator"
    loaded = load_model(tmp_path / "model")
    assert isinstance(loaded, Translator)
    texts = [s for s, _ in PAIRS] + ["a dog eats the zebra"]
    for mine, theirs in zip(
        translator.translate(texts, beam_size=2), loaded.translate(texts, beam_size=2), strict=True
    ):
        assert mine == theirs


def test_fixed_positions_are_not_saved_and_come_back_on_load(tmp_path):
    model = Translator(
        Seq2SeqConfig(**SEQ2SEQ_PRESETS["tiny"], positions="sinusoidal"),
        TrainConfig(num_epochs=2, batch_size=4, device="cpu"),
    ).fit(PAIRS, val_size=0, progress=False)
    path = model.save(tmp_path / "model")
    assert not any("position" in name for name in load_file(path / "model.safetensors"))
    texts = [s for s, _ in PAIRS]
    assert Translator.load(path).translate(texts) == model.translate(texts)


def test_a_translator_artifact_is_not_a_classifier(translator, tmp_path):
    from workbench.classifier import TextClassifier

    translator.save(tmp_path / "model")
    with pytest.raises(InputError, match="seq2seq-translator"):
        TextClassifier.load(tmp_path / "model")


def test_weights_that_do_not_fit_the_config_are_refused(translator, tmp_path):
    path = translator.save(tmp_path / "model")
    config = json.loads((path / "config.json").read_text())
    config["model"]["d_ff"] = 128
    (Path(path) / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="does not match config.json"):
        Translator.load(path)


# --- bad input --------------------------------------------------------------------------


def test_unknown_source_words_are_read_as_unk_and_noted(translator):
    [result] = translator.translate(["the zebra sees a dog"])
    assert result.stop_reason == "eos" and result.tokens
    assert any("never seen in training" in note and "'zebra'" in note for note in result.notes)
    assert result.source_ids[2] == translator.source_tokenizer_.unk_id


def test_an_empty_source_gets_an_empty_translation_and_a_note(translator):
    for text in ("", "   "):
        [result] = translator.translate([text])
        assert result.tokens == () and result.stop_reason == "empty_source"
        assert "empty source" in result.notes[0]


def test_a_source_longer_than_the_model_is_cut_with_a_note(translator):
    long = "the cat sees a dog and the bird eats fish"  # 10 words; the model reads 7
    [result] = translator.translate([long])
    assert len(result.source_ids) == 8 and len(result.source_words) == 10
    assert any("reads at most 7" in note and "'bird'" in note for note in result.notes)


def test_no_end_of_sequence_stops_at_max_length_and_says_so(translator):
    [result] = translator.translate(["the cat sees a dog"], max_length=2)
    assert result.stop_reason == "max_length" and len(result.tokens) == 2
    assert any("no end-of-sequence within 2 tokens" in note for note in result.notes)
    [beam] = translator.translate(["the cat sees a dog"], max_length=2, beam_size=3)
    assert beam.stop_reason == "max_length" and len(beam.tokens) == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.translate("the cat"), "not one string"),
        (lambda m: m.translate(["the cat"], max_length=99), "max_target_length"),
        (lambda m: m.translate(["the cat"], max_length=0), "max_length"),
        (lambda m: m.translate(["the cat"], beam_size=0), "beam_size"),
        (lambda m: m.evaluate(["a", "b"], ["x"]), "2 sources but 1 targets"),
        (lambda m: m.evaluate([("a", "x", "y")]), "item 0"),
    ],
)
def test_bad_arguments_are_input_errors(translator, call, message):
    with pytest.raises(InputError, match=message):
        call(translator)


def test_an_unfitted_translator_says_so():
    with pytest.raises(InputError, match="not fitted"):
        Translator().translate(["the cat"])


def test_macro_f1_cannot_pick_a_translators_best_weights():
    with pytest.raises(InputError, match="exact match"):
        Translator(train_config=TrainConfig(monitor="macro_f1")).fit(PAIRS, progress=False)


# --- settings ---------------------------------------------------------------------------


def test_seq2seq_config_round_trips_and_checks_its_values():
    assert Seq2SeqConfig.from_dict(json.loads(json.dumps(CONFIG.to_dict()))) == CONFIG
    with pytest.raises(InputError, match="divisible by num_heads"):
        Seq2SeqConfig(d_model=30, num_heads=4)
    with pytest.raises(InputError, match="eos_token_id"):
        Seq2SeqConfig(target_vocab_size=10, eos_token_id=10)
    with pytest.raises(InputError, match="num_decoder_layers"):
        Seq2SeqConfig(num_decoder_layers=0)
    for preset in SEQ2SEQ_PRESETS.values():
        Seq2SeqConfig(**preset)
    defaults = Seq2SeqConfig().to_dict()
    assert {k: defaults[k] for k in SEQ2SEQ_PRESETS["synthetic"]} == SEQ2SEQ_PRESETS["synthetic"]
