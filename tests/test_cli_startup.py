"""Starting cheaply: ``workbench --help``, each command's ``--help`` and ``import workbench``
load none of the heavy libraries, while every public name still resolves.

Each start runs in a fresh interpreter (this one has long imported everything). No timing
here: benchmarks/cli_startup.py measures how long a start takes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import workbench

ROOT = Path(__file__).resolve().parents[1]
# What the parsers and the package's names must not need: the model stack (torch and the
# pretrained encoders), the explainers, the figures and scikit-learn.
HEAVY = ("torch", "transformers", "shap", "lime", "captum", "plotly", "sklearn")

# Until workbench.serve loads its names on first use, `serve --help` imports the server's
# modules, the explainers among them, through the package.
SERVE_PACKAGE_EAGER = "__getattr__" not in (ROOT / "workbench/serve/__init__.py").read_text()

PROBE = """
import json, runpy, sys
sys.argv = {argv!r}
code = None
try:
    runpy.run_module("workbench", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    code = exit.code
print()
print(json.dumps({{"code": code, "loaded": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,  # the machines are shared: a start can be slow, never this slow
    )


def last_json_line(process: subprocess.CompletedProcess) -> dict:
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["train"],
        ["evaluate"],
        ["predict"],
        ["explain"],
        ["train-seq2seq"],
        ["translate"],
        ["compare"],
        ["analyze"],
        pytest.param(
            ["serve"],
            marks=pytest.mark.xfail(
                SERVE_PACKAGE_EAGER,
                reason="workbench/serve/__init__.py imports .app and .explain_worker (torch, "
                "shap) for the parser's ServeLimits until its names load on first use too",
                strict=True,
            ),
        ),
    ],
    ids=lambda command: " ".join(["workbench", *command, "--help"]),
)
def test_help_exits_zero_without_importing_the_heavy_libraries(command):
    process = run_python(PROBE.format(argv=["workbench", *command, "--help"], heavy=HEAVY))
    result = last_json_line(process)
    assert result["code"] == 0, process.stderr
    assert f"usage: workbench {' '.join(command)}".rstrip() in process.stdout
    assert result["loaded"] == []


def test_the_version_option_imports_nothing_heavy():
    process = run_python(PROBE.format(argv=["workbench", "--version"], heavy=HEAVY))
    assert last_json_line(process) == {"code": 0, "loaded": []}
    assert f"workbench {workbench.__version__}" in process.stdout


def test_importing_the_package_imports_nothing_heavy():
    loaded = f"[m for m in {HEAVY!r} if m in sys.modules]"
    code = f"import json, sys, workbench; print(json.dumps({loaded}))"
    process = run_python(code)
    assert json.loads(process.stdout) == [], process.stderr


def test_every_public_name_resolves():
    assert set(workbench.__all__) == {*workbench._SOURCES, "__version__"}
    for name in workbench.__all__:
        exec(f"from workbench import {name}", {})  # as users write it
        value = getattr(workbench, name)
        assert value is not None, name
        if name != "__version__":
            assert getattr(value, "__name__", name) == name, (name, value)
    assert set(workbench.__all__) <= set(dir(workbench))


def test_the_names_load_in_a_fresh_interpreter_and_submodules_import_as_before():
    code = (
        "import json, types, workbench\n"
        "import workbench.evaluate, workbench.compare.registry, workbench.plots\n"
        "from workbench import *\n"
        "from workbench import evaluate, compare, distill, data\n"
        "print(json.dumps({\n"
        "    'star': sorted(n for n in workbench.__all__ if n not in globals()),\n"
        # functions named after their module stay the functions, as when all was eager
        "    'functions': [callable(f) and not isinstance(f, types.ModuleType)\n"
        "                  for f in (evaluate, compare, distill, workbench.evaluate)],\n"
        "    'modules': [isinstance(m, types.ModuleType) for m in (data, workbench.plots)],\n"
        "}))\n"
    )
    result = last_json_line(run_python(code))
    assert result == {"star": [], "functions": [True] * 4, "modules": [True, True]}


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        _ = workbench.no_such_name
    with pytest.raises(ImportError):
        exec("from workbench import no_such_name", {})


def test_the_cli_s_copies_of_what_its_help_shows_agree_with_their_sources():
    """The parsers show these without importing the modules that define them."""
    from workbench.cli import explain as explain_command
    from workbench.cli import train as train_command
    from workbench.explain import METHODS
    from workbench.explain.perturbation import MAX_EXACT_WORDS, SHAP_ALGORITHMS
    from workbench.pretrained import finetuned_encoder

    assert explain_command.METHOD_NAMES == tuple(METHODS)
    assert explain_command.SHAP_ALGORITHMS == SHAP_ALGORITHMS
    assert explain_command.MAX_EXACT_WORDS == MAX_EXACT_WORDS
    recipe = finetuned_encoder().get_params()
    assert train_command.ENCODER_FLAG_DEFAULTS == {
        name: value for name, value in recipe.items() if name in train_command.TRAIN_FIELDS
    }
