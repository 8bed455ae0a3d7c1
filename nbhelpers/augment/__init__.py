"""Data augmentation on whole batches on the device: steps, `pipeline`, and pictures of them.

base (what every step shares) < geometric, photometric (the steps) < compose (`pipeline`,
`Pipeline`, Keras' names) < pictures (`preview`, `gallery`, `soft_label_grid`).
"""

from .base import Augmentation
from .geometric import Crop, Elastic, Flip, Rotate, Shear, Shift, Zoom
from .photometric import CLAHE, Brightness, Contrast, CutMix, Equalize, Erase, MixUp, Noise, OneOf
from .compose import Pipeline, pipeline
from .pictures import gallery, preview, soft_label_grid

__all__ = ["CLAHE", "Augmentation", "Brightness", "Contrast", "Crop", "CutMix", "Elastic", "Equalize", "Erase", "Flip",
           "MixUp", "Noise", "OneOf", "Pipeline", "Rotate", "Shear", "Shift", "Zoom", "gallery", "pipeline", "preview",
           "soft_label_grid"]
