"""Training speed: seconds per epoch on SST-2 for the workbench fit loop and two baselines.

All three train the same-sized model on the same token ids (the workbench's word-level
tokenizer, trained on SST-2 train) with the same batch size, optimiser (fused AdamW, lr
1e-3, weight decay 0.01), warm-up + linear decay and gradient clipping, in the same run:

  workbench     ``TextClassifier.fit`` (length-bucketed batches, dynamic padding)
  hf-trainer    Hugging Face ``Trainer`` + ``BertForSequenceClassification`` of the same size,
                length-grouped sampling and dynamic padding (per batch) collate
  plain-fixed   a plain PyTorch loop over the same ``TransformerClassifier``, every batch
                padded to ``max_length`` (what a first tutorial loop does)

Each is scored on SST-2 dev after every epoch with a plain in-order forward pass (not
``Trainer.predict``, which under length grouping returned rows out of order in
transformers 5.x). The table reports the median seconds per epoch, the ratio to the
workbench, and dev accuracy after the same number of epochs.

    python benchmarks/train_speed.py --epochs 2
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import (
    RESULTS,
    SHARED,
    add_machine_args,
    command_line,
    doc_parser,
    load_average,
    print_table,
    settle_machine,
    write_record,
)
from torch import nn

from workbench import ModelConfig, TextClassifier, TrainConfig, load_sst2
from workbench.batching import BucketBatchSampler
from workbench.model import build_model
from workbench.tokenizer import WordTokenizer
from workbench.train import Callback, _lr_lambda, _optimizer, set_seed


def model_config(args, vocab_size: int | None = None, pad_id: int = 0) -> ModelConfig:
    values = dict(
        max_length=args.max_length,
        d_model=args.d_model,
        num_heads=args.num_heads,
        num_layers=args.num_layers,
        d_ff=args.d_ff,
    )
    if vocab_size is not None:
        values.update(vocab_size=vocab_size, num_labels=2, pad_token_id=pad_id)
    return ModelConfig(**values)


def train_config(args) -> TrainConfig:
    return TrainConfig(
        num_epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.epochs + 1,  # never stop early: every system trains all epochs
        seed=args.seed,
        device="cpu",
    )


@torch.inference_mode()
def in_order_accuracy(forward, ids: list[list[int]], labels: np.ndarray, pad_id: int) -> float:
    """Dev accuracy from a plain forward pass over the rows in their original order."""
    preds = []
    for start in range(0, len(ids), 256):
        chunk = ids[start : start + 256]
        width = max(len(s) for s in chunk)
        input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        for row, seq in enumerate(chunk):
            input_ids[row, : len(seq)] = torch.tensor(seq)
        preds.append(forward(input_ids, input_ids != pad_id).argmax(-1).numpy())
    return float((np.concatenate(preds) == labels).mean())


def padded_tokens(lengths: list[int], batch_size: int, system: str, seed: int, width: int) -> int:
    """Token slots (real + padding) one epoch pushes through the model (first epoch's order)."""
    if system == "plain-fixed":  # every batch is padded to max_length
        return len(lengths) * width
    if system == "hf-trainer":
        from transformers.trainer_pt_utils import get_length_grouped_indices

        order = get_length_grouped_indices(
            lengths, batch_size, generator=torch.Generator().manual_seed(seed)
        )
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    else:
        batches = list(BucketBatchSampler(lengths, batch_size, shuffle=True, seed=seed))
    return sum(len(b) * max(lengths[i] for i in b) for b in batches)


# --------------------------------------------------------------------------- workbench
class CpuClock(Callback):
    """CPU seconds (this process, all threads) per epoch: robust to other jobs' load."""

    def __init__(self) -> None:
        self.epochs: list[float] = []

    def on_train_start(self, state) -> None:
        self.last = time.process_time()

    def on_epoch_end(self, state) -> None:
        now = time.process_time()
        self.epochs.append(now - self.last)
        self.last = now


def run_workbench(args, train, dev) -> dict:
    clf = TextClassifier(model_config=model_config(args), train_config=train_config(args))
    clock = CpuClock()
    started = time.perf_counter()
    clf.fit(
        train.texts,
        train.labels,
        validation=(dev.texts, dev.labels),
        callbacks=[clock],
        progress=False,
    )
    total = time.perf_counter() - started
    epochs = clf.history_.epochs
    return {
        "system": "workbench fit (bucketed)",
        "epoch_seconds": [e["seconds"] for e in epochs],
        "epoch_cpu_seconds": clock.epochs,
        "dev_accuracy_per_epoch": [e["val_accuracy"] for e in epochs],
        "total_seconds": total,
        "steps": clf.history_.steps,
        "parameters": clf.num_parameters(),
        "note": "epoch seconds include the per-epoch dev evaluation (872 sentences)",
    }


# --------------------------------------------------------------------------- HF Trainer
def run_hf(args, train_ids, train_labels, dev_ids, dev_labels, tokenizer) -> dict:
    import transformers
    from transformers import BertForSequenceClassification, Trainer

    set_seed(args.seed)
    model = BertForSequenceClassification(bert_config(args, tokenizer))
    dataset = [
        {"input_ids": ids, "labels": int(y)} for ids, y in zip(train_ids, train_labels, strict=True)
    ]
    timings: dict[str, list] = {
        "epoch_seconds": [],
        "epoch_cpu_seconds": [],
        "dev_accuracy_per_epoch": [],
    }
    timer = epoch_timer(model, dev_ids, dev_labels, tokenizer.pad_id, timings)
    steps_per_epoch = -(-len(dataset) // args.batch_size)
    sampling = length_grouping()
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(
            model=model,
            args=training_arguments(args, out, steps_per_epoch, sampling),
            train_dataset=dataset,
            data_collator=dynamic_padding(tokenizer.pad_id),
            callbacks=[timer],
        )
        started = time.perf_counter()
        result = trainer.train()
        total = time.perf_counter() - started
    return {
        "system": f"HF Trainer + BERT (transformers {transformers.__version__})",
        **timings,
        "total_seconds": total,
        "steps": result.global_step,
        "parameters": sum(p.numel() for p in model.parameters()),
        "note": f"{sampling}, optim adamw_torch_fused, dynamic padding per batch",
    }


def bert_config(args, tokenizer):
    """A ``BertConfig`` the size of the workbench model, on the same vocabulary."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=args.d_model,
        num_hidden_layers=args.num_layers,
        num_attention_heads=args.num_heads,
        intermediate_size=args.d_ff,
        max_position_embeddings=args.max_length,
        pad_token_id=tokenizer.pad_id,
        num_labels=2,
    )


def dynamic_padding(pad_id: int):
    """The Trainer's collate: dynamic padding, as DataCollatorWithPadding does."""

    def collate(items):
        width = max(len(it["input_ids"]) for it in items)
        input_ids = torch.full((len(items), width), pad_id, dtype=torch.long)
        for row, it in enumerate(items):
            input_ids[row, : len(it["input_ids"])] = torch.tensor(it["input_ids"])
        return {
            "input_ids": input_ids,
            "attention_mask": (input_ids != pad_id).long(),
            "labels": torch.tensor([it["labels"] for it in items]),
        }

    return collate


def epoch_timer(model, dev_ids, dev_labels, pad_id: int, timings: dict[str, list]):
    """A ``TrainerCallback`` appending each epoch's seconds, CPU seconds and dev accuracy
    to ``timings``."""
    from transformers import TrainerCallback

    def score() -> float:
        model.eval()
        acc = in_order_accuracy(
            lambda i, m: model(input_ids=i, attention_mask=m.long()).logits,
            dev_ids,
            dev_labels,
            pad_id,
        )
        model.train()
        return acc

    class EpochTimer(TrainerCallback):
        def on_epoch_begin(self, *_, **__):
            self.started, self.cpu = time.perf_counter(), time.process_time()

        def on_epoch_end(self, *_, **__):
            seconds = time.perf_counter() - self.started
            timings["epoch_cpu_seconds"].append(time.process_time() - self.cpu)
            # Score the dev set outside the timed window, in order (see module docstring).
            timings["epoch_seconds"].append(seconds)
            timings["dev_accuracy_per_epoch"].append(score())

    return EpochTimer()


def length_grouping() -> dict:
    """The ``TrainingArguments`` option for length-grouped sampling, in either spelling."""
    from transformers import TrainingArguments

    sampling = {}
    if "group_by_length" in TrainingArguments.__dataclass_fields__:  # transformers 4.x
        sampling["group_by_length"] = True
    else:  # 5.x renamed it
        sampling["train_sampling_strategy"] = "group_by_length"
    return sampling


def training_arguments(args, out: str, steps_per_epoch: int, sampling: dict):
    """The Trainer's settings: the workbench loop's optimiser, schedule and clipping."""
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=out,
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        weight_decay=0.01,
        warmup_steps=int(0.1 * steps_per_epoch * args.epochs),
        lr_scheduler_type="linear",
        max_grad_norm=1.0,
        optim="adamw_torch_fused",
        dataloader_num_workers=0,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        seed=args.seed,
        remove_unused_columns=False,
        **sampling,
    )


# --------------------------------------------------------------------------- plain loop
def run_plain_fixed(args, train_ids, train_labels, dev_ids, dev_labels, tokenizer) -> dict:
    set_seed(args.seed)
    config = model_config(args, tokenizer.vocab_size, tokenizer.pad_id)
    model = build_model(config)
    pad_id = tokenizer.pad_id
    input_ids = torch.full((len(train_ids), args.max_length), pad_id, dtype=torch.long)
    for row, seq in enumerate(train_ids):
        input_ids[row, : len(seq)] = torch.tensor(seq)
    dataset = torch.utils.data.TensorDataset(input_ids, torch.tensor(train_labels))
    generator = torch.Generator().manual_seed(args.seed)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=args.batch_size, shuffle=True, generator=generator
    )
    cfg = train_config(args)
    optimizer = _optimizer(model, cfg, torch.device("cpu"))
    total_steps = len(loader) * args.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_lambda(int(0.1 * total_steps), total_steps)
    )
    loss_fn = nn.CrossEntropyLoss()
    epoch_seconds, epoch_cpu, accuracies, steps = [], [], [], 0
    started_all = time.perf_counter()
    for _ in range(args.epochs):
        model.train()
        started, cpu = time.perf_counter(), time.process_time()
        for ids, labels in loader:
            logits = model(ids, ids != pad_id).logits
            loss = loss_fn(logits.float(), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            loss.item()  # the workbench loop and the Trainer both sync on the loss
            steps += 1
        epoch_seconds.append(time.perf_counter() - started)
        epoch_cpu.append(time.process_time() - cpu)
        model.eval()
        accuracies.append(
            in_order_accuracy(lambda i, m: model(i, m).logits, dev_ids, dev_labels, pad_id)
        )
    return {
        "system": f"plain PyTorch, fixed padding to {args.max_length}",
        "epoch_seconds": epoch_seconds,
        "epoch_cpu_seconds": epoch_cpu,
        "dev_accuracy_per_epoch": accuracies,
        "total_seconds": time.perf_counter() - started_all,
        "steps": steps,
        "parameters": model.num_parameters(),
        "note": "same TransformerClassifier, same optimiser groups and schedule",
    }


@dataclasses.dataclass
class Prepared:
    """SST-2 and the token ids the two baselines train on."""

    train: object
    dev: object
    tokenizer: WordTokenizer
    train_ids: list[list[int]]
    dev_ids: list[list[int]]
    train_labels: np.ndarray
    dev_labels: np.ndarray
    lengths: list[int]


def build_parser() -> argparse.ArgumentParser:
    parser = doc_parser(__doc__)
    parser.add_argument(
        "--sst2", type=Path, default=SHARED / "sst2", help="folder of train/dev.tsv"
    )
    parser.add_argument("--epochs", type=int, default=2, help="epochs per system (default 2)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--d-ff", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--systems",
        default="workbench,hf-trainer,plain-fixed",
        help="comma-separated, run in this order (default: workbench,hf-trainer,plain-fixed)",
    )
    parser.add_argument(
        "--limit", type=int, help="use only the first N training rows (a quick dry run)"
    )
    add_machine_args(parser)
    parser.add_argument("--out", type=Path, default=RESULTS / "train_speed.json")
    return parser


def prepare(args) -> Prepared:
    train, dev = load_sst2(args.sst2, download=False)
    if args.limit:
        train = dataclasses.replace(
            train, texts=train.texts[: args.limit], labels=train.labels[: args.limit]
        )
    # The same tokenizer the workbench's fit trains (deterministic), for the two baselines.
    tokenizer = WordTokenizer.train(train.texts)
    train_ids = tokenizer.encode_ids(train.texts, args.max_length)
    return Prepared(
        train=train,
        dev=dev,
        tokenizer=tokenizer,
        train_ids=train_ids,
        dev_ids=tokenizer.encode_ids(dev.texts, args.max_length),
        train_labels=np.asarray(train.labels, dtype=np.int64),
        dev_labels=np.asarray(dev.labels, dtype=np.int64),
        lengths=[len(i) for i in train_ids],
    )


def run_systems(args, data: Prepared, parser: argparse.ArgumentParser) -> list[dict]:
    """Each of ``--systems`` in turn: its row, with medians over the epochs."""
    baseline_inputs = (
        data.train_ids,
        data.train_labels,
        data.dev_ids,
        data.dev_labels,
        data.tokenizer,
    )
    rows = []
    for name in args.systems.split(","):
        load = load_average()
        print(f"[{time.strftime('%H:%M:%S')}] {name}: load {load}", flush=True)
        if name == "workbench":
            row = run_workbench(args, data.train, data.dev)
        elif name == "hf-trainer":
            row = run_hf(args, *baseline_inputs)
        elif name == "plain-fixed":
            row = run_plain_fixed(args, *baseline_inputs)
        else:
            parser.error(f"unknown system {name!r}")
        row["token_slots_per_epoch"] = padded_tokens(
            data.lengths, args.batch_size, name, args.seed, args.max_length
        )
        row["key"] = name
        row["load_before"] = load
        row["median_epoch_seconds"] = statistics.median(row["epoch_seconds"])
        row["median_epoch_cpu_seconds"] = statistics.median(row["epoch_cpu_seconds"])
        row["final_dev_accuracy"] = row["dev_accuracy_per_epoch"][-1]
        print(
            f"  {row['epoch_seconds']} s/epoch, dev acc {row['dev_accuracy_per_epoch']}", flush=True
        )
        rows.append(row)
    return rows


def add_ratios(rows: list[dict]) -> dict:
    """Each row's time and accuracy against the workbench's (else the first row's): the
    reference row."""
    ref = next((r for r in rows if r["key"] == "workbench"), rows[0])
    for r in rows:
        r["seconds_ratio_to_workbench"] = r["median_epoch_seconds"] / ref["median_epoch_seconds"]
        r["cpu_ratio_to_workbench"] = (
            r["median_epoch_cpu_seconds"] / ref["median_epoch_cpu_seconds"]
        )
        r["accuracy_minus_workbench"] = r["final_dev_accuracy"] - ref["final_dev_accuracy"]
    return ref


def print_rows(args, data: Prepared, rows: list[dict]) -> None:
    print(
        f"\nSST-2 train ({len(data.train_ids)} rows, {sum(data.lengths)} real tokens incl. "
        f"[CLS]), dev {len(data.dev_ids)}; d_model {args.d_model}, {args.num_layers} layers, "
        f"{args.num_heads} heads, d_ff {args.d_ff}, max_length {args.max_length}, "
        f"batch {args.batch_size}, {args.epochs} epoch(s), torch threads {torch.get_num_threads()}"
    )
    print_table(
        rows,
        [
            ("system", "system", ""),
            ("median_epoch_seconds", "s/epoch", ".1f"),
            ("seconds_ratio_to_workbench", "x workbench", ".2f"),
            ("median_epoch_cpu_seconds", "cpu s/epoch", ".1f"),
            ("cpu_ratio_to_workbench", "cpu x wb", ".2f"),
            ("token_slots_per_epoch", "token slots", ",d"),
            ("final_dev_accuracy", f"dev acc@{args.epochs}", ".4f"),
            ("accuracy_minus_workbench", "acc - wb", "+.4f"),
        ],
    )


def check_targets(args, rows: list[dict], ref: dict) -> dict:
    """The workbench at least 1.5 times as fast as the HF Trainer (when both ran)."""
    hf = next((r for r in rows if r["key"] == "hf-trainer"), None)
    targets = {}
    if hf is not None and ref["key"] == "workbench":
        speedup = hf["median_epoch_seconds"] / ref["median_epoch_seconds"]
        targets["workbench_speedup_vs_hf_trainer"] = {
            "target": ">= 1.5",
            "measured": speedup,
            "met": speedup >= 1.5,
            "cpu_seconds_speedup": hf["median_epoch_cpu_seconds"] / ref["median_epoch_cpu_seconds"],
            "accuracy_equal_or_better": ref["final_dev_accuracy"] >= hf["final_dev_accuracy"],
        }
        print(
            f"\nworkbench speed-up over the HF Trainer: {speedup:.2f}x (target >= 1.5x: "
            f"{'met' if speedup >= 1.5 else 'MISSED'}); dev accuracy after {args.epochs} "
            f"epoch(s): workbench {ref['final_dev_accuracy']:.4f} vs HF "
            f"{hf['final_dev_accuracy']:.4f}"
        )
    return targets


def main() -> None:
    parser = build_parser()
    args = parser.parse_args()
    load_before = settle_machine(args)
    data = prepare(args)
    rows = run_systems(args, data, parser)
    ref = add_ratios(rows)
    print_rows(args, data, rows)
    targets = check_targets(args, rows, ref)
    write_record(
        args.out,
        "train_speed",
        command_line("train_speed.py", args),
        load_before,
        settings={k: str(v) for k, v in vars(args).items()},
        rows=rows,
        targets=targets,
    )


if __name__ == "__main__":
    main()
