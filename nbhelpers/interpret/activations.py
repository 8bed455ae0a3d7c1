"""What a conv layer sees: its output maps for a few images, taken by a forward hook.

>>> import torch
>>> from nbhelpers import CNN, activation_maps
>>> activation_maps(CNN(channels=(4, 8)), torch.randn(2, 1, 28, 28)).shape   # the last conv: 8 channels, 14 x 14
torch.Size([2, 8, 14, 14])
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import MODEL, checked, fail
from ._common import IMAGES, LAYER, find_layer, inspecting, on_model


@checked(model=MODEL, images=IMAGES, layer=LAYER)
def activation_maps(model: nn.Module, images: torch.Tensor, layer: nn.Module | str | None = None) -> torch.Tensor:
    """The output of ``layer`` for ``images``, ``N x C x h x w`` on the CPU: one map per channel.

    ``layer`` is a module of ``model`` or its name in ``model.named_modules()`` (e.g.
    ``"stage1.block.act2"`` for the first stage's rectified maps); default the last
    ``nn.Conv2d``. The model runs once in eval mode without gradients; the hook is removed
    and the modes are restored afterwards.

    Examples
    --------
    >>> import torch
    >>> from nbhelpers import CNN
    >>> model = CNN(channels=(4, 8))
    >>> activation_maps(model, torch.randn(3, 1, 28, 28), layer="stage1.block.act1").shape
    torch.Size([3, 4, 28, 28])
    >>> len(model._forward_hooks) + sum(len(m._forward_hooks) for m in model.modules())
    0
    """
    name, module = find_layer("activation_maps", model, layer)
    seen: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda _m, _inputs, output: seen.append(output))
    try:
        with inspecting(model), torch.no_grad():
            model(on_model(model, images))
    finally:
        handle.remove()
    if not seen or not isinstance(seen[0], torch.Tensor) or seen[0].ndim != 4:
        shape = tuple(seen[0].shape) if seen and isinstance(seen[0], torch.Tensor) else "none"
        raise fail("activation_maps", "layer", "a layer whose output is N x C x h x w (a conv layer)",
                   name, f"Its output had shape {shape}.")
    return seen[0].detach().float().cpu()
