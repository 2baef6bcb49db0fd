"""``workbench train-seq2seq`` and ``workbench translate`` end to end, on a tiny translator
trained here in about a second, and each bad input of issue 13: words never seen in
training, an empty source, a source longer than the model reads, a translation that never
ends (bounded by --max-length, said in the result), parallel files of different lengths
(the file and line named). Commands run in this process through ``main``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.cli import translate as translate_cli
from workbench.data.parallel import make_synthetic_corpus
from workbench.seq2seq import Translator

TINY = ["--preset", "tiny", "--num-epochs", "1", "--batch-size", "32", "--device", "cpu"]
SENTENCE = "the cat sees a dog"


def run(argv: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seq2seq") / "translator"
    argv = ["train-seq2seq", "--synthetic", "--n-train", 300, *TINY, "--out", out, "--quiet"]
    assert main([str(a) for a in argv]) == 0
    return out


def test_train_seq2seq_saves_the_settings_of_its_flags(model_dir):
    translator = Translator.load(model_dir)
    assert translator.network_.config.d_model == 32  # the tiny preset
    assert translator.train_config.num_epochs == 1
    assert len(translator.history_.epochs) == 1
    assert (model_dir / "model.safetensors").is_file()


def test_train_seq2seq_prints_each_split(tmp_path, capsys):
    code, out, err = run(
        ["train-seq2seq", "--synthetic", "--n-train", 200, *TINY, "--out", tmp_path / "m"],
        capsys,
    )
    assert code == 0, err
    assert "epoch 1: train_loss=" in out
    for split in ("validation", "long"):
        assert re.search(rf"^{split}: exact match \d\.\d{{3}}  BLEU [\d.]+  chrF [\d.]+", out, re.M)
    assert f"artifact written to {tmp_path / 'm'}" in out


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_train_seq2seq_from_parallel_files(tmp_path, capsys):
    corpus = make_synthetic_corpus(n_train=120, n_valid=20, n_test=0, n_long=0)
    files = {}
    for name, pairs in (("train", corpus.train), ("valid", corpus.valid)):
        files[name] = (
            write_lines(tmp_path / f"{name}.src", [p.source for p in pairs]),
            write_lines(tmp_path / f"{name}.tgt", [p.target for p in pairs]),
        )
    code, out, err = run(
        ["train-seq2seq", "--source", files["train"][0], "--target", files["train"][1],
         "--val-source", files["valid"][0], "--val-target", files["valid"][1],
         *TINY, "--out", tmp_path / "m", "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "120 training pairs" in out
    assert re.search(r"^validation: exact match .*\(20 pairs", out, re.M)
    assert Translator.load(tmp_path / "m").source_tokenizer_.vocab_size > 5


def test_mismatched_parallel_files_name_the_file_and_line(tmp_path, capsys):
    source = write_lines(tmp_path / "a.src", ["the cat sees a dog", "a dog runs", "cats sleep"])
    target = write_lines(tmp_path / "a.tgt", ["x y z", "y z"])
    code, out, err = run(
        ["train-seq2seq", "--source", source, "--target", target, "--out", tmp_path / "m"],
        capsys,
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("workbench: error:")
    assert str(target) in err and "line 3" in err and str(source) in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--synthetic", "--source", "a.txt"], "either --synthetic or --source"),
        ([], "either --synthetic or --source"),
        (["--source", "a.txt"], "give both --source FILE and --target FILE"),
        (["--synthetic", "--val-source", "v.txt"], "--val-source and --val-target together"),
    ],
)
def test_train_seq2seq_data_flags_are_checked_first(argv, message, tmp_path, capsys):
    code, _, err = run(["train-seq2seq", *argv, "--out", tmp_path / "m"], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_ctrl_c_after_an_epoch_saves_the_best_weights(tmp_path, capsys, monkeypatch):
    from workbench.cli import train_seq2seq
    from workbench.train import Callback

    class CtrlC(Callback):
        def on_epoch_end(self, state) -> None:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_seq2seq, "_print_epochs", CtrlC)
    argv = ["train-seq2seq", "--synthetic", "--n-train", 200, *TINY, "--num-epochs", 3]
    code, out, err = run([*argv, "--out", tmp_path / "m", "--quiet"], capsys)
    assert code == 130, err
    assert "interrupted after 1 epoch(s); the best weights (epoch 1) were saved" in err
    assert "validation: exact match" not in out  # no scoring after Ctrl-C
    assert Translator.load(tmp_path / "m").history_.interrupted


def test_translate_prints_translation_and_top_words_and_writes_json_html(
    model_dir, tmp_path, capsys
):
    json_out, html_out = tmp_path / "t.json", tmp_path / "t.html"
    code, out, err = run(
        ["translate", "--model", model_dir, *SENTENCE.split(), "--method", "occlusion",
         "--json", json_out, "--html", html_out, "--top", 1],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    expected = Translator.load(model_dir).translate([SENTENCE])[0]
    assert f"translation: {expected.text}\n" in out
    assert f"stop reason: {expected.stop_reason} (" in out
    payload = json.loads(json_out.read_text(encoding="utf-8"))
    assert payload["translation"]["text"] == expected.text
    explanation = payload["explanation"]
    assert explanation["target"] == list(expected.tokens)
    assert [w["text"] for w in explanation["source"]] == SENTENCE.split()
    matrix = explanation["matrices"]["occlusion"]
    assert len(matrix) == len(expected.tokens) and all(len(r) == 5 for r in matrix)
    # one printed line per target token: its best source word by occlusion
    after = out.split("occlusion: per target word")[1].splitlines()[1:]
    lines = [line for line in after if line.startswith("  ")]
    assert len(lines) == len(expected.tokens)
    for line, row in zip(lines, matrix, strict=False):
        best = max(range(5), key=lambda i: row[i])
        assert f"<- {SENTENCE.split()[best]} " in line
    page = html_out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page


def test_translate_beam_and_shifted_attention(model_dir, capsys):
    code, out, err = run(
        ["translate", "--model", model_dir, SENTENCE, "--beam-size", 3,
         "--method", "attention-shifted"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    expected = Translator.load(model_dir).translate([SENTENCE], beam_size=3)[0]
    assert f"translation: {expected.text}\n" in out and "beam size 3" in out
    assert "attention-shifted: per target word" in out


def test_unknown_words_get_a_note(model_dir, capsys):
    code, out, err = run(["translate", "--model", model_dir, "the zyzzyva sees a dog"], capsys)
    assert code == 0, err
    assert re.search(r"note: 1 source word\(s\) never seen in training.*'zyzzyva'", out)


def test_a_source_longer_than_the_model_reads_is_cut_with_a_note(model_dir, capsys):
    long_source = " ".join(["the cat sees a dog and"] * 12)  # 72 words; the model reads 63
    code, out, err = run(["translate", "--model", model_dir, long_source], capsys)
    assert code == 0, err
    assert "note: the source has 72 words but the model reads at most 63" in out


def test_a_translation_without_end_of_sequence_stops_at_max_length(model_dir, capsys):
    code, out, err = run(["translate", "--model", model_dir, SENTENCE, "--max-length", 2], capsys)
    assert code == 0, err
    assert "stop reason: max_length (cut at the length limit" in out
    assert "no end-of-sequence within 2 tokens (max_length)" in out
    assert len(out.split("translation: ")[1].splitlines()[0].split()) == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["   "], "TEXT is empty"),
        ([SENTENCE, "--max-length", 1000], "max_length=1000 is more than this model"),
        ([SENTENCE, "--beam-size", 0], "beam_size"),
        ([SENTENCE, "--top", 0], "--top must be 1 or more"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(model_dir, argv, message, capsys):
    code, _, err = run(["translate", "--model", model_dir, *argv], capsys)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1


def test_method_names_agree_with_the_explainers():
    from workbench.explain.generation import ATTENTION_READINGS, GENERATION_METHODS

    assert translate_cli.GENERATION_METHOD_NAMES == GENERATION_METHODS
    assert set(ATTENTION_READINGS) <= set(translate_cli.METHOD_CHOICES)


def test_a_classifier_is_not_a_translator(tmp_path, capsys):
    from workbench.baselines import TfidfLogisticRegression

    texts, labels = ["good film", "bad film", "great fun", "awful mess"], ["pos", "neg"] * 2
    TfidfLogisticRegression().fit(texts, labels).save(tmp_path / "clf")
    code, _, err = run(["translate", "--model", tmp_path / "clf", SENTENCE], capsys)
    assert code == 2 and "not a sequence-to-sequence model" in err
    assert "workbench train-seq2seq" in err and len(err.strip().splitlines()) == 1
