"""Tests for workbench.analysis.perturbations and .lexicon: each generator on hand-written
texts with the exact variants expected, edits as spans of the original, determinism, and the
lexicon's look-ups and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.analysis.lexicon import load_lexicon, match_case
from workbench.analysis.perturbations import (
    GENERATORS,
    Edit,
    Generator,
    Perturbation,
    add_filler,
    add_intensifier,
    add_negation,
    antonym,
    apply_edits,
    delete_word,
    remove_negation,
    swap_name,
    swap_place,
    synonym,
)
from workbench.errors import InputError


def texts(perturbations: list[Perturbation]) -> list[str]:
    return [p.text for p in perturbations]


def test_delete_word_removes_each_word_with_one_space_and_keeps_punctuation():
    out = delete_word("The film was good.")
    assert texts(out) == ["Film was good.", "The was good.", "The film good.", "The film was."]
    assert out[1].edits == (Edit(3, 8, " film", ""),)
    assert out[0].edits == (Edit(0, 8, "The film", "Film"),)  # the capital moves on
    assert {p.expects for p in out} == {"none"}
    assert delete_word("Great!") == []  # the only word: nothing left to read


# (generator, text, every variant in order): hand-written, exact.
EXACT = [
    (add_negation, "The film was good.", ["The film was not good."]),
    (
        add_negation,
        "Is it fun? I can see why.",  # a question's auxiliary is left alone
        ["Is it fun? I cannot see why."],
    ),
    (
        add_negation,
        "It does the job. Did it help?",  # "do" as a main verb takes a second "do"
        ["It does not do the job. Did it help?"],
    ),
    (add_negation, "We did enjoy it.", ["We did not enjoy it."]),
    (
        add_negation,
        "She loved it and he likes it.",
        ["She did not love it and he likes it.", "She loved it and he does not like it."],
    ),
    # A base form is a verb only after a subject pronoun; "love" the noun is left alone.
    (add_negation, "I love it. Love wins.", ["I do not love it. Love wins."]),
    (add_negation, "It was not good and I didn't like it.", []),  # already negated
    (
        remove_negation,
        "It wasn't good, and I did not love it.",
        ["It was good, and I did not love it.", "It wasn't good, and I loved it."],
    ),
    (
        remove_negation,
        "Not bad. I never liked the ending. It doesn’t work.",
        [
            "Bad. I never liked the ending. It doesn’t work.",
            "Not bad. I liked the ending. It doesn’t work.",
            "Not bad. I never liked the ending. It works.",
        ],
    ),
    (
        remove_negation,
        "I don't like it; she doesn't enjoy it.",
        ["I like it; she doesn't enjoy it.", "I don't like it; she enjoys it."],
    ),
    (
        remove_negation,
        "It is not fun. CAN'T stop",
        ["It is fun. CAN'T stop", "It is not fun. CAN stop"],
    ),
    (remove_negation, "A fine film.", []),
    (
        remove_negation,
        "It does not do the job. It didn't do much.",
        ["It does the job. It didn't do much.", "It does not do the job. It did much."],
    ),
    (
        antonym,
        "Good acting, GREAT plot, I loved it.",
        [
            "Bad acting, GREAT plot, I loved it.",
            "Good acting, TERRIBLE plot, I loved it.",
            "Good acting, GREAT plot, I hated it.",
        ],
    ),
    (antonym, "The table is wooden.", []),
    (
        synonym,
        "A good movie.",
        ["A fine movie.", "A decent movie.", "A solid movie.", "A good film."],
    ),
]


@pytest.mark.parametrize(("generator", "text", "expected"), EXACT)
def test_generators_on_hand_written_texts(generator, text, expected):
    assert texts(generator(text)) == expected


def test_edits_diff_and_expectations():
    out = add_negation("The film was good.")[0]
    assert out.edits == (Edit(9, 12, "was", "was not"),)
    assert out.diff() == "The film [-was-]{+was not+} good."
    assert {p.expects for p in add_negation("It is good.")} == {"flip"}
    assert {p.expects for p in remove_negation("It is not good.")} == {"flip"}
    assert {p.expects for p in antonym("good")} == {"flip"}
    assert {p.expects for p in synonym("good")} == {"same"}
    deleted = remove_negation("It is not good.")[0]
    assert deleted.diff() == "It is[- not-] good."


def test_swap_name_replaces_every_occurrence_and_keeps_possessives():
    out = swap_name("Emily said Emily's sister liked it.", limit=2, seed=0)
    assert len(out) == 2
    for p in out:
        new = p.edits[0].new
        assert p.text == f"{new} said {new}'s sister liked it."
        assert p.edits == (Edit(0, 5, "Emily", new), Edit(11, 16, "Emily", new))
        assert new in load_lexicon().all_names and new != "Emily"
    # Without a limit, every other listed name once.
    assert len(swap_name("Ask Kofi.")) == len(load_lexicon().all_names) - 1
    assert swap_name("emily and the Emilyville bus") == []  # as written, whole words only


def test_swap_place_stays_within_its_kind_and_matches_several_words():
    lexicon = load_lexicon()
    out = swap_place("We flew from New York to Ghana.")
    cities = [p for p in out if p.edits[0].old == "New York"]
    countries = [p for p in out if p.edits[0].old == "Ghana"]
    assert len(cities) == len(lexicon.places["cities"]) - 1
    assert len(countries) == len(lexicon.places["countries"]) - 1
    assert {p.edits[0].new for p in cities} <= set(lexicon.places["cities"])
    assert "We flew from Mexico City to Ghana." in texts(out)
    assert swap_place("A new york-style pizza.") == []


def test_add_filler_appends_or_prepends_a_whole_sentence():
    lexicon = load_lexicon()
    out = add_filler("Great food!")
    n = len(lexicon.fillers)
    assert len(out) == 2 * n
    assert out[0].text == f"Great food! {lexicon.fillers[0]}"
    assert out[n].text == f"{lexicon.fillers[0]} Great food!"
    # No full stop at the end: one is added, so the filler stays a sentence of its own.
    assert add_filler("great food")[0].text == f"great food. {lexicon.fillers[0]}"
    assert add_filler("   ") == []


def test_add_intensifier_before_sentiment_adjectives_not_already_modified():
    lexicon = load_lexicon()
    out = add_intensifier("Good food, very bad service, not fresh.")
    assert len(out) == len(lexicon.intensifiers)  # "bad" has "very", "fresh" has "not"
    first = lexicon.intensifiers[0].capitalize()
    assert out[0].text == f"{first} good food, very bad service, not fresh."
    assert {p.expects for p in out} == {"stronger"}


def test_limit_draws_the_same_variants_for_the_same_text_and_seed():
    text = "Sarah met Omar in Paris."
    first = swap_name(text, limit=3, seed=7)
    assert texts(first) == texts(swap_name(text, limit=3, seed=7))
    assert texts(first) != texts(swap_name(text, limit=3, seed=8))
    # Position in a dataset does not matter: the text itself seeds the draw.
    batch = swap_name.apply(["Hello.", text], limit=3, seed=7, progress=False)
    assert batch[0] == [] and texts(batch[1]) == texts(first)


def test_every_edit_reproduces_the_text_from_the_original():
    sample = "I didn't love it, but Emily in London said it was not bad and very good!"
    for generator in GENERATORS.values():
        for p in generator(sample):
            assert apply_edits(p.original, p.edits) == p.text
            for edit in p.edits:
                assert p.original[edit.start : edit.end] == edit.old
            assert json.loads(json.dumps(p.to_dict()))["edits"][0]["old"] == p.edits[0].old


def test_a_user_generator_in_a_few_lines():
    def shout(text, words, lexicon):
        return [(Edit(w.start, w.end, w.text, w.text.upper()),) for w in words if len(w.text) > 3]

    shouting = Generator("shout", "same", "a long word in capitals", shout)
    assert texts(shouting("a lovely day")) == ["a LOVELY day"]


def test_bad_input_messages():
    with pytest.raises(InputError, match="limit must be a whole number of at least 1"):
        add_negation("It is good.", limit=0)
    with pytest.raises(InputError, match="not one string"):
        add_negation.apply("It is good.")
    with pytest.raises(InputError, match="must all be strings"):
        add_negation.apply(["fine", 3])
    with pytest.raises(ValueError, match="does not fit"):
        apply_edits("abc", [Edit(0, 1, "x", "y")])


def test_lexicon_lookups_and_case():
    lexicon = load_lexicon()
    assert lexicon.antonyms("Good") == ["bad"] and "good" in lexicon.antonyms("bad")
    assert lexicon.synonyms("film") == ["movie"]
    assert lexicon.polarity("hated") == "negative" and lexicon.polarity("table") is None
    assert lexicon.is_negator("didn’t") and not lexicon.is_negator("did")
    assert match_case("bad", "GOOD") == "BAD" and match_case("bad", "Good") == "Bad"
    names = lexicon.all_names
    assert len(names) == len(set(names)) and not set(names) & set(lexicon.all_places)


def test_lexicon_file_messages(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_lexicon(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read as UTF-8 JSON"):
        load_lexicon(bad)
    shipped = json.loads(Path(load_lexicon().source).read_text(encoding="utf-8"))
    del shipped["fillers"]
    bad.write_text(json.dumps(shipped), encoding="utf-8")
    with pytest.raises(InputError, match="has no field fillers"):
        load_lexicon(bad)
    shipped["fillers"] = "I paid."
    bad.write_text(json.dumps(shipped), encoding="utf-8")
    with pytest.raises(InputError, match="fillers must be a list of strings"):
        load_lexicon(bad)
