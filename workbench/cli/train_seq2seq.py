"""``workbench train-seq2seq``: train a sequence-to-sequence Translator on the synthetic
corpus or on parallel text files, print exact match, BLEU and chrF, save the artifact.

The settings flags come from the config fields, as ``workbench train``'s do: the
``TrainConfig`` fields with their own help, the ``Seq2SeqConfig`` size fields with the help
written here (that config documents its fields in comments). Defaults are the
``"synthetic"`` preset and ``config.SEQ2SEQ_RECIPE``; only a flag given changes a setting.
Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path
from typing import Any

from workbench.cli.common import _flag
from workbench.cli.interrupts import _interrupted_exit_code, _print_interrupted, untrained_exit
from workbench.cli.train import _flag_type, _print_epochs
from workbench.config import SEQ2SEQ_PRESETS, SEQ2SEQ_RECIPE, Seq2SeqConfig, TrainConfig
from workbench.errors import InputError

# TrainConfig fields offered as flags (help from the fields' metadata).
TRAIN_FIELDS = (
    "num_epochs", "batch_size", "learning_rate", "weight_decay", "label_smoothing",
    "max_steps", "seed", "device",
)  # fmt: skip
# Seq2SeqConfig fields offered as flags, with their help (the config's comments, shortened).
MODEL_FIELDS = {
    "d_model": "width of every block, encoder and decoder",
    "num_heads": "attention heads per block",
    "d_ff": "width of each block's MLP",
    "num_encoder_layers": "encoder blocks",
    "num_decoder_layers": "decoder blocks",
    "dropout": "dropout on embeddings, attention weights and residual branches",
    "max_source_length": "source tokens read, counting [CLS]; longer sources are cut",
    "max_target_length": "decoder positions, counting the start token; the most tokens generated",
}
_TRAIN_CONFIG_FIELDS = {f.name: f for f in fields(TrainConfig)}
_MODEL_DEFAULTS = {f.name: f.default for f in fields(Seq2SeqConfig)}


def _add_train_seq2seq_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Train an encoder-decoder transformer (a seq2seq Translator) with teacher forcing on "
        "the synthetic SVO -> SOV corpus (--synthetic, gold alignments included) or on two "
        "parallel text files (one sentence per line, line k of one the translation of line k "
        "of the other). Prints exact match, BLEU and chrF on the validation pairs (and on the "
        "long split, longer than any training sentence, with --synthetic) and saves the "
        "artifact for `workbench translate`. Ctrl-C keeps the best weights so far."
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--synthetic",
        action="store_true",
        help="train on make_synthetic_corpus() (validation: its valid split)",
    )
    data.add_argument(
        "--n-train", type=int, default=20_000, help="with --synthetic: training pairs (20000)"
    )
    data.add_argument("--source", type=Path, help="source-language file, one sentence a line")
    data.add_argument("--target", type=Path, help="target-language file, the same lines")
    data.add_argument("--val-source", type=Path, help="validation source file")
    data.add_argument(
        "--val-target",
        type=Path,
        help="validation target file (without --val-*: 10%% of the pairs are held out)",
    )
    data.add_argument("--max-pairs", type=int, help="read only the first pairs of each file")
    data.add_argument("--encoding", default="utf-8", help="file encoding, e.g. latin-1")
    parser.add_argument(
        "--out", type=Path, default=Path("runs/translator"), help="artifact directory (%(default)s)"
    )
    settings = parser.add_argument_group("settings (default: the 'synthetic' preset and recipe)")
    settings.add_argument(
        "--preset",
        choices=sorted(SEQ2SEQ_PRESETS),
        default="synthetic",
        help="named model sizes; the flags below change single settings (synthetic)",
    )
    for name, help_text in MODEL_FIELDS.items():
        default = SEQ2SEQ_PRESETS["synthetic"].get(name, _MODEL_DEFAULTS[name])
        settings.add_argument(
            _flag(name),
            dest=name,
            type=_flag_type(Seq2SeqConfig, name),
            metavar="FLOAT" if name == "dropout" else "INT",
            help=f"{help_text} ({default})",
        )
    settings.add_argument(
        "--positions",
        choices=("sinusoidal", "learned"),
        help="position vectors: fixed sines and cosines, defined past the longest training "
        f"sentence, or learned ({SEQ2SEQ_PRESETS['synthetic']['positions']})",
    )
    for name in TRAIN_FIELDS:
        field = _TRAIN_CONFIG_FIELDS[name]
        value_type = _flag_type(TrainConfig, name)
        default = SEQ2SEQ_RECIPE.get(name, field.default)
        text = field.metadata["help"] + ("" if default is None else f" ({default})")
        settings.add_argument(
            _flag(name),
            dest=name,
            type=value_type,
            metavar={int: "INT", float: "FLOAT"}.get(value_type, name.upper()),
            help=text,
        )
    parser.add_argument(
        "--beam-size", type=int, default=1, help="decoding for the printed scores (1: greedy)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _translator(args: argparse.Namespace):
    """The unfitted Translator the flags describe."""
    from workbench.seq2seq import Translator

    model = dict(SEQ2SEQ_PRESETS[args.preset])
    for name in (*MODEL_FIELDS, "positions"):
        if getattr(args, name) is not None:
            model[name] = getattr(args, name)
    if args.d_model is not None and args.d_ff is None:  # the MLP stays four times as wide
        model["d_ff"] = 4 * args.d_model
    train = dict(SEQ2SEQ_RECIPE)
    for name in TRAIN_FIELDS:
        if getattr(args, name) is not None:
            train[name] = getattr(args, name)
    return Translator(
        model_config=Seq2SeqConfig(**model), train_config=TrainConfig.from_dict(train)
    )


def _data(args: argparse.Namespace) -> tuple[list, list | None, dict[str, list]]:
    """Training pairs, validation pairs (None: held out from training) and the splits to
    score after training, by name."""
    files = (args.source, args.target)
    val_files = (args.val_source, args.val_target)
    if args.synthetic == any(f is not None for f in files):
        raise InputError(
            "give either --synthetic or --source FILE --target FILE (parallel text files)"
        )
    if (args.val_source is None) != (args.val_target is None):
        raise InputError("give --val-source and --val-target together (or neither)")
    if args.synthetic:
        if args.val_source is not None or args.max_pairs is not None:
            raise InputError("--val-source, --val-target and --max-pairs go with --source files")
        from workbench.data.parallel import make_synthetic_corpus

        corpus = make_synthetic_corpus(n_train=args.n_train)
        print(corpus.describe())
        return corpus.train, corpus.valid, {"validation": corpus.valid, "long": corpus.long}
    if None in files:
        raise InputError("give both --source FILE and --target FILE")
    from workbench.data.parallel import read_parallel_files

    options: dict[str, Any] = {"max_pairs": args.max_pairs, "encoding": args.encoding}
    train = read_parallel_files(*files, **options)
    validation = None
    if args.val_source is not None:
        validation = read_parallel_files(*val_files, **options)
    print(f"{len(train)} training pairs from {args.source} and {args.target}")
    return train, validation, {} if validation is None else {"validation": validation}


def _train_seq2seq(args: argparse.Namespace) -> int:
    from workbench.artifacts import check_output_directory

    check_output_directory(args.out)  # before the work, not after it
    if args.beam_size < 1:
        raise InputError(f"--beam-size must be 1 or more, got {args.beam_size}")
    train, validation, splits = _data(args)
    translator = _translator(args)
    translator.fit(
        train,
        validation=validation,
        callbacks=[_print_epochs()],
        progress=not args.quiet,
    )
    history = translator.history_
    if (code := untrained_exit(history, args.out)) is not None:
        return code
    out = translator.save(args.out)
    print(
        f"trained {history.steps} steps in {history.seconds:.1f}s on {history.device} "
        f"({translator.num_parameters():,} weights); val_accuracy is greedy exact match"
    )
    if history.interrupted:
        best = history.best_epoch
        kept = "the last weights" if best is None else f"the best weights (epoch {best})"
        print(f"artifact written to {out}")
        _print_interrupted(f"after {len(history.epochs)} epoch(s); {kept} were saved to {out}")
        return _interrupted_exit_code()
    if not splits:
        print(
            "scores: the held-out tenth is inside fit (val_accuracy above); give --val-source "
            "and --val-target for exact match, BLEU and chrF"
        )
    for name, pairs in splits.items():
        scores = translator.evaluate(pairs, beam_size=args.beam_size)
        print(
            f"{name}: exact match {scores['exact_match']:.3f}  BLEU {scores['bleu']:.1f}  "
            f"chrF {scores['chrf']:.1f}  ({scores['n']} pairs, "
            f"{scores['stopped_at_max_length']} cut at max_length)"
        )
    print(f"artifact written to {out}")
    return 0
