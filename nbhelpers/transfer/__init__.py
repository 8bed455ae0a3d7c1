"""Transfer learning: freeze and unfreeze layers, new heads, the table of what trains at which
learning rate, the course's pretrained backbone and ImageNet's nets for 1-channel images.

    model = pretrained_resnet(num_classes=5)        # the shipped backbone, a new head
    freeze(model, but_last=1)                       # feature extraction: only the head trains
    trainable_table(model, lr=1e-3, depth=1)        # what trains, and at which rate fit gives it
"""

from .backbones import InputAdapter, imagenet_model, imagenet_weights, pretrained_resnet
from .layers import freeze, replace_head, trainable_table, unfreeze

__all__ = ["InputAdapter", "freeze", "imagenet_model", "imagenet_weights", "pretrained_resnet", "replace_head", "trainable_table",
           "unfreeze"]
