"""The README's screenshots: take them from real runs and copy them to docs/images/.

    .venv/bin/python tests/browser/update_docs_images.py --take   # run, shoot, copy
    .venv/bin/python tests/browser/update_docs_images.py          # copy the last shots
    .venv/bin/python tests/browser/update_docs_images.py --check docs/images/*.png

``--take`` runs ``test_docs_screenshots.py`` (``WORKBENCH_DOCS_SCREENSHOTS=1``): JupyterLab
without smoke mode, each notebook on its full budgets, a few minutes per notebook on a
laptop. The shots land in ``<artifacts>/docs/`` (``tests/browser/artifacts/docs/`` by
default) and are copied to ``docs/images/browser_<name>.png`` as they are: full colour
(RGB, no palette), natural width, the PNG only re-compressed losslessly. Before writing,
each image that shows an explanation must have both ends of the colour scale visibly red
and blue (``lab_driver.red_blue_pixels``); ``--check`` runs that check on any PNG and
exits 1 when one fails it (as the old 32-colour images do: they have no red pixel).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DOCS_IMAGES = REPO / "docs" / "images"
sys.path.insert(0, str(HERE))
from lab_driver import MIN_SCALE_PIXELS, red_blue_pixels  # noqa: E402

# The shots of test_docs_screenshots.py that go to docs/images/, and whether each shows an
# explanation's colour scale (then its pixels are checked for red and blue).
SHOTS = {
    "00_start_here": True,
    "03_train_panel": False,
    "04_compare_panel": False,
    "04_disagreements": True,
    "05_explain_predictions": True,
    "05_explain_panel": True,
}
# A warning, not a limit: above it, look at what the picture holds before committing it.
LARGE_BYTES = 500_000


def png_bytes(source: Path) -> bytes:
    """``source`` as an RGB PNG, losslessly compressed as far as Pillow goes."""
    image = Image.open(source).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def check(path: Path) -> bool:
    counts = red_blue_pixels(path)
    ok = all(n >= MIN_SCALE_PIXELS for n in counts.values())
    verdict = "ok" if ok else f"FAILS: fewer than {MIN_SCALE_PIXELS} of one"
    with Image.open(path) as image:
        shape = f"{image.width}x{image.height} {image.mode}"
    print(f"{path}: {shape}, clearly red {counts['red']}, clearly blue {counts['blue']}: {verdict}")
    return ok


def take(artifacts: Path) -> int:
    """Run the documentation-screenshot tests into ``artifacts``; pytest's exit status."""
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_SMOKE"}
    env["WORKBENCH_DOCS_SCREENSHOTS"] = "1"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        "browser",
        "-p",
        "no:cacheprovider",
        "-q",
        "-s",
        f"--browser-artifacts={artifacts}",
        str(HERE / "test_docs_screenshots.py"),
    ]
    print("$", " ".join(command), flush=True)
    return subprocess.call(command, cwd=REPO, env=env)


def copy(shots: Path) -> int:
    missing = [n for n in SHOTS if not (shots / f"{n}.png").is_file()]
    if missing:
        print(f"no screenshot of {', '.join(missing)} in {shots}: run with --take")
        return 2
    failed = [n for n, coloured in SHOTS.items() if coloured and not check(shots / f"{n}.png")]
    if failed:
        print(f"not copied: {', '.join(failed)} lack(s) red or blue")
        return 1
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    written = set()
    for name in SHOTS:
        target = DOCS_IMAGES / f"browser_{name}.png"
        data = png_bytes(shots / f"{name}.png")
        target.write_bytes(data)
        written.add(target.name)
        with Image.open(target) as image:
            size = f"{image.width}x{image.height}"
        large = "  (large: look at it before committing)" if len(data) > LARGE_BYTES else ""
        print(f"{target.relative_to(REPO)}: {size}, {len(data) / 1000:.0f} kB{large}")
    stale = sorted(p.name for p in DOCS_IMAGES.glob("browser_*.png") if p.name not in written)
    if stale:
        print(f"no longer taken (remove them, and their links): {', '.join(stale)}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--take", action="store_true", help="take the screenshots first")
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=Path(os.environ.get("WORKBENCH_BROWSER_ARTIFACTS") or HERE / "artifacts"),
        help="the browser suite's artifacts folder (the shots are in its docs/ folder)",
    )
    parser.add_argument(
        "--check", nargs="+", type=Path, metavar="PNG", help="only check these images' colours"
    )
    args = parser.parse_args(argv[1:])
    if args.check:
        return 0 if all([check(path) for path in args.check]) else 1
    artifacts = args.artifacts.resolve()
    if args.take:
        status = take(artifacts)
        if status:
            print(f"the screenshot tests failed (exit {status}); docs/images left as it was")
            return status
    return copy(artifacts / "docs")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
