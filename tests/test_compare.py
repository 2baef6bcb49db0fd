"""Tests for workbench.compare: registry models, statistics, compare(), the CLI command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import InputError, LabeledTexts, TextClassifier
from workbench.baselines import TfidfLogisticRegression
from workbench.cli import main
from workbench.compare import (
    Comparison,
    compare,
    format_significance,
    holm,
    load_model,
    make_model,
    mcnemar_exact,
    paired_bootstrap_diff,
    register_model,
    registered_models,
    resolve_models,
)
from workbench.compare.registry import _REGISTRY
from workbench.train import Callback

CORE_MODELS = ["tfidf-logreg", "bag-of-embeddings", "transformer-small", "transformer-base"]


def assert_no_pickle(directory: Path) -> None:
    files = [p for p in Path(directory).rglob("*") if p.is_file()]
    assert files
    assert all(p.suffix in {".json", ".safetensors", ".txt"} for p in files), files


class LookupModel:
    """A stand-in model: fixed probabilities per text, for hand-built comparisons."""

    def __init__(self, table: dict[str, list[float]], classes=("neg", "pos")) -> None:
        self.table = table
        self.classes = list(classes)
        self.fit_calls = 0

    def fit(self, texts, labels):
        self.fit_calls += 1
        self.classes_ = np.array(self.classes)
        return self

    def predict_proba(self, texts):
        return np.array([self.table[t] for t in texts], dtype=float)


class FailingModel:
    def fit(self, texts, labels, **kwargs):
        raise RuntimeError("out of memory <in fit>")

    def predict_proba(self, texts):  # never reached
        raise AssertionError


@pytest.fixture(scope="module")
def data(corpus, heldout) -> tuple[LabeledTexts, LabeledTexts]:
    return LabeledTexts(*corpus, "train"), LabeledTexts(*heldout, "test")


@pytest.fixture
def temporary_registration():
    added: list[str] = []

    def register(name, factory, **kwargs):
        register_model(name, factory, **kwargs)
        added.append(name)

    yield register
    for name in added:
        _REGISTRY.pop(name, None)


# --------------------------------------------------------------------- registry
def test_registry_lists_the_built_in_models():
    assert set(CORE_MODELS) <= set(registered_models())
    assert all(registered_models()[name] for name in CORE_MODELS)  # each has a description


@pytest.mark.parametrize("name", CORE_MODELS)
def test_registry_model_contract_and_round_trip(name, corpus, heldout, tmp_path):
    model = make_model(name, seed=0, num_epochs=1)
    assert model.fit(*corpus, progress=False) is model
    texts = heldout[0]
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(model.predict_proba(np.array(texts, dtype=object)), proba)
    assert sorted(model.classes_.tolist()) == ["negative", "positive"]
    assert model.num_parameters() > 0
    saved = model.save(tmp_path / name)
    assert_no_pickle(saved)
    loaded = load_model(saved)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict_proba(texts), proba)


def test_registry_sizes_match_the_design():
    small = make_model("transformer-small", seed=3).model_config
    assert (small.d_model, small.num_layers, small.num_heads, small.d_ff) == (64, 1, 2, 128)
    assert make_model("transformer-base", seed=3).train_config.seed == 3
    bag = make_model("bag-of-embeddings", seed=0, num_epochs=2)
    assert bag.model_config.architecture == "bag-of-embeddings"
    assert bag.train_config.num_epochs == 2
    assert isinstance(make_model("tfidf-logreg", num_epochs=2), TfidfLogisticRegression)


def test_register_model_validates(temporary_registration):
    with pytest.raises(InputError, match="already registered"):
        register_model("tfidf-logreg", lambda seed: None)
    with pytest.raises(InputError, match="commas"):
        register_model("a,b", lambda seed: None)
    with pytest.raises(InputError, match="unknown model 'nope'.*tfidf-logreg"):
        make_model("nope")
    temporary_registration("doc-example", lambda seed: LookupModel({}), description="x")
    assert registered_models()["doc-example"] == "x"


def test_the_docstring_example_registers_a_scikit_learn_pipeline(data, temporary_registration):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    temporary_registration(
        "naive-bayes",
        lambda seed: make_pipeline(CountVectorizer(), MultinomialNB()),
        description="word counts + multinomial naive Bayes",
    )
    result = compare(["naive-bayes", "tfidf-logreg"], *data, n_bootstrap=50, progress=False)
    board = result.leaderboard.set_index("model")
    assert board.loc["naive-bayes", "error"] == ""
    assert board.loc["naive-bayes", "accuracy"] > 0.9
    assert np.isnan(board.loc["naive-bayes", "artifact_bytes"])  # a Pipeline has no save()


# ------------------------------------------------------------------- statistics
def test_mcnemar_matches_a_hand_computed_table():
    # b = 10, c = 2: two-sided exact p = 2 * P(X <= 2 | n = 12, 1/2) = 2 * 79 / 4096.
    assert mcnemar_exact(10, 2) == pytest.approx(2 * (1 + 12 + 66) / 4096, rel=1e-12)
    assert mcnemar_exact(10, 2) == pytest.approx(0.03857421875)
    assert mcnemar_exact(2, 10) == mcnemar_exact(10, 2)
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)


def test_holm_on_known_p_values():
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])
    np.testing.assert_allclose(holm([0.2]), [0.2])
    assert holm([]).shape == (0,)


def test_paired_bootstrap_interval_covers_the_true_difference():
    # Two correlated models with true accuracies 0.80 and 0.74 (0.70 + 0.2 * 0.2): mostly
    # right on the same examples, each sometimes right where the other is wrong.
    rng = np.random.default_rng(0)
    n, repetitions, true_diff, covered = 300, 200, 0.06, 0
    for repetition in range(repetitions):
        u, v = rng.random(n), rng.random(n)
        correct_a = u < 0.80
        correct_b = (u < 0.70) | ((u >= 0.80) & (v < 0.2))
        interval = paired_bootstrap_diff(correct_a, correct_b, n_bootstrap=400, seed=repetition)
        covered += interval.low <= true_diff <= interval.high
        assert interval.low <= correct_a.mean() - correct_b.mean() <= interval.high
    assert 0.88 <= covered / repetitions <= 0.99


def test_paired_bootstrap_of_identical_models_is_zero():
    correct = np.array([True, False, True, True])
    interval = paired_bootstrap_diff(correct, correct, n_bootstrap=50)
    assert (interval.low, interval.high) == (0.0, 0.0)
    with pytest.raises(InputError, match="equal length"):
        paired_bootstrap_diff([True], [True, False])


# ---------------------------------------------------------------------- compare
TEXTS = [f"text {i}" for i in range(8)]
TRUTH = ["pos", "pos", "neg", "neg", "pos", "neg", "pos", "neg"]
# A is right everywhere; B is wrong on rows 1, 3 and 6; both models know the same classes.
PROBA_A = [[0.1, 0.9], [0.2, 0.8], [0.7, 0.3], [0.6, 0.4], [0.1, 0.9], [0.9, 0.1], [0.4, 0.6],
           [0.8, 0.2]]  # fmt: skip
PROBA_B = [[0.3, 0.7], [0.9, 0.1], [0.8, 0.2], [0.45, 0.55], [0.2, 0.8], [0.7, 0.3],
           [0.6, 0.4], [0.9, 0.1]]  # fmt: skip


@pytest.fixture
def constructed() -> Comparison:
    train = LabeledTexts(TEXTS, TRUTH, "train")
    test = LabeledTexts(TEXTS, TRUTH, "test")
    model_a = LookupModel(dict(zip(TEXTS, PROBA_A, strict=True)))
    # B lists its classes in the other order: compare must realign its columns.
    proba_b = [row[::-1] for row in PROBA_B]
    model_b = LookupModel(dict(zip(TEXTS, proba_b, strict=True)), classes=("pos", "neg"))
    return compare(
        [("a", model_a), ("b", model_b)], train, test, n_bootstrap=200, latency_repeats=3,
        progress=False,
    )  # fmt: skip


def test_disagreements_are_exactly_the_differing_rows_sorted_by_gap(constructed):
    table = constructed.disagreements("a", "b")
    assert sorted(table.index.tolist()) == [1, 3, 6]
    # total variation distance: |p_a(pos) - p_b(pos)| for two classes
    expected_gap = {1: 0.7, 3: 0.15, 6: 0.2}
    assert table.index.tolist() == [1, 6, 3]
    for row, gap in expected_gap.items():
        assert table.loc[row, "confidence_gap"] == pytest.approx(gap)
    assert table["confidence_gap"].is_monotonic_decreasing
    row = table.loc[1]
    assert (row["text"], row["true_label"]) == ("text 1", "pos")
    assert (row["prediction_a"], row["prediction_b"]) == ("pos", "neg")
    assert row["confidence_a"] == pytest.approx(0.8)
    assert row["confidence_b"] == pytest.approx(0.9)
    assert set(table["correct"]) == {"a"}
    assert table.attrs == {"model_a": "a", "model_b": "b"}
    # Each row is ready for an explainer: its text and both fitted models are at hand.
    assert constructed.models["a"].predict_proba([row["text"]]).shape == (1, 2)
    with pytest.raises(InputError, match="two different models"):
        constructed.disagreements("a", "a")


def test_leaderboard_and_significance_of_a_constructed_case(constructed):
    board = constructed.leaderboard
    assert board["model"].tolist() == ["a", "b"]
    assert board.loc[0, "accuracy"] == 1.0
    assert board.loc[1, "accuracy"] == pytest.approx(5 / 8)
    for column in ("accuracy_low", "macro_f1_high", "ece", "latency_ms_p50", "throughput_per_s"):
        assert np.isfinite(board[column]).all(), column
    assert board["parameters"].isna().all()  # LookupModel has no num_parameters / save
    np.testing.assert_allclose(constructed.probabilities["b"], PROBA_B)  # realigned columns
    significance = constructed.significance()
    assert len(significance) == 1
    row = significance.iloc[0]
    assert (row["model_a"], row["model_b"]) == ("a", "b")
    assert (row["only_a_correct"], row["only_b_correct"]) == (3, 0)
    assert row["p_value"] == pytest.approx(mcnemar_exact(3, 0)) == row["p_holm"]
    assert row["accuracy_diff"] == pytest.approx(3 / 8)
    assert row["diff_low"] <= 3 / 8 <= row["diff_high"]
    assert not row["significant"]


def test_compare_registry_names_and_pairs_share_one_split(data, temporary_registration):
    train, test = data
    temporary_registration("broken", lambda seed: FailingModel())
    result = compare(
        ["tfidf-logreg", ("tfidf-unigrams", TfidfLogisticRegression(ngram_range=(1, 1))), "broken"],
        train,
        test,
        n_bootstrap=100,
        latency_repeats=2,
        progress=False,
    )
    board = result.leaderboard.set_index("model")
    assert board.index[-1] == "broken"  # failed models sort last
    assert board.loc["broken", "error"] == "RuntimeError: out of memory <in fit>"
    assert np.isnan(board.loc["broken", "accuracy"])
    for name in ("tfidf-logreg", "tfidf-unigrams"):
        assert board.loc[name, "error"] == ""
        assert board.loc[name, "accuracy"] > 0.9
        assert board.loc[name, "artifact_bytes"] > 0 and board.loc[name, "parameters"] > 0
    assert set(result.models) == set(result.evaluations) == {"tfidf-logreg", "tfidf-unigrams"}
    assert len(result.significance()) == 1
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert [row["model"] for row in payload["leaderboard"]][-1] == "broken"
    assert "failed: RuntimeError" in result.summary()


def test_compare_announces_each_model_and_passes_fit_callbacks(
    data, tiny_model_config, tiny_train_config
):
    train, test = data

    class CountBatches(Callback):
        batches = 0

        def on_batch_end(self, state) -> None:
            self.batches += 1

    class KeywordFit(LookupModel):  # like a Pipeline: **kwargs would reach its steps
        def fit(self, texts, labels, **kwargs):
            self.kwargs = kwargs
            return super().fit(texts, labels)

    counter, starts = CountBatches(), []
    ready = TfidfLogisticRegression().fit(train.texts, train.labels)
    keywords = KeywordFit({t: [0.5, 0.5] for t in test.texts}, classes=sorted(set(train.labels)))
    tiny = TextClassifier(tiny_model_config(), tiny_train_config(num_epochs=1))
    result = compare(
        [("ready", ready), ("broken", FailingModel()), ("keywords", keywords), ("tiny", tiny)],
        train,
        test,
        fitted=["ready"],
        n_bootstrap=50,
        latency_repeats=2,
        progress=False,
        on_model_start=lambda *args: starts.append(args),
        callbacks=[counter],
    )
    assert starts == [("ready", 0, 4), ("broken", 1, 4), ("keywords", 2, 4), ("tiny", 3, 4)]
    assert counter.batches == tiny.history_.steps > 0  # only the fit that takes callbacks
    assert keywords.kwargs == {}
    assert result.models["tiny"] is tiny and result.errors.keys() == {"broken"}


def test_unseen_test_labels_fail_before_anything_trains(data):
    train, _ = data
    test = LabeledTexts(["good", "meh", "so-so"], ["positive", "neutral", "mixed"], "test.csv")
    model = LookupModel({})
    with pytest.raises(InputError, match=r"\['mixed', 'neutral'\] never occur"):
        compare([("m", model)], train, test, progress=False)
    assert model.fit_calls == 0


def test_models_with_different_label_sets_are_not_compared_silently(data):
    train, test = data
    table = {t: [0.5, 0.5] for t in test.texts}
    other = LookupModel(table, classes=("negative", "neutral"))
    with pytest.raises(InputError, match="different label sets"):
        compare([("other", other)], train, test, progress=False)
    loaded = LookupModel(table, classes=("bad", "good")).fit([], [])
    with pytest.raises(InputError, match="differ from the training labels"):
        compare([("loaded", loaded)], train, test, fitted=["loaded"], progress=False)
    assert loaded.fit_calls == 1  # checked before anything else trains


def test_latency_and_throughput_are_timed_by_measure_latency(data):
    train, test = data
    calls: list[int] = []

    class Counting(LookupModel):
        def predict_proba(self, texts):
            calls.append(len(texts))
            return np.full((len(texts), 2), 0.5)

    model = Counting({}, classes=sorted(set(train.labels)))
    result = compare([("m", model)], *data, latency_repeats=3, progress=False)
    # the scored predictions, then measure_latency: a warm-up, 3 single texts, one batch
    assert calls == [len(test), 1, 1, 1, 1, len(test)]
    row = result.leaderboard.iloc[0]
    assert row["latency_ms_p50"] > 0 and row["throughput_per_s"] > 0


def test_fitted_models_are_scored_as_given(data):
    train, test = data
    model = TfidfLogisticRegression().fit(train.texts, train.labels)
    result = compare([("ready", model)], train, test, fitted=["ready"], progress=False)
    assert np.isnan(result.leaderboard.loc[0, "train_seconds"])
    assert result.leaderboard.loc[0, "accuracy"] > 0.9


@pytest.mark.parametrize(
    ("models", "message"),
    [
        (["no-such-model"], "unknown model 'no-such-model'; registered models are: tfidf-logreg"),
        ([("x", object())], "has no fit or predict_proba"),
        (["tfidf-logreg", "tfidf-logreg"], "appear more than once"),
        ("tfidf-logreg", "non-empty list"),
        ([], "non-empty list"),
    ],
)
def test_bad_model_lists_raise_input_errors(data, models, message):
    with pytest.raises(InputError, match=message):
        compare(models, *data, progress=False)


def test_to_html_is_self_contained_and_escaped(data, tmp_path):
    train, test = data
    evil = "<b>bold</b> model"
    result = compare(
        [(evil, TfidfLogisticRegression()), ("plain", TfidfLogisticRegression(C=0.5))],
        train,
        test,
        n_bootstrap=50,
        latency_repeats=2,
        progress=False,
    )
    page = result.to_html(tmp_path / "report.html").read_text(encoding="utf-8")
    assert evil not in page
    assert "&lt;b&gt;bold&lt;/b&gt; model" in page
    assert page.count("plotly.js v") == 1  # the library is inlined once, not per figure
    assert page.count('class="plotly-graph-div"') == 4
    assert 'src="http' not in page  # nothing loaded from the network


def test_text_panel_and_page_show_the_same_table_cells(data, tmp_path):
    import html

    from workbench.compare import leaderboard_table, significance_table
    from workbench.widgets.compare_panel import leaderboard_html, significance_html

    result = compare(
        [("a <i>", TfidfLogisticRegression()), ("b", TfidfLogisticRegression(C=0.1))]
        + [("broken", FailingModel())],
        *data,
        n_bootstrap=50,
        latency_repeats=2,
        progress=False,
    )
    page = result.to_html(tmp_path / "report.html").read_text(encoding="utf-8")
    shown = {
        "text": (result.summary(), format_significance(result.significance())),
        "panel": (leaderboard_html(result), significance_html(result.significance())),
        "page": (page, page),
    }
    tables = (leaderboard_table(result.leaderboard), significance_table(result.significance()))
    assert "failed: RuntimeError" in tables[0]["accuracy"].iloc[-1]
    for where, outputs in shown.items():
        for table, output in zip(tables, outputs, strict=True):
            for cell in [*table.columns, *table.to_numpy().ravel()]:
                if cell:
                    assert (cell if where == "text" else html.escape(cell)) in output, (where, cell)


# -------------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def tiny_csv(make_corpus, tmp_path_factory) -> Path:
    texts, labels = make_corpus(100, seed=5)
    path = tmp_path_factory.mktemp("compare") / "reviews.csv"
    pd.DataFrame({"review": texts, "label": labels}).to_csv(path, index=False)
    return path


def test_cli_compare_writes_json_and_html(tiny_csv, tmp_path, capsys):
    code = main(
        [
            "compare",
            "--data",
            str(tiny_csv),
            "--text-col",
            "review",
            "--models",
            "tfidf-logreg,bag-of-embeddings",
            "--epochs",
            "1",
            "--json",
            str(tmp_path / "out/compare.json"),
            "--html",
            str(tmp_path / "out/compare.html"),
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "tested on 20" in out  # the stratified 20% split
    assert "tfidf-logreg" in out and "bag-of-embeddings" in out and "p_holm" in out
    payload = json.loads((tmp_path / "out/compare.json").read_text())
    assert {row["model"] for row in payload["leaderboard"]} == {"tfidf-logreg", "bag-of-embeddings"}
    assert payload["n_test"] == 20 and len(payload["significance"]) == 1
    assert (tmp_path / "out/compare.html").read_text().startswith("<!DOCTYPE html>")


def test_cli_compare_unknown_model_exits_2_with_one_line(tiny_csv, capsys):
    code = main(["compare", "--data", str(tiny_csv), "--models", "tfidf-logreg,gpt-17"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("workbench: error: unknown model 'gpt-17'")
    assert "tfidf-logreg, bag-of-embeddings" in err[0]


def test_an_unknown_name_gets_one_message_from_every_caller(data, tiny_csv, capsys):
    from workbench.widgets import compare_panel

    calls = {
        "make_model": lambda: make_model("gpt-17"),
        "resolve_models": lambda: resolve_models(["tfidf-logreg", "gpt-17"]),
        "compare": lambda: compare(["gpt-17"], *data, progress=False),
        "compare_panel": lambda: compare_panel(*data, models=["gpt-17", "tfidf-logreg"]),
    }
    messages = {}
    for caller, call in calls.items():
        with pytest.raises(InputError) as caught:
            call()
        messages[caller] = str(caught.value)
    assert main(["compare", "--data", str(tiny_csv), "--models", "gpt-17"]) == 2
    messages["cli"] = capsys.readouterr().err.strip().removeprefix("workbench: error: ")
    assert len(set(messages.values())) == 1, messages
    assert messages["cli"].startswith("unknown model 'gpt-17'; registered models are: tfidf-logreg")
    with pytest.raises(InputError, match="unknown models 'gpt-17', 'gpt-18'; registered"):
        resolve_models(["gpt-17", "gpt-18"])


def test_cli_compare_unseen_test_label_exits_2(tiny_csv, tmp_path, capsys):
    test = tmp_path / "test.csv"
    pd.DataFrame({"review": ["fine", "odd"], "label": ["positive", "weird"]}).to_csv(test)
    code = main(
        ["compare", "--data", str(tiny_csv), "--test", str(test), "--text-col", "review",
         "--models", "tfidf-logreg"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "['weird'] never occur" in err and "Traceback" not in err
