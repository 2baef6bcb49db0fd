"""Tests for workbench.classifier: the scikit-learn contract, inputs, and the artifact."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from sklearn.base import clone

import workbench
from workbench import TextClassifier
from workbench.calibration import scaled_softmax
from workbench.classifier import ARTIFACT_FORMAT
from workbench.errors import InputError

ARTIFACT_FILES = ["config.json", "metrics.json", "model.safetensors", "tokenizer.json"]
VARIED_TEXTS = [
    "great",
    "the food was really awful and the staff was dull",
    "lovely",
    " ".join(["the movie was quite a plot and"] * 10) + " superb",  # past max_length
    "bad bad bad",
    "this service was excellent",
    "a",
    "unknown words only here",
]


@pytest.fixture
def artifact_copy(artifact_dir, tmp_path):
    """A private copy of the shared artifact that a test may damage."""
    return shutil.copytree(artifact_dir, tmp_path / "model")


def quick_fit(texts, labels, tiny_model_config, tiny_train_config, **fit_kwargs):
    clf = TextClassifier(tiny_model_config(), tiny_train_config(num_epochs=1, max_steps=2))
    return clf.fit(texts, labels, progress=False, **fit_kwargs)


# ------------------------------------------------------------------ fit and predict
def test_fit_returns_self(corpus, tiny_model_config, tiny_train_config):
    clf = TextClassifier(tiny_model_config(), tiny_train_config(num_epochs=1, max_steps=1))
    assert clf.fit(*corpus, val_size=0, progress=False) is clf
    assert clf.history_.steps == 1


def test_constructor_stores_parameters_only(tiny_model_config):
    config = tiny_model_config()
    clf = TextClassifier(model_config=config)
    assert clf.model_config is config
    assert clf.train_config is None and clf.tokenizer_config is None
    assert not any(name.endswith("_") for name in vars(clf))


def test_classes_are_sorted(trained_clf, corpus):
    assert corpus[1][0] == "positive"  # first seen label is not the first in sort order
    assert trained_clf.classes_.tolist() == ["negative", "positive"]


def test_trained_fixture_learned_the_task(trained_clf, heldout):
    texts, labels = heldout
    accuracy = float(np.mean(trained_clf.predict(texts) == np.array(labels)))
    assert accuracy >= 0.9


def test_predict_proba_contract(trained_clf, heldout):
    texts = heldout[0][:20]
    proba = trained_clf.predict_proba(texts)

    assert isinstance(proba, np.ndarray)
    assert proba.shape == (20, 2)
    assert np.issubdtype(proba.dtype, np.floating)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-9)
    # Columns follow classes_: the positive column is high on a positive text.
    positive = list(trained_clf.classes_).index("positive")
    assert trained_clf.predict_proba(["excellent wonderful"])[0, positive] > 0.5
    assert trained_clf.predict_proba(["awful horrible"])[0, positive] < 0.5


def test_predict_proba_accepts_lists_and_numpy_arrays_alike(trained_clf):
    from_list = trained_clf.predict_proba(VARIED_TEXTS)
    from_str_array = trained_clf.predict_proba(np.array(VARIED_TEXTS))
    from_object_array = trained_clf.predict_proba(np.array(VARIED_TEXTS, dtype=object))
    from_tuple = trained_clf.predict_proba(tuple(VARIED_TEXTS))

    assert np.array_equal(from_list, from_str_array)
    assert np.array_equal(from_list, from_object_array)
    assert np.array_equal(from_list, from_tuple)


def test_batching_does_not_change_results(trained_clf):
    whole = trained_clf.predict_proba(VARIED_TEXTS, batch_size=256)
    one_by_one = trained_clf.predict_proba(VARIED_TEXTS, batch_size=1)
    in_threes = trained_clf.predict_proba(VARIED_TEXTS, batch_size=3)

    np.testing.assert_allclose(one_by_one, whole, rtol=0, atol=1e-6)
    np.testing.assert_allclose(in_threes, whole, rtol=0, atol=1e-6)


def test_order_is_preserved_for_texts_of_varied_lengths(trained_clf):
    together = trained_clf.predict_proba(VARIED_TEXTS)
    alone = np.vstack([trained_clf.predict_proba([text]) for text in VARIED_TEXTS])
    reversed_ = trained_clf.predict_proba(VARIED_TEXTS[::-1])

    # The texts get distinct probabilities, so a shuffled row would be noticed.
    assert len({round(p, 6) for p in together[:, 0]}) == len(VARIED_TEXTS)
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-6)
    np.testing.assert_allclose(reversed_[::-1], together, rtol=0, atol=1e-6)


def test_bfloat16_inference_is_close_and_reused(trained_clf, heldout):
    texts = heldout[0][:40]
    exact = trained_clf.predict_proba(texts)
    fast = trained_clf.predict_proba(texts, precision="bfloat16")
    assert fast.dtype == np.float64 and fast.shape == exact.shape
    np.testing.assert_allclose(fast, exact, rtol=0, atol=0.02)
    np.testing.assert_allclose(fast.sum(axis=1), 1.0, rtol=0, atol=1e-9)
    copy = trained_clf._bfloat16_model[1]
    assert next(copy.parameters()).dtype == torch.bfloat16
    assert next(trained_clf.model_.parameters()).dtype == torch.float32  # the original stays
    trained_clf.predict(texts, precision="bfloat16")
    assert trained_clf._bfloat16_model[1] is copy  # made once


def test_unknown_precision_is_a_clear_error(trained_clf):
    with pytest.raises(InputError, match="precision must be 'float32' or 'bfloat16'"):
        trained_clf.predict_proba(["fine"], precision="fp8")


def test_predict_proba_of_no_texts_is_empty(trained_clf):
    assert trained_clf.predict_proba([]).shape == (0, 2)


def test_predict_returns_labels_from_classes(trained_clf, heldout):
    texts = heldout[0][:10]
    predicted = trained_clf.predict(texts)
    proba = trained_clf.predict_proba(texts)

    assert predicted.shape == (10,)
    assert set(predicted.tolist()) <= set(trained_clf.classes_.tolist())
    assert predicted.tolist() == trained_clf.classes_[proba.argmax(axis=1)].tolist()


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_a_single_string_raises_input_error(trained_clf, method):
    with pytest.raises(InputError, match=r"wrap it: \[text\]"):
        getattr(trained_clf, method)("a great movie")


@pytest.mark.parametrize(
    "texts",
    [["fine", None], ["fine", 3], ["fine", b"bytes"], [1.5]],
    ids=["none", "int", "bytes", "float"],
)
def test_non_string_items_raise_input_error(trained_clf, texts):
    with pytest.raises(InputError, match="must all be strings"):
        trained_clf.predict_proba(texts)


def test_two_dimensional_input_raises_input_error(trained_clf):
    with pytest.raises(InputError, match="one-dimensional"):
        trained_clf.predict_proba(np.array([["good", "bad"], ["bad", "good"]]))


@pytest.mark.parametrize(
    "method",
    [
        "predict",
        "predict_proba",
        "predict_logits",
    ],
)
def test_unfitted_classifier_raises_input_error(method):
    with pytest.raises(InputError, match="not trained yet"):
        getattr(TextClassifier(), method)(["good"])


def test_unfitted_save_raises_input_error(tmp_path):
    with pytest.raises(InputError, match="not trained yet"):
        TextClassifier().save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ labels
def test_integer_labels_round_trip_as_ints(
    make_corpus, tiny_model_config, tiny_train_config, tmp_path
):
    texts, labels = make_corpus(48, seed=5, labels=(1, 0))
    clf = quick_fit(texts, np.array(labels), tiny_model_config, tiny_train_config)

    assert clf.classes_.tolist() == [0, 1]
    assert all(type(c) is int for c in clf.classes_.tolist())
    loaded = TextClassifier.load(clf.save(tmp_path / "ints"))
    assert json.loads((tmp_path / "ints" / "config.json").read_text())["labels"] == [0, 1]
    assert np.issubdtype(loaded.classes_.dtype, np.integer)
    assert loaded.classes_.tolist() == [0, 1]
    predicted = loaded.predict(texts[:6])
    assert np.issubdtype(predicted.dtype, np.integer)
    assert predicted.tolist() == clf.predict(texts[:6]).tolist()


def test_string_labels_round_trip_as_strings(trained_clf, artifact_dir):
    loaded = TextClassifier.load(artifact_dir)
    assert loaded.classes_.tolist() == ["negative", "positive"]
    assert all(type(c) is str for c in loaded.classes_.tolist())
    assert loaded.predict(VARIED_TEXTS).tolist() == trained_clf.predict(VARIED_TEXTS).tolist()


def test_validation_labels_unseen_in_training_raise_input_error(
    corpus, tiny_model_config, tiny_train_config
):
    validation = (["good movie", "bad movie", "so so"], ["positive", "negative", "neutral"])
    with pytest.raises(InputError, match="neutral"):
        quick_fit(*corpus, tiny_model_config, tiny_train_config, validation=validation)


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        ([], [], "no data rows"),
        (["good", "  ", "bad"], ["positive", "negative", "negative"], "empty or whitespace"),
        (["good", "great", "fine"], ["positive"] * 3, "at least two classes"),
        (["good", "bad", "fine"], ["positive", "negative"], "3 texts but 2 labels"),
        (["good", 7, "bad"], ["positive", "negative", "negative"], "must all be strings"),
        ("good bad", ["positive", "negative"], "not one string"),
        (["good", "bad", "fine"], ["positive", None, "negative"], "missing label"),
    ],
    ids=["empty", "blank-text", "single-class", "length-mismatch", "non-string", "str", "none"],
)
def test_bad_fit_input_raises_input_error(
    texts, labels, message, tiny_model_config, tiny_train_config
):
    clf = TextClassifier(tiny_model_config(), tiny_train_config(num_epochs=1, max_steps=1))
    with pytest.raises(InputError, match=message):
        clf.fit(texts, labels, val_size=0, progress=False)
    assert not hasattr(clf, "model_")


def test_mixed_label_types_raise_input_error(tiny_model_config, tiny_train_config):
    texts = ["good film", "bad film", "great film", "awful film"] * 3
    labels = [1, "negative", 1, "negative"] * 3
    clf = TextClassifier(tiny_model_config(), tiny_train_config(num_epochs=1, max_steps=1))
    with pytest.raises(InputError):
        clf.fit(texts, labels, val_size=0, progress=False)


# ------------------------------------------------------------------ reproducibility
def test_same_seed_gives_identical_classifiers(corpus, tiny_model_config, tiny_train_config):
    def fit_once():
        clf = TextClassifier(
            tiny_model_config(dropout=0.1), tiny_train_config(num_epochs=1, max_steps=3)
        )
        return clf.fit(*corpus, progress=False)

    first, second = fit_once(), fit_once()
    first_state, second_state = first.model_.state_dict(), second.model_.state_dict()
    assert all(torch.equal(first_state[k], second_state[k]) for k in first_state)
    assert np.array_equal(first.predict_proba(VARIED_TEXTS), second.predict_proba(VARIED_TEXTS))


# ------------------------------------------------------------------ scikit-learn
def test_sklearn_clone_gives_an_unfitted_copy_with_the_same_parameters(trained_clf):
    copy = clone(trained_clf)

    assert type(copy) is TextClassifier
    assert copy is not trained_clf
    assert copy.get_params() == trained_clf.get_params()
    assert copy.model_config is not trained_clf.model_config
    assert not hasattr(copy, "model_") and not hasattr(copy, "classes_")
    with pytest.raises(InputError, match="not trained yet"):
        copy.predict_proba(["good"])


def test_score_returns_accuracy(trained_clf, heldout):
    texts, labels = heldout
    expected = float(np.mean(trained_clf.predict(texts) == np.array(labels)))
    flipped = ["negative" if y == "positive" else "positive" for y in labels]

    assert trained_clf.score(texts, labels) == pytest.approx(expected)
    assert trained_clf.score(texts, flipped) == pytest.approx(1 - expected)


# ------------------------------------------------------------------ artifact
def test_save_load_round_trip_gives_identical_probabilities(trained_clf, artifact_dir):
    loaded = TextClassifier.load(artifact_dir)

    assert np.array_equal(
        loaded.predict_proba(VARIED_TEXTS), trained_clf.predict_proba(VARIED_TEXTS)
    )
    assert loaded.classes_.tolist() == trained_clf.classes_.tolist()
    assert loaded.model_config == trained_clf.model_.config
    assert loaded.train_config == trained_clf.train_config
    assert loaded.history_.epochs == trained_clf.history_.epochs
    assert loaded.history_.best_epoch == trained_clf.history_.best_epoch


def test_artifact_holds_exactly_the_documented_files(artifact_dir):
    assert sorted(p.name for p in artifact_dir.iterdir()) == ARTIFACT_FILES


def test_artifact_contains_no_pickle(artifact_dir):
    for path in artifact_dir.rglob("*"):
        assert path.is_file(), f"unexpected folder {path}"
        assert path.suffix not in {".pkl", ".pickle", ".pt", ".pth", ".bin", ".joblib"}, path
        head = path.read_bytes()[:4]
        assert head[:1] != b"\x80" or head[1:2] not in {b"\x02", b"\x03", b"\x04", b"\x05"}, path
        assert not head.startswith(b"PK"), f"{path} is a zip archive (torch.save format)"
    for name in ("config.json", "metrics.json", "tokenizer.json"):
        json.loads((artifact_dir / name).read_text(encoding="utf-8"))


def test_artifact_weights_are_safetensors(trained_clf, artifact_dir):
    weights = load_file(artifact_dir / "model.safetensors")
    state = trained_clf.model_.state_dict()
    assert set(weights) == set(state)
    for name, tensor in state.items():
        assert torch.equal(weights[name], tensor), name


def test_config_json_records_labels_version_and_format(trained_clf, artifact_dir):
    config = json.loads((artifact_dir / "config.json").read_text(encoding="utf-8"))

    assert config["labels"] == ["negative", "positive"]
    assert config["workbench_version"] == workbench.__version__
    assert config["artifact_format"] == ARTIFACT_FORMAT == 1
    assert config["model"]["d_model"] == 32
    assert config["model"]["num_labels"] == 2
    assert config["model"]["vocab_size"] == trained_clf.tokenizer_.vocab_size
    assert config["training"]["num_epochs"] == 6
    metrics = json.loads((artifact_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["history"]["steps"] == trained_clf.history_.steps


def test_save_replaces_an_existing_artifact_atomically(trained_clf, artifact_copy):
    stale = artifact_copy / "stale.txt"
    stale.write_text("from an older save")
    original_proba = trained_clf.predict_proba(VARIED_TEXTS)

    returned = trained_clf.save(artifact_copy)

    assert returned == artifact_copy
    assert sorted(p.name for p in artifact_copy.iterdir()) == ARTIFACT_FILES
    # Nothing left beside it: no staging or retired directories.
    assert [p.name for p in artifact_copy.parent.iterdir()] == ["model"]
    loaded = TextClassifier.load(artifact_copy)
    assert np.array_equal(loaded.predict_proba(VARIED_TEXTS), original_proba)


def test_save_into_a_new_nested_directory(trained_clf, tmp_path):
    target = tmp_path / "a" / "b" / "model"
    trained_clf.save(target)
    assert sorted(p.name for p in target.iterdir()) == ARTIFACT_FILES
    assert [p.name for p in target.parent.iterdir()] == ["model"]


def test_save_into_an_empty_existing_directory(trained_clf, tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    trained_clf.save(target)
    assert sorted(p.name for p in target.iterdir()) == ARTIFACT_FILES


def test_save_refuses_a_non_empty_non_artifact_directory(trained_clf, tmp_path):
    target = tmp_path / "notes"
    target.mkdir()
    (target / "thesis.txt").write_text("precious")

    with pytest.raises(InputError, match="not a workbench artifact"):
        trained_clf.save(target)
    assert [p.name for p in target.iterdir()] == ["thesis.txt"]
    assert (target / "thesis.txt").read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["notes"]


def test_save_onto_an_existing_file_raises_input_error(trained_clf, tmp_path):
    target = tmp_path / "model"
    target.write_text("not a directory")
    with pytest.raises(InputError):
        trained_clf.save(target)


def test_load_missing_directory_raises_input_error(tmp_path):
    with pytest.raises(InputError, match="artifact directory not found") as info:
        TextClassifier.load(tmp_path / "nowhere")
    assert "nowhere" in str(info.value)


@pytest.mark.parametrize("missing", ["config.json", "model.safetensors", "tokenizer.json"])
def test_load_with_a_missing_file_raises_input_error(artifact_copy, missing):
    (artifact_copy / missing).unlink()
    with pytest.raises(InputError, match=f"missing {missing}") as info:
        TextClassifier.load(artifact_copy)
    assert str(artifact_copy) in str(info.value)
    assert "save the model again" in str(info.value)


@pytest.mark.parametrize("content", ["{not json", "", "[1, 2]"], ids=["syntax", "empty", "list"])
def test_load_corrupt_config_json_raises_input_error(artifact_copy, content):
    (artifact_copy / "config.json").write_text(content)
    with pytest.raises(InputError, match="config.json") as info:
        TextClassifier.load(artifact_copy)
    assert "save the model again" in str(info.value)


def test_load_config_json_without_model_entry_raises_input_error(artifact_copy):
    path = artifact_copy / "config.json"
    config = json.loads(path.read_text())
    del config["model"]
    path.write_text(json.dumps(config))
    with pytest.raises(InputError, match="config.json: missing or malformed entry 'model'"):
        TextClassifier.load(artifact_copy)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_load_corrupt_weights_raises_input_error(artifact_copy, damage):
    path = artifact_copy / "model.safetensors"
    data = path.read_bytes()
    replacement = {
        "truncate": data[: len(data) // 2],
        "garbage": b"\x00\x01not safetensors at all" * 50,
        "empty": b"",
    }[damage]
    path.write_bytes(replacement)
    with pytest.raises(InputError, match="model.safetensors: corrupt") as info:
        TextClassifier.load(artifact_copy)
    assert str(artifact_copy) in str(info.value)


def test_load_weights_of_another_shape_raises_input_error(artifact_copy, tmp_path):
    path = artifact_copy / "config.json"
    config = json.loads(path.read_text())
    config["model"]["d_ff"] = 128  # the saved MLP weights are 64 wide
    path.write_text(json.dumps(config))
    with pytest.raises(InputError, match="does not match config.json"):
        TextClassifier.load(artifact_copy)


def test_load_corrupt_tokenizer_raises_input_error(artifact_copy):
    (artifact_copy / "tokenizer.json").write_text("{broken")
    with pytest.raises(InputError, match="tokenizer.json"):
        TextClassifier.load(artifact_copy)


@pytest.mark.parametrize("written", [99, ARTIFACT_FORMAT + 1, None, "1"])
def test_load_unknown_artifact_format_raises_input_error(artifact_copy, written):
    path = artifact_copy / "config.json"
    config = json.loads(path.read_text())
    if written is None:
        del config["artifact_format"]
    else:
        config["artifact_format"] = written
    path.write_text(json.dumps(config))

    with pytest.raises(InputError, match="Upgrade workbench or retrain") as info:
        TextClassifier.load(artifact_copy)
    assert str(artifact_copy) in str(info.value)
    assert f"format {written!r}" in str(info.value)


@pytest.mark.parametrize(
    "history",
    [{"steps": 3, "from_a_newer_version": 1}, [1, 2]],
    ids=["unknown-field", "not-an-object"],
)
def test_load_malformed_metrics_json_raises_input_error(artifact_copy, history):
    (artifact_copy / "metrics.json").write_text(json.dumps({"history": history}))
    with pytest.raises(InputError, match="metrics.json"):
        TextClassifier.load(artifact_copy)


def test_load_never_needs_more_than_the_artifact(artifact_dir, tmp_path):
    moved = shutil.copytree(artifact_dir, tmp_path / "elsewhere" / "renamed")
    loaded = TextClassifier.load(str(moved))
    assert loaded.predict_proba(["good"]).shape == (1, 2)
    assert loaded.device_ == torch.device("cpu")


# ------------------------------------------------------------------ calibration
def noisy_corpus(make_corpus, n: int, seed: int) -> tuple[list[str], list[str]]:
    """Every fifth label flipped, so validation has errors and the temperature matters."""
    texts, labels = make_corpus(n, seed=seed)
    flip = {"positive": "negative", "negative": "positive"}
    return texts, [flip[y] if i % 5 == 0 else y for i, y in enumerate(labels)]


@pytest.fixture(scope="module")
def calibrated_clf(make_corpus, tiny_model_config, tiny_train_config):
    torch.manual_seed(0)
    clf = TextClassifier(tiny_model_config(), tiny_train_config(num_epochs=6))
    validation = noisy_corpus(make_corpus, 40, seed=8)
    return clf.fit(*noisy_corpus(make_corpus, 96, seed=7), validation=validation, progress=False)


def test_calibration_lowers_the_validation_nll(calibrated_clf):
    calibration = calibrated_clf.calibration_
    assert calibration.fitted_on == "validation"
    assert calibrated_clf.temperature_ == calibration.temperature != 1.0
    assert calibration.validation_nll_after < calibration.validation_nll_before


def test_predict_proba_divides_the_raw_logits_by_the_temperature(calibrated_clf):
    logits = calibrated_clf.predict_logits(VARIED_TEXTS)
    expected = scaled_softmax(logits, calibrated_clf.temperature_)
    np.testing.assert_allclose(calibrated_clf.predict_proba(VARIED_TEXTS), expected, atol=1e-12)
    assert not np.allclose(expected, scaled_softmax(logits, 1.0))  # logits stay raw
    # The arg-max, so every prediction, is the temperature's to keep.
    assert (calibrated_clf.predict(VARIED_TEXTS) == calibrated_clf.classes_[logits.argmax(1)]).all()


def test_bfloat16_inference_uses_the_temperature(calibrated_clf):
    fast_logits = calibrated_clf.predict_logits(VARIED_TEXTS, precision="bfloat16")
    np.testing.assert_allclose(
        calibrated_clf.predict_proba(VARIED_TEXTS, precision="bfloat16"),
        scaled_softmax(fast_logits, calibrated_clf.temperature_),
        atol=1e-12,
    )


def test_calibrated_round_trip_keeps_identical_probabilities(calibrated_clf, tmp_path):
    path = calibrated_clf.save(tmp_path / "calibrated")
    entry = json.loads((path / "config.json").read_text())["calibration"]
    assert entry["temperature"] == calibrated_clf.temperature_
    assert entry["fitted_on"] == "validation"
    assert entry["validation_nll_after"] < entry["validation_nll_before"]
    loaded = TextClassifier.load(path)
    assert loaded.temperature_ == calibrated_clf.temperature_
    assert loaded.calibrate is True
    assert np.array_equal(
        loaded.predict_proba(VARIED_TEXTS), calibrated_clf.predict_proba(VARIED_TEXTS)
    )


@pytest.mark.parametrize(
    ("calibrate", "fit_kwargs", "note"),
    [(False, {}, "calibrate=False"), (True, {"val_size": 0}, "no validation data")],
    ids=["off", "no-validation"],
)
def test_temperature_is_one_when_not_fitted(
    make_corpus, tiny_model_config, tiny_train_config, tmp_path, calibrate, fit_kwargs, note
):
    clf = TextClassifier(
        tiny_model_config(), tiny_train_config(num_epochs=1, max_steps=2), calibrate=calibrate
    )
    clf.fit(*noisy_corpus(make_corpus, 48, seed=7), progress=False, **fit_kwargs)
    assert clf.temperature_ == 1.0
    assert clf.get_params()["calibrate"] is calibrate
    np.testing.assert_allclose(
        clf.predict_proba(VARIED_TEXTS), scaled_softmax(clf.predict_logits(VARIED_TEXTS))
    )
    entry = json.loads((clf.save(tmp_path / "m") / "config.json").read_text())["calibration"]
    assert entry["fitted_on"] is None and note in entry["note"]
    assert TextClassifier.load(tmp_path / "m").calibrate is calibrate


def test_an_artifact_without_calibration_loads_with_temperature_one(artifact_copy, trained_clf):
    path = artifact_copy / "config.json"
    config = json.loads(path.read_text())
    del config["calibration"], config["calibrate"]
    path.write_text(json.dumps(config))
    loaded = TextClassifier.load(artifact_copy)
    assert loaded.temperature_ == 1.0 and loaded.calibrate is True
    np.testing.assert_allclose(
        loaded.predict_proba(VARIED_TEXTS),
        scaled_softmax(trained_clf.predict_logits(VARIED_TEXTS)),
        atol=1e-12,
    )


# ------------------------------------------------------------------ soft labels
def soft_by_row(n: int) -> np.ndarray:
    """Row i's soft label encodes i, so a test can tell which text a row came from."""
    first = (np.arange(n) + 0.5) / n
    return np.stack([first, 1 - first], axis=1)


def capture_fit(monkeypatch) -> list[dict]:
    """Record what TextClassifier hands to the fit loop."""
    calls = []
    real_fit = workbench.classifier.fit

    def recording_fit(model, train_data, val_data, config, **kwargs):
        calls.append({"train": train_data, "val": val_data})
        return real_fit(model, train_data, val_data, config, **kwargs)

    monkeypatch.setattr(workbench.classifier, "fit", recording_fit)
    return calls


def test_held_out_split_keeps_soft_labels_with_their_texts(
    corpus, tiny_model_config, tiny_train_config, monkeypatch
):
    texts, labels = corpus
    soft = soft_by_row(len(texts))
    calls = capture_fit(monkeypatch)
    distilled = quick_fit(texts, labels, tiny_model_config, tiny_train_config, soft_labels=soft)
    quick_fit(texts, labels, tiny_model_config, tiny_train_config)  # same split without them
    with_soft, without = calls

    encode = distilled.tokenizer_.encode_ids
    rows = np.rint(with_soft["train"].soft_labels[:, 0] * len(texts) - 0.5).astype(int)
    assert with_soft["train"].input_ids == encode([texts[i] for i in rows], 32)
    assert with_soft["train"].labels == [int(labels[i] == "positive") for i in rows]
    assert with_soft["val"].soft_labels is None
    # The soft labels change nothing about which rows are held out.
    assert with_soft["val"].labels == without["val"].labels
    assert len(with_soft["val"]) + len(rows) == len(texts)
    assert without["train"].soft_labels is None


def test_rows_without_gold_label_train_on_soft_labels_and_are_never_held_out(
    corpus, tiny_model_config, tiny_train_config, monkeypatch
):
    texts, labels = corpus
    extra = ["superb lovely wonderful", "awful dull horrible", "great and good"]
    soft = np.vstack([soft_by_row(len(texts)), [[0.1, 0.9], [0.8, 0.2], [0.2, 0.8]]])
    calls = capture_fit(monkeypatch)
    clf = quick_fit(
        texts + extra, labels + [None] * 3, tiny_model_config, tiny_train_config, soft_labels=soft
    )
    (call,) = calls
    assert clf.classes_.tolist() == ["negative", "positive"]
    assert call["train"].labels[-3:] == [-1, -1, -1]
    np.testing.assert_allclose(call["train"].soft_labels[-3:], soft[-3:])
    assert -1 not in call["val"].labels


@pytest.mark.parametrize(
    ("soft", "message"),
    [
        (np.full((128, 3), 1 / 3), r"shape \(128, 2\)"),
        (np.full((127, 2), 0.5), r"shape \(128, 2\)"),
        (np.full((128, 2), 2.0), "sum to 1"),
    ],
    ids=["classes", "rows", "logits"],
)
def test_bad_soft_labels_raise_input_error_before_training(
    corpus, tiny_model_config, tiny_train_config, soft, message
):
    clf = TextClassifier(tiny_model_config(), tiny_train_config(num_epochs=1, max_steps=1))
    with pytest.raises(InputError, match=message):
        clf.fit(*corpus, soft_labels=soft, progress=False)
    assert not hasattr(clf, "model_")


def test_rows_without_gold_label_need_soft_labels(corpus, tiny_model_config, tiny_train_config):
    texts, labels = corpus
    with pytest.raises(InputError, match="missing label"):
        quick_fit(texts, labels[:-1] + [None], tiny_model_config, tiny_train_config)
