"""The errors a model is surest of: wrong predictions sorted by the probability it gave them, and their images.

>>> import torch
>>> from torch import nn
>>> from nbhelpers import confidently_wrong
>>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
>>> table = confidently_wrong(model, (torch.randn(20, 1, 2, 2), torch.arange(20) % 2), k=3)
>>> list(table.columns)
['index', 'true', 'predicted', 'confidence', 'p_true']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from .._checks import COUNT, MODEL, TEXT, Frame, Optional, Satisfies, checked, fail
from ..evaluation.metrics import CLASSES
from ..training import predict
from ._common import SPLIT, inspecting

if TYPE_CHECKING:  # annotations only: pandas loads when first used
    import pandas as pd

    from ..plots._figure import Figure


def probabilities(out: torch.Tensor) -> torch.Tensor:
    """``N x C`` class probabilities of logits (one logit: the two classes of a sigmoid)."""
    if out.ndim == 1 or out.shape[1] == 1:
        p = torch.sigmoid(out.reshape(-1).float())
        return torch.stack([1 - p, p], 1)
    return torch.softmax(out.float(), 1)


@checked(model=MODEL, data_split=SPLIT, k=COUNT, classes=CLASSES)
def confidently_wrong(model: nn.Module, data_split: tuple[torch.Tensor, torch.Tensor], k: int = 16,
                      classes: Sequence[str] | None = None) -> pd.DataFrame:
    """The ``k`` wrong predictions on ``data_split`` the model was most confident of, most confident first.

    One row per image: ``index`` (its row in ``data_split``), ``true`` and ``predicted`` (class
    names with ``classes``, else numbers), ``confidence`` (the probability the model gave its
    wrong answer) and ``p_true`` (what it gave the right one). Predictions are `predict`'s, so
    they agree with `evaluate`'s accuracy; the model's modes are left as they were. Fewer
    than ``k`` rows where fewer are wrong. Show the images with `plot_confidently_wrong`.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> x, y = torch.randn(30, 1, 2, 2), torch.arange(30) % 2
    >>> table = confidently_wrong(model, (x, y), k=5, classes=["cat", "dog"])
    >>> bool(table["confidence"].is_monotonic_decreasing), bool((table["true"] != table["predicted"]).all())
    (True, True)
    """
    import pandas as pd

    x, y = data_split
    with inspecting(model):
        p = probabilities(predict(model, x))
    y = y.cpu().long()
    if int(y.max()) >= p.shape[1]:
        raise fail("confidently_wrong", "data_split", f"labels in 0..{p.shape[1] - 1} (the model's classes)",
                   int(y.max()))
    if classes is not None and len(classes) < p.shape[1]:
        raise fail("confidently_wrong", "classes", f"a name for every class 0..{p.shape[1] - 1}", list(classes))
    confidence, predicted = p.max(1)
    wrong = torch.nonzero(predicted != y).flatten()
    order = wrong[torch.argsort(confidence[wrong], descending=True, stable=True)][:k]
    name = (lambda i: classes[i]) if classes is not None else (lambda i: i)
    return pd.DataFrame({"index": order.tolist(), "true": [name(int(y[i])) for i in order],
                         "predicted": [name(int(predicted[i])) for i in order],
                         "confidence": confidence[order].tolist(), "p_true": p[order, y[order]].tolist()})


@checked(data_split=SPLIT, table=Frame("the table confidently_wrong returns"), classes=CLASSES, columns=COUNT,
         mean_std=Optional(Satisfies(lambda v: isinstance(v, (tuple, list)) and len(v) == 2, "a pair (mean, std)",
                                     bad=[0.5])), title=Optional(TEXT))
def plot_confidently_wrong(data_split: tuple[torch.Tensor, torch.Tensor], table: pd.DataFrame,
                           classes: Sequence[str] | None = None, *, columns: int = 8,
                           mean_std: tuple[float, float] | None = None, title: str | None = None) -> Figure:
    """The images of `confidently_wrong`'s table, each titled with its true class, then "→ predicted" and the confidence.

    ``data_split`` is the split the table was made on (``index`` are its rows). Drawn as
    `show_images` draws images (dark on light, one channel); ``mean_std`` undoes the
    normalization.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    >>> split = (torch.randn(30, 1, 4, 4), torch.arange(30) % 2)
    >>> table = confidently_wrong(model, split, k=4)
    >>> len(plot_confidently_wrong(split, table).axes) == len(table)
    True
    """
    from ..plots._figure import figure_class

    missing = [c for c in ("index", "true", "predicted", "confidence") if c not in table.columns]
    if missing:
        raise fail("plot_confidently_wrong", "table", "the table confidently_wrong returns", f"one without {missing}")
    x = data_split[0]
    if len(table) and int(table["index"].max()) >= len(x):
        raise fail("plot_confidently_wrong", "table", f"rows of data_split (index < {len(x)})",
                   int(table["index"].max()), "Pass the split the table was made on.")
    name = (lambda v: classes[v] if classes is not None and isinstance(v, int) and v < len(classes) else str(v))
    cols = max(1, min(columns, len(table)))
    rows = max(1, -(-len(table) // cols))
    fig = figure_class()(figsize=(1.5 * cols, 1.8 * rows + (0.3 if title else 0)), layout="constrained")
    for i, row in enumerate(table.itertuples(index=False)):
        ax = fig.add_subplot(rows, cols, i + 1)
        image = x[int(row.index)].detach().float().cpu()
        if mean_std is not None:
            image = image * mean_std[1] + mean_std[0]
        if image.ndim == 3 and image.shape[0] == 3:
            ax.imshow(((image - image.min()) / (image.max() - image.min()).clamp_min(1e-12)).permute(1, 2, 0).numpy())
        else:
            ax.imshow(image.reshape(image.shape[-2:]).numpy() if image.ndim >= 2 else image[None].numpy(), cmap="gray_r")
        ax.set_title(f"{name(row.true)}\n→ {name(row.predicted)} {row.confidence:.0%}", fontsize=7)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig
