"""Training: `fit` (the one loop), callbacks, optimizers, schedules, losses, checkpoints, progress."""

from .callbacks import HOOKS, Callback, EarlyStopping, StopTraining, TrainState
from .fit import fit
from .result import NonFiniteLossWarning, TrainResult
from .inference import evaluate, predict

__all__ = ["HOOKS", "Callback", "EarlyStopping", "NonFiniteLossWarning", "StopTraining", "TrainResult", "TrainState",
           "evaluate", "fit", "predict"]
