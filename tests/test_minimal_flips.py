"""Minimal flips (workbench.analysis.minimal_flips): a flip that really flips, HotFlip's
ranking against the first-order score computed by hand, deletion search on a scikit-learn
pipeline, the diff as text and escaped HTML, and the bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from workbench import TextClassifier
from workbench.analysis.minimal_flips import (
    Flip,
    FlipEdit,
    _apply,
    hotflip_candidates,
    minimal_flip,
    minimal_flips,
    supports_hotflip,
)
from workbench.baselines import TfidfLogisticRegression
from workbench.data.planted import planted_dataset
from workbench.errors import InputError
from workbench.explain.render import shade
from workbench.tokenizer import WordPieces, split_words


@pytest.fixture(scope="module")
def tfidf(corpus) -> TfidfLogisticRegression:
    texts, labels = corpus
    return TfidfLogisticRegression().fit(texts, labels)


@pytest.fixture(scope="module")
def planted_clf(tiny_model_config, tiny_train_config) -> TextClassifier:
    """Three classes decided by one planted word ("zork" positive, "blick" negative)."""
    torch.manual_seed(0)
    data = planted_dataset(300, seed=0)
    clf = TextClassifier(
        model_config=tiny_model_config(), train_config=tiny_train_config(num_epochs=4)
    )
    held_out = planted_dataset(60, seed=1)
    validation = (held_out.texts, held_out.labels)
    return clf.fit(data.texts, data.labels, validation=validation, progress=False)


def _label(model, text: str):
    return model.classes_[int(np.argmax(model.predict_proba([text])[0]))]


def test_a_minimal_flip_of_the_transformer_really_flips(trained_clf):
    text = "the movie was really good"
    flip = minimal_flip(trained_clf, text, max_edits=3)
    assert flip.found and flip.method == "hotflip"
    assert flip.explain_method == "integrated-gradients"
    # the real model, asked again, predicts another class for the edited text
    assert _label(trained_clf, text) == "positive" == flip.label_before
    assert _label(trained_clf, flip.edited_text) == "negative" == flip.label_after
    after = trained_clf.predict_proba([flip.edited_text])[0]
    assert flip.probabilities_after == pytest.approx(after, abs=1e-6)
    assert 1 <= flip.num_edits <= 3
    # the edits, made on the original, give the edited text; each names a word of the text
    words = split_words(text)
    for edit in flip.edits:
        assert text[edit.start : edit.end] == edit.old == words[edit.position].text
        if edit.new is not None:
            assert flip.edited_text[edit.new_start : edit.new_end] == edit.new
    assert flip.model_calls == sum(flip.calls.values()) and flip.calls["predict_proba"] >= 2
    assert flip.calls["gradient"] >= 1 and flip.reason is None
    payload = json.loads(json.dumps(flip.to_dict(), allow_nan=False))
    assert payload["found"] is True and payload["edited_text"] == flip.edited_text
    assert payload["label_before"] == "positive" and payload["label_after"] == "negative"
    assert set(payload["probabilities_after"]) == {"positive", "negative"}


def test_hotflip_finds_the_other_classes_planted_word(planted_clf):
    text = "the film was zork and quite long"
    assert _label(planted_clf, text) == "positive"
    flip = minimal_flip(planted_clf, text, target="negative", method="hotflip", lexicon=False)
    assert flip.found and flip.num_edits == 1
    (edit,) = flip.edits
    assert (edit.old, edit.new, edit.source) == ("zork", "blick", "hotflip")
    assert _label(planted_clf, flip.edited_text) == "negative"
    # without a target, deleting the cue is enough to leave "positive"
    deleted = minimal_flip(planted_clf, text, method="deletion")
    assert deleted.found and [e.old for e in deleted.edits] == ["zork"]
    assert _label(planted_clf, deleted.edited_text) != "positive"


def test_hotflip_ranking_equals_the_first_order_score_by_brute_force(trained_clf):
    text = "the food was good"
    candidates = hotflip_candidates(trained_clf, text, top_k=1000)
    network = trained_clf.model_.eval()
    tokenizer = trained_clf.tokenizer_
    ids = torch.tensor([tokenizer.encode(text).ids])
    matrix = network.token_embedding.weight.detach()
    embeds = matrix[ids].clone().requires_grad_(True)
    logits = network(ids, inputs_embeds=embeds).logits[0] / trained_clf.temperature_
    predicted = int(logits.argmax())
    torch.log_softmax(logits, dim=-1)[predicted].backward()  # J = log p(predicted)
    gradient = embeds.grad[0]
    assert len(candidates) == len(split_words(text))
    vocabulary = [tokenizer.id_to_token(i) for i in range(matrix.shape[0])]
    assert len(vocabulary) < 40  # a small vocabulary: every token is scored below
    for position, ranked in enumerate(candidates):
        t = position + 1  # after [CLS]
        expected = {}
        for v, token in enumerate(vocabulary):
            if v <= tokenizer.mask_id or v == int(ids[0, t]) or not token.isalnum():
                continue  # special tokens, punctuation and the word itself are not proposed
            expected[token] = float(-(matrix[v] - matrix[ids[0, t]]) @ gradient[t])
        brute = sorted(expected, key=lambda token: -expected[token])
        assert [token for token, _ in ranked] == brute
        assert [score for _, score in ranked] == pytest.approx(
            [expected[token] for token in brute], rel=1e-4, abs=1e-7
        )


def test_a_scikit_learn_pipeline_flips_by_deletion(tfidf):
    assert not supports_hotflip(tfidf)
    text = "the staff was really awful"
    flip = minimal_flip(tfidf, text, method="deletion")
    assert flip.found and flip.method == "deletion" and flip.explain_method == "shap"
    assert all(edit.new is None and edit.source == "deletion" for edit in flip.edits)
    assert [edit.old for edit in flip.edits] == ["awful"]
    assert flip.edited_text == "the staff was really"
    assert _label(tfidf, flip.edited_text) != _label(tfidf, text)
    assert flip.calls["gradient"] == 0 and flip.calls["explanation"] > 0
    # unguided: the positions in text order, no explanation paid for, the same flip here
    unguided = minimal_flip(tfidf, text, method="deletion", explain_method="none")
    assert unguided.calls["explanation"] == 0 and unguided.edited_text == flip.edited_text
    assert unguided.calls["predict_proba"] >= flip.calls["predict_proba"]
    # "auto" falls back to deletion and the lexicon, and says why in the notes
    auto = minimal_flip(tfidf, text)
    assert auto.found and auto.method == "lexicon"
    assert any("HotFlip" in note and "TfidfLogisticRegression" in note for note in auto.notes)


class _EncoderStandIn:
    """A model with a torch network that is not the from-scratch one, as a fine-tuned
    sub-word encoder is: gradients, but no one-token-per-word vocabulary to flip."""

    def __init__(self, inner: TfidfLogisticRegression) -> None:
        self.inner, self.classes_ = inner, inner.classes_
        self.model_ = torch.nn.Linear(2, 2)

    def predict_proba(self, texts):
        return self.inner.predict_proba(texts)

    def word_pieces(self, text: str) -> WordPieces:
        words = split_words(text)
        return WordPieces(words, [], [], len(words))


def test_a_sub_word_encoder_falls_back_and_says_so(tfidf):
    encoder = _EncoderStandIn(tfidf)
    assert not supports_hotflip(encoder)
    text = "the staff was really awful"
    flip = minimal_flip(encoder, text, explain_method="shap")
    assert flip.found and flip.method == "lexicon" and flip.calls["gradient"] == 0
    assert any("sub-word pieces" in note and "deletes words" in note for note in flip.notes)
    with pytest.raises(InputError, match="sub-word pieces") as refused:
        minimal_flip(encoder, text, method="hotflip", explain_method="shap")
    assert "method='auto'" in str(refused.value)


def test_no_flip_within_max_edits_says_so(tfidf):
    text = "good great excellent lovely superb"
    flip = minimal_flip(tfidf, text, method="deletion", max_edits=1)
    assert not flip.found and flip.label_after == flip.label_before == "positive"
    assert "at most 1 word" in flip.reason and "edited texts tried" in flip.reason
    assert flip.num_edits == 1  # the closest candidate, shown
    assert flip.summary().startswith("no flip")
    assert "no flip" in flip.to_html()


def test_edits_keep_the_rest_of_the_text_as_written():
    text = "Good  food,bad staff !"
    words = split_words(text)  # Good, food, ",", bad, staff, !
    edited, edits = _apply(text, words, [(0, None, "deletion"), (3, "great", "lexicon")])
    assert edited == "food,great staff !"
    assert (edits[0].start, edits[0].end, edits[0].new_start) == (0, 4, 0)
    assert edited[edits[1].new_start : edits[1].new_end] == "great"
    # a word glued to its neighbours leaves a space, not a new word made of the two
    glued, _ = _apply(text, words, [(2, None, "deletion")])
    assert glued == "Good  food bad staff !"
    middle, _ = _apply(text, words, [(4, None, "deletion")])
    assert middle == "Good  food,bad !"


def _hand_made_flip() -> Flip:
    text = 'the "movie" <b>was</b> good & fun'
    words = split_words(text)
    good = next(i for i, w in enumerate(words) if w.text == "good")
    fun = next(i for i, w in enumerate(words) if w.text == "fun")
    edited, edits = _apply(text, words, [(good, "<bad>", "hotflip"), (fun, None, "deletion")])
    return Flip(
        text=text,
        edited_text=edited,
        edits=edits,
        classes=["negative", "positive"],
        probabilities_before=np.array([0.2, 0.8]),
        probabilities_after=np.array([0.7, 0.3]),
        found=True,
        method="hotflip",
        explain_method="integrated-gradients",
        model_calls=12,
    )


def test_the_diff_as_text_and_as_escaped_html():
    flip = _hand_made_flip()
    assert flip.diff_text() == 'the "movie" <b>was</b> ~~good~~ **<bad>** & ~~fun~~'
    assert flip.diff_text("brackets") == 'the "movie" <b>was</b> [-good-]{+<bad>+} & [-fun-]'
    assert isinstance(flip.edits[0], FlipEdit) and flip.edits[1].kind == "delete"
    page = flip.to_html()
    assert "<b>was</b>" not in page and "&lt;b&gt;was&lt;/b&gt;" in page
    assert "&quot;movie&quot;" in page and "&amp;" in page
    assert ">good</del>" in page and ">&lt;bad&gt;</ins>" in page and ">fun</del>" in page
    assert "<script" not in page
    assert shade(-0.3)[0] in page and shade(0.3)[0] in page  # the explanation colours
    assert "positive (0.800) → negative (0.700)" in page
    assert flip.summary().startswith("positive (0.80) -> negative (0.70) with 2 edits")
    with pytest.raises(InputError, match="style"):
        flip.diff_text("html")


def test_bad_input_gets_clear_messages(trained_clf, tfidf):
    with pytest.raises(InputError, match="empty"):
        minimal_flip(trained_clf, "   ")
    with pytest.raises(InputError, match="max_edits"):
        minimal_flip(trained_clf, "the movie was good", max_edits=0)
    with pytest.raises(InputError, match="unknown flip method"):
        minimal_flip(trained_clf, "the movie was good", method="genetic")
    with pytest.raises(InputError, match="not one of the model's classes"):
        minimal_flip(trained_clf, "the movie was good", target="neutral")
    with pytest.raises(InputError, match="already predicts"):
        minimal_flip(trained_clf, "the movie was good", target="positive")
    # a model without gradients: HotFlip refused, the message says what works instead
    with pytest.raises(InputError, match="no torch network") as refused:
        minimal_flip(tfidf, "the movie was good", method="hotflip")
    assert "method='auto'" in str(refused.value) and "'deletion'" in str(refused.value)
    with pytest.raises(InputError, match="no torch network"):
        hotflip_candidates(tfidf, "the movie was good")
    # one word: nothing is left after deleting it, but it can be replaced
    with pytest.raises(InputError, match="one word"):
        minimal_flip(tfidf, "good", method="deletion")
    replaced = minimal_flip(trained_clf, "good", method="hotflip")
    assert replaced.found and replaced.edits[0].kind == "replace"
    assert _label(trained_clf, replaced.edited_text) == "negative"


def test_minimal_flips_of_several_texts(tfidf):
    flips = minimal_flips(
        tfidf, ["the staff was really awful", "the food was good"], progress=False
    )
    assert [flip.found for flip in flips] == [True, True]
    assert flips[1].text == "the food was good"
    with pytest.raises(InputError, match="text 1: the text to flip is empty"):
        minimal_flips(tfidf, ["good food", ""], progress=False)
