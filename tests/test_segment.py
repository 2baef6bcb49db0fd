"""Tests for workbench.segment: word units for scripts written without spaces (issue 16)."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from workbench.errors import InputError
from workbench.segment import Segmenter, has_unspaced_script
from workbench.tokenizer import WORD_PATTERN

jieba = pytest.importorskip("jieba", reason="the chinese extra (jieba) is not installed")

JIEBA = Segmenter("jieba", "characters", (("jieba", jieba.__version__),))
CHARACTERS = Segmenter.from_setting("characters")


def units(segmenter: Segmenter, text: str) -> list[str]:
    """The units of ``text`` (default rule, then the segmenter), checking every span."""
    found = []
    for match in re.finditer(WORD_PATTERN, text):
        spans = list(segmenter.split(text, [match.span()]))
        # The units tile the word exactly: no character lost, none repeated.
        assert spans[0][0] == match.start() and spans[-1][1] == match.end()
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
        found += [text[start:end] for start, end in spans]
    return found


def test_a_chinese_clause_becomes_words():
    assert units(JIEBA, "这部电影真的很好看，演员很棒") == [
        "这部", "电影", "真的", "很", "好看", "，", "演员", "很棒",
    ]  # fmt: skip


def test_traditional_characters_are_cut_too():
    assert units(JIEBA, "這部電影不好看") == ["這部", "電影", "不", "好看"]


def test_mixed_text_keeps_latin_words_numbers_emoji_and_urls_whole():
    found = units(JIEBA, "用iPhone拍的照片很清楚123 😀 http://x.cn")
    assert found[:4] == ["用", "iPhone", "拍", "的"]
    assert "123" in found and "😀" in found and "cn" in found


def test_full_width_spaces_and_letters():
    """U+3000 separates like a space; full-width Latin letters stay one word."""
    assert units(JIEBA, "全角　空格ＡＢＣ") == ["全角", "空格", "ＡＢＣ"]


def test_the_per_character_fallback():
    assert units(CHARACTERS, "很好看，iPhone") == ["很", "好", "看", "，", "iPhone"]


def test_none_keeps_a_run_whole_as_models_before_segmentation_did():
    assert units(Segmenter(), "这部电影真的很好看") == ["这部电影真的很好看"]


def test_a_thai_run_is_cut_per_letter_with_its_marks():
    segmenter = Segmenter.best_available()
    text = "ดี"  # a letter and a combining vowel mark: one unit, never a stray mark
    assert list(segmenter.split(text, [(0, len(text))])) == [(0, 2)]


def test_japanese_uses_its_own_segmenter_or_characters():
    text = "この映画は本当に面白かった"
    found = units(Segmenter.best_available(), text)
    assert "".join(found) == text
    if Segmenter.best_available().japanese == "janome":
        assert "映画" in found
    else:
        assert found == list(text)


def test_script_detection():
    assert has_unspaced_script("好看") and has_unspaced_script("かわいい")
    assert not has_unspaced_script("plain English, émigré, Привет, 안녕하세요")


def test_the_segmenter_round_trips_through_json():
    recorded = Segmenter.best_available()
    assert Segmenter.from_dict(recorded.to_dict(), "config.json") == recorded


def test_a_missing_segmenter_package_is_a_clear_error(monkeypatch):
    from workbench import segment

    monkeypatch.setattr(segment, "_installed", lambda name: False)
    with pytest.raises(InputError, match="with jieba, which is not installed.*chinese extra"):
        Segmenter.from_dict({"chinese": "jieba", "japanese": "characters"}, "m/config.json")


def test_another_segmenter_version_warns():
    recorded = {"chinese": "jieba", "japanese": "characters", "versions": {"jieba": "0.1"}}
    with pytest.warns(UserWarning, match="trained with jieba 0.1"):
        Segmenter.from_dict(recorded, "m/config.json")


@pytest.mark.parametrize("bad", ["jieba", {"chinese": "mecab"}, {"japanese": "sudachi"}])
def test_unknown_segmentation_records_are_refused(bad):
    with pytest.raises(InputError):
        Segmenter.from_dict(bad, "m/config.json")


def test_unknown_setting_is_refused():
    with pytest.raises(InputError, match="segmenter must be"):
        Segmenter.from_setting("mecab")


def test_no_warning_for_the_recorded_version():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Segmenter.from_dict(JIEBA.to_dict(), "m/config.json")


CHINESE_TEXTS = [
    "这部电影真的很好看",
    "一点也不好看，浪费时间",
    "演员很棒，推荐",
    "太难看了，失望",
] * 8
CHINESE_LABELS = ["positive", "negative", "positive", "negative"] * 8


@pytest.fixture(scope="module")
def chinese_clf(tiny_model_config, tiny_train_config):
    from workbench.classifier import TextClassifier

    return TextClassifier(tiny_model_config(), tiny_train_config(num_epochs=1)).fit(
        CHINESE_TEXTS, CHINESE_LABELS, progress=False
    )


def test_a_model_records_its_segmenter_and_reads_text_the_same_after_load(
    tmp_path, chinese_clf, monkeypatch
):
    """The artifact stores the segmenter; a machine without it gets a clear message."""
    from workbench import segment
    from workbench.classifier import TextClassifier

    clf, texts = chinese_clf, CHINESE_TEXTS
    clf.save(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text(encoding="utf-8"))
    assert config["segmentation"]["chinese"] == "jieba"
    assert config["segmentation"]["versions"]["jieba"] == jieba.__version__
    loaded = TextClassifier.load(tmp_path / "model")
    assert loaded.tokenizer_.segmenter == clf.tokenizer_.segmenter
    np.testing.assert_array_equal(loaded.predict_proba(texts), clf.predict_proba(texts))
    monkeypatch.setattr(segment, "_installed", lambda name: False)
    with pytest.raises(InputError, match="config.json: this model cuts chinese text"):
        TextClassifier.load(tmp_path / "model")


def test_tfidf_counts_words_of_chinese_text_and_keeps_sklearns_rule_elsewhere(tmp_path):
    from workbench.baselines import TfidfLogisticRegression

    texts = ["这部电影真的很好看", "一点也不好看，浪费时间", "A great film", "An awful film"] * 5
    labels = ["positive", "negative"] * 10
    words = TfidfLogisticRegression(ngram_range=(1, 1), character_ngrams=None).fit(texts, labels)
    analyse = words.vectorizer_.build_analyzer()
    assert analyse("一点也不好看") == ["一点", "也", "不", "好看"]  # 不 counts: 1 character
    assert analyse("A great film!") == ["great", "film"]  # scikit-learn's rule, as before
    model = TfidfLogisticRegression(ngram_range=(1, 2)).fit(texts, labels)
    analyse = model.vectorizer_.build_analyzer()
    assert analyse("不好看") == [
        *["不", "好看", "不 好看"],  # word uni- and bigrams
        *["char:不", "char:好", "char:看", "char:不好", "char:好看"],  # character ones
    ]
    assert analyse("A great film!") == ["great", "film", "great film"]
    for fitted in (words, model):
        fitted.save(tmp_path / "tfidf")
        loaded = TfidfLogisticRegression.load(tmp_path / "tfidf")
        assert loaded.segmenter_ == fitted.segmenter_
        assert loaded.character_ngrams == fitted.character_ngrams
        np.testing.assert_array_equal(loaded.predict_proba(texts), fitted.predict_proba(texts))


def test_tfidf_artifacts_from_before_character_ngrams_count_words_only(tmp_path):
    from workbench.artifacts import read_json, write_json
    from workbench.baselines import TfidfLogisticRegression

    texts = ["这部电影真的很好看", "一点也不好看，浪费时间"] * 5
    labels = ["positive", "negative"] * 5
    model = TfidfLogisticRegression(character_ngrams=None).fit(texts, labels)
    model.save(tmp_path / "tfidf")
    config = read_json(tmp_path / "tfidf" / "config.json")
    del config["params"]["character_ngrams"]  # as an artifact written before the setting
    write_json(tmp_path / "tfidf" / "config.json", config)
    loaded = TfidfLogisticRegression.load(tmp_path / "tfidf")
    assert loaded.character_ngrams is None
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))


@pytest.mark.parametrize("bad", [(0, 2), (2, 1), (1,), "12", (1.0, 2.0)])
def test_tfidf_refuses_bad_character_ngrams(bad):
    from workbench.baselines import TfidfLogisticRegression

    with pytest.raises(InputError, match="character_ngrams must be None or"):
        TfidfLogisticRegression(character_ngrams=bad).fit(["好", "坏"], ["a", "b"])


def test_the_five_methods_explain_the_same_chinese_words(chinese_clf):
    """Issue 16: SHAP, LIME, IG, gradient x input and attention colour the same units."""
    from workbench.explain import METHODS, explain

    text = "服务很好，但是菜太咸了，不会再来。"
    budgets = {"shap": {"max_evals": 60}, "lime": {"num_samples": 60}}
    found = {
        method: [
            w.text for w in explain(chinese_clf, text, method, **budgets.get(method, {})).words
        ]
        for method in METHODS
    }
    expected = [w.text for w in chinese_clf.tokenizer_.words(text)]
    assert expected[:4] == ["服务", "很", "好", "，"]
    assert all(words == expected for words in found.values()), found


def test_chinese_html_is_escaped_and_keeps_the_characters(chinese_clf):
    from workbench.explain import explain
    from workbench.explain.render import explanation_html

    result = explain(chinese_clf, "很好看<script>alert(1)</script>", "gradient-x-input")
    html = explanation_html(result)
    assert "<script" not in html and "&lt;" in html  # "<" is its own escaped word
    assert "好看" in html


@pytest.mark.parametrize(
    ("text", "words"),
    [("\u3000\u3000", []), ("，。！", ["，", "。", "！"]), ("ー", ["ー"]), ("々", ["々"])],
)
def test_texts_that_segment_to_nothing_or_to_marks_only(chinese_clf, text, words):
    """Full-width spaces only give no word (and a clear refusal to explain); punctuation
    and lone marks stay units of their own."""
    from workbench.explain import explain

    assert [w.text for w in chinese_clf.tokenizer_.words(text)] == words
    assert chinese_clf.predict_proba([text]).shape == (1, 2)
    if not words:
        with pytest.raises(InputError, match="empty"):
            explain(chinese_clf, text, "shap")
    else:
        assert [w.text for w in explain(chinese_clf, text, "shap").words] == words
