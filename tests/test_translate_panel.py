"""The translation panel, driven as a user would: ``.value`` on its controls, ``.click()``
on Translate (``background=False``: the click blocks), on a tiny translator trained here."""

from __future__ import annotations

import pytest

from workbench.config import SEQ2SEQ_PRESETS, Seq2SeqConfig, TrainConfig
from workbench.data.parallel import make_synthetic_corpus
from workbench.errors import InputError
from workbench.explain.generation import GENERATION_METHODS
from workbench.seq2seq import Translator
from workbench.widgets.translate_panel import PANEL_METHODS, translate_panel

SENTENCE = "the cat sees a dog"


@pytest.fixture(scope="module")
def translator() -> Translator:
    corpus = make_synthetic_corpus(n_train=200, n_valid=0, n_test=0, n_long=0)
    model = Translator(
        Seq2SeqConfig(**SEQ2SEQ_PRESETS["tiny"], max_source_length=8, max_target_length=12),
        TrainConfig(num_epochs=1, batch_size=32, device="cpu"),
    )
    with pytest.warns(UserWarning, match="were cut to fit"):  # short limits, for the notes
        return model.fit(corpus.train, val_size=0, progress=False)


def test_every_explainer_is_offered():
    assert set(GENERATION_METHODS) <= set(PANEL_METHODS)


@pytest.mark.parametrize("method", ["attention-shifted", "occlusion"])
def test_click_translates_and_shows_the_heatmap(translator, method):
    panel = translate_panel(translator, [SENTENCE, "a dog runs"], background=False)
    assert panel.text.value == SENTENCE  # the first example fills the box
    panel.method.value = method
    panel.translate_button.click()
    assert panel.error is None, panel.error
    expected = translator.translate([SENTENCE])[0]
    assert panel.translation.text == expected.text
    assert expected.text.split()[0] in panel.result.value and "stop reason" in panel.result.value
    shown = panel.explanation
    assert list(shown.target_tokens) == list(expected.tokens)
    assert method in shown.views()
    (figure,) = panel.heatmap.outputs  # one figure
    assert "text/plain" in figure["data"]


def test_beam_and_length_limit_with_the_stop_reason_said(translator):
    panel = translate_panel(translator, background=False)
    panel.text.value = SENTENCE
    panel.beam_size.value = 2
    panel.max_length.value = 2
    panel.method.value = "gradient-x-input"
    panel.translate_button.click()
    assert panel.error is None, panel.error
    assert panel.translation.stop_reason == "max_length"
    assert len(panel.translation.tokens) == 2
    assert "no end-of-sequence within 2 tokens" in panel.result.value
    assert panel.explanation.matrices["gradient-x-input"].shape == (2, 5)


def test_notes_for_unknown_and_cut_source_words_are_escaped(translator):
    panel = translate_panel(translator, background=False)
    # 13 word units ("<" and ">" are words of their own); the model reads 7
    panel.text.value = "the <zyzzyva> sees a dog near the big old red house"
    panel.translate_button.click()
    assert panel.error is None, panel.error
    notes = " ".join(panel.translation.notes)
    assert "'zyzzyva'" in notes and "never seen in training" in notes
    assert "has 13 words but the model reads at most 7" in notes
    assert "&#x27;&lt;&#x27;" in panel.result.value and "'<'" not in panel.result.value


def test_errors_are_shown_in_the_panel_and_clear_the_old_result(translator):
    panel = translate_panel(translator, background=False)
    panel.text.value = SENTENCE
    panel.translate_button.click()
    assert panel.translation is not None and panel.heatmap.outputs
    panel.text.value = "   "
    panel.translate_button.click()
    assert "the source is empty" in panel.error
    assert "the source is empty" in panel.status.value
    assert panel.translation is None and panel.result.value == "" and not panel.heatmap.outputs


def test_picking_an_example_fills_the_box_and_ig_steps_follow_the_method(translator):
    panel = translate_panel(translator, [SENTENCE, "a dog runs"], background=False)
    panel.example.value = "a dog runs"
    assert panel.text.value == "a dog runs"
    assert panel.ig_steps.disabled
    panel.method.value = "integrated-gradients"
    assert not panel.ig_steps.disabled


def test_a_classifier_or_a_bad_method_is_refused(translator):
    with pytest.raises(InputError, match="one of"):
        translate_panel(translator, method="shap")
