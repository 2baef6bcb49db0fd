"""The package's layers (docs/design.md): a module imports from its own layer and the
layers above it, never from one below, so there are no import circles between layers."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"

LAYERS = [
    {"errors", "version", "config", "distributed", "progress", "threads", "lazy"},
    {"artifacts", "data", "estimators"},
    {"segment", "tokenizer", "preprocess", "batching"},
    {
        "model",
        "train",
        "calibration",
        "classifier",
        "baselines",
        "pretrained",
        "distill",
        "seq2seq",
    },
    {"evaluate", "plots", "compare"},
    {"explain"},
    {"analysis"},
    {"widgets", "cli", "serve", "__main__", "__init__"},
]
LAYER = {name: number for number, names in enumerate(LAYERS) for name in names}
# Reaching down, inside a function: loading builds whichever model class an artifact names.
ALLOWED_DOWNWARD = {
    ("artifacts", "baselines"),
    ("artifacts", "classifier"),
    ("artifacts", "pretrained"),
    ("artifacts", "seq2seq"),
}


def part_of(module: str) -> str:
    """``workbench.explain.base`` -> ``explain``; ``workbench`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_has_a_layer():
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.rglob("*.py")}
    assert parts - set(LAYER) == set(), "add the new module to a layer here and in docs/design.md"


def test_no_module_imports_from_a_layer_below_its_own():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        me = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workbench")
            ):
                continue
            # "from workbench import plots" imports the module plots, not the package.
            others = [a.name for a in node.names] if node.module == "workbench" else []
            for other in [o for o in others if o in LAYER] or [part_of(node.module)]:
                if LAYER[other] > LAYER[me] and (me, other) not in ALLOWED_DOWNWARD:
                    wrong.append(
                        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} imports {other}"
                    )
    assert wrong == [], wrong
