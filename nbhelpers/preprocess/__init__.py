"""Preprocessing, leakage-safe: thin wrappers over scikit-learn and imbalanced-learn, and comparisons over seeds.

Whatever learns from data (a scaler's means, an imputer's medians, an outlier rule's
quartiles, SMOTE's neighbours) learns it from the TRAINING rows only and is applied
unchanged to validation and test rows. The work itself is scikit-learn's and
imbalanced-learn's; these helpers loop over methods and seeds and return tidy tables.
"""

from .compare import Comparison, compare_preprocessing, train_with_remedy
from .imbalance import class_weights, make_imbalanced, resample
from .leakage import fit_on_train, leakage_check
from .missing import inject_missing, make_imputer, score_fills, score_imputers
from .outliers import inject_outliers, robust_outliers, score_outlier_rules

__all__ = ["Comparison", "OutlierToNaN", "class_weights", "compare_preprocessing",
           "fit_on_train", "inject_missing", "inject_outliers", "leakage_check", "make_imbalanced", "make_imputer",
           "resample", "robust_outliers", "score_fills", "score_imputers", "score_outlier_rules", "train_with_remedy"]


def __getattr__(name: str):
    # The one name that needs scikit-learn to be defined: loaded on first use, so that
    # `import nbhelpers` does not pay for scikit-learn (tests/test_architecture.py checks it).
    if name == "OutlierToNaN":
        from .outlier_step import OutlierToNaN

        return OutlierToNaN
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
