"""``workbench train``: its flags, generated from the config fields, and the run.

The flags come from :mod:`workbench.config` alone, so ``workbench train --help`` imports
neither torch nor the pretrained stack; the run imports what it trains.
"""

from __future__ import annotations

import argparse
import os
import typing
from dataclasses import Field, fields
from pathlib import Path
from typing import Any

from workbench.cli.common import _data_args, _flag
from workbench.cli.interrupts import _interrupted_exit_code, _print_interrupted, untrained_exit
from workbench.config import ENCODER_RECIPE, ModelConfig, TokenizerConfig, TrainConfig
from workbench.errors import InputError

# The config fields `workbench train` offers: each flag is named after its field
# (--num-layers) and takes its type, default and help from it. Those a pretrained encoder
# takes too (its parameters have the same names) also apply to --encoder, with the
# encoder recipe's defaults; the rest shape the from-scratch transformer only.
TRAIN_FIELDS = (
    "num_epochs", "batch_size", "learning_rate", "max_length", "weight_decay",
    "label_smoothing", "max_steps", "d_model", "num_layers", "num_heads", "dropout",
    "min_frequency", "seed", "device",
)  # fmt: skip
# The shorter spellings these flags had before they were named after the fields.
FLAG_ALIASES = {"num_epochs": "--epochs", "num_layers": "--layers", "num_heads": "--heads"}
# Each field by name, with the config that holds it (no name is in two of them).
_CONFIG_FIELDS = {
    f.name: (kind, f) for kind in (TokenizerConfig, ModelConfig, TrainConfig) for f in fields(kind)
}
# Said after the encoder's default where its unit differs: it counts word pieces.
_ENCODER_UNITS = {"max_length": " word pieces"}
# The value of each of TRAIN_FIELDS that --encoder takes: the flags' help shows them
# without importing the pretrained stack, torch and transformers.
ENCODER_FLAG_DEFAULTS = {
    name: ENCODER_RECIPE[name] for name in TRAIN_FIELDS if name in ENCODER_RECIPE
}


def _encoder_recipe() -> dict:
    """The settings ``--encoder`` trains with unless a flag says otherwise."""
    from workbench.pretrained import finetuned_encoder

    return finetuned_encoder().get_params()


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """A flag for each of ``TRAIN_FIELDS``, with default ``None``: only a flag given changes
    a setting, since the encoder and the transformer default differently."""
    for name in TRAIN_FIELDS:
        kind, field = _CONFIG_FIELDS[name]
        value_type = _flag_type(kind, name)
        parser.add_argument(
            _flag(name),
            *([FLAG_ALIASES[name]] if name in FLAG_ALIASES else []),
            dest=name,
            type=value_type,
            metavar={int: "INT", float: "FLOAT"}.get(value_type, name.upper()),
            help=_flag_help(field, ENCODER_FLAG_DEFAULTS),
        )


def _flag_type(kind: type, name: str) -> type:
    """The field's type, ``None`` aside: int, float or str (any other needs its own flag)."""
    hint = typing.get_type_hints(kind)[name]
    types = [t for t in typing.get_args(hint) or [hint] if t is not type(None)]
    if types not in ([int], [float], [str]):
        raise TypeError(f"{kind.__name__}.{name} is {hint}: add its flag by hand")
    return types[0]


def _flag_help(field: Field, encoder_recipe: dict) -> str:
    """The field's help, its default, the encoder's default where it differs (or counts
    otherwise), or that the flag does not go with --encoder."""
    defaults = [] if field.default is None else [str(field.default)]
    encoder_default = encoder_recipe.get(field.name, field.default)
    if encoder_default != field.default or field.name in _ENCODER_UNITS:
        units = _ENCODER_UNITS.get(field.name, "")
        defaults.append(f"{encoder_default}{units} with --encoder")
    text = field.metadata["help"] + (f" ({'; '.join(defaults)})" if defaults else "")
    return text if field.name in encoder_recipe else f"{text}; not with --encoder"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "workbench" / "teacher-probabilities"


def _add_train_arguments(train: argparse.ArgumentParser) -> None:
    train.description = (
        "Train a from-scratch transformer classifier on a labelled table, or fine-tune a "
        "pretrained encoder with --encoder, and save the artifact directory (weights, "
        "configs, tokenizer, metrics)."
    )
    train.add_argument(
        "--data", required=True, type=Path, help="training table (CSV/TSV/JSONL/Parquet)"
    )
    train.add_argument(
        "--val", type=Path, help="validation table (default: 10%% of --data, stratified)"
    )
    _data_args(train)
    train.add_argument(
        "--out", type=Path, default=Path("runs/model"), help="artifact directory (runs/model)"
    )
    train.add_argument(
        "--encoder",
        metavar="minilm|PATH",
        help="fine-tune a pretrained encoder instead: 'minilm' (the bundled "
        "all-MiniLM-L6-v2) or a local Hugging Face model directory",
    )
    train.add_argument(
        "--teacher",
        type=Path,
        metavar="DIR",
        help="distil the transformer from this trained model's probabilities (any model "
        "directory, e.g. one written by --encoder)",
    )
    train.add_argument(
        "--augment",
        type=int,
        default=8,
        help="with --teacher: augmented copies of each text, labelled by the teacher (8)",
    )
    train.add_argument(
        "--cache-dir",
        type=Path,
        default=_default_cache_dir(),
        help="with --teacher: where the teacher's probabilities are cached, so a second "
        "student run does not run the teacher again (%(default)s)",
    )
    _add_config_flags(train)
    train.add_argument("--quiet", action="store_true", help="no progress bar")


def _print_epochs():
    """A callback that prints one line per epoch: the mean training loss and the validation
    metrics (made here, as the fit loop it plugs into loads only when a model trains)."""
    from workbench.distributed import is_main_process
    from workbench.train import Callback, TrainState

    class PrintEpochs(Callback):
        def on_epoch_end(self, state: TrainState) -> None:
            if not is_main_process():  # under torchrun, one line per epoch, not one per rank
                return
            metrics = "  ".join(f"val_{k}={v:.4f}" for k, v in state.metrics.items())
            print(
                f"epoch {state.epoch + 1}: train_loss={state.epoch_loss:.4f}  {metrics}",
                flush=True,
            )

    return PrintEpochs()


def _classifier(args: argparse.Namespace):
    """The unfitted model the train options describe: an encoder or the transformer.

    Only the flags given change a setting; the rest keep the encoder recipe's defaults
    (:func:`~workbench.pretrained.finetuned_encoder`) or the config fields' defaults.
    """
    given = {name: getattr(args, name) for name in TRAIN_FIELDS}
    given = {name: value for name, value in given.items() if value is not None}
    if args.encoder is not None:
        from workbench.pretrained import finetuned_encoder

        encoder_recipe = _encoder_recipe()
        misplaced = [_flag(name) for name in given if name not in encoder_recipe]
        if misplaced:
            raise InputError(
                f"{', '.join(misplaced)} do(es) not apply to --encoder (a pretrained encoder "
                "brings its own architecture); drop it or train without --encoder"
            )
        return finetuned_encoder(args.encoder, **given)
    settings: dict[type, dict[str, Any]] = {
        kind: {} for kind in (TokenizerConfig, ModelConfig, TrainConfig)
    }
    for name, value in given.items():
        settings[_CONFIG_FIELDS[name][0]][name] = value
    if "d_model" in given:  # the MLP stays twice as wide as the model
        settings[ModelConfig]["d_ff"] = 2 * given["d_model"]
    from workbench.classifier import TextClassifier

    return TextClassifier(
        model_config=ModelConfig(**settings[ModelConfig]),
        train_config=TrainConfig(**settings[TrainConfig]),
        tokenizer_config=TokenizerConfig(**settings[TokenizerConfig]),
    )


def _train(args: argparse.Namespace) -> int:
    from workbench.artifacts import check_output_directory
    from workbench.data import load_table
    from workbench.distributed import is_main_process

    check_output_directory(args.out)  # before the work, not after it
    train = load_table(args.data, args.text_col, args.label_col, encoding=args.encoding)
    validation = None
    if args.val is not None:
        val = load_table(args.val, args.text_col, args.label_col, encoding=args.encoding)
        validation = (val.texts, val.require_labels())
    clf = _classifier(args)
    fit_options: dict[str, Any] = {
        "validation": validation,
        "callbacks": [_print_epochs()],
        "progress": not args.quiet,
    }
    if args.teacher is not None:
        if args.encoder is not None:
            raise InputError("--teacher distils the transformer; it does not go with --encoder")
        if args.augment < 0:
            raise InputError(f"--augment must be 0 or more, got {args.augment}")
        from workbench.distill import distill

        distill(
            args.teacher,
            train.texts,
            train.require_labels(),
            student=clf,
            augment_per_text=args.augment,
            cache_dir=args.cache_dir,
            **fit_options,
        )
    else:
        clf.fit(train.texts, train.require_labels(), **fit_options)
    history = clf.history_
    if (code := untrained_exit(history, args.out)) is not None:
        return code
    out = clf.save(args.out)
    if not is_main_process():
        return 0
    best = next((e for e in history.epochs if e["epoch"] == history.best_epoch), None)
    print(f"trained {history.steps} steps in {history.seconds:.1f}s on {history.device}")
    if best is not None:
        print(
            f"best epoch {best['epoch']}: val_accuracy={best['val_accuracy']:.4f}  "
            f"val_macro_f1={best['val_macro_f1']:.4f}"
        )
    print(f"artifact written to {out}")
    if history.interrupted:
        kept = "the last weights" if best is None else f"the best weights (epoch {best['epoch']})"
        _print_interrupted(f"after {len(history.epochs)} epoch(s); {kept} were saved to {out}")
        return _interrupted_exit_code()
    return 0
