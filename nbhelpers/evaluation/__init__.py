"""Evaluation: scores of a trained model, the one statistics module for numbers over seeds
(`seeds`), and the words a chapter states them in (`claims`); classification metrics
(`report`), calibration, binary decisions (`thresholds`) and resampling (bootstrap, k-fold,
the cost of picking a winner)."""

from .claims import Effect, ci_text, effect, gain_table, listed, say, verdict, versus
from .metrics import per_class_accuracy, scores
from .report import class_report, classification_metrics, confusion, plot_confusion
from .calibration import expected_calibration_error, fit_temperature, plot_reliability, reliability_table
from .thresholds import at_prevalence, best_threshold, plot_prevalence, plot_threshold, threshold_table
from .resampling import bootstrap, cross_validate, plot_bootstrap, selection_bias
from .seeds import better_for, mean_ci, paired_gain, per_class_long, summarize, text_format, value_range

__all__ = ["Effect", "better_for", "ci_text", "effect", "gain_table", "mean_ci", "paired_gain", "per_class_accuracy",
           "per_class_long", "listed", "say", "scores", "summarize", "text_format", "value_range", "verdict", "versus",
           # chapter 08: metrics, calibration, thresholds, resampling
           "at_prevalence", "best_threshold", "bootstrap", "class_report", "classification_metrics", "confusion",
           "cross_validate", "expected_calibration_error", "fit_temperature", "plot_bootstrap", "plot_confusion",
           "plot_prevalence", "plot_reliability", "plot_threshold", "reliability_table", "selection_bias",
           "threshold_table"]
