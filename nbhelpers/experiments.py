"""Small experiments done right: scores per class, gains over seeds with intervals, their figures.

A chapter's experiment is a train function run by `sweep` over settings and seeds. The
helpers here make its numbers honest and its pictures quick:

- `epochs_for`: enough epochs for about the same number of optimizer steps at any
  training-set size (500 images are 4 batches an epoch, 54,000 are 422);
- `scores`: what a train function returns to `sweep`: the final training metrics, the
  accuracy on each named split and per class, and the history for the learning curves;
- `per_class_accuracy`: accuracy of each class on one split;
- `paired_gain`: the difference to a baseline seed by seed (same seed, same subset and
  same initial weights), its mean and t-interval; `ci_text` writes it as words, `verdict`
  says whether the interval excludes 0, `effect` does both for one row, `gain_table` for
  several metrics at once; `per_class_long` turns per-class columns into rows;
- `plot_ci`: means with their intervals as error bars; `gallery`: one row per
  augmentation of the same images; `soft_label_grid`: mixed images titled with their
  soft labels.

Examples
--------
>>> import pandas as pd
>>> runs = pd.DataFrame({"n_train": [500] * 4, "recipe": ["none", "flip"] * 2,
...                      "seed": [0, 0, 1, 1], "valid_accuracy": [0.70, 0.74, 0.72, 0.75]})
>>> gain = paired_gain(runs, column="recipe", baseline="none", metric="valid_accuracy", by="n_train")
>>> gain[["n_train", "recipe", "n"]].values.tolist(), round(float(gain["mean"][0]), 3)
([[500, 'flip', 2]], 0.035)
>>> ci_text(*gain.loc[0, ["mean", "ci_low", "ci_high"]])
'+3.5 points (95% CI -2.9 to +9.9)'
>>> epochs_for(500, steps=400), epochs_for(54_000, steps=400, min_epochs=2)
(100, 2)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from torch import nn

from ._checks import check_number, check_type, fail
from .augment_geometric import STEP_KINDS, check_mean_std, run_step, stats
from .data import FASHION_MEAN_STD
from .plots import Figure
from .stats import mean_ci
from .train import predict

Split = tuple[torch.Tensor, torch.Tensor]


def epochs_for(n_train: int, steps: int, *, batch_size: int = 128, min_epochs: int = 1) -> int:
    """Epochs that give about ``steps`` optimizer steps on ``n_train`` images (at least ``min_epochs``).

    >>> epochs_for(2_000, steps=400)  # 16 batches an epoch
    25
    """
    check_number("epochs_for", "n_train", n_train, integer=True, low=1)
    check_number("epochs_for", "steps", steps, integer=True, low=1)
    check_number("epochs_for", "batch_size", batch_size, integer=True, low=1)
    check_number("epochs_for", "min_epochs", min_epochs, integer=True, low=1)
    per_epoch = -(-int(n_train) // int(batch_size))
    return max(int(min_epochs), round(int(steps) / per_epoch))


def _check_split(func: str, name: str, split) -> Split:
    if not (isinstance(split, (tuple, list)) and len(split) == 2 and all(isinstance(t, torch.Tensor) for t in split)
            and split[1].ndim == 1 and len(split[0]) == len(split[1]) > 0):  # fmt: skip
        raise fail(func, name, "an (x, y) pair of tensors with integer labels, e.g. data.valid",
                   type(split).__name__ if not isinstance(split, (tuple, list)) else f"a {len(split)}-item sequence")
    return split[0], split[1]


def per_class_accuracy(model: nn.Module, split: Split, classes: Sequence[str] | None = None) -> dict[str, float]:
    """Accuracy of ``model`` on each class of ``split`` (``(x, y)``), keyed by class name.

    Classes absent from ``split`` are left out. ``classes`` names the labels 0, 1, ...;
    without it the keys are the label numbers as strings.

    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> x, y = torch.randn(6, 1, 2, 2), torch.tensor([0, 0, 0, 1, 1, 1])
    >>> sorted(per_class_accuracy(model, (x, y), ["cat", "dog"]))
    ['cat', 'dog']
    """
    check_type("per_class_accuracy", "model", model, nn.Module, "a torch.nn.Module")
    x, y = _check_split("per_class_accuracy", "split", split)
    return _by_class("per_class_accuracy", predict(model, x).argmax(1) == y.cpu(), y.cpu(), classes)


def _by_class(func: str, right: torch.Tensor, y: torch.Tensor, classes) -> dict[str, float]:
    if classes is not None:
        check_type(func, "classes", classes, (list, tuple), "a list of class names or None")
    counts = torch.bincount(y, minlength=len(classes) if classes else 0)
    if classes is not None and len(counts) > len(classes):
        raise fail(func, "classes", f"a name for every label 0..{len(counts) - 1}", list(classes))
    hits = torch.bincount(y, weights=right.double(), minlength=len(counts))
    names = list(classes) if classes is not None else [str(i) for i in range(len(counts))]
    return {names[i]: float(hits[i] / counts[i]) for i in range(len(counts)) if counts[i] > 0}


def scores(result, splits: Mapping[str, Split], classes: Sequence[str] | None = None) -> dict:
    """What a train function hands to `sweep` / `explore`: metrics and the history, in one dict.

    ``result`` is a `TrainResult`. The dict holds, in this order: ``<split>_accuracy`` for
    each named split, then ``<split>_accuracy[<class>]`` for each class, then the final
    training metrics (``train_loss``...), then ``history`` (so the panel draws the curves).

    >>> import torch
    >>> from nbhelpers import MLP, fit
    >>> x, y = torch.randn(64, 1, 2, 2), torch.arange(64) % 2
    >>> result = fit(MLP(4, 2, width=8), (x, y), epochs=1, lr=1e-2, progress=False, seed=0)
    >>> list(scores(result, {"valid": (x, y)}, ["a", "b"]))[:3]
    ['valid_accuracy', 'valid_accuracy[a]', 'valid_accuracy[b]']
    """
    model = getattr(result, "model", None)
    if not isinstance(model, nn.Module) or not isinstance(getattr(result, "history", None), pd.DataFrame):
        raise fail("scores", "result", "a TrainResult (what fit returns)", type(result).__name__)
    check_type("scores", "splits", splits, Mapping, "a dict of name -> (x, y), e.g. {'valid': data.valid}")
    if not splits:
        raise fail("scores", "splits", "a non-empty dict of name -> (x, y)", dict(splits))
    out: dict = {}
    per_class: dict = {}
    for name, split in splits.items():
        x, y = _check_split("scores", f"splits['{name}']", split)
        right = predict(model, x).argmax(1) == y.cpu()
        accuracy = _by_class("scores", right, y.cpu(), classes)
        out[f"{name}_accuracy"] = float(right.double().mean())
        per_class.update({f"{name}_accuracy[{c}]": v for c, v in accuracy.items()})
    return {**out, **per_class, **result.final, "history": result.history}


def paired_gain(runs: pd.DataFrame, *, column: str, baseline, metric: str, by: str | Sequence[str] = (),
                seed: str = "seed", confidence: float = 0.95) -> pd.DataFrame:
    """Each setting of ``column`` minus ``baseline``, paired by ``seed``: mean and t-interval.

    Runs with the same seed (and the same ``by`` values) are compared with each other, so
    what the seed decides (the subset drawn, the initial weights) cancels out; the interval
    is over the per-seed differences. One row per ``by`` group and setting: ``by...``,
    ``column``, ``mean``, ``ci_low``, ``ci_high``, ``n`` (the seeds found for both).
    """
    func = "paired_gain"
    if not isinstance(runs, pd.DataFrame):
        raise fail(func, "runs", "a pandas DataFrame (one row per run, e.g. what sweep returns)", type(runs).__name__)
    keys = [by] if isinstance(by, str) else list(by)
    for name, columns in (("column", [column]), ("metric", [metric]), ("by", keys), ("seed", [seed])):
        missing = [c for c in columns if c not in runs.columns]
        if missing:
            raise fail(func, name, "column names of `runs`: " + ", ".join(map(str, runs.columns)), missing[0])
    taken = {"mean", "ci_low", "ci_high", "n"} & {*keys, column}
    if taken:
        raise fail(func, "by" if taken & set(keys) else "column", "names other than the output's mean, ci_low, "
                   "ci_high, n (rename that column first)", sorted(taken)[0])
    if not (runs[column] == baseline).any():
        raise fail(func, "baseline", f"a value of runs['{column}']: " + ", ".join(map(str, runs[column].unique())),
                   baseline)
    check_number(func, "confidence", confidence, low=0, high=1, low_open=True)
    index = [*keys, seed]
    base = runs[runs[column] == baseline].groupby(index)[metric].mean()
    rows = []
    for group, frame in runs[runs[column] != baseline].groupby([*keys, column], sort=False):
        group = group if isinstance(group, tuple) else (group,)
        treated = frame.groupby(index)[metric].mean()
        both = treated.index.intersection(base.index)
        if len(both) == 0:
            continue
        diffs = (treated.loc[both] - base.loc[both]).tolist()
        mean, low, high = mean_ci(diffs, confidence)
        rows.append({**dict(zip([*keys, column], group)), "mean": mean, "ci_low": low, "ci_high": high,
                     "n": len(diffs)})
    return pd.DataFrame(rows, columns=[*keys, column, "mean", "ci_low", "ci_high", "n"])


def per_class_long(runs: pd.DataFrame, split: str = "valid") -> pd.DataFrame:
    """The ``<split>_accuracy[<class>]`` columns of ``runs`` as rows: one per run and class.

    Every other column is kept; the new ones are ``class`` and ``accuracy``. Ready for
    `summarize` or `paired_gain` with ``by="class"``.

    >>> import pandas as pd
    >>> runs = pd.DataFrame({"seed": [0], "valid_accuracy[Bag]": [0.9], "valid_accuracy[Sandal]": [0.8]})
    >>> per_class_long(runs)[["class", "accuracy"]].values.tolist()
    [['Bag', 0.9], ['Sandal', 0.8]]
    """
    if not isinstance(runs, pd.DataFrame):
        raise fail("per_class_long", "runs", "a pandas DataFrame (one row per run)", type(runs).__name__)
    check_type("per_class_long", "split", split, str, "a split name such as 'valid'")
    prefix = f"{split}_accuracy["
    columns = [c for c in runs.columns if isinstance(c, str) and c.startswith(prefix) and c.endswith("]")]
    if not columns:
        found = sorted({c.split("_accuracy[")[0] for c in runs.columns if isinstance(c, str) and "_accuracy[" in c})
        allowed = "a split with per-class columns in `runs`: " + (", ".join(found) or "none")
        raise fail("per_class_long", "split", allowed,
                   split, "Return scores(result, splits, classes) from the train function.")
    keep = [c for c in runs.columns if c not in columns and not (isinstance(c, str) and "_accuracy[" in c)]
    long = runs.melt(id_vars=keep, value_vars=columns, var_name="class", value_name="accuracy")
    long["class"] = long["class"].str[len(prefix):-1]
    return long


def gain_table(runs: pd.DataFrame, *, column: str, baseline, metrics: Mapping[str, str], by: str | Sequence[str] = (),
               seed: str = "seed", **text) -> pd.DataFrame:
    """`paired_gain` for several metrics as one table of sentences, best first (by the first metric).

    ``metrics`` maps a column title to a metric of ``runs``; ``text`` goes to `ci_text`
    (``scale``, ``unit``, ``digits``). The index is the setting (and ``by``).

    >>> import pandas as pd
    >>> runs = pd.DataFrame({"recipe": ["none", "flip"] * 2, "seed": [0, 0, 1, 1], "acc": [0.7, 0.73, 0.7, 0.75]})
    >>> gain_table(runs, column="recipe", baseline="none", metrics={"gain": "acc"}).to_dict()
    {'gain': {'flip': '+4.0 points (95% CI -8.7 to +16.7)'}}
    """
    check_type("gain_table", "metrics", metrics, Mapping, "a dict of column title -> metric column")
    if not metrics:
        raise fail("gain_table", "metrics", "a non-empty dict of column title -> metric column", dict(metrics))
    keys = [by] if isinstance(by, str) else list(by)
    index = [*keys, column]
    columns = {}
    order = None
    for title, metric in metrics.items():
        gains = paired_gain(runs, column=column, baseline=baseline, metric=metric, by=keys, seed=seed).set_index(index)
        if order is None:
            order = gains["mean"].sort_values(ascending=False).index
        columns[title] = pd.Series({i: ci_text(r["mean"], r["ci_low"], r["ci_high"], **text)
                                    for i, r in gains.iterrows()})
    table = pd.DataFrame(columns).reindex(order)
    table.index.names = index
    return table


def verdict(low: float, high: float, n: int | None = None, *, min_seeds: int = 3) -> str:
    """``'helps'`` if the whole interval is above 0, ``'hurts'`` if below, else ``'no clear effect'``.

    With ``n`` (the number of seeds) below ``min_seeds`` it declines to judge: two seeds
    that happen to agree give an interval of width 0, not evidence.

    >>> verdict(0.004, 0.02), verdict(-0.03, -0.01), verdict(-0.01, 0.02), verdict(0.01, 0.01, n=2)
    ('helps', 'hurts', 'no clear effect', 'too few seeds to tell (2)')
    """
    for name, value in (("low", low), ("high", high)):
        if not (isinstance(value, numbers.Real) and not isinstance(value, bool)):
            raise fail("verdict", name, "a real number (nan where there is no interval)", value)
    check_number("verdict", "n", n, integer=True, low=0, allow_none=True)
    check_number("verdict", "min_seeds", min_seeds, integer=True, low=2)
    if (n is not None and n < min_seeds) or math.isnan(low) or math.isnan(high):
        return f"too few seeds to tell ({n if n is not None else 1})"
    return "helps" if low > 0 else "hurts" if high < 0 else "no clear effect"


def effect(table: pd.DataFrame, **where) -> dict:
    """The one row of ``table`` (`paired_gain` output) where every ``column=value`` holds, as words.

    Returns ``{"effect": ci_text(...), "verdict": verdict(...), "seeds": n}``, ready to print
    or to be a row of a chapter's "What we measured" table.

    >>> import pandas as pd
    >>> gains = pd.DataFrame({"recipe": ["flip"], "mean": [0.02], "ci_low": [0.01], "ci_high": [0.03], "n": [3]})
    >>> effect(gains, recipe="flip")
    {'effect': '+2.0 points (95% CI +1.0 to +3.0)', 'verdict': 'helps', 'seeds': 3}
    """
    if not isinstance(table, pd.DataFrame):
        raise fail("effect", "table", "a DataFrame with mean, ci_low, ci_high (what paired_gain returns)",
                   type(table).__name__)
    for name in [*where, "mean", "ci_low", "ci_high"]:
        if name not in table.columns:
            raise fail("effect", name, "a column of `table`: " + ", ".join(map(str, table.columns)), name)
    mask = pd.Series(True, index=table.index)
    for name, value in where.items():
        mask &= table[name] == value
    if mask.sum() != 1:
        raise fail("effect", "where", f"conditions that pick exactly one row of `table` (they pick {int(mask.sum())})",
                   where)
    r = table[mask].iloc[0]
    seeds = int(r["n"]) if "n" in table.columns else None
    return {"effect": ci_text(r["mean"], r["ci_low"], r["ci_high"]),
            "verdict": verdict(r["ci_low"], r["ci_high"], seeds), "seeds": seeds}


def _signed(v: float, scale: float, digits: int) -> str:
    return f"{v * scale:+.{digits}f}"


def ci_text(mean: float, low: float, high: float, *, scale: float = 100.0, unit: str = " points", digits: int = 1,
            confidence: float = 0.95) -> str:
    """``mean`` and its interval as words: ``'+2.3 points (95% CI +1.1 to +3.5)'``.

    ``scale=100`` turns accuracy differences into percentage points. With no interval (one
    seed) it says so instead of printing ``nan``.

    >>> ci_text(0.0123, 0.004, 0.021)
    '+1.2 points (95% CI +0.4 to +2.1)'
    """
    for name, value in (("mean", mean), ("low", low), ("high", high)):
        if not (isinstance(value, numbers.Real) and not isinstance(value, bool)):
            raise fail("ci_text", name, "a real number (nan where there is no interval)", value)
    check_number("ci_text", "scale", scale, low=0, low_open=True)
    check_number("ci_text", "digits", digits, integer=True, low=0)
    head = f"{_signed(mean, scale, digits)}{unit}"
    if math.isnan(low) or math.isnan(high):
        return f"{head} (one seed: no interval)" if not math.isnan(mean) else "no runs"
    return f"{head} ({confidence:.0%} CI {_signed(low, scale, digits)} to {_signed(high, scale, digits)})"


def plot_ci(table: pd.DataFrame, x: str, *, hue: str | None = None, y: str = "mean", low: str = "ci_low",
            high: str = "ci_high", ylabel: str | None = None, xlabel: str | None = None, title: str = "",
            logx: bool = False, zero_line: bool = False, horizontal: bool = False, scale: float = 1.0) -> Figure:
    """Means with their confidence intervals as error bars (e.g. `summarize` or `paired_gain` output).

    Numeric ``x`` gives lines with markers (``logx`` for sizes), other ``x`` gives points side
    by side; ``horizontal=True`` puts the categories on the y axis, sorted by the mean (for
    many settings). ``scale=100`` shows fractions as percent or points; ``zero_line`` draws
    the no-effect line. ``ylabel`` names the axis of the means, ``xlabel`` the other one.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"n": [500, 2000], "mean": [0.7, 0.8], "ci_low": [0.68, 0.79], "ci_high": [0.72, 0.81]})
    >>> len(plot_ci(t, "n", logx=True).axes)
    1
    """
    func = "plot_ci"
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise fail(func, "table", "a non-empty DataFrame with a mean and its interval per row", type(table).__name__)
    for name, col in (("x", x), ("hue", hue), ("y", y), ("low", low), ("high", high)):
        if col is not None and col not in table.columns:
            raise fail(func, name, "a column of `table`: " + ", ".join(map(str, table.columns)), col)
    check_number(func, "scale", scale, low=0, low_open=True)
    groups = [(None, table)] if hue is None else list(table.groupby(hue, sort=False))
    numeric = pd.api.types.is_numeric_dtype(table[x]) and not horizontal
    palette = sns.color_palette("deep", max(1, len(groups)))
    with sns.axes_style("whitegrid"), matplotlib.rc_context({"figure.dpi": 100}):
        size = (6.0, 0.32 * table[x].nunique() + 1.2) if horizontal else (6.0, 3.6)
        fig = Figure(figsize=size, layout="constrained")
        ax = fig.add_subplot()
        order = list(table.sort_values(y)[x].unique()) if horizontal else list(dict.fromkeys(table[x]))
        width = 0.6 / max(1, len(groups))
        for i, (label, rows) in enumerate(groups):
            means = rows[y].to_numpy(float) * scale
            err = np.vstack([means - rows[low].to_numpy(float) * scale, rows[high].to_numpy(float) * scale - means])
            err = np.nan_to_num(err, nan=0.0)
            shift = i - (len(groups) - 1) / 2  # side by side, so that the error bars do not hide each other
            if numeric and logx:
                pos = rows[x].to_numpy(float) * 10 ** (0.025 * shift)
            elif numeric:
                pos = rows[x].to_numpy(float) + 0.015 * shift * float(np.ptp(table[x].to_numpy(float)))
            else:
                pos = np.array([order.index(v) for v in rows[x]], float) + shift * width
            args = dict(fmt="o-" if numeric else "o", color=palette[i], capsize=4, lw=1.8, ms=6,
                        label=None if label is None else str(label))
            if horizontal:
                ax.errorbar(means, pos, xerr=err, **args)
            else:
                ax.errorbar(pos, means, yerr=err, **args)
        value_axis = ylabel or (y if scale == 1 else f"{y} (x{scale:g})")
        if horizontal:
            ax.set_yticks(range(len(order)), [str(v) for v in order])
            ax.set_xlabel(value_axis)
            ax.set_ylabel(xlabel or "")
            if zero_line:
                ax.axvline(0, color="0.3", lw=1, ls="--")
        else:
            if not numeric:
                long = sum(len(str(v)) for v in order) > 60  # labels that would run into each other
                ax.set_xticks(range(len(order)), [str(v) for v in order], rotation=30 if long else 0,
                              ha="right" if long else "center")
            ax.set_xlabel(xlabel or x)
            ax.set_ylabel(value_axis)
            if zero_line:
                ax.axhline(0, color="0.3", lw=1, ls="--")
            if logx and numeric:
                ax.set_xscale("log")
                ticks = sorted(table[x].unique())
                ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
                ax.minorticks_off()
        if hue is not None:
            ax.legend(title=hue, fontsize=8, title_fontsize=8)
        if title:
            ax.set_title(title, fontsize=10)
    return fig


def _pixels(batch: torch.Tensor, mean_std) -> np.ndarray:
    mean, std = stats("gallery", mean_std, batch.float())
    return (batch.float() * std + mean).clamp(0, 1).cpu().numpy()


def _show(ax, image: np.ndarray) -> None:
    ax.imshow(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0), cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


def gallery(x: torch.Tensor, augments: Mapping[str, Callable], *, n: int = 8, mean_std=FASHION_MEAN_STD,
            seed: int = 0) -> Figure:
    """The first ``n`` images of ``x`` on top, then one row per augmentation of ``augments``.

    Every row shows the same images, so the augmentations can be compared at a glance (where
    `preview` shows several random draws of one). Grey levels are on a fixed [0, 1] scale.

    >>> import torch
    >>> from nbhelpers import pipeline
    >>> fig = gallery(torch.rand(4, 1, 28, 28), {"rotate 30": pipeline(rotate=30)}, n=4, mean_std=None)
    >>> len(fig.axes)
    8
    """
    func = "gallery"
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        raise fail(func, "x", "a float tensor N x C x H x W of images (e.g. data.train[0])",
                   tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__)
    check_type(func, "augments", augments, Mapping, "a dict of row label -> augmentation")
    for label, augment in augments.items():
        if not callable(augment):
            raise fail(func, f"augments['{label}']", f"one of: {STEP_KINDS}", augment)
    check_number(func, "n", n, integer=True, low=1)
    check_mean_std(func, mean_std)
    check_number(func, "seed", seed, integer=True, low=0)
    images = x[:n].detach()
    rows = [("original", images)]
    for label, augment in augments.items():
        generator = torch.Generator(device=images.device).manual_seed(int(seed))
        rows.append((str(label), run_step(augment, images, None, generator)[0]))
    fig = Figure(figsize=(0.95 * len(images) + 1.1, 1.0 * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), len(images), squeeze=False)
    for r, (label, batch) in enumerate(rows):
        for c, image in enumerate(_pixels(batch, mean_std)):
            _show(axes[r, c], image)
        axes[r, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    return fig


def soft_label_grid(x: torch.Tensor, y: torch.Tensor, classes: Sequence[str], *, n: int = 8,
                    mean_std=FASHION_MEAN_STD) -> Figure:
    """Images titled with their soft labels: the two largest shares, e.g. ``'62% Bag / 38% Coat'``.

    ``y`` is ``N x num_classes`` (rows sum to 1, as MixUp and CutMix return) or integer labels.

    >>> import torch
    >>> y = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.0, 1.0]])
    >>> fig = soft_label_grid(torch.rand(2, 1, 8, 8), y, ["a", "b", "c"], mean_std=None)
    >>> [ax.get_title() for ax in fig.axes]
    ['70% a\\n30% b', '100% c']
    """
    func = "soft_label_grid"
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        raise fail(func, "x", "a float tensor N x C x H x W of images",
                   tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__)
    check_type(func, "classes", classes, (list, tuple), "a list of class names")
    if not isinstance(y, torch.Tensor) or len(y) != len(x) or y.ndim not in (1, 2):
        raise fail(func, "y", f"labels for the {len(x)} images: integers or N x num_classes soft labels",
                   tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__)
    if y.ndim == 2 and y.shape[1] != len(classes):
        raise fail(func, "y", f"N x {len(classes)} soft labels (one column per class)", tuple(y.shape))
    check_number(func, "n", n, integer=True, low=1)
    check_mean_std(func, mean_std)
    soft = y.float() if y.ndim == 2 else torch.nn.functional.one_hot(y.long(), len(classes)).float()
    images, soft = x[:n].detach(), soft[:n].detach().cpu()
    columns = min(len(images), 8)
    rows = -(-len(images) // columns)
    fig = Figure(figsize=(1.35 * columns, 1.75 * rows), layout="constrained")
    for i, image in enumerate(_pixels(images, mean_std)):
        ax = fig.add_subplot(rows, columns, i + 1)
        _show(ax, image)
        shares, top = soft[i].topk(min(2, len(classes)))
        ax.set_title("\n".join(f"{s:.0%} {classes[k]}" for s, k in zip(shares.tolist(), top.tolist()) if s >= 0.005),
                     fontsize=7)
    return fig


__all__ = ["ci_text", "effect", "epochs_for", "gain_table", "gallery", "paired_gain", "per_class_accuracy",
           "per_class_long", "plot_ci", "scores", "soft_label_grid", "verdict"]
