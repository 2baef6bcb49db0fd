"""``workbench translate``: translate one sentence with a saved seq2seq model and explain each
generated token (the source words each one rests on), printed, as JSON or as HTML.

The method names are written out here (a test checks them against
``workbench.explain.generation.GENERATION_METHODS``) so that ``workbench translate --help``
imports neither torch nor captum.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from workbench.cli.common import _check_output_file, _load, _write_output
from workbench.errors import InputError

# What --method offers: the per-token explainers of workbench.explain.generation, "ig" for
# integrated gradients, "attention-shifted" for cross-attention read at the step where the
# word is the decoder's input (Chen et al. 2020), and "none" to translate only.
GENERATION_METHOD_NAMES = ("integrated-gradients", "gradient-x-input", "occlusion", "attention")
METHOD_ALIASES = {"ig": "integrated-gradients"}
METHOD_CHOICES = (*GENERATION_METHOD_NAMES, "attention-shifted", *METHOD_ALIASES, "none")
STOP_REASONS = {
    "eos": "the model ended the sentence",
    "max_length": "cut at the length limit: no end-of-sequence",
    "empty_source": "nothing to translate",
}


def _add_translate_arguments(translate: argparse.ArgumentParser) -> None:
    translate.description = (
        "Translate TEXT with a sequence-to-sequence model (written by `workbench "
        "train-seq2seq`) and explain every generated word: per target word, the source words "
        "the chosen method ranks highest. Prints the translation, its stop reason and notes; "
        "--json and --html write the translation and the whole target x source matrix."
    )
    translate.add_argument(
        "--model", required=True, type=Path, help="artifact directory of a seq2seq Translator"
    )
    translate.add_argument(
        "text",
        nargs="+",
        metavar="TEXT",
        help="the source sentence (several arguments are joined by spaces)",
    )
    translate.add_argument(
        "--method",
        default="attention",
        choices=METHOD_CHOICES,
        help="how each target word is explained: integrated-gradients (ig), "
        "gradient-x-input, occlusion (leave one source word out), attention (cross-attention "
        "at the step that outputs the word), attention-shifted (at the step where it is the "
        "decoder's input), none (attention)",
    )
    translate.add_argument(
        "--beam-size", type=int, default=1, help="1 decodes greedily; more runs beam search (1)"
    )
    translate.add_argument(
        "--max-length",
        type=int,
        help="the most target tokens to generate, end-of-sequence counted (default and "
        "upper bound: the model's max_target_length)",
    )
    translate.add_argument("--steps", type=int, default=32, help="integrated-gradients steps (32)")
    translate.add_argument(
        "--top", type=int, default=2, help="source words shown per target word (2)"
    )
    translate.add_argument(
        "--json", type=Path, help="write the translation and its explanation as JSON"
    )
    translate.add_argument(
        "--html", type=Path, help="write the explanation as a self-contained HTML page"
    )
    translate.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (cpu)")


def _translate(args: argparse.Namespace) -> None:
    source = " ".join(args.text)
    if not source.strip():
        raise InputError("TEXT is empty: give a source sentence to translate")
    if args.top < 1:
        raise InputError(f"--top must be 1 or more, got {args.top}")
    method = METHOD_ALIASES.get(args.method, args.method)
    if method == "none" and (args.html is not None):
        raise InputError("--html shows an explanation: choose a --method other than none")
    _check_output_file(args.json, "--json")
    _check_output_file(args.html, "--html")
    translator = _load(args)
    if not hasattr(translator, "translate") or not hasattr(translator, "forced_inputs"):
        raise InputError(
            f"{args.model} holds a {type(translator).__name__}, not a sequence-to-sequence "
            "model: train one with `workbench train-seq2seq`, or use `workbench predict`"
        )
    translation = translator.translate(
        [source], beam_size=args.beam_size, max_length=args.max_length
    )[0]
    if translation.stop_reason == "empty_source":
        raise InputError(f"TEXT {source!r} has no words the model can read: give a source sentence")
    print(f"translation: {translation.text}")
    reason = STOP_REASONS.get(translation.stop_reason, translation.stop_reason)
    print(
        f"stop reason: {translation.stop_reason} ({reason}); {len(translation.tokens)} "
        f"token(s), log-probability {translation.score:.3f}"
        + (f", beam size {args.beam_size}" if args.beam_size > 1 else ", greedy")
    )
    for note in translation.notes:
        print(f"note: {note}")
    explanation = None
    if method != "none" and translation.tokens:
        explanation = _explain(translator, translation, method, args)
        print(_top_source_words(explanation, method, args.top))
        for note in explanation.notes:
            if note not in translation.notes:
                print(f"note: {note}")
    elif method != "none":
        print("note: the translation is empty, so there is no token to explain")
    payload: dict[str, Any] = {
        "translation": translation.to_dict(),
        "beam_size": args.beam_size,
        "method": method,
        "explanation": None if explanation is None else explanation.to_dict(),
    }
    if args.json is not None:
        text = json.dumps(payload, ensure_ascii=False, indent=1, allow_nan=False)
        _write_output(args.json, "--json", lambda p: p.write_text(text, encoding="utf-8"))
        print(f"JSON written to {args.json}")
    if args.html is not None:
        if explanation is None:
            raise InputError("the translation is empty: there is no explanation to write")
        page = explanation.to_html()
        _write_output(args.html, "--html", lambda p: p.write_text(page, encoding="utf-8"))
        print(f"HTML written to {args.html}")


def _explain(translator: Any, translation: Any, method: str, args: argparse.Namespace) -> Any:
    """The explanation of the translation as decoded (greedy with the model's own limit:
    the explainer decodes it again; otherwise the decoded tokens are forced through)."""
    from workbench.explain.generation import explain_translation

    methods = ["attention"] if method == "attention-shifted" else [method]
    own = args.beam_size == 1 and args.max_length is None
    return explain_translation(
        translator,
        translation.source,
        target=None if own else translation.text,
        methods=methods,
        n_steps=args.steps,
    )


def _top_source_words(explanation: Any, name: str, k: int) -> str:
    """Per target word, the ``k`` source words with the highest score (the words the model
    did not read have none and are skipped)."""
    matrix = explanation.matrices[name]
    words = [w.text for w in explanation.source_words]
    units = "weight" if name.startswith("attention") else "log-prob"
    width = max((len(t) for t in explanation.target_tokens), default=0)
    lines = [f"{name}: per target word, the {k} source word(s) scored highest ({units})"]
    for t, token in enumerate(explanation.target_tokens):
        row = [(float(v), i) for i, v in enumerate(matrix[t]) if math.isfinite(float(v))]
        row.sort(key=lambda item: -item[0])
        sign = "" if units == "weight" else "+"
        top = ", ".join(f"{words[i]} {v:{sign}.3f}" for v, i in row[:k]) or "(no score)"
        lines.append(f"  {token:<{width}}  <- {top}")
    return "\n".join(lines)
