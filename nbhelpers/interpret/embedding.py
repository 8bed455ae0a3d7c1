"""What a network makes of its inputs: the features its classifier reads, and a t-SNE picture of them.

>>> import torch
>>> from nbhelpers import CNN, embeddings
>>> features, labels = embeddings(CNN(channels=(4, 8)), (torch.randn(6, 1, 28, 28), torch.arange(6) % 3))
>>> features.shape, labels.tolist()
(torch.Size([6, 8]), [0, 1, 2, 0, 1, 2])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from .._checks import COUNT, MODEL, SEED, TEXT, Optional, Real, Satisfies, checked, fail
from ..evaluation.metrics import CLASSES
from ._common import LAYER, SPLIT, find_layer, inspecting, on_model

if TYPE_CHECKING:  # annotations only: matplotlib loads when first used
    from ..plots._figure import Figure


@checked(model=MODEL, data_split=SPLIT, layer=LAYER, batch_size=COUNT)
def embeddings(model: nn.Module, data_split: tuple[torch.Tensor, torch.Tensor], layer: nn.Module | str | None = None,
               batch_size: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """``(features, labels)``: the input of ``layer`` for every row of ``data_split``, ``N x D``, on the CPU.

    By default ``layer`` is the last ``nn.Linear``, so the features are what the classifier
    reads (for the course's `CNN`, the pooled channels). Any other module of ``model`` (or
    its name) gives its own input, flattened to one row per sample. ``data_split`` is an
    ``(x, y)`` pair such as ``data.test``; the model runs in eval mode, without gradients,
    ``batch_size`` rows at a time.

    Examples
    --------
    >>> import torch
    >>> from nbhelpers import MLP
    >>> model = MLP(4, 3, width=8)
    >>> x, y = torch.randn(10, 4), torch.arange(10) % 3
    >>> features, labels = embeddings(model, (x, y), batch_size=4)
    >>> features.shape, bool((labels == y).all())
    (torch.Size([10, 8]), True)
    """
    _, module = find_layer("embeddings", model, layer, nn.Linear)
    x, y = data_split
    parts: list[torch.Tensor] = []
    handle = module.register_forward_pre_hook(lambda _m, inputs: parts.append(inputs[0].detach().flatten(1).float().cpu()))
    try:
        with inspecting(model), torch.no_grad():
            for start in range(0, len(x), batch_size):
                model(on_model(model, x[start:start + batch_size]))
    finally:
        handle.remove()
    return torch.cat(parts), y.detach().cpu()


def stratified_rows(labels: torch.Tensor, max_points: int, seed: int) -> torch.Tensor:
    """Row numbers of at most about ``max_points`` rows, each class keeping its share (at least one row)."""
    if len(labels) <= max_points:
        return torch.arange(len(labels))
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    kept = []
    for c in torch.unique(labels):
        rows = order[labels[order] == c]
        kept.append(rows[:max(1, round(len(rows) * max_points / len(labels)))])
    return torch.sort(torch.cat(kept)).values


FEATURES = Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim >= 2 and len(v) >= 2,
                     "a tensor of features N x D (or images N x C x H x W, flattened)", bad=["pixels", torch.zeros(3)])
LABELS = Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim == 1 and not v.is_floating_point(),
                   "a tensor of class numbers, one per row", bad=["cat", torch.zeros(2)])


@checked(features=FEATURES, labels=LABELS, classes=CLASSES, seed=SEED, ax_title=Optional(TEXT), max_points=COUNT,
         perplexity=Real(low=1))
def plot_tsne(features: torch.Tensor, labels: torch.Tensor, classes: Sequence[str] | None = None, seed: int = 0,
              ax_title: str | None = None, *, max_points: int = 1000, perplexity: float = 30.0) -> Figure:
    """A t-SNE map (scikit-learn's) of ``features``, one dot per row coloured by its label.

    ``features`` are `embeddings`' (what the network makes of the images) or the images
    themselves (raw pixels, flattened): the same function draws both, so the two pictures
    compare. Rows beyond ``max_points`` are subsampled, each class keeping its share, so the
    picture stays quick (t-SNE's time grows faster than the number of points); more than 50
    columns are first reduced to 50 by PCA, as is usual. Nearby dots were near in the
    features; distances between far clusters and cluster sizes mean little in t-SNE.

    Examples
    --------
    >>> import torch
    >>> x, y = torch.randn(60, 5) + torch.arange(60)[:, None] % 3 * 4, torch.arange(60) % 3
    >>> fig = plot_tsne(x, y, ["a", "b", "c"], ax_title="three blobs", max_points=30, perplexity=5)
    >>> len(fig.axes[0].collections)   # one set of dots per class
    3
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    from ..plots._figure import figure_class

    if len(labels) != len(features):
        raise fail("plot_tsne", "labels", f"one label per row of features ({len(features)})", f"{len(labels)} labels")
    rows = stratified_rows(labels.cpu(), max_points, seed)
    points = features.detach().cpu().flatten(1)[rows].double().numpy()
    kept = labels.cpu()[rows]
    if points.shape[1] > 50 and len(points) > 50:
        points = PCA(n_components=50, random_state=seed).fit_transform(points)
    xy = TSNE(n_components=2, perplexity=min(perplexity, (len(points) - 1) / 3), init="pca", learning_rate="auto",
              random_state=seed).fit_transform(points)
    fig = figure_class()(figsize=(5.2, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for c in torch.unique(kept).tolist():
        here = (kept == c).numpy()
        name = classes[c] if classes is not None and c < len(classes) else str(c)
        ax.scatter(xy[here, 0], xy[here, 1], s=6, alpha=0.7, color=f"C{c % 10}", label=name)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=7, markerscale=2, loc="center left", bbox_to_anchor=(1, 0.5), frameon=False)
    ax.set_title(ax_title or f"t-SNE of {features.shape[1:].numel()} features, {len(points)} points", fontsize=10)
    return fig
