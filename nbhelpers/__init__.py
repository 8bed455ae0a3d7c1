"""nbhelpers: the helper package of the course on making neural networks perform better.

    from nbhelpers import fashion_mnist, CNN, fit
    data = fashion_mnist()
    result = fit(CNN(), data, epochs=5, lr=3e-3)

Every public name is listed here once; notebooks import from here only. Where each one
lives, and which layer may import which, is written down in ARCHITECTURE.md.
"""

from ._version import __version__  # noqa: F401  (nbhelpers.__version__)
from .augment import (CLAHE, Brightness, Contrast, Crop, CutMix, Elastic, Equalize, Erase, Flip, MixUp, Noise, OneOf,
                      Pipeline, Rotate, Shear, Shift, Zoom, gallery, pipeline, preview, soft_label_grid)
from .cli import doctor
from .course import reference_runs
from .compress import file_bytes, prune, quantize, size_speed_table, sparsity
from .data import (DataBundle, DataConversionWarning, DataIntegrityError, DataNotFoundError, DeviceLoader,
                   UnshardedDataWarning, data_report, fashion_mnist, mnist1d, tabular)
from .device import amp_dtype, by_mode, device_report, get_device, quick_mode, seed_everything
from .diagnostics import ActivationStats, GradientNorms, check_data, diagnose, layer_gradients, overfit_batch, plot_layers
from .evaluation import (better_for, ci_text, effect, gain_table, mean_ci, paired_gain, per_class_accuracy,
                         per_class_long, listed, say, scores, summarize, text_format, value_range, verdict, versus)
from .models import CNN, GRU, MLP, RNN, AttentionPooling, ResNet, count_parameters, make_activation, width_for_budget
from .plots import compare_curves, learning_curves, plot_ci, show_images
from .preprocess import (Comparison, class_weights, compare_preprocessing, fit_on_train, inject_missing,
                         inject_outliers, leakage_check, make_imbalanced, make_imputer, resample, robust_outliers,
                         score_fills, score_imputers, score_outlier_rules, train_with_remedy)
from .regularize import decay_toy, gap_effect, gap_scores, gap_table, plot_gap, weight_histogram, weight_stats
from .runs import sweep
from .training import (Callback, EarlyStopping, NonFiniteLossWarning, StopTraining, TrainResult, TrainState, evaluate,
                       fit, predict)
from .training.schedules import epochs_for
from .ui import GapPanel, Panel, PreviewPanel, explore, gap_panel, preview_panel, search_panel
# chapter 05: optimizers, the learning-rate finder, optimizer paths on 2-D surfaces
from .surfaces import double_well, plot_paths, quadratic, rosenbrock, stable_lr, trajectory
from .training import PID, LRFinder, effective_step, lr_find
# chapter 06: hyperparameter optimization
from .hpo import (PruningCallback, integers, isolation, log_uniform, open_storage, param_importances, plot_history,
                  plot_importance, plot_isolation, plot_parallel, plot_points, plot_slices, search, trials_table, uniform)
# chapter 07: transfer learning
from .transfer import (InputAdapter, freeze, imagenet_model, imagenet_weights, pretrained_resnet, replace_head,
                       trainable_table, unfreeze)
# chapter 08: classification metrics, calibration, thresholds and costs, resampling
from .evaluation import (at_prevalence, best_threshold, bootstrap, class_report, classification_metrics, confusion,
                         cross_validate, expected_calibration_error, fit_temperature, plot_bootstrap, plot_confusion,
                         plot_prevalence, plot_reliability, plot_threshold, reliability_table, selection_bias,
                         threshold_table)
from .ui import threshold_panel
# chapter 08: interpretation
from .interpret import (activation_maps, attribute, confidently_wrong, embeddings, plot_activation_maps,
                        plot_attributions, plot_confidently_wrong, plot_randomization, plot_tsne, randomization_check)
# chapter 09: GPU acceleration and scale
from .training import process_group
from .models import FastNet
# chapter 10: monitoring and troubleshooting
from .monitor import (DriftMonitor, LabelShift, drift_table, drift_trials, drift_words, drifting_stream, holm,
                      image_summary, plot_stream, psi, replay)
from .scale import (EMA, ablation, bench_records, launch_ddp, plot_time_breakdown, plot_time_to_accuracy, predict_tta,
                    recorded_time_to_accuracy, time_breakdown, time_to, train_fast)

__all__ = [
    # data
    "DataBundle", "DataConversionWarning", "DataIntegrityError", "DataNotFoundError", "DeviceLoader",
    "UnshardedDataWarning", "data_report", "fashion_mnist", "mnist1d", "tabular",
    # device
    "amp_dtype", "by_mode", "device_report", "get_device", "quick_mode", "seed_everything",
    # models
    "CNN", "GRU", "MLP", "RNN", "AttentionPooling", "ResNet", "count_parameters", "make_activation", "width_for_budget",
    # training
    "Callback", "EarlyStopping", "NonFiniteLossWarning", "StopTraining", "TrainResult", "TrainState", "epochs_for",
    "evaluate", "fit", "predict",
    # runs, evaluation, plots
    "sweep", "reference_runs",
    "better_for", "ci_text", "effect", "gain_table", "mean_ci", "paired_gain", "per_class_accuracy", "per_class_long", "listed", "say",
    "scores", "summarize", "text_format", "value_range", "verdict", "versus",
    "Figure", "compare_curves", "learning_curves", "plot_ci", "show_images",
    # techniques
    "Comparison", "OutlierToNaN", "class_weights", "compare_preprocessing",
    "fit_on_train", "inject_missing", "inject_outliers", "leakage_check", "make_imbalanced", "make_imputer", "resample",
    "robust_outliers", "score_fills", "score_imputers", "score_outlier_rules", "train_with_remedy",
    "CLAHE", "Brightness", "Contrast", "Crop", "CutMix", "Elastic", "Equalize", "Erase", "Flip", "MixUp", "Noise",
    "OneOf", "Pipeline", "Rotate", "Shear", "Shift", "Zoom", "gallery", "pipeline", "preview", "soft_label_grid",
    "decay_toy", "gap_effect", "gap_scores", "gap_table", "plot_gap", "weight_histogram", "weight_stats",
    "file_bytes", "prune", "quantize", "size_speed_table", "sparsity",
    "ActivationStats", "GradientNorms", "layer_gradients", "plot_layers",
    # ui
    "GapPanel", "Panel", "PreviewPanel", "explore", "gap_panel", "preview_panel",
    # cli
    "doctor",
    # chapter 05: optimizers, the learning-rate finder, optimizer paths on 2-D surfaces
    "PID", "LRFinder", "effective_step", "lr_find", "double_well", "plot_paths", "quadratic", "rosenbrock", "stable_lr",
    "trajectory",
    # chapter 06: hyperparameter optimization
    "PruningCallback", "TorchClassifier", "integers", "isolation", "log_uniform", "open_storage", "param_importances",
    "plot_history", "plot_importance", "plot_isolation", "plot_parallel", "plot_points", "plot_slices", "search",
    "search_panel", "trials_table", "uniform",
    # chapter 07: transfer learning
    "InputAdapter", "freeze", "imagenet_model", "imagenet_weights", "pretrained_resnet", "replace_head",
    "trainable_table", "unfreeze",
    # chapter 08: classification metrics, calibration, thresholds and costs, resampling
    "at_prevalence", "best_threshold", "bootstrap", "class_report", "classification_metrics", "confusion",
    "cross_validate", "expected_calibration_error", "fit_temperature", "plot_bootstrap", "plot_confusion",
    "plot_prevalence", "plot_reliability", "plot_threshold", "reliability_table", "selection_bias", "threshold_panel",
    "threshold_table",
    # chapter 08: interpretation
    "activation_maps", "attribute", "confidently_wrong", "embeddings", "plot_activation_maps", "plot_attributions",
    "plot_confidently_wrong", "plot_randomization", "plot_tsne", "randomization_check",
    # chapter 09: GPU acceleration and scale
    "EMA", "FastNet", "ablation", "bench_records", "launch_ddp", "plot_time_breakdown", "plot_time_to_accuracy",
    "predict_tta", "process_group", "recorded_time_to_accuracy", "time_breakdown", "time_to", "train_fast",
    # chapter 10: monitoring and troubleshooting
    "DriftMonitor", "LabelShift", "check_data", "diagnose", "drift_table", "drift_trials", "drift_words",
    "drifting_stream", "holm", "image_summary", "overfit_batch", "plot_stream", "psi", "replay",
]


def __getattr__(name: str):
    # The names whose classes need a heavy library to be defined, made on first use so that
    # `import nbhelpers` pays for neither (tests/test_architecture.py checks it).
    if name == "OutlierToNaN":  # subclasses scikit-learn's BaseEstimator (1.5 s)
        from .preprocess.outlier_step import OutlierToNaN

        return OutlierToNaN
    if name == "TorchClassifier":  # subclasses scikit-learn's BaseEstimator (1.5 s)
        from .hpo.estimator import TorchClassifier

        return TorchClassifier
    if name == "Figure":  # subclasses matplotlib's Figure (0.5 s)
        from .plots._figure import figure_class

        return figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
