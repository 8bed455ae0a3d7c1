"""Scale: what a training step's time goes to, the data-parallel script (``python -m
nbhelpers.scale.ddp_train`` under torchrun), and the fastest recipe's parts."""

from .ddp_train import launch_ddp
from .records import bench_records, plot_time_to_accuracy, recorded_time_to_accuracy
from .recipe import EMA, TRICKS, ablation, predict_tta, time_to, train_fast
from .timing import plot_time_breakdown, time_breakdown

__all__ = ["EMA", "TRICKS", "ablation", "bench_records", "launch_ddp", "plot_time_breakdown", "plot_time_to_accuracy",
           "predict_tta", "recorded_time_to_accuracy", "time_breakdown", "time_to", "train_fast"]
