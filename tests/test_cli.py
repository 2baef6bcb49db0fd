"""Tests for workbench.cli: help, train / evaluate / predict, and one-line errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import workbench
from workbench import TextClassifier
from workbench.cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]
TINY_MODEL = ["--d-model", "32", "--layers", "1", "--heads", "2", "--max-length", "32"]


def write_csv(path: Path, texts, labels=None, text_col="text", label_col="label") -> Path:
    columns = {text_col: texts}
    if labels is not None:
        columns[label_col] = labels
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def assert_one_line_error(capsys, *fragments: str) -> str:
    """stderr is exactly one ``workbench: error:`` line, without a traceback."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("workbench: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def labelled_csv(heldout, tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("cli") / "test.csv", *heldout)


# ------------------------------------------------------------------ help and usage
def test_python_m_workbench_help_runs_in_a_subprocess():
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for command in ("train", "evaluate", "predict"):
        assert command in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("command", "options"),
    [
        (
            "train",
            ["--data", "--val", "--out", "--epochs", "--max-steps", "--d-model", "--quiet"],
        ),
        ("evaluate", ["--model", "--data", "--label-col", "--json", "--device"]),
        ("predict", ["--model", "--data", "--text-col", "TEXT"]),
    ],
)
def test_subcommand_help_exits_zero_and_lists_options(capsys, command, options):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: workbench {command}" in out
    for option in options:
        assert option in out


def test_version_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"workbench {workbench.__version__}"


@pytest.mark.parametrize(
    "argv",
    [["train", "--data", "x.csv", "--bogus"], ["predict"], [], ["fly"], ["train", "--epochs"]],
    ids=["unknown-option", "missing-required", "no-command", "unknown-command", "no-value"],
)
def test_argparse_misuse_exits_with_code_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: workbench" in capsys.readouterr().err


# ------------------------------------------------------------------ train
def test_train_writes_the_artifact_and_prints_epochs(corpus, tmp_path, capsys):
    data = write_csv(tmp_path / "train.csv", *corpus)
    out = tmp_path / "runs" / "model"

    code = main(
        ["train", "--data", str(data), "--out", str(out), "--epochs", "2", *TINY_MODEL, "--quiet"]
    )

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "metrics.json",
        "model.safetensors",
        "tokenizer.json",
    ]
    epoch_lines = [line for line in captured.out.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) == 2
    for number, line in enumerate(epoch_lines, start=1):
        assert re.match(
            rf"epoch {number}: train_loss=\d+\.\d{{4}}  val_loss=\d+\.\d{{4}}  "
            r"val_accuracy=\d\.\d{4}  val_macro_f1=\d\.\d{4}$",
            line,
        ), line
    assert f"artifact written to {out}" in captured.out
    assert "Traceback" not in captured.err

    loaded = TextClassifier.load(out)
    assert loaded.classes_.tolist() == ["negative", "positive"]
    assert loaded.model_.config.d_model == 32
    assert loaded.model_.config.num_layers == 1
    assert loaded.model_.config.num_heads == 2
    assert loaded.model_.config.max_length == 32
    assert len(loaded.history_.epochs) == 2
    assert f"trained {loaded.history_.steps} steps" in captured.out


def test_train_with_validation_file_and_integer_labels(make_corpus, tmp_path, capsys):
    train = write_csv(tmp_path / "train.csv", *make_corpus(48, seed=6, labels=(1, 0)))
    val = write_csv(tmp_path / "val.csv", *make_corpus(16, seed=7, labels=(1, 0)))
    out = tmp_path / "model"

    argv = ["train", "--data", str(train), "--val", str(val), "--out", str(out)]
    code = main([*argv, "--epochs", "1", "--max-steps", "1", *TINY_MODEL, "--quiet"])

    assert code == 0, capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert config["labels"] == [0, 1]
    assert config["training"]["max_steps"] == 1
    assert TextClassifier.load(out).history_.steps == 1


# ------------------------------------------------------------------ evaluate
def test_evaluate_prints_and_writes_json(artifact_dir, labelled_csv, heldout, tmp_path, capsys):
    report = tmp_path / "reports" / "metrics.json"

    code = main(
        [
            "evaluate",
            "--model",
            str(artifact_dir),
            "--data",
            str(labelled_csv),
            "--json",
            str(report),
        ]
    )

    captured = capsys.readouterr()
    assert code == 0, captured.err
    metrics = json.loads(report.read_text())
    texts, labels = heldout
    predicted = TextClassifier.load(artifact_dir).predict(texts)
    expected_accuracy = float(np.mean(predicted == np.array(labels)))
    assert metrics["n"] == len(texts)
    assert metrics["accuracy"] == pytest.approx(expected_accuracy)
    assert 0.0 <= metrics["macro_f1"] <= 1.0
    assert metrics["labels"] == ["negative", "positive"]
    assert "accuracy" in captured.out and "macro-F1" in captured.out


# ------------------------------------------------------------------ predict
def parse_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.strip().splitlines()]


def check_records(records, texts, trained_clf):
    assert [r["text"] for r in records] == list(texts)
    expected = trained_clf.predict(list(texts)).tolist()
    assert [r["label"] for r in records] == expected
    for record in records:
        probabilities = record["probabilities"]
        assert set(probabilities) == {"negative", "positive"}
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert record["label"] == max(probabilities, key=probabilities.get)


def test_predict_text_arguments(artifact_dir, trained_clf, capsys):
    texts = ["a great and lovely movie", "awful food", "the staff was excellent"]
    code = main(["predict", "--model", str(artifact_dir), *texts])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    check_records(parse_lines(captured.out), texts, trained_clf)


def test_predict_data_file(artifact_dir, trained_clf, heldout, tmp_path, capsys):
    texts = heldout[0][:7]
    data = write_csv(tmp_path / "unlabelled.csv", texts, text_col="review")

    code = main(
        ["predict", "--model", str(artifact_dir), "--data", str(data), "--text-col", "review"]
    )

    captured = capsys.readouterr()
    assert code == 0, captured.err
    records = parse_lines(captured.out)
    assert len(records) == 7
    check_records(records, texts, trained_clf)


def test_predict_in_bfloat16_gives_the_same_labels(artifact_dir, trained_clf, capsys):
    texts = ["a great and lovely movie", "awful food", "the staff was excellent"]
    code = main(["predict", "--model", str(artifact_dir), "--precision", "bfloat16", *texts])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    records = parse_lines(captured.out)
    assert [r["label"] for r in records] == trained_clf.predict(texts).tolist()
    for record, row in zip(records, trained_clf.predict_proba(texts), strict=True):
        got = [record["probabilities"][str(label)] for label in trained_clf.classes_]
        np.testing.assert_allclose(got, row, atol=0.02)


# ------------------------------------------------------------------ bad input
def test_train_missing_data_file(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    code = main(["train", "--data", str(missing), "--out", str(tmp_path / "m"), "--quiet"])
    assert code == 2
    assert_one_line_error(capsys, str(missing), "not found")
    assert not (tmp_path / "m").exists()


def test_train_missing_column_lists_the_columns(corpus, tmp_path, capsys):
    data = write_csv(tmp_path / "train.csv", *corpus, text_col="review", label_col="stars")
    code = main(["train", "--data", str(data), "--out", str(tmp_path / "m"), "--quiet"])
    assert code == 2
    assert_one_line_error(capsys, "no text column 'text'", "'review'", "'stars'", "--text-col")


def test_train_bad_model_settings(corpus, tmp_path, capsys):
    data = write_csv(tmp_path / "train.csv", *corpus)
    argv = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--quiet"]
    code = main([*argv, "--d-model", "32", "--heads", "3"])
    assert code == 2
    assert_one_line_error(capsys, "divisible by num_heads")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
def test_train_on_missing_cuda(corpus, tmp_path, capsys):
    data = write_csv(tmp_path / "train.csv", *corpus)
    argv = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--quiet"]
    code = main([*argv, "--device", "cuda", *TINY_MODEL])
    assert code == 2
    assert_one_line_error(capsys, "CUDA")


def test_evaluate_missing_model_dir(labelled_csv, tmp_path, capsys):
    missing = tmp_path / "no-model"
    code = main(["evaluate", "--model", str(missing), "--data", str(labelled_csv)])
    assert code == 2
    assert_one_line_error(capsys, str(missing), "--model")


def test_evaluate_labels_unknown_to_the_model(artifact_dir, tmp_path, capsys):
    data = write_csv(
        tmp_path / "odd.csv", ["great food", "so so", "awful"], ["positive", "meh", "negative"]
    )
    report = tmp_path / "metrics.json"
    code = main(
        ["evaluate", "--model", str(artifact_dir), "--data", str(data), "--json", str(report)]
    )
    assert code == 2
    assert_one_line_error(capsys, "'meh'", "unknown to the model", "positive")
    assert not report.exists()


def test_predict_without_texts(artifact_dir, capsys):
    code = main(["predict", "--model", str(artifact_dir)])
    assert code == 2
    assert_one_line_error(capsys, "nothing to predict")


def test_predict_missing_model_dir(tmp_path, capsys):
    code = main(["predict", "--model", str(tmp_path / "gone"), "good"])
    assert code == 2
    assert_one_line_error(capsys, "artifact directory not found")


def test_predict_corrupt_artifact(artifact_dir, tmp_path, capsys):
    broken = shutil.copytree(artifact_dir, tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"truncated")
    code = main(["predict", "--model", str(broken), "good"])
    assert code == 2
    assert_one_line_error(capsys, "model.safetensors")


# ------------------------------------------------------------------ distillation


@pytest.fixture(scope="module")
def teacher_dir(corpus, tmp_path_factory) -> Path:
    teacher = workbench.TfidfLogisticRegression().fit(*corpus)
    return teacher.save(tmp_path_factory.mktemp("teacher") / "tfidf")


def test_train_distils_from_a_teacher_and_caches_its_probabilities(
    corpus, teacher_dir, tmp_path, capsys
):
    data = write_csv(tmp_path / "train.csv", *corpus)
    cache = tmp_path / "cache"
    argv = ["train", "--data", str(data), "--teacher", str(teacher_dir), "--augment", "2",
            "--cache-dir", str(cache), "--epochs", "1", *TINY_MODEL, "--quiet"]  # fmt: skip
    assert main([*argv, "--out", str(tmp_path / "student")]) == 0, capsys.readouterr().err
    student = TextClassifier.load(tmp_path / "student")
    assert student.classes_.tolist() == ["negative", "positive"]
    (cached,) = cache.iterdir()
    stamp = cached.stat().st_mtime_ns
    assert main([*argv, "--out", str(tmp_path / "again")]) == 0
    assert [p.name for p in cache.iterdir()] == [cached.name]  # read, not asked again
    assert cached.stat().st_mtime_ns == stamp


def test_train_refuses_a_teacher_with_other_labels(corpus, tmp_path, capsys):
    texts, labels = corpus
    teacher = workbench.TfidfLogisticRegression().fit(texts, [y[:3] for y in labels])
    teacher_path = teacher.save(tmp_path / "teacher")
    data = write_csv(tmp_path / "train.csv", texts, labels)
    out = tmp_path / "student"
    code = main(["train", "--data", str(data), "--teacher", str(teacher_path),
                 "--out", str(out), *TINY_MODEL, "--quiet"])  # fmt: skip
    assert code == 2
    assert_one_line_error(capsys, "['neg', 'pos']", "['negative', 'positive']")
    assert not out.exists()
