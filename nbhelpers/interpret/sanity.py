"""The sanity check of a saliency method: randomize the weights, and see whether the maps notice.

Adebayo et al., "Sanity Checks for Saliency Maps" (NeurIPS 2018,
https://arxiv.org/abs/1810.03292): re-initialize a trained model's layers one after another,
from the output down (cascading randomization), and compare each method's maps with the
trained model's. A map that still looks the same once the weights that made the prediction
are gone shows the image (its edges, its bright parts), not what the model learned: the
method explains nothing about the model.

>>> import torch
>>> from nbhelpers import CNN, randomization_check
>>> table = randomization_check(CNN(channels=(4, 8)), torch.randn(2, 1, 28, 28), method=["saliency", "grad_cam"])
>>> list(table.columns)
['step', 'layer', 'method', 'similarity', 'similarity_sd']
>>> table["layer"].tolist()[:4]
['(trained)', '(trained)', 'head', 'head']
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from .._checks import MODEL, SEED, AnyOf, Choice, Satisfies, checked, fail
from ._common import IMAGES, LAYER, METHODS, STEPS, TARGET, find_layer, inspecting, on_model, resolve_target
from .attribution import compute_maps

if TYPE_CHECKING:  # annotations only: pandas loads when first used
    import pandas as pd

METHOD_OR_METHODS = AnyOf(Choice(*METHODS), Satisfies(
    lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(m, str) and m.lower() in METHODS for m in v),
    "a list of them", bad=[[], ["saliency", "lime"]]))


def randomizable_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules that hold parameters of their own (conv, linear, norm layers), output first."""
    return [(name, m) for name, m in model.named_modules() if next(m.parameters(recurse=False), None) is not None][::-1]


def randomize(module: nn.Module) -> None:
    """Re-initialize ``module`` as it was before training: its own ``reset_parameters`` (a norm
    layer's running statistics too); without one, normal noise of each parameter's own scale."""
    if hasattr(module, "reset_parameters"):
        module.reset_parameters()
        return
    with torch.no_grad():
        for p in module.parameters(recurse=False):
            scale = float(p.std()) if p.numel() > 1 and float(p.std()) > 0 else 1.0
            p.normal_(0.0, scale)


def rank_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per image, Spearman's rank correlation of ``|a|`` and ``|b|`` (``N x H x W`` each); ties get
    their mean rank. A constant map (a Grad-CAM with nothing positive) shares no ranking: 0."""
    from scipy.stats import rankdata

    ranks = [torch.from_numpy(rankdata(m.detach().cpu().abs().flatten(1).double().numpy(), axis=1)) for m in (a, b)]
    centred = [r - r.mean(1, keepdim=True) for r in ranks]
    norms = centred[0].norm(dim=1) * centred[1].norm(dim=1)
    rho = (centred[0] * centred[1]).sum(1) / norms.clamp_min(1e-300)
    return torch.where(norms > 0, rho.clamp(-1.0, 1.0), torch.zeros_like(rho))


def _row(step: int, layer: str, method: str, rho: torch.Tensor) -> dict:
    return dict(step=step, layer=layer, method=method, similarity=float(rho.mean()),
                similarity_sd=float(rho.std()) if len(rho) > 1 else 0.0)


@checked(model=MODEL, images=IMAGES, method=METHOD_OR_METHODS, target=TARGET, layer=LAYER, steps=STEPS, seed=SEED)
def randomization_check(model: nn.Module, images: torch.Tensor, method: str | Sequence[str] = "saliency",
                        target: int | torch.Tensor | None = None, layer: nn.Module | str | None = None, *,
                        steps: int = 32, seed: int = 0) -> pd.DataFrame:
    """Randomize ``model``'s layers from the top, one more at each step, and compare the maps.

    Works on a deep copy: ``model`` is left as it was. Step 0 is the trained model (its
    similarity with itself: 1, or 0 where a map is constant); step k has the top k layers
    with parameters (``head``, then the last norm or conv layer, ...) re-initialized by their
    own ``reset_parameters``, seeded by ``seed``. At every step each method's maps
    (`attribute`'s, for the trained model's predicted class unless ``target`` says
    otherwise) are compared with the trained model's by Spearman's rank correlation of the
    absolute maps, one number per image: the table gives their mean and standard deviation
    over the images.

    A method that explains the model loses its similarity as the weights go (falling toward
    0); one whose maps stay similar shows the input, whatever the weights.

    Parameters
    ----------
    method : one method of `attribute` or a list of them (one row per method and step).
    layer : Grad-CAM's layer (default the last ``nn.Conv2d``); taken by name in the copy.
    steps : integrated gradients' points on the path.

    Examples
    --------
    >>> import torch
    >>> from nbhelpers import CNN
    >>> table = randomization_check(CNN(channels=(4, 8)), torch.randn(2, 1, 28, 28))
    >>> len(table), float(table["similarity"].iloc[0])   # the trained model, then 9 layers
    (10, 1.0)
    """
    import pandas as pd

    methods = [method] if isinstance(method, str) else list(dict.fromkeys(m.lower() for m in method))
    if layer is not None and "grad_cam" not in methods:
        raise fail("randomization_check", "layer", "None unless 'grad_cam' is among the methods",
                   layer if isinstance(layer, str) else type(layer).__name__)
    layer_name = find_layer("randomization_check", model, layer)[0] if "grad_cam" in methods else None
    x = on_model(model, images)
    with inspecting(model):
        target = resolve_target("randomization_check", model, x, target)
        cam_layer = dict(model.named_modules()).get(layer_name)
        trained = {m: compute_maps("randomization_check", model, x, m, target, cam_layer, steps) for m in methods}
    rows = [_row(0, "(trained)", m, rank_similarity(trained[m], trained[m])) for m in methods]
    with torch.inference_mode(False):  # the copy's weights must be ordinary tensors, whatever the reader's mode
        twin = copy.deepcopy(model)
    cam_layer = dict(twin.named_modules()).get(layer_name)
    with inspecting(twin), torch.inference_mode(False), torch.random.fork_rng(
            devices=[x.device] if x.device.type == "cuda" else []):
        torch.manual_seed(seed)
        for step, (name, module) in enumerate(randomizable_layers(twin), 1):
            randomize(module)
            for m in methods:
                maps = compute_maps("randomization_check", twin, x, m, target, cam_layer, steps)
                rows.append(_row(step, name, m, rank_similarity(trained[m], maps)))
    return pd.DataFrame(rows)
