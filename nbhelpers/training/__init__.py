"""Training: `fit` (the one loop), callbacks, optimizers, schedules, losses, checkpoints, progress."""

from .callbacks import HOOKS, Callback, EarlyStopping, StopTraining, TrainState
from .fit import NonFiniteLossWarning, TrainResult, fit
from .inference import evaluate, predict

__all__ = ["HOOKS", "Callback", "EarlyStopping", "NonFiniteLossWarning", "StopTraining", "TrainResult", "TrainState",
           "evaluate", "fit", "predict"]
