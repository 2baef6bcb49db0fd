"""Explanations on shared word units (SHAP, LIME, gradients, attention) and their trust.

``explain(model, text, method)`` returns an :class:`Explanation`; give it a list of texts and
it returns a list, with a progress bar. Every method reports on the same word units and
uses the same absence convention (deletion), documented in :mod:`workbench.explain.base`.
"""

from workbench.explain.agreement import agreement, agreement_matrix, stability
from workbench.explain.alignment import (
    AlignmentScores,
    AlignmentStudy,
    alignment_error_rate,
    alignment_scores,
    alignment_study,
    alignments_from_matrix,
    random_baseline,
    score_explanations,
)
from workbench.explain.base import (
    Explanation,
    FailedExplanation,
    ModelPredictor,
    remove_words,
    word_units,
)
from workbench.explain.faithfulness import (
    BINS,
    Curve,
    FaithfulnessReport,
    aopc,
    comprehensiveness,
    deletion_curve,
    faithfulness,
    insertion_curve,
    sufficiency,
)
from workbench.explain.figures import attention_figure, top_words_figure
from workbench.explain.generation import (
    GENERATION_METHODS,
    GenerationExplanation,
    explain_translation,
    step_comprehensiveness,
)
from workbench.explain.methods import METHODS, explain, supported_methods, unsupported_message
from workbench.explain.plausibility import plausibility, rationale_mask
from workbench.explain.reasons import same_reasons
from workbench.explain.render import explanation_html, show
from workbench.explain.scorecard import Scorecard, scorecard

__all__ = [
    "AlignmentScores",
    "AlignmentStudy",
    "alignment_error_rate",
    "alignment_scores",
    "alignment_study",
    "alignments_from_matrix",
    "random_baseline",
    "score_explanations",
    "GENERATION_METHODS",
    "GenerationExplanation",
    "explain_translation",
    "step_comprehensiveness",
    "BINS",
    "METHODS",
    "Scorecard",
    "Curve",
    "Explanation",
    "FailedExplanation",
    "FaithfulnessReport",
    "ModelPredictor",
    "agreement",
    "agreement_matrix",
    "aopc",
    "attention_figure",
    "comprehensiveness",
    "deletion_curve",
    "explain",
    "explanation_html",
    "faithfulness",
    "insertion_curve",
    "plausibility",
    "rationale_mask",
    "remove_words",
    "same_reasons",
    "scorecard",
    "show",
    "stability",
    "sufficiency",
    "supported_methods",
    "top_words_figure",
    "unsupported_message",
    "word_units",
]
