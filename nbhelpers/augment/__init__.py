"""Data augmentation on whole batches on the device: steps, `pipeline`, and pictures of them.

base (what every step shares) < geometric, photometric (the steps) < pipeline (`pipeline`,
`Pipeline`, Keras' names) < preview (`preview`, `gallery`, `soft_label_grid`).
"""

from .base import Augmentation
from .geometric import Crop, Elastic, Flip, Rotate, Shear, Shift, Zoom
from .photometric import CLAHE, Brightness, Contrast, CutMix, Equalize, Erase, MixUp, Noise, OneOf
from .pipeline import Pipeline, pipeline
from .preview import gallery, preview, soft_label_grid

__all__ = ["CLAHE", "Augmentation", "Brightness", "Contrast", "Crop", "CutMix", "Elastic", "Equalize", "Erase", "Flip",
           "MixUp", "Noise", "OneOf", "Pipeline", "Rotate", "Shear", "Shift", "Zoom", "gallery", "pipeline", "preview",
           "soft_label_grid"]
