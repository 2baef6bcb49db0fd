"""The synthetic parallel corpus (alignments right by construction, checked by hand on a
few pairs) and the reader for real parallel files with its errors."""

from __future__ import annotations

import pytest

from workbench.data import ParallelPair, make_synthetic_corpus, read_parallel_files
from workbench.data.parallel import (
    MAX_LONG_SOURCE_WORDS,
    MAX_TRAIN_SOURCE_WORDS,
    SOURCE_VOCABULARY,
    TARGET_VOCABULARY,
)
from workbench.errors import InputError
from workbench.tokenizer import split_words


@pytest.fixture(scope="module")
def corpus():
    return make_synthetic_corpus()  # the default sizes: ~2 s


@pytest.fixture(scope="module")
def small():
    return make_synthetic_corpus(n_train=300, n_valid=50, n_test=50, n_long=30, seed=0)


def by_source(pairs, source):
    found = [p for p in pairs if p.source == source]
    assert found, f"{source!r} is no longer generated with seed 0; re-pick the hand-checked pair"
    return found[0]


# Each pair checked by hand, word by word. Source "the" and the "does"/"do" of a negation
# have no target word; every target word has at least one source word.
HAND_CHECKED = [
    (
        # a(0) green(1) woman(2) followed(3) an(4) old(5) cat(6)
        # un(0) luma(1) midu(2) ka(3) un(4) mizi(5) furu(6) mo(7) tsugu(8) ta(9)
        "a green woman followed an old cat",
        "un luma midu ka un mizi furu mo tsugu ta",
        {
            (0, 0),  # a -> un
            (1, 2),  # green -> midu: the adjective follows its noun
            (2, 1),  # woman -> luma
            (2, 3),  # woman -> ka, the subject particle goes to its noun
            (3, 8),  # followed -> tsugu: the verb moves to the end (SOV)
            (3, 9),  # followed -> ta: the past form carries the past marker
            (4, 4),  # an -> un
            (5, 6),  # old -> furu
            (6, 5),  # cat -> mizi
            (6, 7),  # cat -> mo, the object particle
        },
    ),
    (
        # the(0) child(1) does(2) not(3) call(4) a(5) tree(6) near(7) the(8) rivers(9)
        # quietly(10)
        # kiri(0) ka(1) un(2) kisu(3) mo(4) kawo(5) ri(6) sopa(7) shizu(8) yobu(9) na(10)
        "the child does not call a tree near the rivers quietly",
        "kiri ka un kisu mo kawo ri sopa shizu yobu na",
        {
            (1, 0),  # child -> kiri
            (1, 1),  # child -> ka
            # "the"(0), "does"(2) and "the"(8) have no target word
            (3, 10),  # not -> na, after the verb
            (4, 9),  # call -> yobu
            (5, 2),  # a -> un
            (6, 3),  # tree -> kisu
            (6, 4),  # tree -> mo
            (7, 7),  # near -> sopa: a postposition after its phrase
            (9, 5),  # rivers -> kawo
            (9, 6),  # rivers -> ri, the plural marker
            (10, 8),  # quietly -> shizu, before the verb
        },
    ),
    (
        # the(0) bird(1) will(2) pick(3) up(4) the(5) green(6) boy(7)
        # tiko(0) ka(1) poka(2) midu(3) mo(4) lefa(5) ke(6)
        "the bird will pick up the green boy",
        "tiko ka poka midu mo lefa ke",
        {
            (1, 0),
            (1, 1),
            (2, 6),  # will -> ke, the future marker at the end
            (3, 5),  # pick -> lefa and
            (4, 5),  # up -> lefa: two source words, one target word
            (6, 3),
            (7, 2),
            (7, 4),
        },
    ),
    (
        # boys(0) will(1) sleep(2) but(3) this(4) lazy(5) farmer(6) will(7) not(8) sleep(9)
        # slowly(10)
        # poka(0) ri(1) ka(2) nemu(3) ke(4) demo(5) fomu(6) nema(7) zei(8) ka(9) yuru(10)
        # nemu(11) na(12) ke(13)
        "boys will sleep but this lazy farmer will not sleep slowly",
        "poka ri ka nemu ke demo fomu nema zei ka yuru nemu na ke",
        {
            (0, 0),  # boys -> poka, ri, ka: one word, three target words
            (0, 1),
            (0, 2),
            (1, 4),
            (2, 3),
            (3, 5),  # but -> demo; the clauses keep their order
            (4, 8),  # this -> zei, after the adjective
            (5, 7),
            (6, 6),
            (6, 9),
            (7, 13),
            (8, 12),
            (9, 11),
            (10, 10),
        },
    ),
]


@pytest.mark.parametrize(("source", "target", "links"), HAND_CHECKED)
def test_hand_checked_pairs(small, source, target, links):
    pair = by_source(small.train, source)
    assert pair.target == target
    assert set(pair.alignment) == links
    assert list(pair.alignment) == sorted(pair.alignment)


def test_every_pair_is_well_formed(corpus):
    for pair in corpus.train[:3000] + corpus.test + corpus.long:
        source, target = pair.source.split(), pair.target.split()
        # Whitespace tokens are the workbench's word units, over which the links count.
        assert [w.text for w in split_words(pair.source)] == source
        assert [w.text for w in split_words(pair.target)] == target
        assert set(source) <= SOURCE_VOCABULARY and set(target) <= TARGET_VOCABULARY
        assert all(0 <= i < len(source) and 0 <= j < len(target) for i, j in pair.alignment)
        assert {j for _, j in pair.alignment} == set(range(len(target)))
        unaligned = set(range(len(source))) - {i for i, _ in pair.alignment}
        assert {source[i] for i in unaligned} <= {"the", "does", "do"}


def test_sizes_and_description(corpus):
    assert [len(corpus.train), len(corpus.valid), len(corpus.test), len(corpus.long)] == [
        20_000,
        1_000,
        1_000,
        500,
    ]
    text = corpus.describe()
    assert "train  20000 pairs" in text and "long     500 pairs" in text
    assert "source word types" in text
    # 50-150 word types a side: small enough for a CPU model, with enough to learn.
    assert 50 <= len(SOURCE_VOCABULARY) <= 150 and 50 <= len(TARGET_VOCABULARY) <= 150


def test_splits_are_disjoint_and_long_is_longer(corpus):
    train = {p.source for p in corpus.train}
    assert len(train) == len(corpus.train)
    assert not train & {p.source for p in corpus.valid}
    assert not train & {p.source for p in corpus.test}
    assert not {p.source for p in corpus.valid} & {p.source for p in corpus.test}
    longest_source = max(len(p.source.split()) for p in corpus.train)
    longest_target = max(len(p.target.split()) for p in corpus.train)
    assert longest_source <= MAX_TRAIN_SOURCE_WORDS
    for pair in corpus.long:
        assert longest_source < len(pair.source.split()) <= MAX_LONG_SOURCE_WORDS
        assert len(pair.target.split()) > longest_target


def test_the_same_seed_gives_the_same_corpus(small):
    again = make_synthetic_corpus(n_train=300, n_valid=50, n_test=50, n_long=30, seed=0)
    assert again.train == small.train and again.test == small.test and again.long == small.long
    other = make_synthetic_corpus(n_train=300, n_valid=50, n_test=50, n_long=30, seed=1)
    assert other.train != small.train


def test_bad_sizes_are_refused():
    with pytest.raises(InputError, match="n_train"):
        make_synthetic_corpus(n_train=0)
    with pytest.raises(InputError, match="seed"):
        make_synthetic_corpus(n_train=10, seed="zero")


# ---------------------------------------------------------------------------------------
# Real files


def write(path, data: str | bytes):
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


def test_reads_parallel_lines_and_pharaoh_links(tmp_path):
    de = write(tmp_path / "train.de", "\ufeffein hund .\r\nzwei katzen schlafen\r\n")
    en = write(tmp_path / "train.en", "a dog .\ntwo cats sleep")  # no final newline
    links = write(tmp_path / "train.align", "0-0 1-1 2-2\n2-2 0-0 1-1 1-1\n")
    pairs = read_parallel_files(de, en, alignment_path=links)
    assert pairs == [
        ParallelPair("ein hund .", "a dog .", ((0, 0), (1, 1), (2, 2))),
        ParallelPair("zwei katzen schlafen", "two cats sleep", ((0, 0), (1, 1), (2, 2))),
    ]
    assert read_parallel_files(de, en)[1].alignment == ()
    assert len(read_parallel_files(de, en, max_pairs=1)) == 1
    # An empty alignment line is a sentence without links, not an error.
    write(links, "\n0-0\n")
    assert read_parallel_files(de, en, alignment_path=links)[0].alignment == ()


def test_mismatched_line_counts_name_the_file_and_line(tmp_path):
    src = write(tmp_path / "src.txt", "one\ntwo\nthree\n")
    tgt = write(tmp_path / "tgt.txt", "eins\nzwei\n")
    with pytest.raises(InputError, match=r"src\.txt has 3 lines but .*tgt\.txt has 2") as err:
        read_parallel_files(src, tgt)
    assert "line 3 of" in str(err.value) and "src.txt has no partner" in str(err.value)
    # Checked on the whole files even when only the first pairs are kept.
    with pytest.raises(InputError, match="has no partner"):
        read_parallel_files(src, tgt, max_pairs=1)
    tgt = write(tgt, "eins\nzwei\ndrei\n")
    links = write(tmp_path / "links.txt", "0-0\n")
    with pytest.raises(
        InputError, match=r"src\.txt has 3 lines but .*links\.txt has 1 line:.*line 2 of .*src\.txt"
    ):
        read_parallel_files(src, tgt, alignment_path=links)


def test_empty_lines_and_bad_encoding_are_named(tmp_path):
    src = write(tmp_path / "src.txt", "one\n  \nthree\n")
    tgt = write(tmp_path / "tgt.txt", "eins\nzwei\ndrei\n")
    with pytest.raises(InputError, match=r"src\.txt, line 2: the line is empty"):
        read_parallel_files(src, tgt)
    write(src, "one\ntwo\nthree\n")
    write(tgt, b"eins\nzw\xe9i\ndrei\n")  # Latin-1, not UTF-8
    with pytest.raises(InputError, match=r"tgt\.txt: cannot decode byte 0xe9 .*line 2"):
        read_parallel_files(src, tgt)
    assert read_parallel_files(src, tgt, encoding="latin-1")[1].target == "zwéi"
    with pytest.raises(InputError, match="not found"):
        read_parallel_files(tmp_path / "missing.txt", tgt)


def test_bad_links_are_named(tmp_path):
    src = write(tmp_path / "src.txt", "a dog\nthe cat\n")
    tgt = write(tmp_path / "tgt.txt", "ein hund\ndie katze\n")
    links = write(tmp_path / "links.txt", "0-0 1-1\n0-0 1:1\n")
    with pytest.raises(InputError, match=r"links\.txt, line 2: '1:1' is not a Pharaoh link"):
        read_parallel_files(src, tgt, alignment_path=links)
    write(links, "0-0 1-1\n0-0 1-2\n")
    with pytest.raises(InputError, match=r"links\.txt, line 2: link 1-2 points past"):
        read_parallel_files(src, tgt, alignment_path=links)
