"""Seq2seq on the synthetic corpus: time to 95 % exact match, and greedy against beam search.

Trains ``Translator`` (default: the ``"synthetic"`` preset with ``config.SEQ2SEQ_RECIPE``)
on ``make_synthetic_corpus()`` (20k training pairs, SVO -> SOV with case particles) on the
CPU. After every epoch the test split's exact match is measured by one teacher-forced pass
(equal to greedy decoding's exact match, see ``Seq2SeqTask``), with its cost kept off the
training clock: the first epoch at or above ``--target`` gives the time to the target, in
process CPU-seconds (all threads) and wall seconds. At the end the best weights are scored
on the test split and on the ``long`` split (longer sentences than any in training: length
generalisation), decoded greedily and by beam search, by exact match, BLEU and chrF
(sacrebleu). The named baseline is greedy decoding; the ratio column is each row's decoding
CPU time over greedy's on the same split. CPU-seconds are the figure to read on a shared
machine: wall time there counts the waits for a core.

    python benchmarks/seq2seq_synthetic.py --threads 2
    python benchmarks/seq2seq_synthetic.py --threads 2 --d-model 96 --epochs 6
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

from workbench.config import SEQ2SEQ_PRESETS, SEQ2SEQ_RECIPE, Seq2SeqConfig, TrainConfig
from workbench.data.parallel import make_synthetic_corpus
from workbench.seq2seq import Translator
from workbench.seq2seq.batches import PairDataset, Seq2SeqTask, make_pair_loader
from workbench.train import Callback, Ranks

MODEL_FIELDS = ("d_model", "num_heads", "d_ff", "num_encoder_layers", "num_decoder_layers")
TRAIN_FIELDS = ("num_epochs", "batch_size", "learning_rate", "warmup_ratio", "seed")


class TestClock(Callback):
    """CPU and wall seconds of training per epoch, the test split's exact match beside
    them (its own cost excluded), and the first epoch that reaches ``target``."""

    def __init__(self, translator: Translator, pairs, target: float) -> None:
        self.translator, self.pairs, self.target = translator, pairs, target
        self.epochs: list[dict] = []
        self.reached: dict | None = None

    def on_train_start(self, state) -> None:
        self.cpu, self.wall, self.excluded_cpu, self.excluded_wall = (
            time.process_time(),
            time.perf_counter(),
            0.0,
            0.0,
        )

    def on_epoch_end(self, state) -> None:
        cpu = time.process_time() - self.cpu - self.excluded_cpu
        wall = time.perf_counter() - self.wall - self.excluded_wall
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        t = self.translator
        data = PairDataset(
            t.source_tokenizer_.encode_ids([p.source for p in self.pairs]),
            t.target_tokenizer_.encode_ids([p.target for p in self.pairs]),
            t.network_.config.eos_token_id,
        )
        loader = make_pair_loader(data, 256, t.network_.config.pad_token_id, shuffle=False)
        metrics = Seq2SeqTask().evaluate(t.network_, loader, torch.device("cpu"), Ranks())
        t.network_.train()
        record = {
            "epoch": state.epoch + 1,
            "train_cpu_s": cpu,
            "train_wall_s": wall,
            "val_exact_match": state.metrics.get("accuracy"),
            "test_exact_match": metrics["accuracy"],
        }
        self.epochs.append(record)
        print(
            f"epoch {record['epoch']}: {cpu:.0f} CPU-s, {wall:.0f} wall-s of training, "
            f"test exact match {metrics['accuracy']:.3f}",
            flush=True,
        )
        if self.reached is None and metrics["accuracy"] >= self.target:
            self.reached = record
        self.excluded_cpu += time.process_time() - started_cpu
        self.excluded_wall += time.perf_counter() - started_wall


def main() -> None:
    parser = doc_parser(__doc__)
    add_machine_args(parser)
    preset = {**SEQ2SEQ_PRESETS["synthetic"]}
    for name in MODEL_FIELDS:
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=preset[name])
    parser.add_argument("--dropout", type=float, default=Seq2SeqConfig().dropout)
    parser.add_argument(
        "--positions", choices=("learned", "sinusoidal"), default=Seq2SeqConfig().positions
    )
    parser.add_argument("--epochs", type=int, default=SEQ2SEQ_RECIPE["num_epochs"])
    parser.add_argument("--batch-size", type=int, default=SEQ2SEQ_RECIPE["batch_size"])
    parser.add_argument("--lr", type=float, default=SEQ2SEQ_RECIPE["learning_rate"])
    parser.add_argument("--warmup-ratio", type=float, default=SEQ2SEQ_RECIPE["warmup_ratio"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--beam", type=int, default=4, help="beam size compared with greedy")
    parser.add_argument("--decode-threads", type=int, default=1, help="torch threads to decode")
    parser.add_argument("--target", type=float, default=0.95, help="test exact match to reach")
    parser.add_argument("--save", type=Path, help="also save the trained Translator here")
    parser.add_argument("--out", type=Path, default=RESULTS / "seq2seq_synthetic.json")
    args = parser.parse_args()
    load_at_start = settle_machine(args)

    corpus = make_synthetic_corpus()
    model_config = Seq2SeqConfig(
        **{name: getattr(args, name) for name in MODEL_FIELDS},
        dropout=args.dropout,
        positions=args.positions,
    )
    train_config = TrainConfig.from_dict(
        {
            **SEQ2SEQ_RECIPE,
            "num_epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.lr,
            "warmup_ratio": args.warmup_ratio,
            "seed": args.seed,
            "device": "cpu",
            "cpu_threads": args.threads,
        }
    )
    translator = Translator(model_config, train_config)
    clock = TestClock(translator, corpus.test, args.target)
    translator.fit(corpus.train, validation=corpus.valid, callbacks=[clock], progress=False)
    history = translator.history_
    if args.save:
        translator.save(args.save)

    # Decoding is many small steps: one thread does them without waiting for a second one
    # (on a busy machine two threads spin against each other and cost several times more).
    torch.set_num_threads(args.decode_threads)
    rows = []
    for split in ("test", "long"):
        greedy_seconds = None
        for beam in (1, args.beam):
            started = time.process_time()
            scores = translator.evaluate(getattr(corpus, split), beam_size=beam)
            cpu = time.process_time() - started
            greedy_seconds = greedy_seconds or cpu
            rows.append(
                {
                    "split": split,
                    "decoding": "greedy" if beam == 1 else f"beam {beam}",
                    **scores,
                    "cpu_seconds": cpu,
                    "ratio": cpu / greedy_seconds,
                }
            )
    print()
    print(
        f"{translator.num_parameters():,} parameters; trained {len(history.epochs)} epochs "
        f"(best {history.best_epoch}), {clock.epochs[-1]['train_cpu_s']:.0f} CPU-s, "
        f"{clock.epochs[-1]['train_wall_s']:.0f} wall-s"
    )
    if clock.reached:
        print(
            f"test exact match >= {args.target:.0%} after epoch {clock.reached['epoch']}: "
            f"{clock.reached['train_cpu_s']:.0f} CPU-s, {clock.reached['train_wall_s']:.0f} wall-s"
        )
    else:
        print(f"test exact match never reached {args.target:.0%}")
    print_table(
        rows,
        [
            ("split", "split", "s"),
            ("decoding", "decoding", "s"),
            ("exact_match", "exact match", ".3f"),
            ("bleu", "BLEU", ".1f"),
            ("chrf", "chrF", ".1f"),
            ("stopped_at_max_length", "no EOS", "d"),
            ("cpu_seconds", "decode CPU-s", ".1f"),
            ("seconds", "wall-s", ".1f"),
            ("ratio", "x greedy", ".2f"),
        ],
    )
    write_record(
        args.out,
        "seq2seq_synthetic",
        command_line("seq2seq_synthetic.py", args, skip=("out", "save")),
        load_at_start,
        model_config=translator.network_.config.to_dict(),
        train_config=train_config.to_dict(),
        parameters=translator.num_parameters(),
        epochs=clock.epochs,
        reached_target=clock.reached,
        history=history.to_dict(),
        rows=rows,
    )


if __name__ == "__main__":
    main()
