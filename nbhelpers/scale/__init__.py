"""Scale: what a training step's time goes to, the data-parallel script (``python -m
nbhelpers.scale.ddp_train`` under torchrun), and the fastest recipe's parts."""

from .ddp_train import launch_ddp
from .records import gpu_records
from .recipe import EMA, TRICKS, ablation, predict_tta, time_to, train_fast
from .timing import plot_time_breakdown, time_breakdown

__all__ = ["EMA", "TRICKS", "ablation", "gpu_records", "launch_ddp",
           "plot_time_breakdown", "predict_tta", "time_breakdown", "time_to", "train_fast"]
