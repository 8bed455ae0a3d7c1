"""nbhelpers: the helper package of the course on making neural networks perform better.

    from nbhelpers import fashion_mnist, CNN, fit
    data = fashion_mnist()
    result = fit(CNN(), data, epochs=5, lr=3e-3)
"""

from .augment import Pipeline, pipeline, preview, preview_panel
from .callbacks import Callback, EarlyStopping, StopTraining, TrainState
from .cli import doctor
from .data import (DataBundle, DataIntegrityError, DataNotFoundError, DeviceLoader, data_report, fashion_mnist,
                   mnist1d, tabular)
from .device import amp_dtype, by_mode, device_report, get_device, quick_mode, seed_everything
from .experiments import (ci_text, effect, epochs_for, gain_table, gallery, paired_gain, per_class_accuracy,
                          per_class_long, plot_ci, scores, soft_label_grid, verdict)
from .explore import Panel, explore, sweep
from .diagnostics import ActivationStats, GradientNorms, layer_gradients, plot_layers
from .models import CNN, MLP, ResNet, count_parameters, make_activation, width_for_budget
from .plots import learning_curves, show_images
from .preprocess import (OutlierToNaN, class_weights, fit_on_train, inject_missing, inject_outliers, leakage_check,
                         make_imbalanced, make_imputer, resample, robust_outliers, score_fills, score_imputers,
                         score_outlier_rules)
from .preprocess_compare import Comparison, Difference, ci_plot, compare_preprocessing, difference, train_with_remedy
from .sequence import GRU, RNN, AttentionPooling
from .train import NonFiniteLossWarning, TrainResult, evaluate, fit, predict

__version__ = "0.1.0"

__all__ = [
    "CNN", "GRU", "MLP", "Callback", "DataBundle", "DataIntegrityError", "DataNotFoundError", "DeviceLoader",
    "EarlyStopping", "NonFiniteLossWarning", "Panel", "ResNet", "StopTraining", "TrainResult", "TrainState", "amp_dtype",
    "by_mode", "count_parameters", "data_report", "device_report", "doctor", "evaluate", "explore", "fashion_mnist", "fit",
    "get_device", "learning_curves", "make_activation", "mnist1d", "predict", "quick_mode", "seed_everything",
    "show_images", "sweep", "tabular", "width_for_budget",
    "Pipeline", "pipeline", "preview", "preview_panel",  # augment
    "ci_text", "effect", "epochs_for", "gain_table", "gallery", "paired_gain", "per_class_accuracy", "per_class_long",
    "plot_ci", "scores", "soft_label_grid", "verdict",  # experiments
    "Comparison", "Difference", "OutlierToNaN", "ci_plot", "class_weights", "compare_preprocessing", "difference",
    "fit_on_train", "inject_missing", "inject_outliers", "leakage_check", "make_imbalanced", "make_imputer", "resample",
    "robust_outliers", "score_fills", "score_imputers", "score_outlier_rules", "train_with_remedy",  # preprocess
    "RNN", "AttentionPooling",  # sequence
    "ActivationStats", "GradientNorms", "layer_gradients", "plot_layers",  # diagnostics
]
