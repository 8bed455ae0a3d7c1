"""Training: `fit` (the one loop), callbacks, optimizers, schedules, losses, checkpoints, progress."""

from .callbacks import HOOKS, Callback, EarlyStopping, StopTraining, TrainState
from .loop import fit
from .inference import evaluate, predict
from .result import NonFiniteLossWarning, TrainResult

__all__ = ["HOOKS", "Callback", "EarlyStopping", "NonFiniteLossWarning", "StopTraining", "TrainResult", "TrainState",
           "evaluate", "fit", "predict"]
