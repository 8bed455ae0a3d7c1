"""Training: `fit` (the one loop), callbacks, optimizers, schedules, losses, checkpoints, progress."""

from .callbacks import HOOKS, Callback, EarlyStopping, StopTraining, TrainState
from .loop import fit
from .inference import evaluate, predict
from .result import NonFiniteLossWarning, TrainResult
# chapter 05: optimizers and the learning-rate finder
from .lr_finder import LRFinder, LRFinderResult, lr_find
from .pid import PID, effective_step
# chapter 09: data-parallel training through fit
from .distributed import process_group

__all__ = ["HOOKS", "Callback", "EarlyStopping", "NonFiniteLossWarning", "StopTraining", "TrainResult", "TrainState",
           "evaluate", "fit", "predict",
           "LRFinder", "LRFinderResult", "PID", "effective_step", "lr_find",
           "process_group"]
