"""Copy the browser suite's notebook screenshots, downscaled, to docs/images/ for the README.

Run it after ``make test-browser`` (which never touches docs/ itself)::

    .venv/bin/python tests/browser/update_docs_images.py [ARTIFACTS_FOLDER]

Each whole-notebook image becomes ``docs/images/browser_<notebook>.png`` and each panel
close-up ``docs/images/browser_<panel>.png``: narrower, reduced to a palette of colours
(screenshots of a notebook have few), and kept under ``MAX_BYTES``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
DOCS_IMAGES = HERE.parents[1] / "docs" / "images"
NOTEBOOKS = (
    "00_start_here",
    "03_train_a_transformer",
    "04_compare_models",
    "05_explain_predictions",
)
PANELS = ("03_train_panel", "04_compare_panel", "05_explain_panel")
MAX_BYTES = 150_000
START_WIDTH = 800
MIN_WIDTH = 360
COLOURS = 32


def shrink(source: Path, target: Path) -> int:
    """Write ``source`` to ``target`` as a palette PNG under ``MAX_BYTES``; its size."""
    image = Image.open(source).convert("RGB")
    width = min(START_WIDTH, image.width)
    while True:
        height = round(image.height * width / image.width)
        small = image.resize((width, height), Image.Resampling.LANCZOS)
        palette = small.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT)
        buffer = io.BytesIO()
        palette.save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= MAX_BYTES or width <= MIN_WIDTH:
            break
        width = max(MIN_WIDTH, int(width * 0.85))
    target.write_bytes(buffer.getvalue())
    return buffer.tell()


def main(argv: list[str]) -> int:
    artifacts = Path(argv[1]) if len(argv) > 1 else HERE / "artifacts"
    names = NOTEBOOKS + PANELS
    missing = [n for n in names if not (artifacts / f"{n}.png").is_file()]
    if missing:
        print(f"no screenshot of {', '.join(missing)} in {artifacts}: run make test-browser")
        return 2
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = DOCS_IMAGES / f"browser_{name}.png"
        size = shrink(artifacts / f"{name}.png", target)
        print(f"{target.relative_to(HERE.parents[1])}: {size / 1000:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
