"""Evaluation: scores of a trained model, and the one statistics module for numbers over seeds."""

from .metrics import per_class_accuracy, scores
from .seeds import (better_for, ci_text, effect, gain_table, mean_ci, paired_gain, per_class_long, summarize,
                    text_format, verdict, versus)

__all__ = ["better_for", "ci_text", "effect", "gain_table", "mean_ci", "paired_gain", "per_class_accuracy", "per_class_long",
           "scores", "summarize", "text_format", "verdict", "versus"]
