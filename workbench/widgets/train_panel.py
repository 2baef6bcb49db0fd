"""The training panel: pick a model and a few hyper-parameters, train, watch, save.

The model is a from-scratch transformer of one of the ``MODEL_PRESETS`` sizes or, with the
``pretrained`` extra installed, the pretrained all-MiniLM-L6-v2 encoder fine-tuned
(``ENCODER_CHOICE``): both train through the same fit loop, so curves, Stop and Save work
alike. Dropout and warm-up shape the transformer only; the encoder brings its own.

``train_panel(train)`` returns a :class:`TrainPanel`. **Train** starts
:meth:`TextClassifier.fit <workbench.classifier.TextClassifier.fit>` in a background thread,
so **Stop** can be clicked while it runs: it sets the ``stop_event`` the fit loop checks
after every batch, and training ends cleanly with the best weights seen so far. A
:class:`~workbench.train.Callback` feeds the live loss and accuracy curves and the progress
bar. At the end the panel shows the validation metrics and confusion matrix, and **Save**
writes the artifact. In a notebook cell, ``panel.train()`` does the same synchronously.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.classifier import TextClassifier
from workbench.config import MODEL_PRESETS, ModelConfig, TrainConfig
from workbench.data import LabeledTexts, stratified_split, validate_labeled
from workbench.errors import InputError
from workbench.evaluate import Evaluation, evaluate
from workbench.plots import confusion_figure
from workbench.pretrained import (
    PretrainedEncoderClassifier,
    finetuned_encoder,
    transformers_available,
)
from workbench.train import Callback, History, TrainState
from workbench.widgets._base import (
    Panel,
    button,
    html_table,
    labelled,
    message_html,
    show_figures,
)

# The dropdown entry that fine-tunes the pretrained encoder instead of a transformer preset.
ENCODER_CHOICE = "minilm"
ENCODER_LABEL = "minilm (pretrained all-MiniLM-L6-v2, fine-tuned: slower, far more accurate)"
# Where the encoder's learning rate and epochs start when it is picked (its recipe).
_ENCODER_START = {"learning_rate": 1e-4, "epochs": 3}

# The width of the settings' sliders and of the save path box.
_WIDE = {"width": "420px"}
# Redraw the curves at most this often (seconds): each redraw sends the whole figure.
_REDRAW_INTERVAL_S = 0.5
# Update the progress bar and status line at most this often (seconds).
_STATUS_INTERVAL_S = 0.1


def preset_label(name: str) -> str:
    p = MODEL_PRESETS[name]
    return f"{name} (d_model {p['d_model']}, {p['num_layers']} layer(s), {p['num_heads']} heads)"


def curves_figure() -> go.Figure:
    """Empty loss (left) and accuracy (right) curves, filled in as training runs."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "validation accuracy"))
    figure.add_trace(go.Scatter(mode="lines", name="training loss (batch)"), row=1, col=1)
    figure.add_trace(go.Scatter(mode="lines+markers", name="validation loss"), row=1, col=1)
    figure.add_trace(go.Scatter(mode="lines+markers", name="validation accuracy"), row=1, col=2)
    figure.update_xaxes(title_text="step")
    figure.update_yaxes(range=[0, 1.02], row=1, col=2)
    figure.update_layout(height=330, margin={"t": 40, "b": 40}, template="plotly_white")
    return figure


def metrics_html(evaluation: Evaluation, history: History | None = None) -> str:
    """Accuracy and macro-F1 with their intervals, calibration, and per-class scores."""
    level = f"{evaluation.accuracy_ci.confidence:.0%}"
    summary = [
        (
            "accuracy",
            f"{evaluation.accuracy:.3f}",
            f"[{evaluation.accuracy_ci.low:.3f}, {evaluation.accuracy_ci.high:.3f}]",
        ),
        (
            "macro-F1",
            f"{evaluation.macro_f1:.3f}",
            f"[{evaluation.macro_f1_ci.low:.3f}, {evaluation.macro_f1_ci.high:.3f}]",
        ),
        ("ECE", "n/a" if evaluation.ece is None else f"{evaluation.ece:.3f}", ""),
    ]
    per_class = [
        (name, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", s["support"])
        for name, s in evaluation.per_class.items()
    ]
    parts = [
        f"<b>Validation metrics</b> (n = {evaluation.n}, {level} bootstrap intervals)",
        html_table(summary, ["metric", "value", f"{level} interval"]),
        html_table(per_class, ["label", "precision", "recall", "F1", "support"]),
    ]
    if history is not None:
        ending = (
            "stopped by you"
            if history.interrupted
            else ("early stopping" if history.stopped_early else "all epochs run")
        )
        parts.append(
            f"<small>{history.steps} steps in {history.seconds:.1f} s on {history.device}; "
            f"best epoch {history.best_epoch} kept ({ending}).</small>"
        )
    return "".join(parts)


class LiveCurves(Callback):
    """Feeds a :class:`TrainPanel`'s curves and progress bar from the fit loop."""

    def __init__(self, panel: TrainPanel) -> None:
        self.panel = panel
        self._last_redraw = self._last_status = 0.0

    def on_train_start(self, state: TrainState) -> None:
        panel = self.panel
        panel._points = {"step": [], "loss": [], "eval_step": [], "val_loss": [], "val_acc": []}
        panel.progress.max = max(state.total_steps, 1)
        panel.progress.value = 0
        self._redraw(force=True)

    def on_batch_end(self, state: TrainState) -> None:
        points = self.panel._points
        points["step"].append(state.step)
        points["loss"].append(state.loss)
        now = time.monotonic()
        if now - self._last_status >= _STATUS_INTERVAL_S:  # thousands of steps, few messages
            self._last_status = now
            self._report(state)
        self._redraw()

    def on_evaluate(self, state: TrainState) -> None:
        points = self.panel._points
        points["eval_step"].append(state.step)
        points["val_loss"].append(state.metrics["loss"])
        points["val_acc"].append(state.metrics["accuracy"])
        self._report(state)
        self._redraw(force=True)

    def on_train_end(self, state: TrainState) -> None:
        self.panel.progress.value = min(state.step, self.panel.progress.max)
        self._redraw(force=True)

    def _report(self, state: TrainState) -> None:
        self.panel.progress.value = min(state.step, self.panel.progress.max)
        accuracy = state.metrics.get("accuracy")
        tail = "" if accuracy is None else f", last validation accuracy {accuracy:.3f}"
        self.panel._say(
            f"epoch {state.epoch + 1}, step {state.step} of {state.total_steps}: "
            f"loss {state.loss:.4f}{tail}",
            "busy",
        )

    def _redraw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_redraw < _REDRAW_INTERVAL_S:
            return
        self._last_redraw = now
        self.panel._redraw_curves()


class TrainPanel(Panel):
    """Controls, live curves, final metrics and saving for one :class:`TextClassifier`.

    Build it with :func:`train_panel`. Widgets (attributes): ``size``, ``learning_rate``,
    ``warmup``, ``epochs``, ``patience``, ``monitor``, ``dropout``, ``train_button``,
    ``stop_button``, ``progress``, ``status``, ``curves`` (an ``Output`` showing ``curves_figure``),
    ``metrics`` (HTML), ``confusion`` (an ``Output``), ``save_path``, ``save_button``,
    ``save_status``. Results: ``classifier``, ``history``, ``evaluation``.
    """

    def __init__(
        self,
        train: LabeledTexts,
        validation: LabeledTexts | None = None,
        *,
        smoke: bool = False,
        seed: int = 0,
        batch_size: int = 32,
        device: str = "auto",
        callbacks: Sequence[Callback] = (),
        save_path: str = "runs/train_panel",
        background: bool = True,
    ) -> None:
        super().__init__(background=background)
        if not isinstance(train, LabeledTexts):
            raise InputError("train must be LabeledTexts, e.g. from workbench.load_reviews()")
        if validation is not None and not isinstance(validation, LabeledTexts):
            raise InputError("validation must be LabeledTexts or None")
        self.train_data = train
        self.validation_data = validation
        self.seed = seed
        self.batch_size = batch_size
        self.device = device
        self.callbacks = list(callbacks)
        self.classifier: TextClassifier | PretrainedEncoderClassifier | None = None
        self.history: History | None = None
        self.evaluation: Evaluation | None = None
        self.curves_figure = curves_figure()
        self.confusion_figure: go.Figure | None = None
        self._points: dict[str, list[float]] = {}
        self._stop_event = threading.Event()

        self._build_settings(smoke)
        self._build_results(save_path)
        self._wire()
        self.children = self._layout()
        self._redraw_curves()
        self._say(f"{len(train)} training texts; press Train.")

    def _build_settings(self, smoke: bool) -> None:
        """The model choice and the hyper-parameter sliders."""
        choices = [(preset_label(name), name) for name in MODEL_PRESETS]
        if transformers_available():
            choices.append((ENCODER_LABEL, ENCODER_CHOICE))
        self.size = widgets.Dropdown(
            options=choices, value="tiny" if smoke else "small", layout=_WIDE
        )
        self.learning_rate = widgets.FloatLogSlider(
            value=3e-3, base=10, min=-4, max=-2, step=0.1, readout_format=".1e", layout=_WIDE
        )
        self.warmup = widgets.FloatSlider(
            value=0.1, min=0.0, max=0.5, step=0.05, readout_format=".2f", layout=_WIDE
        )
        self.epochs = widgets.IntSlider(value=2 if smoke else 10, min=1, max=40, layout=_WIDE)
        self.patience = widgets.IntSlider(value=2, min=1, max=10, layout=_WIDE)
        self.monitor = widgets.Dropdown(
            options=[("validation accuracy", "accuracy"), ("validation loss", "loss")],
            value="accuracy",
            layout=_WIDE,
        )
        self.dropout = widgets.FloatSlider(
            value=0.1, min=0.0, max=0.6, step=0.05, readout_format=".2f", layout=_WIDE
        )

    def _build_results(self, save_path: str) -> None:
        """Train and Stop with the progress bar, the curves, the metrics and saving."""
        self.train_button = button("Train", style="primary", icon="play")
        self.stop_button = button("Stop", style="danger", icon="stop", tooltip="Stop training")
        self.stop_button.disabled = True
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, description="steps", style={"description_width": "initial"}
        )
        self.curves = widgets.Output()
        self.metrics = widgets.HTML()
        self.confusion = widgets.Output()
        self.save_path = widgets.Text(
            value=save_path, description="path", layout={"width": "420px"}
        )
        self.save_button = button("Save", icon="save", tooltip="Save the trained model")
        self.save_status = widgets.HTML()
        self._action_buttons = [self.train_button, self.save_button]

    def _wire(self) -> None:
        self.size.observe(self._on_model_changed, names="value")
        self.train_button.on_click(lambda _: self.train(block=not self.background))
        self.stop_button.on_click(lambda _: self.stop())
        self.save_button.on_click(lambda _: self.save())

    def _layout(self) -> list[widgets.Widget]:
        return [
            labelled("model size", self.size),
            labelled("learning rate", self.learning_rate),
            labelled("warm-up", self.warmup),
            labelled("max epochs", self.epochs),
            labelled("patience", self.patience),
            labelled("early stopping watches", self.monitor),
            labelled("dropout", self.dropout),
            widgets.HBox([self.train_button, self.stop_button, self.progress]),
            self.status,
            self.curves,
            widgets.HBox([self.metrics, self.confusion]),
            widgets.HBox([self.save_path, self.save_button]),
            self.save_status,
        ]

    # ------------------------------------------------------------------ configs
    @property
    def fine_tunes_encoder(self) -> bool:
        return self.size.value == ENCODER_CHOICE

    def _on_model_changed(self, change: dict) -> None:
        # The encoder's recipe differs from the transformer's; dropout and warm-up are the
        # transformer's own knobs.
        encoder = change["new"] == ENCODER_CHOICE
        self.dropout.disabled = self.warmup.disabled = encoder
        if encoder:
            self.learning_rate.value = _ENCODER_START["learning_rate"]
            self.epochs.value = _ENCODER_START["epochs"]

    def make_classifier(self) -> TextClassifier | PretrainedEncoderClassifier:
        """The unfitted model the controls describe."""
        if self.fine_tunes_encoder:
            return finetuned_encoder(
                ENCODER_CHOICE,
                seed=self.seed,
                num_epochs=int(self.epochs.value),
                learning_rate=float(self.learning_rate.value),
                patience=int(self.patience.value),
                monitor=self.monitor.value,
                device=self.device,
            )
        return TextClassifier(model_config=self.model_config(), train_config=self.train_config())

    def model_config(self) -> ModelConfig:
        """The :class:`ModelConfig` the controls describe."""
        return ModelConfig(**MODEL_PRESETS[self.size.value], dropout=float(self.dropout.value))

    def train_config(self) -> TrainConfig:
        """The :class:`TrainConfig` the controls describe."""
        return TrainConfig(
            num_epochs=int(self.epochs.value),
            learning_rate=float(self.learning_rate.value),
            warmup_ratio=float(self.warmup.value),
            patience=int(self.patience.value),
            monitor=self.monitor.value,
            batch_size=self.batch_size,
            seed=self.seed,
            device=self.device,
        )

    # ----------------------------------------------------------------- actions
    def train(self, block: bool = True) -> bool:
        """Train a new classifier with the current settings (what **Train** does).

        Blocks until done unless ``block=False``, which trains in a background thread (then
        :meth:`stop` and :meth:`wait` apply). Returns False if training did not start (one
        is already running) or, when blocking, if it failed; the reason is in ``status``.
        """
        return self._start(self._train, block=block, prepare=self._prepare_run)

    def stop(self) -> None:
        """Ask a running training to end after the current batch; the best model is kept."""
        if self.busy:
            self._stop_event.set()
            self._say("stopping after this batch; the best weights so far are kept", "warning")

    def save(self, path: str | None = None) -> Path | None:
        """Save the trained classifier to ``path`` (default: the path box); None on failure."""
        target = self.save_path.value if path is None else path
        saved: list[Path] = []

        def action() -> None:
            if self.busy:
                raise InputError("training is running; save once it has finished")
            if self.classifier is None:
                raise InputError("there is no trained model yet: press Train first")
            if not str(target).strip():
                raise InputError("type a directory path to save the model to")
            saved.append(self.classifier.save(Path(target).expanduser()))

        if self._run_quietly(action):
            self.save_status.value = message_html(f"saved to {saved[0]}", "success")
            return saved[0]
        self.save_status.value = self.status.value
        return None

    # --------------------------------------------------------------- internals
    def _prepare_run(self) -> None:
        # Runs only once this run is sure to start: a refused second click must not cancel
        # the Stop meant for the run in progress. A "saved to" line would now describe the
        # previous model, so it goes too.
        self._stop_event.clear()
        self.save_status.value = ""

    def _on_busy_changed(self, busy: bool) -> None:
        self.stop_button.disabled = not busy

    def _split(self) -> tuple[LabeledTexts, LabeledTexts]:
        validate_labeled(self.train_data)
        if self.validation_data is not None:
            validate_labeled(self.validation_data)
            return self.train_data, self.validation_data
        # Hold out validation here rather than inside fit, so its metrics can be shown.
        train, validation, _ = stratified_split(self.train_data, val_size=0.1, seed=self.seed)
        return train, validation

    def _train(self) -> None:
        classifier = self.make_classifier()
        train, validation = self._split()
        self.metrics.value = ""
        show_figures(self.confusion)
        self._say(f"training on {len(train)} texts, validating on {len(validation)}", "busy")
        classifier.fit(
            train.texts,
            train.require_labels(),
            validation=(validation.texts, validation.require_labels()),
            callbacks=[LiveCurves(self), *self.callbacks],
            stop_event=self._stop_event,
            progress=False,
        )
        self._say("scoring the validation set", "busy")
        proba = classifier.predict_proba(validation.texts)
        labels = classifier.classes_.tolist()
        evaluation = evaluate(
            validation.require_labels(),
            [labels[i] for i in proba.argmax(axis=1)],
            proba,
            labels=labels,
            seed=self.seed,
        )
        history = classifier.history_
        self.classifier, self.history, self.evaluation = classifier, history, evaluation
        self.confusion_figure = confusion_figure(evaluation, "Confusion matrix (validation)")
        self.metrics.value = metrics_html(evaluation, history)
        show_figures(self.confusion, self.confusion_figure)
        how = "stopped by you" if history.interrupted else "finished"
        self._say(
            f"training {how} after {history.steps} steps; best epoch {history.best_epoch} kept, "
            f"validation accuracy {evaluation.accuracy:.3f}",
            "success",
        )

    def _redraw_curves(self) -> None:
        points = self._points
        figure = self.curves_figure
        with figure.batch_update():
            figure.data[0].x, figure.data[0].y = points.get("step", []), points.get("loss", [])
            figure.data[1].x = points.get("eval_step", [])
            figure.data[1].y = points.get("val_loss", [])
            figure.data[2].x = points.get("eval_step", [])
            figure.data[2].y = points.get("val_acc", [])
        show_figures(self.curves, figure)


def train_panel(
    train: LabeledTexts,
    validation: LabeledTexts | None = None,
    *,
    smoke: bool = False,
    **options: Any,
) -> TrainPanel:
    """A panel that trains a :class:`TextClassifier` on ``train`` with live curves.

    Args:
        train: labelled training texts (``workbench.load_reviews()[0]``, ``load_table(...)``).
        validation: texts for early stopping and the final metrics; by default 10% of
            ``train`` is held out (stratified).
        smoke: start from the tiny model and two epochs, for CI and quick tries.
        options: ``seed``, ``batch_size``, ``device``, ``callbacks`` (extra
            :class:`~workbench.train.Callback` objects), ``save_path``, ``background``
            (False: buttons block instead of training in a thread).

    Returns:
        A :class:`TrainPanel`; display it, press **Train** (or call ``panel.train()``), and
        find the model in ``panel.classifier``.
    """
    return TrainPanel(train, validation, smoke=smoke, **options)
