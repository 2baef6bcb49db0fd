"""Tests for workbench.tokenizer: vocabulary, word units with offsets, truncation, save/load."""

import unicodedata
import warnings
from pathlib import Path

import pytest

from workbench.config import TokenizerConfig
from workbench.errors import InputError
from workbench.tokenizer import SPECIAL_TOKENS, Encoding, Word, WordTokenizer

TRAIN_TEXTS = [
    "A great movie!",
    "I didn't like the movie.",
    "The acting was great, the plot was not.",
]

# Each text exercises one thing the word splitter must get right.
VARIED_TEXTS = [
    "Great movie, truly great!",  # punctuation glued to words
    "I didn't like it; she didn’t either.",  # straight and curly apostrophes
    "too    many     spaces",  # repeated spaces
    "tabs\tand\nnewlines\r\nmixed",  # other whitespace
    "Un café à Paris, déjà vu.",  # accented letters (precomposed)
    "I love it 😀 so much 🎉!",  # emoji (outside the BMP)
    "这部电影很好 好 !",  # CJK
    "LOUD AND Clear",  # upper case
    "  leading and trailing  ",  # whitespace at both ends
]


@pytest.fixture(scope="module")
def tokenizer() -> WordTokenizer:
    return WordTokenizer.train(TRAIN_TEXTS)


def token_of(word: Word, lowercase: bool = True) -> str:
    """What the vocabulary holds for ``word``: the normaliser is NFKC (+ lowercase)."""
    text = unicodedata.normalize("NFKC", word.text)
    return text.lower() if lowercase else text


# --- training and special tokens ------------------------------------------------------


def test_special_tokens_have_ids_0_to_3(tokenizer):
    assert [tokenizer.id_to_token(i) for i in range(4)] == ["[PAD]", "[UNK]", "[CLS]", "[MASK]"]
    assert list(SPECIAL_TOKENS) == ["[PAD]", "[UNK]", "[CLS]", "[MASK]"]
    assert (tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.mask_id) == (0, 1, 2, 3)


def test_training_learns_every_word_unit_of_the_corpus(tokenizer):
    vocab = {tokenizer.id_to_token(i) for i in range(4, tokenizer.vocab_size)}
    expected = {
        "a", "great", "movie", "!", "i", "didn't", "like", "the", ".",
        "acting", "was", ",", "plot", "not",
    }  # fmt: skip
    assert vocab == expected
    assert tokenizer.vocab_size == 4 + len(expected)


def test_every_encoding_starts_with_cls(tokenizer):
    for text in TRAIN_TEXTS + VARIED_TEXTS + [""]:
        assert tokenizer.encode(text).ids[0] == tokenizer.cls_id


def test_encode_known_sentence_gives_expected_ids_and_words(tokenizer):
    enc = tokenizer.encode("The movie was GREAT!")
    assert [tokenizer.id_to_token(i) for i in enc.ids] == [
        "[CLS]", "the", "movie", "was", "great", "!",
    ]  # fmt: skip
    assert enc.words == [
        Word("The", 0, 3),
        Word("movie", 4, 9),
        Word("was", 10, 13),
        Word("GREAT", 14, 19),
        Word("!", 19, 20),
    ]
    assert enc.truncated is False


def test_unseen_word_maps_to_unk(tokenizer):
    enc = tokenizer.encode("the zebra")
    assert enc.ids == [tokenizer.cls_id, tokenizer.encode("the").ids[1], tokenizer.unk_id]
    assert enc.words[1] == Word("zebra", 4, 9)


def test_empty_string_encodes_to_just_cls(tokenizer):
    assert tokenizer.encode("") == Encoding(ids=[tokenizer.cls_id], words=[], truncated=False)
    assert tokenizer.encode("   \t\n").ids == [tokenizer.cls_id]


# --- word units and offsets -------------------------------------------------------------


@pytest.mark.parametrize("text", VARIED_TEXTS)
def test_word_spans_match_text_and_ids(text):
    # Trained on the text itself, so every word is in the vocabulary and each id can be
    # checked against the word it claims to stand for.
    tok = WordTokenizer.train([text])
    enc = tok.encode(text)
    assert len(enc.ids) == len(enc.words) + 1
    assert tok.unk_id not in enc.ids
    previous_end = 0
    for token_id, word in zip(enc.ids[1:], enc.words, strict=True):
        assert text[word.start : word.end] == word.text
        assert word.text and not word.text.isspace()
        assert word.start >= previous_end  # in order, no overlap
        previous_end = word.end
        assert tok.id_to_token(token_id) == token_of(word)
    # Nothing but whitespace is left out of the words.
    covered = {i for w in enc.words for i in range(w.start, w.end)}
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I didn't go", ["I", "didn't", "go"]),
        ("she didn’t", ["she", "didn’t"]),
        ("great!!", ["great", "!", "!"]),
        ("a  b\t\tc\nd", ["a", "b", "c", "d"]),
        ("Café 好 😀", ["Café", "好", "😀"]),
        ("(wow)...", ["(", "wow", ")", ".", ".", "."]),
    ],
)
def test_word_splitting(tokenizer, text, expected):
    assert [w.text for w in tokenizer.words(text)] == expected


def test_words_method_equals_encoding_words(tokenizer):
    text = "The plot was great, I didn't expect it."
    assert tokenizer.words(text) == tokenizer.encode(text).words


def test_ellipsis_character_is_one_word_unit(tokenizer):
    words = tokenizer.words("great… wow")
    assert [(w.start, w.end) for w in words] == [(0, 5), (5, 6), (7, 10)]


def test_decomposed_accent_stays_inside_its_word(tokenizer):
    text = "cafe\u0301 ok"
    assert tokenizer.words(text) == [Word("cafe\u0301", 0, 5), Word("ok", 6, 8)]


# --- configuration --------------------------------------------------------------------


def test_lowercase_on_folds_case():
    tok = WordTokenizer.train(["Great film", "great FILM"], TokenizerConfig(lowercase=True))
    assert tok.vocab_size == 4 + 2
    assert tok.encode("GREAT").ids == tok.encode("great").ids
    assert tok.encode("GrEaT").words == [Word("GrEaT", 0, 5)]  # words keep the original case


def test_lowercase_off_keeps_a_case_sensitive_vocabulary():
    tok = WordTokenizer.train(["Great film", "great Film"], TokenizerConfig(lowercase=False))
    vocab = {tok.id_to_token(i) for i in range(4, tok.vocab_size)}
    assert vocab == {"Great", "great", "film", "Film"}
    great_upper, great_lower = tok.encode("Great").ids[1], tok.encode("great").ids[1]
    assert great_upper != great_lower
    assert tok.encode("GREAT").ids == [tok.cls_id, tok.unk_id]


def test_split_punctuation_off_keeps_punctuation_on_the_word():
    tok = WordTokenizer.train(["great! film."], TokenizerConfig(split_punctuation=False))
    enc = tok.encode("great! film.")
    assert enc.words == [Word("great!", 0, 6), Word("film.", 7, 12)]
    assert [tok.id_to_token(i) for i in enc.ids[1:]] == ["great!", "film."]
    # "great" alone was never seen as a unit.
    assert tok.encode("great").ids == [tok.cls_id, tok.unk_id]


def test_split_punctuation_on_separates_punctuation():
    tok = WordTokenizer.train(["great! film."], TokenizerConfig(split_punctuation=True))
    assert [w.text for w in tok.words("great! film.")] == ["great", "!", "film", "."]


def test_min_frequency_turns_rare_words_into_unk():
    tok = WordTokenizer.train(
        ["good movie", "good film", "bad movie"], TokenizerConfig(min_frequency=2)
    )
    # Only "good" and "movie" appear twice.
    assert {tok.id_to_token(i) for i in range(4, tok.vocab_size)} == {"good", "movie"}
    enc = tok.encode("good film")
    assert enc.ids[2] == tok.unk_id and enc.ids[1] != tok.unk_id
    # Words: good film | bad bad movie | great -> 6 words, 4 unknown (film, bad, bad, great).
    assert tok.unknown_rate(["Good film", "bad bad movie", "great"]) == pytest.approx(4 / 6)


def test_unknown_rate_bounds(tokenizer):
    assert tokenizer.unknown_rate(TRAIN_TEXTS) == 0.0
    assert tokenizer.unknown_rate(["zebra quokka"]) == 1.0
    assert tokenizer.unknown_rate([""]) == 0.0  # no words: no division by zero


def test_max_vocab_size_keeps_the_most_frequent_words():
    texts = ["common common common rare", "common often often"]
    tok = WordTokenizer.train(texts, TokenizerConfig(max_vocab_size=10))
    assert tok.vocab_size == 4 + 3
    tok = WordTokenizer.train(texts * 3 + ["a b c d e f g h"], TokenizerConfig(max_vocab_size=10))
    assert tok.vocab_size == 10
    assert tok.encode("common often").ids[1:] != [tok.unk_id, tok.unk_id]
    assert tok.unk_id not in tok.encode("common often").ids


@pytest.mark.parametrize("bad", [{"min_frequency": 0}, {"max_vocab_size": 9}])
def test_invalid_tokenizer_config_raises_input_error(bad):
    with pytest.raises(InputError):
        TokenizerConfig(**bad)


# --- truncation and batches -------------------------------------------------------------


def test_max_length_truncates_and_keeps_ids_and_words_aligned(tokenizer):
    text = "the movie was great , the plot was not ."  # 10 words
    full = tokenizer.encode(text)
    assert len(full.ids) == 11 and not full.truncated

    cut = tokenizer.encode(text, max_length=4)
    assert cut.truncated is True
    assert cut.ids == full.ids[:4]
    assert cut.words == full.words[:3]
    assert len(cut.ids) == len(cut.words) + 1

    assert tokenizer.encode(text, max_length=1) == Encoding([tokenizer.cls_id], [], True)


@pytest.mark.parametrize("max_length", [11, 12, 100])
def test_max_length_at_or_above_the_length_does_not_truncate(tokenizer, max_length):
    text = "the movie was great , the plot was not ."
    assert tokenizer.encode(text, max_length=max_length) == tokenizer.encode(text)


def test_encode_batch_equals_encode_per_text(tokenizer):
    texts = TRAIN_TEXTS + VARIED_TEXTS + [""]
    assert tokenizer.encode_batch(texts) == [tokenizer.encode(t) for t in texts]
    assert tokenizer.encode_batch(texts, max_length=5) == [
        tokenizer.encode(t, max_length=5) for t in texts
    ]
    assert tokenizer.encode_batch([]) == []


@pytest.mark.parametrize("max_length", [None, 1, 5])
def test_encode_ids_gives_the_ids_of_encode_batch(tokenizer, max_length):
    texts = TRAIN_TEXTS + VARIED_TEXTS + [""]
    expected = [e.ids for e in tokenizer.encode_batch(texts, max_length=max_length)]
    assert tokenizer.encode_ids(texts, max_length) == expected
    assert tokenizer.encode_ids([]) == []


# --- save / load --------------------------------------------------------------------------


def test_save_load_round_trip_gives_identical_encodings(tmp_path: Path):
    tok = WordTokenizer.train(TRAIN_TEXTS, TokenizerConfig(lowercase=False, min_frequency=1))
    path = tmp_path / "tokenizer.json"
    tok.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokenizer.json"]  # no temp left

    loaded = WordTokenizer.load(path, tok.segmenter)  # the model's config.json records it
    texts = TRAIN_TEXTS + VARIED_TEXTS + ["", "the ZEBRA"]
    assert loaded.vocab_size == tok.vocab_size
    assert loaded.encode_batch(texts) == tok.encode_batch(texts)
    assert loaded.encode_batch(texts, max_length=3) == tok.encode_batch(texts, max_length=3)
    assert loaded.to_json() == tok.to_json()


def test_load_missing_file_raises_input_error_with_path(tmp_path: Path):
    path = tmp_path / "nowhere" / "tokenizer.json"
    with pytest.raises(InputError, match="not found") as info:
        WordTokenizer.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("content", ["{not json", "", '{"version": "1.0"}', "[1, 2, 3]"])
def test_load_corrupt_file_raises_input_error_with_path(tmp_path: Path, content):
    path = tmp_path / "tokenizer.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        WordTokenizer.load(path)
    assert str(path) in str(info.value)


def test_load_directory_raises_input_error(tmp_path: Path):
    with pytest.raises(InputError) as info:
        WordTokenizer.load(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_issue14_case16_an_empty_vocabulary_warns_to_lower_min_frequency():
    """Issue 14 case 16: --min-frequency 100000 trained a constant model without a word."""
    with pytest.warns(UserWarning, match=r"no words.*min_frequency=100000.*lower min_frequency"):
        tok = WordTokenizer.train(["good film", "bad film"], TokenizerConfig(min_frequency=100000))
    assert tok.vocab_size == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        WordTokenizer.train(["good film", "bad film"], TokenizerConfig(min_frequency=2))


# --- scripts without spaces (issue 16) ------------------------------------------------------

CHINESE = ["这部电影真的很好看，演员很棒", "一点也不好看，浪费时间", "服务很好，但是菜太咸了"]


def test_chinese_text_is_cut_into_words_with_exact_spans():
    pytest.importorskip("jieba")
    tok = WordTokenizer.train(CHINESE)
    text = "这部电影真的很好看，演员很棒 😀 iPhone"
    words = tok.words(text)
    assert [w.text for w in words][:5] == ["这部", "电影", "真的", "很", "好看"]
    assert all(text[w.start : w.end] == w.text for w in words)
    assert "😀" in [w.text for w in words] and "iPhone" in [w.text for w in words]
    # the vocabulary holds words, not clauses
    assert "好看" in tok._vocab and "这部电影真的很好看" not in tok._vocab


def test_segmented_and_plain_texts_share_one_batch_in_order():
    tok = WordTokenizer.train(CHINESE + TRAIN_TEXTS)
    texts = [CHINESE[0], TRAIN_TEXTS[0], CHINESE[1], "", TRAIN_TEXTS[1]]
    one_by_one = [tok.encode(text) for text in texts]
    assert tok.encode_batch(texts) == one_by_one
    assert tok.encode_ids(texts) == [e.ids for e in one_by_one]
    assert tok.encode_ids(texts, 3) == [e.ids[:3] for e in one_by_one]


def test_a_segmented_word_gets_the_id_the_vocabulary_gave_it():
    """Lookups normalise like the Rust tokenizer (NFC, lower case) before looking up."""
    tok = WordTokenizer.train(["用iPhone拍的照片很清楚"])
    ids = tok.encode("用IPHONE拍的").ids
    assert tok.unk_id not in ids[1:]


def test_the_per_character_fallback_setting():
    tok = WordTokenizer.train(CHINESE, TokenizerConfig(segmenter="characters"))
    assert [w.text for w in tok.words("很好看")] == ["很", "好", "看"]


def test_segmenter_none_keeps_runs_whole_as_before():
    tok = WordTokenizer.train(CHINESE, TokenizerConfig(segmenter="none"))
    assert [w.text for w in tok.words("这部电影真的很好看")] == ["这部电影真的很好看"]


def test_without_punctuation_splitting_nothing_is_segmented():
    tok = WordTokenizer.train(CHINESE, TokenizerConfig(split_punctuation=False))
    assert not tok.segmenter.cuts
