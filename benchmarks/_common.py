"""Shared helpers for the speed and memory benchmarks: machine facts, load, tables, JSON.

Every benchmark here compares the workbench with a named baseline in the same run and
reports the ratio (see docs/design.md, "Performance: how it is measured"); these helpers only
record where and under what load a run happened and print/write its results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SHARED = Path(os.environ.get("WORKBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict:
    import torch

    info = {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cuda": torch.cuda.is_available(),
    }
    try:
        import transformers

        info["transformers"] = transformers.__version__
    except ImportError:
        pass
    return info


def doc_parser(doc: str) -> argparse.ArgumentParser:
    """A script's parser: the docstring's first line as description, the text after the
    line below it as the epilog, laid out as written."""
    return argparse.ArgumentParser(
        description=doc.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=doc.split("\n", 2)[2],
    )


def add_machine_args(parser: argparse.ArgumentParser) -> None:
    """The options every timing script shares: torch threads and waiting for a quiet machine."""
    parser.add_argument(
        "--threads", type=int, help="torch.set_num_threads (default: torch's own choice)"
    )
    parser.add_argument(
        "--wait-load",
        type=float,
        default=0.0,
        help="first wait (up to 10 min) for the 1-min load average to drop below this",
    )


def settle_machine(args: argparse.Namespace) -> list[float]:
    """Apply ``--threads``, then wait for ``--wait-load``: the load average the run starts at."""
    set_threads(args)
    return start_load(args)


def set_threads(args: argparse.Namespace) -> None:
    """``torch.set_num_threads(--threads)`` when the option is given."""
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)


def start_load(args: argparse.Namespace) -> list[float]:
    """Wait (up to 10 min) for ``--wait-load`` when given: the load average the run starts at."""
    return wait_for_low_load(args.wait_load, 600) if args.wait_load else load_average()


def add_model_args(parser: argparse.ArgumentParser, default_steps: int = 300) -> None:
    """Options of the scripts that time the default model: load one, or train one on SST-2."""
    parser.add_argument("--model", type=Path, help="a workbench artifact (default: train one)")
    parser.add_argument(
        "--max-steps", type=int, default=default_steps, help="training steps without --model"
    )
    parser.add_argument("--sst2", type=Path, default=SHARED / "sst2")
    parser.add_argument("--seed", type=int, default=0)


def default_model(args: argparse.Namespace):
    """``--model``, or ``ModelConfig()`` trained on SST-2 for ``--max-steps`` steps."""
    from workbench import ModelConfig, TextClassifier, TrainConfig, load_sst2

    if args.model:
        return TextClassifier.load(args.model)
    train, dev = load_sst2(args.sst2, download=False)
    started = time.perf_counter()
    clf = TextClassifier(
        ModelConfig(),
        TrainConfig(max_steps=args.max_steps, batch_size=64, device="cpu", seed=args.seed),
    ).fit(train.texts, train.labels, validation=(dev.texts, dev.labels), progress=False)
    print(
        f"trained the default ModelConfig() for {args.max_steps} steps in "
        f"{time.perf_counter() - started:.0f} s (dev accuracy "
        f"{clf.history_.epochs[-1]['val_accuracy']:.3f})",
        flush=True,
    )
    return clf


def wait_for_low_load(threshold: float, max_wait_s: float) -> list[float]:
    """Sleep (up to ``max_wait_s``) until the 1-minute load average drops below ``threshold``."""
    deadline = time.monotonic() + max_wait_s
    while load_average() and load_average()[0] >= threshold and time.monotonic() < deadline:
        time.sleep(15)
    return load_average()


def print_table(rows: Sequence[dict], columns: Sequence[tuple[str, str, str]]) -> None:
    """``columns``: (key, header, format spec); missing values print as '-'."""
    widths = []
    for key, header, spec in columns:
        cells = [header] + [format(r[key], spec) if r.get(key) is not None else "-" for r in rows]
        widths.append(max(len(c) for c in cells))
    print(
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, ((_, h, _), w) in enumerate(zip(columns, widths, strict=True))
        )
    )
    for r in rows:
        cells = []
        for i, ((key, _, spec), w) in enumerate(zip(columns, widths, strict=True)):
            cell = format(r[key], spec) if r.get(key) is not None else "-"
            cells.append(cell.ljust(w) if i == 0 else cell.rjust(w))
        print("  ".join(cells))


def write_json(path: Path, payload: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"written to {path}")
    return path


def command_line(
    script: str, args: argparse.Namespace, skip: Sequence[str] = ("out", "sst2")
) -> str:
    """The command that reproduces this run: every option that is set, flags as flags."""
    parts = [f"python benchmarks/{script}"]
    for key, value in vars(args).items():
        if value is None or value is False or key in skip:
            continue
        option = "--" + key.replace("_", "-")
        if isinstance(value, (list, tuple)):  # nargs options: their values, space-separated
            value = " ".join(map(str, value))
        parts.append(option if value is True else f"{option} {value}")
    return " ".join(parts)


def write_record(
    path: Path, benchmark: str, command: str, load_at_start: list[float], **results
) -> Path:
    """``write_json`` of a run's results with what every record carries: the benchmark's
    name, the command that reproduces it, the machine, and the load at start and end."""
    return write_json(
        path,
        {
            "benchmark": benchmark,
            "command": command,
            "machine": machine(),
            "load_at_start": load_at_start,
            "load_at_end": load_average(),
            **results,
        },
    )
