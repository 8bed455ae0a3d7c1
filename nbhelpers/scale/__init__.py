"""Scale: what a training step's time goes to, the data-parallel script (``python -m
nbhelpers.scale.ddp_train`` under torchrun), and the fastest recipe's parts."""

from .timing import plot_time_breakdown, time_breakdown

__all__ = ["plot_time_breakdown", "time_breakdown"]
