"""ipywidgets panels over the workbench: train a model, compare models, explain predictions,
analyse a model across a dataset, translate and see which source words each target word
came from.

Each builder returns a panel (an ``ipywidgets.VBox`` whose controls are attributes) and
never displays it: show it as a cell's last expression or with ``display(panel)``. The
buttons call plain methods that notebooks and tests can call too (``panel.train()``,
``panel.run()``, ``panel.explain()``); they block unless given ``block=False``, while the
buttons work in a background thread so the notebook stays responsive. Errors appear inside
the panel as messages, never as tracebacks.
"""

from workbench.widgets.analysis_panel import AnalysisPanel, analysis_panel
from workbench.widgets.compare_panel import ComparePanel, compare_panel
from workbench.widgets.explain_panel import ExplainPanel, explain_panel, supported_methods
from workbench.widgets.train_panel import MODEL_PRESETS, TrainPanel, train_panel
from workbench.widgets.translate_panel import PANEL_METHODS, TranslatePanel, translate_panel

__all__ = [
    "MODEL_PRESETS",
    "PANEL_METHODS",
    "AnalysisPanel",
    "ComparePanel",
    "ExplainPanel",
    "TrainPanel",
    "TranslatePanel",
    "analysis_panel",
    "compare_panel",
    "explain_panel",
    "supported_methods",
    "train_panel",
    "translate_panel",
]
