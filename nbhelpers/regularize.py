"""Regularization, measured: the train/validation gap, the sparsity L1 creates, Adam + L2 vs AdamW.

`gap_scores` is what a chapter-04 train function hands to `sweep` (accuracies, the gap, the
near-zero share of weights); `gap_table` / `plot_gap` give the gap per epoch and
`gap_effect` words a change in it; `weight_stats` / `weight_histogram` show the sparsity;
`decay_toy` shows why Adam + L2 is not AdamW. (`gap_panel`, `explore` with the gap drawn, is in `nbhelpers.ui`.)

Examples
--------
>>> import pandas as pd
>>> history = pd.DataFrame({"epoch": [1, 1, 2, 2], "split": ["train", "valid"] * 2,
...                         "loss": [0.9, 1.0, 0.3, 0.8], "accuracy": [0.6, 0.55, 0.9, 0.7]})
>>> gap_table(history)[["epoch", "gap"]].round(2).values.tolist()
[[1.0, 0.05], [2.0, 0.2]]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ._checks import (COUNT, LEARNING_RATE, SEED, TEXT, checked, Choice, DictOf, fail, Frame, is_pandas, Optional,
                      Real, Rule, Satisfies, shown)
from .evaluation.claims import Effect, effect
from .evaluation.seeds import mean_ci
from .models._blocks import weight_parameters
from .training.inference import evaluate
from .training.optimizers import OPTIMIZERS

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd

    from .plots._figure import Figure


Split = tuple[torch.Tensor, torch.Tensor]


def _weights(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    return [(n, p.detach()) for n, p in weight_parameters(model)]  # what fit's l1 penalizes


def _check_model(func: str, name: str, model) -> None:
    if not isinstance(model, nn.Module):
        raise fail(func, name, "a torch.nn.Module", shown(model))
    if not _weights(model):
        raise fail(func, name, "a module with weight matrices or kernels", type(model).__name__)


def _check_histories(func: str, name: str, histories) -> dict[str, pd.DataFrame]:
    """One history or a dict of them, as ``{label: history DataFrame}``."""

    if is_pandas(histories):
        histories = {"run": histories}
    if not isinstance(histories, Mapping):
        raise fail(func, name, HISTORIES, shown(histories))
    out = {}
    for label, h in histories.items():
        h = getattr(h, "history", h)  # a TrainResult or a CachedResult is fine too
        if not is_pandas(h) or not {"epoch", "split"} <= set(h.columns) \
                or not {"train", "valid"} <= set(h["split"]):
            raise fail(func, f"{name}[{label!r}]", "a history with train and valid rows (TrainResult.history)",
                       type(h).__name__)
        out[str(label)] = h
    return out


def _check_result(func: str, name: str, result) -> None:
    model, history = getattr(result, "model", None), getattr(result, "history", None)
    if not isinstance(model, nn.Module) or not is_pandas(history):
        raise fail(func, name, "a TrainResult (what fit returns)", shown(result))


def _split(example: str, optional: bool = False) -> Rule:
    """An ``(x, y)`` pair of tensors, such as ``data.<example>`` (or None if ``optional``); a wrong
    value is shown by its type, never as a whole tensor."""
    allowed = f"an (x, y) pair of tensors, e.g. data.{example}" + (", or None" if optional else "")

    def check(func: str, name: str, split) -> None:
        pair = isinstance(split, (tuple, list)) and len(split) == 2
        if not (pair and all(isinstance(t, torch.Tensor) for t in split)) and not (optional and split is None):
            raise fail(func, name, allowed, shown(split))

    return Rule(check, allowed, bad=([] if optional else [None]) + [example, 3])


def _check_scales(func: str, name: str, scales) -> None:
    if not (isinstance(scales, (list, tuple)) and scales and all(POSITIVE.ok(s) for s in scales)):
        raise fail(func, name, "a non-empty list of gradient sizes > 0", scales)


HISTORIES = "a history DataFrame or a dict of label -> history"
POSITIVE = Real(low=0, low_open=True)
MODEL_WITH_WEIGHTS = Rule(_check_model, "a torch.nn.Module with weight matrices or kernels", bad=["model", 3])
MODELS = DictOf(MODEL_WITH_WEIGHTS, "a non-empty dict of label -> nn.Module")
HISTORY_TABLES = Rule(_check_histories, HISTORIES, bad=["history.csv", 3, None])
METRIC = Choice("accuracy", "loss")
EPOCH_GAP = Satisfies(lambda v: isinstance(v, (tuple, list)) and len(v) == 2 and COUNT.ok(v[0]) and Real().ok(v[1]),
                      "an (epoch, gap) pair, e.g. (12, 0.091)", bad=[0.091, (0, 0.1)])
EVAL_GAPS = DictOf(EPOCH_GAP, "a dict of label -> (epoch, gap) measured in eval mode, e.g. {'run': (12, 0.091)}")
AS_TRAINED = "train accuracy as trained: on the training batches, dropout on"
EVAL_MODE = "eval mode: the whole training set, dropout off, the weights returned"


@checked(model=MODEL_WITH_WEIGHTS, threshold=POSITIVE)
def weight_stats(model: nn.Module, threshold: float = 1e-3) -> pd.DataFrame:
    """Per weight matrix (and ``all`` of them): count, fraction with ``|w| < threshold``, mean ``|w|``.

    Biases and norm parameters are left out: they are what `fit`'s ``l1`` leaves out too.

    >>> from torch import nn
    >>> model = nn.Linear(4, 2)
    >>> _ = nn.init.zeros_(model.weight[0])
    >>> weight_stats(model)[["layer", "weights", "near_zero"]].values.tolist()
    [['weight', 8, 0.5], ['all', 8, 0.5]]
    """
    import pandas as pd

    rows, every = [], []
    for name, w in _weights(model):
        a = w.abs().flatten().float().cpu()
        every.append(a)
        rows.append({"layer": name, "weights": a.numel(), "near_zero": float((a < threshold).double().mean()),
                     "mean_abs": float(a.mean())})
    a = torch.cat(every)
    rows.append({"layer": "all", "weights": a.numel(), "near_zero": float((a < threshold).double().mean()),
                 "mean_abs": float(a.mean())})
    return pd.DataFrame(rows)


@checked(models=MODELS, threshold=POSITIVE, bins=Real(low=2, integer=True))
def weight_histogram(models: Mapping[str, nn.Module], *, threshold: float = 1e-3, bins: int = 60) -> Figure:
    """Sizes ``|w|`` of every weight of each model on a log axis, with the near-zero ``threshold``.

    One outline per model, labelled with its near-zero fraction; weights below 1e-7 are
    counted in the first bin.

    >>> from torch import nn
    >>> fig = weight_histogram({"a": nn.Linear(8, 4), "b": nn.Linear(8, 4)})
    >>> [t.get_text().split(":")[0] for t in fig.axes[0].get_legend().get_texts()]
    ['a', 'b']
    """
    import matplotlib
    import seaborn as sns

    from .plots._figure import Figure

    sizes = {str(k): torch.cat([w.abs().flatten().float().cpu() for _, w in _weights(m)]).numpy()
             for k, m in models.items()}
    top = max(float(s.max()) for s in sizes.values()) * 1.5
    edges = np.logspace(-7, math.log10(max(top, 1e-6)), int(bins))
    with sns.axes_style("whitegrid"), matplotlib.rc_context({"figure.dpi": 100}):
        fig = Figure(figsize=(6.0, 3.4), layout="constrained")
        ax = fig.add_subplot()
        for (label, s), color in zip(sizes.items(), sns.color_palette("deep", len(sizes))):
            share = float((s < threshold).mean())
            ax.hist(np.clip(s, edges[0], None), bins=edges, histtype="step", lw=1.8, color=color,
                    weights=np.full(len(s), 100 / len(s)), label=f"{label}: {share:.0%} below {threshold:g}")
        ax.axvline(threshold, color="0.3", lw=1, ls="--")
        ax.set_xscale("log")
        ax.set_xlabel("|weight| (log scale)")
        ax.set_ylabel("% of the weights")
        ax.legend(fontsize=8)
    return fig


@checked(histories=HISTORY_TABLES, metric=METRIC)
def gap_table(histories, metric: str = "accuracy") -> pd.DataFrame:
    """Per epoch: ``train``, ``valid`` and ``gap`` of ``metric``, positive where it overfits.

    ``gap`` is train minus valid accuracy, or valid minus train loss. ``histories`` is one
    history (`TrainResult.history`) or a dict of label -> history (one ``label`` column).
    The train numbers are what `fit` records, on the training batches as trained: with
    dropout and augmentation on.

    >>> import pandas as pd
    >>> h = pd.DataFrame({"epoch": [1, 1], "split": ["train", "valid"], "loss": [0.5, 0.9], "accuracy": [0.9, 0.7]})
    >>> gap_table({"none": h}, metric="loss")[["label", "epoch", "gap"]].round(2).values.tolist()
    [['none', 1, 0.4]]
    """
    import pandas as pd

    frames = []
    for label, h in histories.items():  # checked: a dict of label -> history DataFrame
        wide = h.pivot_table(index="epoch", columns="split", values=metric).reset_index()
        sign = 1.0 if metric == "accuracy" else -1.0
        frames.append(wide.assign(label=label, gap=sign * (wide["train"] - wide["valid"]))
                      [["label", "epoch", "train", "valid", "gap"]])
    table = pd.concat(frames, ignore_index=True)
    table.columns.name = None
    return table


@checked(histories=HISTORY_TABLES, metric=METRIC, title=TEXT, eval_gaps=Optional(EVAL_GAPS))
def plot_gap(histories, metric: str = "accuracy", *, title: str = "",
             eval_gaps: Mapping[str, tuple[int, float]] | None = None) -> Figure:
    """The gap of `gap_table` per epoch, one line per label, in points (loss: as is).

    The lines are the gap as trained: `fit` records the training accuracy on the batches
    it trains on, with dropout (and augmentation) on, so they understate the train
    accuracy of a network with dropout. ``eval_gaps`` adds the gap measured in eval mode
    (`gap_scores`' ``gap``: whole training set, dropout off) as one diamond per label at
    the epoch whose weights it measured, ``{label: (weights_epoch, gap)}``; the legend
    names both.

    >>> import pandas as pd
    >>> h = pd.DataFrame({"epoch": [1, 1], "split": ["train", "valid"], "loss": [1.0, 1.2], "accuracy": [0.7, 0.6]})
    >>> len(plot_gap({"none": h}).axes)
    1
    >>> fig = plot_gap({"none": h}, eval_gaps={"none": (1, 0.25)})
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:2]
    ['none, as trained', 'none, eval mode']
    """
    import matplotlib
    import seaborn as sns

    from .plots._figure import Figure

    table = gap_table(histories, metric)
    unknown = [label for label in eval_gaps or {} if label not in set(table["label"])]
    if unknown:
        raise fail("plot_gap", "eval_gaps", "a dict whose labels are those of `histories`: "
                   + ", ".join(table["label"].unique()), unknown[0])
    scale = 100 if metric == "accuracy" else 1
    with sns.axes_style("whitegrid"), matplotlib.rc_context({"figure.dpi": 100}):
        fig = Figure(figsize=(6.0, 3.4), layout="constrained")
        ax = fig.add_subplot()
        for (label, rows), color in zip(table.groupby("label", sort=False),
                                        sns.color_palette("deep", table["label"].nunique())):
            ax.plot(rows["epoch"], rows["gap"] * scale, "o-", ms=3, lw=1.6, color=color,
                    label=f"{label}, as trained" if eval_gaps else label)
            if eval_gaps and label in eval_gaps:
                epoch, gap = eval_gaps[label]
                ax.plot([epoch], [gap * scale], "D", ms=8, color=color, markeredgecolor="black",
                        label=f"{label}, eval mode")
        ax.axhline(0, color="0.3", lw=1, ls="--")
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("train - valid accuracy (points)" if metric == "accuracy" else "valid - train loss")
        ax.legend(fontsize=8)
        if metric == "accuracy":  # which gap is which, under the axis
            fig.supxlabel(f"lines: {AS_TRAINED}" + (f"\ndiamonds: {EVAL_MODE}" if eval_gaps else ""), fontsize=8,
                          color="0.35")
        if title:
            ax.set_title(title, fontsize=10)
    return fig


@checked(result=Rule(_check_result, "a TrainResult (what fit returns)", bad=["not a result", 3, None]),
         train=_split("train"), valid=_split("valid"), test=_split("test", optional=True), threshold=POSITIVE)
def gap_scores(result, train: Split, valid: Split, *, test: Split | None = None, threshold: float = 1e-3) -> dict:
    """What a train function hands to `sweep`: accuracies, the gap, sparsity, early stopping, history.

    Keys: ``valid_accuracy``, ``valid_loss``, (``test_accuracy``, ``test_loss``),
    ``train_accuracy``, ``train_loss`` (eval mode, whole training set), ``gap`` (train minus valid accuracy),
    ``near_zero`` (fraction of weights below ``threshold``), ``best_epoch``, ``epochs``
    (run), ``weights_epoch`` (whose weights were scored: `TrainResult.weights_epoch`),
    ``history`` and ``model`` (`sweep` keeps the numbers and the history, not the
    model). The model is scored as `fit` left it: with the best epoch's weights restored
    when early stopping ended the run, else the last epoch's. The gap here is measured in
    eval mode; the per-epoch gap of `gap_table` is the one `fit` recorded as it trained.

    >>> import torch
    >>> from nbhelpers import MLP, fit
    >>> x, y = torch.randn(64, 4), torch.arange(64) % 2
    >>> result = fit(MLP(4, 2, width=8), (x, y), epochs=2, lr=1e-2, progress=False, seed=0)
    >>> scores = gap_scores(result, (x, y), (x, y))
    >>> scores["gap"], scores["epochs"]
    (0.0, 2)
    """
    model, history = result.model, result.history
    numbers = {}
    for name, split in (("valid", valid), ("test", test), ("train", train)):
        if split is None:  # only test may be None
            continue
        numbers.update({f"{name}_{k}": v for k, v in evaluate(model, split).items()})
    stats = weight_stats(model, threshold)
    weights_epoch = getattr(result, "weights_epoch", int(history["epoch"].max()))
    return {**numbers, "gap": numbers["train_accuracy"] - numbers["valid_accuracy"],
            "near_zero": float(stats["near_zero"].iloc[-1]), "best_epoch": result.best_epoch or 0,
            "epochs": int(history["epoch"].max()), "weights_epoch": weights_epoch or 0, "history": history,
            "model": model}


@checked(table=Frame("a DataFrame with mean, ci_low, ci_high (what paired_gain returns)"))
def gap_effect(table: pd.DataFrame, **where) -> Effect:
    """`effect` for a change in the gap: the same interval, with the verdict in gap words.

    A negative change is ``'shrinks'`` the gap, a positive one ``'widens'``, an interval
    across 0 ``'no clear change'`` (too few seeds, a borderline bound and quick mode say so,
    as in `effect`).

    >>> import pandas as pd
    >>> table = pd.DataFrame({"dropout": [0.5], "mean": [-0.08], "ci_low": [-0.09], "ci_high": [-0.07], "n": [5]})
    >>> dict(gap_effect(table, dropout=0.5))
    {'effect': '-8.0 points (95% CI -9.0 to -7.0)', 'verdict': 'shrinks', 'seeds': 5}
    """

    found = effect(table, **where)
    for old, new in (("helps", "widens"), ("hurts", "shrinks"), ("no clear effect", "no clear change")):
        if found["verdict"].startswith(old):
            return Effect(found, verdict=new + found["verdict"][len(old):])
    return found


@checked(optimizer=Choice("adam", "adamw"), weight_decay=Real(low=0),
         grad_scales=Rule(_check_scales, "a non-empty list of gradient sizes > 0", bad=[(1.0, 0.0), [], 0.1, "1e-3"]),
         steps=COUNT, lr=LEARNING_RATE, per_scale=Real(low=2, integer=True), seed=SEED)
def decay_toy(optimizer: str, weight_decay: float, *, grad_scales: Sequence[float] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0),
              steps: int = 300, lr: float = 1e-2, per_scale: int = 100, seed: int = 0) -> pd.DataFrame:
    """How far weights starting at 1 shrink when their loss gradient is pure noise of a given size.

    ``per_scale`` weights per entry of ``grad_scales`` get gradients ``scale * N(0, 1)``
    for ``steps`` steps of ``optimizer`` (``'adam'``: ``weight_decay`` is an L2 term added to
    the gradient, so Adam divides it by the gradient's size too; ``'adamw'``: decoupled, every
    weight shrinks by ``lr * weight_decay`` of itself per step). One row per scale: the mean
    final ``|w|`` with its 95% interval over the weights, ready for `plot_ci`.

    >>> table = decay_toy("adamw", 1.0, grad_scales=(1e-3, 1.0), steps=50)
    >>> table[["optimizer", "grad_scale", "n"]].values.tolist()
    [['adamw', 0.001, 100], ['adamw', 1.0, 100]]
    """
    import pandas as pd

    name = optimizer.lower()
    generator = torch.Generator().manual_seed(int(seed))
    scale = torch.tensor([float(s) for s in grad_scales]).repeat_interleave(int(per_scale))
    w = nn.Parameter(torch.ones(len(scale)))
    opt = OPTIMIZERS[name]([w], lr=lr, weight_decay=weight_decay)
    for _ in range(int(steps)):
        w.grad = scale * torch.randn(len(scale), generator=generator)
        opt.step()
    final = w.detach().abs().view(len(grad_scales), int(per_scale))
    rows = [dict(zip(("mean", "ci_low", "ci_high"), mean_ci(final[i].tolist())), optimizer=name, grad_scale=float(s),
                 n=int(per_scale)) for i, s in enumerate(grad_scales)]
    return pd.DataFrame(rows)[["optimizer", "grad_scale", "mean", "ci_low", "ci_high", "n"]]


__all__ = ["decay_toy", "gap_effect", "gap_scores", "gap_table", "plot_gap", "weight_histogram", "weight_stats"]
