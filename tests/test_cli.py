"""Tests for workbench.cli: help, train / evaluate / predict, and one-line errors."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pty
import re
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import workbench
import workbench.explain
from workbench import TextClassifier
from workbench.cli import _classifier, build_parser, main
from workbench.config import ModelConfig, TokenizerConfig, TrainConfig
from workbench.errors import InputError

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


# ------------------------------------------------- train flags from the config fields
def unfitted_model(*options: str):
    """The model ``workbench train --data x.csv OPTIONS`` would fit."""
    return _classifier(build_parser().parse_args(["train", "--data", "x.csv", *options]))


def configs(clf: TextClassifier) -> tuple:
    return clf.model_config, clf.train_config, clf.tokenizer_config


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            ["--layers", "1", "--heads", "2", "--epochs", "1"],
            ["--num-layers", "1", "--num-heads", "2", "--num-epochs", "1"],
        ),
        (
            ["--layer", "3", "--head", "1", "--epoch", "4"],
            ["--num-layers", "3", "--num-heads", "1", "--num-epochs", "4"],
        ),
    ],
    ids=["short-names", "abbreviated-short-names"],
)
def test_train_flags_old_spellings_and_field_names_give_the_same_configs(old, new):
    assert configs(unfitted_model(*old)) == configs(unfitted_model(*new))
    model_config, train_config, _ = configs(unfitted_model(*new))
    assert (model_config.num_layers, model_config.num_heads) == (int(new[1]), int(new[3]))
    assert train_config.num_epochs == int(new[5])


def test_train_flags_not_given_leave_the_config_defaults():
    assert configs(unfitted_model()) == (ModelConfig(), TrainConfig(), TokenizerConfig())
    model_config, train_config, _ = configs(unfitted_model("--dropout", "0.3"))
    assert model_config == ModelConfig(dropout=0.3)
    assert train_config == TrainConfig()


def test_every_train_flag_sets_the_config_field_it_is_named_after():
    values = {
        "--num-epochs": 3, "--batch-size": 5, "--learning-rate": 0.01, "--max-length": 40,
        "--weight-decay": 0.1, "--label-smoothing": 0.2, "--max-steps": 9, "--d-model": 32,
        "--num-layers": 3, "--num-heads": 2, "--dropout": 0.2, "--min-frequency": 3,
        "--seed": 7, "--device": "cpu",
    }  # fmt: skip
    clf = unfitted_model(*[str(item) for pair in values.items() for item in pair])
    settings = {}
    for config in configs(clf):
        settings.update(config.to_dict())
    for flag, value in values.items():
        assert settings[flag.removeprefix("--").replace("-", "_")] == value, flag
    assert clf.model_config.d_ff == 64  # the MLP stays twice --d-model wide


def test_train_help_lists_field_names_and_old_spellings_with_the_fields_help(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")  # one line per option, so phrases are not wrapped
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for new, old in [("--num-epochs", "--epochs"), ("--num-layers", "--layers"),
                     ("--num-heads", "--heads")]:  # fmt: skip
        assert re.search(rf"{new} INT, {old} INT\s", out), (new, old)
    assert "maximum number of epochs (8; 3 with --encoder)" in out
    assert "examples per step (32; 16 with --encoder)" in out
    assert "peak learning rate (0.001; 0.0001 with --encoder)" in out
    assert "model width (128); not with --encoder" in out
    assert "stop after this many steps (a dry run); not with --encoder" in out
    assert "random seed (0)\n" in out


def test_train_with_encoder_takes_the_flags_given_and_its_recipe_for_the_rest():
    from workbench.pretrained import finetuned_encoder

    recipe = finetuned_encoder("minilm").get_params()
    assert unfitted_model("--encoder", "minilm").get_params() == recipe
    clf = unfitted_model("--encoder", "minilm", "--epochs", "1", "--batch-size", "4", "--seed", "3")
    assert clf.get_params() == {**recipe, "num_epochs": 1, "batch_size": 4, "seed": 3}


def test_train_flags_find_each_field_in_exactly_one_config():
    from dataclasses import fields

    from workbench.cli import _CONFIG_FIELDS

    kinds = (TokenizerConfig, ModelConfig, TrainConfig)
    assert len(_CONFIG_FIELDS) == sum(len(fields(kind)) for kind in kinds)


def test_train_with_encoder_refuses_the_transformer_flags_given():
    with pytest.raises(InputError, match="^--num-layers, --dropout do.*not apply to --encoder"):
        unfitted_model("--encoder", "minilm", "--layers", "2", "--dropout", "0.3")


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


# ------------------------------------------------------------------ hostile input (issue 14)
def run_and_signal(args, wait_for: str, stream: str, sig: int, tmp_path: Path):
    """Start ``python -m workbench ARGS``, send ``sig`` once ``wait_for`` appears on
    ``stream`` ("out" or "err"), and return the exit code, stdout and stderr.

    Standard error is a terminal (a pseudo-terminal), as for a user who presses Ctrl-C:
    the progress bars, which a few tests wait for, show only on a terminal."""
    err_terminal, err_child = pty.openpty()
    # 24 rows of 100 columns: a terminal of no size gets an empty bar.
    fcntl.ioctl(err_child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", *map(str, args)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=err_child,
        text=True,
        # Ctrl-C as a terminal delivers it: a runner started in the background (nohup, "&")
        # hands its children SIGINT ignored, and Python then never raises KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        # One thread, as in-process tests: spinning OpenMP threads crawl on shared cores.
        env={
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            "OMP_NUM_THREADS": "1",
        },
    )
    os.close(err_child)  # the child holds its own copy; its exit then ends the reads
    seen = {"out": [], "err": []}

    def pump_out():
        for char in iter(lambda: process.stdout.read(1), ""):
            seen["out"].append(char)

    def pump_err():
        while True:
            try:
                chunk = os.read(err_terminal, 1024)
            except OSError:  # EIO: the child has exited and closed the terminal
                break
            if not chunk:
                break
            seen["err"].append(chunk.decode("utf-8", errors="replace"))

    pumps = [threading.Thread(target=pump, daemon=True) for pump in (pump_out, pump_err)]
    for thread in pumps:
        thread.start()
    deadline = time.monotonic() + 180
    while wait_for not in "".join(seen[stream]):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{wait_for!r} never came: {''.join(seen['err'])[-2000:]}")
        time.sleep(0.02)
    process.send_signal(sig)
    code = process.wait(timeout=120)
    for thread in pumps:
        thread.join(timeout=10)
    os.close(err_terminal)
    return code, "".join(seen["out"]), "".join(seen["err"])


def slow_epochs_csv(folder: Path, make_corpus, n: int) -> Path:
    """``n`` texts to train on at batch size 1: about n milliseconds per epoch or more."""
    return write_csv(folder / "train.csv", *make_corpus(n, seed=3))


SLOW_TRAIN = [*TINY_MODEL, "--batch-size", "1", "--epochs", "50"]


def test_issue14_case1_ctrl_c_before_the_first_epoch_writes_nothing(
    artifact_dir, make_corpus, tmp_path_factory, tmp_path
):
    """Issue 14 case 1: Ctrl-C before the first epoch was validated replaced a good
    artifact with an untrained model and exited 0. Now: nothing written, exit 130."""
    out = tmp_path / "model"
    shutil.copytree(artifact_dir, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # Seconds per epoch: the signal, sent as the progress bar appears, lands in epoch 1.
    data = slow_epochs_csv(tmp_path_factory.mktemp("data"), make_corpus, 2000)

    code, _, err = run_and_signal(
        ["train", "--data", data, "--out", out, *SLOW_TRAIN],
        "training",  # the progress bar: the fit loop has started
        "err",
        signal.SIGINT,
        tmp_path,
    )

    assert code == 130, err
    assert "interrupted before the first epoch was validated; nothing written" in err
    assert "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary left


def test_issue14_case1_sigterm_after_an_epoch_saves_the_best_weights(
    make_corpus, tmp_path_factory, tmp_path
):
    """SIGTERM is handled like Ctrl-C: after a validated epoch the best weights so far are
    saved (a feature), the message says so, and the exit code is 128 + SIGTERM."""
    out = tmp_path / "model"
    # Early stopping needs two more epochs after the best: the signal lands before them.
    data = slow_epochs_csv(tmp_path_factory.mktemp("data"), make_corpus, 200)

    code, stdout, err = run_and_signal(
        ["train", "--data", data, "--out", out, *SLOW_TRAIN, "--quiet"],
        "epoch 1:",
        "out",
        signal.SIGTERM,
        tmp_path,
    )

    assert code == 128 + signal.SIGTERM, err
    assert f"artifact written to {out}" in stdout
    assert re.search(r"interrupted after \d+ epoch\(s\); the best weights \(epoch \d+\)", err)
    history = TextClassifier.load(out).history_
    assert history.interrupted and len(history.epochs) >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_issue14_case1_sigterm_during_explain_leaves_no_file(artifact_dir, heldout, tmp_path):
    """SIGTERM while a table is being explained: exit 143, no --jsonl, no temporary file."""
    data = write_csv(tmp_path / "texts.csv", heldout[0] * 4)
    out = tmp_path / "explanations.jsonl"

    code, _, err = run_and_signal(
        [
            "explain",
            "--model",
            artifact_dir,
            "--data",
            data,
            "--jsonl",
            out,
            "--method",
            "lime",
            "--num-samples",
            "500",
        ],  # fmt: skip
        "lime:",
        "err",
        signal.SIGTERM,
        tmp_path,
    )

    assert code == 128 + signal.SIGTERM, err
    assert "workbench: interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["texts.csv"]


@pytest.fixture
def blocked(tmp_path) -> Path:
    """A path whose parent is a regular file: unwritable even for root."""
    (tmp_path / "a-file").write_text("not a folder")
    return tmp_path / "a-file" / "out"


@pytest.mark.parametrize(
    "command",
    [
        ["evaluate", "--data", "{csv}", "--json", "{blocked}.json"],
        ["explain", "a great movie", "--json", "{blocked}.json"],
        ["explain", "a great movie", "--html", "{blocked}.html"],
        ["explain", "--data", "{csv}", "--jsonl", "{blocked}.jsonl"],
    ],
    ids=["evaluate-json", "explain-json", "explain-html", "explain-jsonl"],
)
def test_issue14_case7_unwritable_outputs_fail_before_the_work(
    artifact_dir, labelled_csv, blocked, capsys, command
):
    """Issue 14 case 7: an unwritable output surfaced as a traceback after the work."""
    argv = [part.format(csv=labelled_csv, blocked=blocked) for part in command]
    code = main([argv[0], "--model", str(artifact_dir), *argv[1:]])
    assert code == 2
    flag = next(part for part in argv if part.startswith("--") and part != "--data")
    assert_one_line_error(capsys, f"cannot write {flag} {blocked}", "is a file, not a directory")
    assert capsys.readouterr().out == ""  # nothing was scored or explained


def test_issue14_case7_train_and_compare_check_their_outputs_first(
    corpus, blocked, tmp_path, capsys
):
    data = write_csv(tmp_path / "train.csv", *corpus)
    assert main(["train", "--data", str(data), "--out", str(blocked), *TINY_MODEL]) == 2
    assert_one_line_error(capsys, str(blocked))
    for flag in ("--json", "--html"):
        argv = ["compare", "--data", str(data), "--models", "tfidf-logreg", flag, str(blocked)]
        assert main(argv) == 2
        assert_one_line_error(capsys, f"cannot write {flag} {blocked}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_issue14_case7_read_only_folder_is_named(artifact_dir, tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code = main(["explain", "--model", str(artifact_dir), "good", "--json", str(folder / "x")])
    finally:
        folder.chmod(0o700)
    assert code == 2
    assert_one_line_error(capsys, f"cannot write --json {folder / 'x'}", "not writable")


def test_issue14_case7_a_failed_write_is_one_line_and_leaves_no_temporary(
    artifact_dir, tmp_path, capsys, monkeypatch
):
    """A disk that fills up after the check: one line with the cause, nothing left behind."""

    def full_disk(self, path):
        Path(path).write_text("partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(workbench.explain.Explanation, "to_json", full_disk)
    out = tmp_path / "why.json"
    argv = ["explain", "--model", str(artifact_dir), "a great movie", "--json", str(out)]
    assert main([*argv, "--method", "gradient-x-input"]) == 2
    assert_one_line_error(capsys, f"cannot write --json {out}: No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_issue14_case11_a_failing_row_gets_an_error_record(artifact_dir, tmp_path, capsys):
    """Issue 14 case 11: one failing row discarded the whole batch. Now the others are
    written, the failing one gets {"row", "text", "error"}, and a warning says how many."""
    rows = [{"text": "a great movie"}, {"text": "bad\u0000 text"}, {"text": "awful food"}]
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "why.jsonl"
    argv = ["explain", "--model", str(artifact_dir), "--data", str(data), "--jsonl", str(out)]

    code = main([*argv, "--method", "gradient-x-input"])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["text"] for r in records] == [row["text"] for row in rows]
    assert records[1]["row"] == 2 and "control character U+0000" in records[1]["error"]
    assert records[0]["method"] == records[2]["method"] == "gradient-x-input"
    assert "2 gradient-x-input explanations written" in captured.out
    assert "workbench: warning: 1 of 3 texts could not be explained (data rows 2)" in captured.err

    out.unlink()
    data.write_text(json.dumps(rows[1]) + "\n", encoding="utf-8")
    assert main([*argv, "--method", "gradient-x-input"]) == 2
    err = capsys.readouterr().err  # the progress bar, then the error
    assert err.strip().splitlines()[-1].startswith("workbench: error: ") and "Traceback" not in err
    assert "none of the 1 texts could be explained; data row 1: " in err and "U+0000" in err
    assert not out.exists()


def test_issue14_case13_argument_that_is_not_utf8_exits_2(artifact_dir, capsys):
    """Issue 14 case 13: `predict $'bad \\xff'` gave a TypeError traceback. Python hands
    undecodable argv bytes over as lone surrogates, which is what this passes."""
    assert main(["predict", "--model", str(artifact_dir), "fine", "bad \udcff"]) == 2
    assert_one_line_error(capsys, "TEXT argument 2: text is not valid UTF-8 (byte 0xff")
    assert main(["explain", "--model", str(artifact_dir), "bad \udcff"]) == 2
    assert_one_line_error(capsys, "TEXT: text is not valid UTF-8")
    assert main(["predict", "--model", str(artifact_dir), "--text-col", "\udcff", "x"]) == 2
    assert_one_line_error(capsys, "--text-col: text is not valid UTF-8")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--method", "integrated-gradients", "--steps", "0"], "n_steps (CLI: --steps)"),
        (["--method", "lime", "--num-samples", "0"], "num_samples must be a whole number"),
        (["--max-evals", "1"], "max_evals must be a whole number of at least 3, got 1"),
    ],
)
def test_issue14_case14_bad_explanation_budgets_exit_2(artifact_dir, capsys, options, message):
    """Issue 14 case 14: --steps 0 and --num-samples 0 gave tracebacks; --max-evals 1 gave
    every word the same value."""
    assert main(["explain", "--model", str(artifact_dir), "a great movie", *options]) == 2
    assert_one_line_error(capsys, message)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--learning-rate", "nan"], "learning_rate must be positive and finite, got nan"),
        (["--max-length", "1"], "max_length must be at least 2, got 1"),  # case 16
    ],
)
def test_issue14_case14_bad_training_numbers_exit_2(corpus, tmp_path, capsys, options, message):
    data = write_csv(tmp_path / "train.csv", *corpus)
    argv = ["train", "--data", str(data), "--out", str(tmp_path / "m"), *TINY_MODEL[:-2]]
    assert main([*argv, *options]) == 2
    assert_one_line_error(capsys, message)
    assert not (tmp_path / "m").exists()


def test_issue14_case15_evaluate_scores_a_one_class_test_set(
    artifact_dir, heldout, tmp_path, capsys
):
    """Issue 14 case 15: evaluate refused a test set of one class."""
    texts, labels = heldout
    positive = [t for t, y in zip(texts, labels, strict=True) if y == "positive"]
    data = write_csv(tmp_path / "positive.csv", positive, ["positive"] * len(positive))
    report = tmp_path / "metrics.json"

    code = main(["evaluate", "--model", str(artifact_dir), "--data", str(data),
                 "--json", str(report)])  # fmt: skip

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert re.search(r"ROC-AUC\s+n/a", captured.out) and "note: ROC-AUC is n/a" in captured.out
    metrics = json.loads(report.read_text())
    assert metrics["roc_auc"] is None and metrics["n"] == len(positive)
    assert any("no example of 'negative'" in note for note in metrics["notes"])


def test_issue14_case16_an_empty_vocabulary_is_a_warning_line(corpus, tmp_path, capsys):
    """Issue 14 case 16: --min-frequency 100000 trained a constant model without a word."""
    data = write_csv(tmp_path / "train.csv", *corpus)
    argv = ["train", "--data", str(data), "--out", str(tmp_path / "m"), *TINY_MODEL]
    code = main([*argv, "--min-frequency", "100000", "--max-steps", "1", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    warning = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warning) == 1, captured.err
    assert warning[0].startswith("workbench: warning: the vocabulary has no words")
    assert "lower min_frequency (CLI: --min-frequency)" in warning[0]


def test_explain_prints_the_strongest_words_in_either_direction(artifact_dir, capsys):
    """Issue 11: the five words with the largest share, whatever their sign (the strongest
    against the class were hidden), and attention weights without a sign."""
    text = "Great cast, but a dull plot and a terrible ending, sadly."
    assert main(["explain", "--model", str(artifact_dir), text, "--method", "lime"]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if "strongest words" in line)
    values = [float(line.split()[0]) for line in lines[start + 1 : start + 6]]
    assert [abs(v) for v in values] == sorted((abs(v) for v in values), reverse=True)
    explanation = workbench.explain.explain(
        TextClassifier.load(artifact_dir), text, "lime", progress=False
    )
    scores = explanation.for_class(explanation.predicted_label)
    assert max(abs(v) for v in values) == pytest.approx(np.abs(scores).max(), abs=1e-4)

    assert main(["explain", "--model", str(artifact_dir), text, "--method", "attention"]) == 0
    out = capsys.readouterr().out
    assert "words with the most attention" in out
    assert "+" not in out.split("most attention:")[1]
