"""Tests for workbench.analysis.report (analyze, AnalysisReport) and ``workbench analyze``.

The examples are the shared held-out texts with the label of every text holding "plot"
flipped: the tiny classifier (which learnt the cue words) is wrong on those, so "plot" is a
planted error slice that discovery has to find.
"""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.analysis import (
    Examples,
    Slice,
    discover_slices,
    evaluate_slices,
    global_attributions,
    suggested_slices,
)
from workbench.analysis import report as report_module
from workbench.analysis.report import SECTIONS, AnalysisReport, analyze, score_examples
from workbench.baselines import TfidfLogisticRegression
from workbench.cli import main
from workbench.errors import InputError

HOSTILE = "<script>alert('x')</script>"
KEYS = {"model", "data", "n", "notes", *SECTIONS}
IG = {"method": "integrated-gradients", "n_steps": 8}


def flipped(texts: list[str], labels: list[str]) -> list[str]:
    """The labels, with those of the texts holding "plot" swapped."""
    swap = {"positive": "negative", "negative": "positive"}
    return [swap[y] if "plot" in t.split() else y for t, y in zip(texts, labels, strict=True)]


@pytest.fixture(scope="module")
def table(heldout) -> pd.DataFrame:
    texts, labels = heldout
    domains = ["films" if i % 2 else HOSTILE for i in range(len(texts))]
    return pd.DataFrame({"text": texts, "label": flipped(texts, labels), "domain": domains})


@pytest.fixture(scope="module")
def examples(trained_clf, table) -> Examples:
    return Examples.from_frame(table, model=trained_clf, progress=False)


@pytest.fixture(scope="module")
def report(trained_clf, examples) -> AnalysisReport:
    return analyze(
        trained_clf,
        examples,
        min_support=5,
        behaviour=False,
        progress=False,
        name=f"model {HOSTILE}",
        **IG,
    )


def assert_self_contained_and_escaped(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and page.count("<html") == 1
    for tag in ("<script", "<link", "<style", "<iframe", "<img"):
        assert tag not in page.lower(), tag
    assert not re.search(r"(src|href)\s*=", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


# ------------------------------------------------------------------- the library
def test_the_json_holds_the_library_calls_results(report, trained_clf, examples):
    document = report.to_dict()
    assert set(document) == KEYS
    json.dumps(document, allow_nan=False)  # strict JSON: no NaN anywhere
    assert document["n"] == len(examples) == 64
    assert document["model"]["classes"] == list(trained_clf.classes_)
    assert document["data"] | {"explained": 64, "sampled": False} == document["data"]
    # each section is what its library call gives on the same examples and seed
    slices = evaluate_slices(examples, suggested_slices(examples), progress=False)
    assert document["slices"] == json.loads(json.dumps(slices.to_dict()["slices"]))
    names = [s["name"] for s in document["slices"]]
    assert f"domain = {HOSTILE}" in names and "domain = films" in names
    first = document["slices"][0]
    assert {"name", "n", "accuracy", "accuracy_ci", "p_value", "p_value_holm"} <= set(first)
    assert set(first["accuracy_ci"]) == {"low", "high", "confidence"}
    discovered = discover_slices(examples, min_support=5, progress=False)
    assert document["discovered_slices"] == json.loads(
        json.dumps(discovered.to_dict()["discovered_slices"])
    )
    top = document["discovered_slices"][0]  # the planted error slice comes first
    assert top["name"] == 'contains "plot"' and top["accuracy"] < 0.2
    assert top["p_value_holm"] < 1e-6
    words = global_attributions(
        trained_clf, examples.texts, method="integrated-gradients", n_steps=8, progress=False
    ).to_dict()["global_attributions"]
    assert set(document["global_attributions"]) == {"positive", "negative"}
    for label, rows in document["global_attributions"].items():
        assert {"word", "mean", "mean_abs", "count"} <= set(rows[0])
        assert [r["word"] for r in rows] == [r["word"] for r in words[label]]
        np.testing.assert_allclose(
            [r["mean"] for r in rows], [r["mean"] for r in words[label]], atol=1e-6
        )
    towards = {r["word"]: r["mean"] for r in document["global_attributions"]["positive"]}
    assert towards["great"] > 0 > towards["awful"]
    assert any("integrated-gradients over 64 texts" in note for note in document["notes"])


def test_the_page_is_self_contained_and_escapes_every_text(report, tmp_path):
    page = report.html()
    assert_self_contained_and_escaped(page)
    assert "model &lt;script&gt;" in page  # the model's name, in the title and header
    assert 'contains "plot"' not in page and "contains &quot;plot&quot;" in page
    assert "<svg" in page  # the interval bars
    fragment = report._repr_html_()
    assert fragment.startswith("<div") and "<!DOCTYPE" not in fragment
    written = report.to_html(tmp_path / "report.html")
    assert written.read_text(encoding="utf-8") == page
    assert json.loads(report.to_json(tmp_path / "report.json").read_text()) == report.to_dict()


def test_slices_that_match_nothing_or_everything_say_so(trained_clf, examples):
    result = analyze(
        trained_clf,
        examples,
        slices=[Slice.contains_word("zebra"), Slice.regex(".")],
        discover=False,
        attributions=False,
        behaviour=False,
        progress=False,
    )
    nothing, everything = result.to_dict()["slices"]
    assert nothing["n"] == 0 and nothing["accuracy"] is None
    assert "matches no example" in nothing["notes"][0] and "'zebra'" in nothing["notes"][0]
    assert everything["n"] == 64 and everything["p_value"] is None
    assert "matches every example" in everything["notes"][0]
    assert result.to_dict()["discovered_slices"] is None
    assert "matches no example" in result.summary()


def test_texts_without_labels_still_get_attributions_and_slice_sizes(trained_clf, heldout):
    unlabelled = Examples(heldout[0][:24])  # no model output either: scored by analyze
    result = analyze(trained_clf, unlabelled, max_texts=10, behaviour=False, progress=False, **IG)
    document = result.to_dict()
    assert document["discovered_slices"] is None and result.accuracy is None
    assert all(s["accuracy"] is None and s["n"] > 0 for s in document["slices"])
    assert document["global_attributions"] and document["data"]["explained"] == 10
    assert document["data"]["sampled"] is True
    assert any("slice discovery needs labels" in note for note in document["notes"])
    assert any("random sample of 10 of the 24" in note for note in document["notes"])


def test_a_scikit_learn_pipeline_gets_shap_and_a_gradient_method_is_refused(heldout):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, labels = heldout
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, labels)
    examples = Examples(texts[:30], labels[:30])
    with pytest.raises(InputError, match="integrated-gradients.*use shap or lime"):
        analyze(pipeline, examples, method="integrated-gradients", progress=False)
    with pytest.raises(InputError, match="attention weights are not attributions"):
        analyze(pipeline, examples, method="attention", progress=False)
    result = analyze(
        pipeline,
        examples,
        max_texts=6,
        min_support=3,
        behaviour=False,
        progress=False,
        algorithm="exact",
    )
    assert result.global_attributions is not None
    assert result.global_attributions.method == "shap"
    assert result.global_attributions.n_texts == 6
    assert result.to_dict()["model"]["type"] == "Pipeline"


def test_bad_settings_are_refused_before_anything_runs(trained_clf, examples, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("a section ran before the settings were checked")

    monkeypatch.setattr(report_module, "evaluate_slices", never)
    with pytest.raises(InputError, match="takes no setting max_eval"):
        analyze(trained_clf, examples, method="shap", max_eval=10, progress=False)
    with pytest.raises(InputError, match="max_texts"):
        analyze(trained_clf, examples, max_texts=0, progress=False)
    with pytest.raises(InputError, match="min_support"):
        analyze(trained_clf, examples, min_support=0, progress=False)
    with pytest.raises(InputError, match="confidence"):
        analyze(trained_clf, examples, confidence=1.5, progress=False)
    with pytest.raises(InputError, match="must be workbench.analysis.Examples"):
        analyze(trained_clf, ["a text"], progress=False)
    other = Examples(["good", "bad"], proba=[[0.9, 0.1], [0.2, 0.8]], classes=["pos", "neg"])
    with pytest.raises(InputError, match="not the model's"):
        analyze(trained_clf, other, progress=False)


def test_behaviour_tests_plug_in_and_their_failures_are_escaped(trained_clf, examples, monkeypatch):
    """A stand-in for workbench.analysis.behaviour with its interface: sentiment_suite()
    and run_suite(model, tests, texts=, labels=, **settings) -> SuiteResult whose
    to_dict() is a list of records."""
    calls = {}
    record = {
        "name": "negation",
        "kind": "DIR",
        "capability": "negation",
        "description": f"adds {HOSTILE}",
        "n": 4,
        "passed": 1,
        "pass_rate": 0.25,
        "interval": {"low": 0.0, "high": 0.75, "confidence": 0.95},
        "skipped": None,
        "failures": [{"text": "x", "diff": f"[-good-] {{+{HOSTILE}+}}", "prediction": "positive"}],
    }
    skipped = {**record, "name": "needs labels", "pass_rate": None, "interval": None}
    skipped |= {"skipped": "needs labels", "failures": []}

    class Result:
        def to_dict(self):
            return [record, skipped]

    def run_suite(model, tests, texts=None, labels=None, **settings):
        calls.update(model=model, tests=tests, texts=texts, labels=labels, **settings)
        return Result()

    fake = types.ModuleType("workbench.analysis.behaviour")
    fake.sentiment_suite = lambda: ["the suite"]  # type: ignore[attr-defined]
    fake.run_suite = run_suite  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "workbench.analysis.behaviour", fake)
    result = analyze(
        trained_clf,
        examples,
        discover=False,
        attributions=False,
        max_texts=5,
        seed=3,
        progress=False,
    )
    assert calls["model"] is trained_clf and calls["tests"] == ["the suite"]
    assert len(calls["texts"]) == len(calls["labels"]) == 5 and calls["seed"] == 3
    assert result.to_dict()["behaviour_tests"] == [record, skipped]
    page = result.html()
    assert_self_contained_and_escaped(page)
    assert "Behavioural tests" in page and "25.0% [0%, 75%]" in page
    assert "skipped: needs labels" in page
    summary = result.summary()
    assert "negation (DIR): pass rate 25.0% of 4" in summary
    assert "needs labels (DIR): skipped: needs labels" in summary
    monkeypatch.setitem(sys.modules, "workbench.analysis.behaviour", None)  # not installed
    missing = analyze(trained_clf, examples, discover=False, attributions=False, progress=False)
    assert missing.behaviour_tests is None
    assert any("behaviour_tests: not available" in note for note in missing.notes)


def test_the_shipped_suite_runs_with_and_without_labels(trained_clf, examples, heldout):
    behaviour = pytest.importorskip("workbench.analysis.behaviour")
    options = {"discover": False, "attributions": False, "max_texts": 20, "progress": False}
    result = analyze(trained_clf, examples, **options)
    rows = np.sort(np.random.default_rng(0).choice(64, size=20, replace=False))
    direct = behaviour.run_suite(
        trained_clf,
        behaviour.sentiment_suite(),
        texts=[examples.texts[i] for i in rows],
        labels=[examples.labels[i] for i in rows],
        progress=False,
    ).to_dict()
    assert result.to_dict()["behaviour_tests"] == json.loads(json.dumps(direct))
    assert [t["name"] for t in direct] == [t.name for t in behaviour.sentiment_suite()]
    unlabelled = analyze(trained_clf, Examples(heldout[0]), **options).behaviour_tests
    assert unlabelled is not None
    needs = [t for t in unlabelled if t["skipped"]]
    assert needs and all("needs labels" in t["skipped"] for t in needs)
    assert any(t["pass_rate"] is not None for t in unlabelled)  # the rest still ran


def test_the_map_is_an_escaped_svg_of_the_explained_texts(trained_clf, examples):
    options = {"discover": False, "attributions": False, "behaviour": False}
    hostile = Examples(
        [f"{HOSTILE} {t}" if i == 0 else t for i, t in enumerate(examples.texts)],
        examples.labels,
        columns=examples.columns,
    )
    result = analyze(trained_clf, hostile, embedding_map=True, progress=False, **options)
    assert result.embedding_map is not None and len(result.embedding_map) == 64
    assert set(result.to_dict()) == KEYS  # a figure of the page, not a key of the JSON
    page = result.html()
    assert_self_contained_and_escaped(page)
    assert page.count("<circle") == 64 and "Embedding map" in page
    figure = page[page.index("Embedding map") :]
    assert "<title>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; " in figure
    assert "blue: predicted right" in page and "PC1 (" in page
    wrong = int((~result.embedding_map.to_frame()["correct"]).sum())
    assert page.count('fill="#b2182b"><title>') == wrong > 0  # red: the planted errors


def test_many_texts_get_an_estimate_before_they_are_predicted(trained_clf, heldout, capsys):
    texts = heldout[0] * 32  # 2,048 texts: an estimate from 2,000 on
    examples = score_examples(trained_clf, texts, progress=True)
    assert len(examples) == 2048 and examples.has_predictions
    assert "predicting 2048 texts: about" in capsys.readouterr().err


# -------------------------------------------------------------------------- the CLI
@pytest.fixture(scope="module")
def files(table, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("analyze")
    table.to_csv(folder / "test.csv", index=False)
    table[["text"]].to_csv(folder / "unlabelled.csv", index=False)
    TfidfLogisticRegression().fit(table["text"].tolist(), table["label"].tolist()).save(
        folder / "tfidf"
    )
    return {"csv": folder / "test.csv", "unlabelled": folder / "unlabelled.csv", "dir": folder}


def one_line_error(capsys, *fragments: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("workbench: error: "), err
    for fragment in fragments:
        assert fragment in err[0], (fragment, err[0])
    return err[0]


def test_cli_writes_the_json_and_the_page(artifact_dir, files, capsys):
    out = files["dir"] / "out"
    code = main(
        [
            "analyze",
            "--model",
            str(artifact_dir),
            "--data",
            str(files["csv"]),
            "--min-support",
            "5",
            "--steps",
            "8",
            "--slice-word",
            "plot",
            "--json",
            str(out / "report.json"),
            "--html",
            str(out / "report.html"),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "64 examples; TextClassifier" in printed and "discovered_slices:" in printed
    assert f"JSON report written to {out / 'report.json'}" in printed
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert set(document) == KEYS
    assert document["data"]["label_col"] == "label" and document["data"]["rows"] == 64
    assert document["discovered_slices"][0]["name"] == 'contains "plot"'
    assert 'contains "plot"' in [s["name"] for s in document["slices"]]
    assert any("integrated-gradients" in note for note in document["notes"])
    assert_self_contained_and_escaped((out / "report.html").read_text(encoding="utf-8"))


def test_cli_analyses_a_table_without_labels(artifact_dir, files, capsys):
    out = files["dir"] / "unlabelled.json"
    argv = ["analyze", "--model", str(artifact_dir), "--data", str(files["unlabelled"])]
    assert (
        main([*argv, "--max-texts", "8", "--steps", "4", "--no-behaviour", "--json", str(out)]) == 0
    )
    captured = capsys.readouterr()
    assert "has no 'label' column, so it is analysed without labels" in captured.err
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["discovered_slices"] is None and document["data"]["label_col"] is None
    assert document["global_attributions"]["positive"]


def test_cli_samples_rows_with_max_rows(artifact_dir, files, capsys):
    argv = ["analyze", "--model", str(artifact_dir), "--data", str(files["csv"])]
    assert main([*argv, "--max-rows", "20", "--no-attributions", "--no-behaviour"]) == 0
    captured = capsys.readouterr()
    assert "random sample of 20 of the 64 rows" in captured.err
    assert captured.out.startswith("20 examples")


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        (["--text-col", "review"], ["no text column 'review'", "'text', 'label', 'domain'"]),
        (["--label-col", "y"], ["no label column 'y'", "'text', 'label', 'domain'"]),
        (["--slice-col", "genre"], ["--slice-col 'genre' is not a column", "'domain'"]),
        (["--max-texts", "0"], ["--max-texts must be at least 1"]),
    ],
    ids=["text-col", "label-col", "slice-col", "max-texts"],
)
def test_cli_bad_input_is_one_line_naming_what_there_is(
    artifact_dir, files, capsys, options, fragments
):
    argv = ["analyze", "--model", str(artifact_dir), "--data", str(files["csv"]), *options]
    assert main(argv) == 2
    one_line_error(capsys, *fragments)


def test_cli_refuses_a_gradient_method_for_a_tfidf_model_before_the_work(files, capsys):
    argv = ["analyze", "--model", str(files["dir"] / "tfidf"), "--data", str(files["csv"])]
    assert main([*argv, "--method", "integrated-gradients"]) == 2
    one_line_error(capsys, "TfidfLogisticRegression cannot be explained", "use shap or lime")
    assert capsys.readouterr().out == ""  # nothing was scored or printed before


def test_cli_names_the_sentiment_classes_of_a_model_with_0_1_labels(files, table, capsys):
    folder = files["dir"] / "numeric"
    folder.mkdir()
    numbers = (table["label"] == "positive").astype(int)
    table.assign(label=numbers).to_csv(folder / "test.csv", index=False)
    TfidfLogisticRegression().fit(table["text"].tolist(), numbers.tolist()).save(folder / "m")
    argv = ["analyze", "--model", str(folder / "m"), "--data", str(folder / "test.csv")]
    argv += ["--no-attributions", "--no-discovery", "--max-texts", "10"]
    assert main([*argv, "--json", str(folder / "without.json")]) == 0
    warning = capsys.readouterr().err
    assert "behaviour_tests: could not be run: cannot tell which" in warning
    assert "(CLI: --positive CLASS --negative CLASS)" in warning
    assert json.loads((folder / "without.json").read_text())["behaviour_tests"] is None
    named = [*argv, "--positive", "1", "--negative", "0", "--json", str(folder / "with.json")]
    assert main(named) == 0
    tests = json.loads((folder / "with.json").read_text())["behaviour_tests"]
    assert tests and all(t["pass_rate"] is not None or t["skipped"] for t in tests)
    capsys.readouterr()
    assert main([*argv, "--positive", "7"]) == 2
    one_line_error(capsys, "--positive '7' is not one of the model's classes [0, 1]")


def test_cli_help_lists_the_options_and_the_methods_agree(capsys):
    with pytest.raises(SystemExit) as info:
        main(["analyze", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--model DIR", "--data FILE", "--label-col", "--json OUT", "--html OUT"):
        assert option in out
    for option in ("--method", "--max-texts", "--max-rows", "--no-behaviour", "--slice-col"):
        assert option in out
    from workbench.cli import analyze as command

    assert command.ATTRIBUTION_METHODS == report_module.ATTRIBUTION_METHODS
    assert command.PREDICT_ESTIMATE_FROM == report_module.PREDICT_ESTIMATE_FROM
    assert "estimate is printed first on 2,000 rows" in " ".join(out.split())


def test_analyze_help_imports_nothing_heavy():
    from test_cli_startup import HEAVY, PROBE, last_json_line, run_python

    process = run_python(PROBE.format(argv=["workbench", "analyze", "--help"], heavy=HEAVY))
    assert last_json_line(process) == {"code": 0, "loaded": []}
    assert "usage: workbench analyze" in process.stdout
