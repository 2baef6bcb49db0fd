"""Explanations of a translator scored against gold alignments: AER, F1 and comprehensiveness.

Trains the default ``Translator()`` (the ``"synthetic"`` preset with
``config.SEQ2SEQ_RECIPE``) on ``make_synthetic_corpus()`` (or loads one with ``--model``),
then explains ``--n`` test pairs, each with its gold target forced through the decoder, by
integrated gradients, gradient × input, leave-one-out occlusion and cross-attention
(``workbench.explain.generation``). Every matrix gives one link per target word (its
highest-scoring source word) and is scored against the gold alignments by alignment error
rate and F1 (``workbench.explain.alignment.alignment_study``). The named baseline is random
links, one per target word. Attention is read two ways: at the step that outputs the word
and at the step where the word is the decoder's input (shift-att, Chen et al. 2020), mean
over layers and heads and per layer. Comprehensiveness: the probability a target token
loses when the ``--k`` source words a method ranks highest for it are deleted, beside
deleting ``--k`` random words (``--draws`` per step), with a bootstrap interval of the
difference over sentences. Seconds are wall time per method over all pairs, explaining on
``--explain-threads`` threads (training uses ``--threads``).

    python benchmarks/seq2seq_alignment.py --threads 2 --n 200
    python benchmarks/seq2seq_alignment.py --model DIR --n 500 --steps 64
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from _common import (
    RESULTS,
    add_machine_args,
    command_line,
    doc_parser,
    print_table,
    settle_machine,
    write_record,
)

from workbench.data.parallel import make_synthetic_corpus
from workbench.explain.alignment import alignment_study
from workbench.seq2seq import Translator


def main() -> None:
    parser = doc_parser(__doc__)
    add_machine_args(parser)
    parser.add_argument("--model", type=Path, help="a saved Translator (default: train one)")
    parser.add_argument("--n", type=int, default=200, help="test pairs to explain")
    parser.add_argument("--steps", type=int, default=32, help="integrated gradients' steps")
    parser.add_argument("--k", type=int, default=1, help="source words deleted per step")
    parser.add_argument("--draws", type=int, default=10, help="random deletions per step")
    parser.add_argument(
        "--explain-threads",
        type=int,
        default=1,
        help="torch threads while explaining (default 1: the network is tiny, and on a busy "
        "machine more threads mostly wait for each other)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, help="save the trained Translator here")
    parser.add_argument("--out", type=Path, default=RESULTS / "seq2seq_alignment.json")
    args = parser.parse_args()
    load = settle_machine(args)

    corpus = make_synthetic_corpus(seed=args.seed)
    training: dict = {}
    if args.model:
        translator = Translator.load(args.model)
        training["model"] = str(args.model)
    else:
        started = time.perf_counter()
        translator = Translator().fit(corpus.train, validation=corpus.valid)
        training["train_seconds"] = time.perf_counter() - started
        if args.save:
            translator.save(args.save)
    torch.set_num_threads(args.explain_threads)
    pairs = corpus.test[: args.n]
    quality = translator.evaluate(pairs)
    training["test_exact_match"] = quality["exact_match"]
    print(
        f"{len(pairs)} test pairs; greedy exact match {quality['exact_match']:.3f}, "
        f"BLEU {quality['bleu']:.1f}",
        flush=True,
    )

    started = time.perf_counter()
    study = alignment_study(
        translator, pairs, n_steps=args.steps, k=args.k, draws=args.draws, seed=args.seed
    )
    total = time.perf_counter() - started
    rows = study.rows()
    print_table(
        rows,
        [
            ("method", "method / reading", "s"),
            ("aer", "AER", ".3f"),
            ("f1", "F1", ".3f"),
            ("aer_absolute", "AER |.|", ".3f"),
            ("comprehensiveness", "compr.", ".3f"),
            ("random_drop", "random", ".3f"),
            ("low", "diff low", "+.3f"),
            ("high", "diff high", "+.3f"),
            ("seconds", "seconds", ".1f"),
        ],
    )
    print(
        f"AER/F1: one link per target word (argmax), micro-averaged over {study.n} sentences; "
        f"'random': one random link per target word. compr.: probability lost by deleting the "
        f"top {args.k} source word(s) per step, beside random words; diff: "
        f"{study.settings['confidence']:.0%} bootstrap interval of compr. - random. "
        f"comprehensiveness took {study.seconds.get('comprehensiveness', 0):.1f} s; "
        f"everything {total:.0f} s."
    )
    for note in study.notes[:5]:
        print("note:", note)
    write_record(
        args.out,
        "seq2seq_alignment",
        command_line("seq2seq_alignment.py", args, skip=("out", "save")),
        load,
        training=training,
        translation=quality,
        study=study.to_dict(),
        rows=rows,
        seconds_total=total,
    )


if __name__ == "__main__":
    main()
