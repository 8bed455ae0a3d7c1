"""Diagnostics: what happens inside a network while it trains (gradient norms and activation
statistics per layer), and the troubleshooting checks of a run that does not converge."""

from .layers import ActivationStats, GradientNorms, layer_gradients, plot_layers
from .troubleshoot import check_data, diagnose, overfit_batch

__all__ = ["ActivationStats", "GradientNorms", "check_data", "diagnose", "layer_gradients", "overfit_batch",
           "plot_layers"]
