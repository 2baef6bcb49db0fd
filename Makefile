# Every target sets itself up: it creates .venv and installs the pinned environment
# (constraints.txt) the first time, and again whenever pyproject.toml or the pins change.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
BROWSER_INSTALLED := $(VENV)/.installed-browser
# The workshop's worked solutions (docs/workshop/solutions), run by `make test` like the notebooks.
SOLUTIONS := $(wildcard docs/workshop/solutions/*.ipynb)
# The browser suite drives the system's Chromium (Debian's `chromium` package), with a
# CJK font (fonts-wqy-zenhei) so that Chinese explanations render their characters.
CHROMIUM ?= /usr/bin/chromium

.PHONY: help lab test test-browser browser-ready docs-images lint demo clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# TORCH_INDEX: an extra package index to take PyTorch from. On Linux, PyPI's torch is the
# CUDA build (several GB); a laptop without an NVIDIA GPU wants the CPU build (about 200 MB):
#   make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu
# Its "2.13.0+cpu" satisfies the pin torch==2.13.0 and sorts above PyPI's 2.13.0, so pip takes it.
TORCH_INDEX ?=

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install --quiet -c constraints.txt --extra-index-url $(TORCH_INDEX) torch)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,pretrained,serve,chinese]"
	touch $@

lab: $(INSTALLED)  ## open JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks/

lint: $(INSTALLED)  ## ruff lint + format check, mypy, and notebooks stripped of outputs
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/nbstripout --verify notebooks/*.ipynb $(SOLUTIONS)

test: lint  ## lint, unit tests, and every notebook and exercise solution under nbval (smoke mode)
	WORKBENCH_SMOKE=1 $(BIN)/python -m pytest --nbval-lax -m "not browser" tests notebooks docs/workshop/solutions

$(BROWSER_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,pretrained,serve,chinese,browser]"
	touch $@

browser-ready: $(BROWSER_INSTALLED)
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) is missing: installing Debian's chromium"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } || { \
		echo "install Chromium (Debian: apt-get install chromium), or point CHROMIUM= at one"; \
		exit 1; }
	@fc-list :lang=zh | grep -q . || { echo "no Chinese font: installing Debian's fonts-wqy-zenhei"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-wqy-zenhei; } || { \
		echo "install a font with Chinese and Japanese glyphs (Debian: apt-get install fonts-wqy-zenhei)"; \
		exit 1; }

test-browser: browser-ready  ## notebooks 00, 03, 04, 05 and their panels in JupyterLab, in headless Chromium
	WORKBENCH_CHROMIUM=$(CHROMIUM) WORKBENCH_SMOKE=1 $(BIN)/python -m pytest -m browser tests/browser

docs-images: browser-ready  ## re-take the README's screenshots from full-budget runs in JupyterLab (minutes)
	WORKBENCH_CHROMIUM=$(CHROMIUM) $(BIN)/python tests/browser/update_docs_images.py --take

# The teaching transformer of notebook 00: one layer, 64 wide.
DEMO_STUDENT := --epochs 12 --d-model 64 --layers 1 --dropout 0.3 --learning-rate 3e-3

demo: $(INSTALLED)  ## fine-tune MiniLM on the embedded reviews, distil the transformer from it, evaluate, predict
	$(BIN)/workbench train --data data/reviews/train.csv --encoder minilm --out runs/demo-teacher
	$(BIN)/workbench train --data data/reviews/train.csv --teacher runs/demo-teacher $(DEMO_STUDENT) --out runs/demo
	$(BIN)/workbench evaluate --model runs/demo-teacher --data data/reviews/test.csv --json runs/demo-teacher-test-metrics.json
	$(BIN)/workbench evaluate --model runs/demo --data data/reviews/test.csv --json runs/demo-test-metrics.json
	$(BIN)/workbench predict --model runs/demo "Not bad at all, I'd go back." "Great cast, but a dull plot."
	$(BIN)/workbench explain --model runs/demo --method integrated-gradients "Not bad at all, I'd go back."

clean:  ## remove the environment and run outputs
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
