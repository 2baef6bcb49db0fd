"""Tests for the baselines: TF-IDF + logistic regression and the bag-of-embeddings network."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from workbench import InputError, TextClassifier
from workbench.baselines import TfidfLogisticRegression
from workbench.config import ModelConfig
from workbench.model import BagOfEmbeddingsClassifier, TransformerClassifier, build_model

ARTIFACT_SUFFIXES = {".json", ".safetensors", ".txt"}


def assert_no_pickle(directory: Path) -> None:
    """Every artifact file is JSON, safetensors or plain text: nothing that unpickles."""
    files = [p for p in Path(directory).rglob("*") if p.is_file()]
    assert files
    assert all(p.suffix in ARTIFACT_SUFFIXES for p in files), files


@pytest.fixture(scope="module")
def tfidf(corpus) -> TfidfLogisticRegression:
    return TfidfLogisticRegression().fit(*corpus)


# ------------------------------------------------------------------ TF-IDF + logreg
def test_tfidf_fit_returns_self_and_learns_sorted_classes(corpus):
    model = TfidfLogisticRegression()
    assert model.fit(*corpus, progress=False, validation=None) is model
    assert model.classes_.tolist() == ["negative", "positive"]


def test_tfidf_predict_proba_contract(tfidf, heldout):
    texts, labels = heldout
    proba = tfidf.predict_proba(texts)
    assert proba.shape == (len(texts), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba, tfidf.predict_proba(np.array(texts, dtype=object)))
    assert (tfidf.predict(texts) == np.array(labels)).mean() > 0.9
    assert set(tfidf.predict(texts)) <= set(tfidf.classes_)


def test_tfidf_round_trip_gives_identical_probabilities_and_no_pickle(tfidf, heldout, tmp_path):
    saved = tfidf.save(tmp_path / "tfidf")
    assert sorted(p.name for p in saved.iterdir()) == [
        "config.json",
        "vocabulary.json",
        "weights.safetensors",
    ]
    assert_no_pickle(saved)
    loaded = TfidfLogisticRegression.load(saved)
    np.testing.assert_array_equal(loaded.predict_proba(heldout[0]), tfidf.predict_proba(heldout[0]))
    assert loaded.classes_.tolist() == tfidf.classes_.tolist()
    assert loaded.get_params() == tfidf.get_params()
    assert loaded.num_parameters() == tfidf.num_parameters()


def test_tfidf_integer_labels_survive_the_round_trip(make_corpus, tmp_path):
    texts, labels = make_corpus(64, labels=(1, 0))
    model = TfidfLogisticRegression(ngram_range=(1, 1), C=1.0).fit(texts, labels)
    loaded = TfidfLogisticRegression.load(model.save(tmp_path / "m"))
    assert loaded.classes_.tolist() == [0, 1]
    assert loaded.predict(texts[:4]).tolist() == model.predict(texts[:4]).tolist()
    assert loaded.ngram_range == (1, 1)


def test_tfidf_has_no_tokenizer_attribute_so_explainers_use_default_words(tfidf):
    assert not hasattr(tfidf, "tokenizer_")
    assert tfidf.num_parameters() == tfidf.classifier_.coef_.size + 1


def test_tfidf_errors_say_what_to_do(tfidf, tmp_path, artifact_dir):
    with pytest.raises(InputError, match="not trained yet"):
        TfidfLogisticRegression().predict_proba(["x"])
    with pytest.raises(InputError, match="not found"):
        TfidfLogisticRegression.load(tmp_path / "nowhere")
    with pytest.raises(InputError, match="load_model"):
        TfidfLogisticRegression.load(artifact_dir)  # a TextClassifier artifact
    with pytest.raises(InputError, match="one string"):
        tfidf.predict_proba("just one text")
    with pytest.raises(InputError, match="two classes"):
        TfidfLogisticRegression().fit(["a b", "c d"], ["x", "x"])
    broken = tfidf.save(tmp_path / "broken")
    config = json.loads((broken / "config.json").read_text())
    (broken / "vocabulary.json").write_text(json.dumps({"terms": ["only"]}))
    with pytest.raises(InputError, match="does not match"):
        TfidfLogisticRegression.load(broken)
    (broken / "config.json").write_text(json.dumps({**config, "artifact_format": 99}))
    with pytest.raises(InputError, match="Upgrade workbench"):
        TfidfLogisticRegression.load(broken)


def test_tfidf_save_refuses_to_overwrite_a_foreign_directory(tfidf, tmp_path):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(InputError, match="refusing to overwrite"):
        tfidf.save(foreign)
    assert (foreign / "holiday.jpg").exists()


# ------------------------------------------------------------ bag of embeddings
TINY_BAG = ModelConfig(
    vocab_size=99, num_labels=3, d_model=16, dropout=0.0, architecture="bag-of-embeddings"
)


def test_build_model_picks_the_architecture():
    assert isinstance(build_model(TINY_BAG), BagOfEmbeddingsClassifier)
    transformer = ModelConfig(vocab_size=99, num_labels=3, d_model=16, num_heads=2, d_ff=32)
    assert isinstance(build_model(transformer), TransformerClassifier)


def test_model_config_without_architecture_still_loads_as_a_transformer():
    stored = ModelConfig(vocab_size=99, num_labels=2).to_dict()
    del stored["architecture"]  # what artifacts written before the field look like
    assert ModelConfig.from_dict(stored).architecture == "transformer"
    with pytest.raises(InputError, match="architecture"):
        ModelConfig(architecture="lstm")


def test_bag_forward_contract_and_masked_mean():
    torch.manual_seed(0)
    model = BagOfEmbeddingsClassifier(TINY_BAG).eval()
    ids = torch.tensor([[2, 5, 7, 0, 0], [2, 9, 11, 13, 4]])
    mask = ids != 0
    out = model(ids, mask, labels=torch.tensor([0, 2]))
    assert out.logits.shape == (2, 3)
    assert out.loss is not None and out.loss.ndim == 0
    assert out.attentions is None
    # Padding contributes nothing: other ids under the mask give the same logits.
    noisy = ids.masked_fill(~mask, 42)
    torch.testing.assert_close(model(noisy, mask).logits, out.logits)
    # The mean of the real tokens' vectors goes into the head.
    vectors = model.token_embedding(ids[0, :3]).mean(0)
    torch.testing.assert_close(out.logits[0], model.head(vectors))
    # inputs_embeds replaces the lookup (integrated gradients interpolates it).
    embeds = model.token_embedding(ids)
    torch.testing.assert_close(model(ids, mask, inputs_embeds=embeds).logits, out.logits)
    with pytest.raises(ValueError, match="no attention"):
        model(ids, mask, output_attentions=True)


def test_text_classifier_with_bag_architecture_trains_saves_and_loads(
    corpus, heldout, tiny_train_config, tmp_path
):
    clf = TextClassifier(
        model_config=ModelConfig(architecture="bag-of-embeddings", d_model=32, max_length=32),
        train_config=tiny_train_config(num_epochs=6, learning_rate=2e-2),
    ).fit(*corpus, progress=False)
    assert isinstance(clf.model_, BagOfEmbeddingsClassifier)
    proba = clf.predict_proba(heldout[0])
    assert (clf.classes_[proba.argmax(1)] == np.array(heldout[1])).mean() > 0.8
    saved = clf.save(tmp_path / "bag")
    assert_no_pickle(saved)
    loaded = TextClassifier.load(saved)
    assert loaded.model_config.architecture == "bag-of-embeddings"
    np.testing.assert_array_equal(loaded.predict_proba(heldout[0]), proba)
    assert loaded.num_parameters() == clf.num_parameters() == 32 * clf.tokenizer_.vocab_size + 66
