"""Which pixels a prediction rests on: saliency, integrated gradients and Grad-CAM (captum's arithmetic).

One map per image, ``N x H x W``, for one class per image (the predicted one unless told):

- ``"saliency"``: the gradient of the class score with respect to the input, in absolute
  value, largest over the channels (Simonyan et al., 2014).
- ``"integrated_gradients"``: the gradient averaged along the straight path from a baseline
  (all zeros: after the course's normalization, the mean image) to the image, times the
  image minus the baseline, summed over the channels; signed, and the maps of an image add
  up to its class score minus the baseline's (Sundararajan et al., 2017).
- ``"grad_cam"``: a conv layer's channels weighted by the mean gradient of the class score
  over their positions, summed, kept where positive and upsampled (bilinear) to the image
  (Selvaraju et al., 2017). Coarse (the layer's resolution), class-specific.

>>> import torch
>>> from nbhelpers import CNN, attribute
>>> model = CNN(channels=(4, 8))
>>> maps = attribute(model, torch.randn(2, 1, 28, 28), method="grad_cam")
>>> maps.shape, bool((maps >= 0).all())
(torch.Size([2, 28, 28]), True)
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import Choice, MODEL, checked, fail
from ._common import IMAGES, LAYER, STEPS, TARGET, find_layer, inspecting, on_model, resolve_target


def compute_maps(func: str, model: nn.Module, x: torch.Tensor, method: str, target, layer_module: nn.Module | None,
                 steps: int) -> torch.Tensor:
    """Maps ``N x H x W`` of ``model`` (already in `inspecting`) for inputs ``x`` on its device; with
    gradients on even where the reader's code turned them off (``no_grad``, ``inference_mode``)."""
    with torch.inference_mode(False), torch.enable_grad():
        if isinstance(target, torch.Tensor):
            target = target.clone()  # a tensor made under inference_mode cannot take part in autograd
        return _maps(func, model, x.detach().clone(), method, target, layer_module, steps)


def _maps(func, model, x, method, target, layer_module, steps) -> torch.Tensor:
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Saliency

    x.requires_grad_(True)
    if method == "saliency":
        return Saliency(model).attribute(x, target=target, abs=True).amax(1).detach()
    if method == "integrated_gradients":
        ig = IntegratedGradients(model)
        return ig.attribute(x, baselines=torch.zeros_like(x), target=target, n_steps=steps,
                            internal_batch_size=len(x)).sum(1).detach()
    cam = LayerGradCam(model, layer_module).attribute(x, target=target, relu_attributions=True)
    if cam.ndim != 4:
        raise fail(func, "layer", "a layer whose output is N x C x h x w (a conv layer, for grad_cam)",
                   f"one whose output has shape {tuple(cam.shape)}")
    cam = LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode="bilinear")
    return cam[:, 0].clamp_min(0).detach()


@checked(model=MODEL, images=IMAGES, method=Choice("saliency", "integrated_gradients", "grad_cam"), target=TARGET,
         layer=LAYER, steps=STEPS)
def attribute(model: nn.Module, images: torch.Tensor, method: str = "saliency", target: int | torch.Tensor | None = None,
              layer: nn.Module | str | None = None, steps: int = 32) -> torch.Tensor:
    """One attribution map per image, ``N x H x W`` on the CPU: how much each pixel counts for the class.

    Parameters
    ----------
    model : the classifier (logits out); it is run in eval mode and left in the modes it was
        in, its parameters' ``requires_grad`` and ``.grad`` untouched. It may live on any
        device: ``images`` are moved there.
    images : ``N x C x H x W``, normalized as the model was trained (e.g. ``data.test[0][:8]``).
    method : ``"saliency"`` (|gradient|, max over channels), ``"integrated_gradients"``
        (signed, against an all-zero baseline, ``steps`` points on the path) or
        ``"grad_cam"`` (non-negative, upsampled to ``H x W``).
    target : the class to explain: one number for all images, a tensor of N numbers (e.g.
        the true labels), or None for each image's predicted class.
    layer : Grad-CAM's layer, a module of ``model`` or its name in ``model.named_modules()``;
        default the last ``nn.Conv2d``. Only for ``"grad_cam"``.

    Examples
    --------
    >>> import torch
    >>> from nbhelpers import CNN
    >>> model = CNN(channels=(4, 8))
    >>> x = torch.randn(3, 1, 28, 28)
    >>> attribute(model, x, method="integrated_gradients", target=torch.tensor([0, 1, 2]), steps=8).shape
    torch.Size([3, 28, 28])
    >>> attribute(model, x, method="grad_cam", layer="stage1").shape   # the first stage's output, 14 x 14
    torch.Size([3, 28, 28])
    """
    if layer is not None and method != "grad_cam":
        raise fail("attribute", "layer", "None unless method='grad_cam'", layer if isinstance(layer, str)
                   else type(layer).__name__, f"{method} maps are of the input; only Grad-CAM looks at a layer.")
    module = find_layer("attribute", model, layer)[1] if method == "grad_cam" else None
    x = on_model(model, images)
    with inspecting(model):
        target = resolve_target("attribute", model, x, target)
        maps = compute_maps("attribute", model, x, method, target, module, steps)
    return maps.detach().float().cpu()
