"""Evaluation: scores of a trained model, the one statistics module for numbers over seeds
(`seeds`), and the words a chapter states them in (`claims`)."""

from .claims import Effect, ci_text, effect, gain_table, say, verdict, versus
from .metrics import per_class_accuracy, scores
from .seeds import better_for, mean_ci, paired_gain, per_class_long, summarize, text_format, value_range

__all__ = ["Effect", "better_for", "ci_text", "effect", "gain_table", "mean_ci", "paired_gain", "per_class_accuracy",
           "per_class_long", "say", "scores", "summarize", "text_format", "value_range", "verdict", "versus"]
