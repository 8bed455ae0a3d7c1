"""Models: dense (MLP), convolutional (CNN, ResNet), sequence (GRU, RNN, AttentionPooling)."""

from ._blocks import ACTIVATIONS, make_activation
from .conv import CNN, ResNet
from .dense import MLP, count_parameters, width_for_budget
from .sequence import GRU, RNN, AttentionPooling
# chapter 09: the fastest recipe's net
from .fast import FastNet

__all__ = ["ACTIVATIONS", "CNN", "GRU", "MLP", "RNN", "AttentionPooling", "ResNet", "count_parameters",
           "make_activation", "width_for_budget",
           "FastNet"]
