""""My network does not converge": the checks to run, each with its evidence and what to try.

`check_data` looks at the inputs and labels before any training (non-finite values, the
scale, classes missing or rare, duplicates); `diagnose` reads a finished `fit` (and, if
given, `GradientNorms`' table) for the usual ways training fails: a loss that went NaN, did
not fall, or jumped about; no better than chance; a wide train/validation gap; exploding or
vanishing gradients. `overfit_batch` is the first test of a new setup: a model, loss and
labels that fit together can drive the loss on one small batch close to zero.

The thresholds are rules of thumb, stated in each row's ``evidence``; a row that is not ``ok``
is a lead to follow, not a proof.

>>> import torch
>>> x, y = torch.rand(200, 8) * 255, torch.arange(200) % 4
>>> check_data(x, y).set_index("check")["ok"].to_dict()["inputs are scaled"]
False
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .._checks import COUNT, LEARNING_RATE, MODEL, Optional, Satisfies, checked, fail, is_pandas
from ..training.loop import fit
from ..training.result import TrainResult

if TYPE_CHECKING:
    import pandas as pd

INPUTS = Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim >= 2 and len(v) > 0,
                   "a tensor of inputs, one row per example (N x ...)", bad=["x.csv", [1.0, 2.0]])
LABELS = Optional(Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim == 1 and len(v) > 0,
                            "a 1-D tensor of labels", bad=["y", [0, 1]]))
COLUMNS = ["check", "ok", "evidence", "what to try"]


def _row(check: str, ok: bool, evidence: str, fix: str) -> dict:
    return {"check": check, "ok": bool(ok), "evidence": evidence, "what to try": "" if ok else fix}


def _table(rows: list[dict]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=COLUMNS)


@checked(x=INPUTS, y=LABELS)
def check_data(x: torch.Tensor, y: torch.Tensor | None = None) -> pd.DataFrame:
    """The data checks to run before training, one row each (``check``, ``ok``, ``evidence``,
    ``what to try``): inputs finite; inputs scaled (mean within 3 of 0 and standard deviation
    between 0.1 and 10: standardized, or pixels in 0-1); not every input the same; no duplicate
    rows (at most 1%); and with labels ``y``: labels are class numbers from 0, every class up to
    the largest is present, the largest class at most 10 times the smallest, one label per row.
    """
    flat = x.detach().flatten(1).float().cpu()
    finite = torch.isfinite(flat)
    values = flat[finite]
    mean, std = (values.mean().item(), values.std().item()) if len(values) > 1 else (0.0, 0.0)
    varies = len(flat) < 2 or bool((flat != flat[0]).any())
    rows = [_row("inputs are finite", bool(finite.all()), f"{int((~finite).sum()):,} NaN or infinite values",
                 "find where they come from (a division by zero, a log of 0, a missing value) and impute or drop them"),
            _row("inputs are scaled", abs(mean) <= 3 and 0.1 <= std <= 10, f"mean {mean:.3g}, standard deviation {std:.3g}",
                 "standardize each feature with the training set's mean and deviation (or divide pixels by 255)"),
            _row("inputs vary", varies, "some feature differs between rows" if varies else "every row is the same",
                 "check the loading code: every row came out the same")]
    duplicates = len(flat) - len(torch.unique(flat, dim=0)) if finite.all() else 0
    rows.append(_row("rows are not duplicated", duplicates <= 0.01 * len(flat),
                     f"{duplicates:,} of {len(flat):,} rows repeat an earlier one",
                     "drop the duplicates, and check none of them is also in the validation or test set"))
    if y is not None:
        integer = not y.is_floating_point() or bool((y == y.round()).all())
        rows.append(_row("labels are class numbers", integer and int(y.min()) >= 0 if len(y) else False,
                         f"dtype {str(y.dtype).replace('torch.', '')}, from {y.min().item():g} to {y.max().item():g}",
                         "map the labels to 0, 1, ..., classes - 1 (a regression target needs loss='mse')"))
        if integer and int(y.min()) >= 0:
            counts = torch.bincount(y.long())
            missing = [str(c) for c in range(len(counts)) if counts[c] == 0]
            rows.append(_row("every class is present", not missing,
                             f"{len(counts)} classes, missing: {', '.join(missing) or 'none'}",
                             "a class with no example cannot be learned; check the split and the label mapping"))
            present = counts[counts > 0]
            ratio = (present.max() / present.min()).item()
            rows.append(_row("classes are balanced", ratio <= 10, f"largest class {ratio:.1f} times the smallest",
                             "weight the classes or resample them (chapter 01), and report per-class metrics"))
        rows.append(_row("one label per row", len(y) == len(x), f"{len(x):,} rows, {len(y):,} labels",
                         "the inputs and labels were cut or shuffled apart; load them together"))
    return _table(rows)


def _chance(result: TrainResult) -> float | None:
    outputs = [m.out_features for m in result.model.modules() if isinstance(m, nn.Linear)]
    return 1 / outputs[-1] if outputs and outputs[-1] > 1 else None


def _gradient_rows(gradients: pd.DataFrame) -> list[dict]:
    """Exploding: a layer's norm above 100 times its own median over the run, or not finite.
    Vanishing: the first layer's median norm below 1/1000 of the last layer's."""
    finite = gradients[gradients["grad_norm"].map(math.isfinite)]
    broken = gradients.loc[~gradients["grad_norm"].map(math.isfinite), "step"]
    per_layer = finite.groupby("position")["grad_norm"]
    ratio = float((per_layer.max() / per_layer.median().clip(lower=1e-30)).max()) if len(finite) else math.nan
    evidence = (f"not finite from step {int(broken.min())}" if len(broken) else
                f"a layer's largest norm {ratio:.3g} times its median over the run")
    rows = [_row("no exploding gradients", not len(broken) and ratio <= 100, evidence,
                 "clip the gradients (grad_clip=1.0), lower the learning rate, add normalization")]
    medians = per_layer.median().sort_index()
    if len(medians) >= 2:
        first_to_last = float(medians.iloc[0] / max(medians.iloc[-1], 1e-30))
        rows.append(_row("no vanishing gradients", first_to_last >= 1e-3,
                         f"first layer's median norm {first_to_last:.2g} times the last layer's",
                         "use ReLU-like activations, batch norm or skip connections, a fitting initialization"))
    return rows


GRADIENTS = Optional(Satisfies(lambda v: is_pandas(v, "DataFrame") and {"step", "layer", "position", "grad_norm"}
                               <= set(v.columns) and len(v) > 0, "GradientNorms' table", bad=["grads", 3]))


@checked(result=Satisfies(lambda v: isinstance(v, TrainResult), "what fit returned (a TrainResult)",
                          bad=["result", 3]), gradients=GRADIENTS)
def diagnose(result: TrainResult, gradients: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read a finished run for the usual ways training fails, one row per check (``check``,
    ``ok``, ``evidence``, ``what to try``): the loss stayed finite; the training loss fell (the
    last epoch's below 90% of the first's, and of ln(classes), the cross-entropy of a uniform
    guess); it fell steadily (it rose in at most a third of the
    epochs); validation accuracy beat chance by a tenth of the way from chance to 100% (chance:
    one over the number of classes); the train/validation accuracy gap is at most 10 points. With ``gradients``
    (`GradientNorms`' table): every layer's gradient norm finite and never above 100 times its
    median over the run (exploding), and the first layer's median norm at least 1/1000 of the
    last layer's (vanishing).

    >>> import torch
    >>> from nbhelpers import MLP, fit
    >>> x, y = torch.randn(128, 4), torch.arange(128) % 2
    >>> run = fit(MLP(4, 2), (x, y), epochs=3, lr=1e3, optimizer="sgd", progress=False, seed=0)  # far too high
    >>> diagnose(run).set_index("check")["ok"].to_dict()
    {'loss stayed finite': True, 'training loss fell': False, 'training loss fell steadily': False}
    """
    history = result.history
    train = history[history["split"] == "train"].sort_values("epoch")
    valid = history[history["split"] == "valid"].sort_values("epoch")
    finite = result.stop_reason != "non-finite loss" and bool(train["loss"].notna().all())
    rows = [_row("loss stayed finite", finite, f"the run ended: {result.stop_reason}",
                 "lower the learning rate (lr_find), clip gradients (grad_clip=1.0), check the inputs (check_data)")]
    losses = train["loss"].to_numpy()
    chance = _chance(result)
    if len(losses) >= 2 and finite:
        # against the first epoch alone, a loss that blew up in epoch 1 and came half way back looks like progress
        start, words = losses[0], f"from {losses[0]:.3g} (epoch 1)"
        if chance is not None and result.config.get("loss") == "cross_entropy":
            start, words = min(start, math.log(1 / chance)), words + f", a guess's {math.log(1 / chance):.3g},"
        rows.append(_row("training loss fell", losses[-1] < 0.9 * start, f"{words} to {losses[-1]:.3g} (epoch {len(losses)})",
                         "find a learning rate with lr_find (too low crawls, too high stalls); "
                         "check the model can learn one batch (overfit_batch)"))
    if len(losses) >= 3 and finite:
        rises = int((losses[1:] > losses[:-1]).sum())
        rows.append(_row("training loss fell steadily", rises <= (len(losses) - 1) / 3,
                         f"it rose in {rises} of {len(losses) - 1} epochs",
                         "lower the learning rate, or let a schedule lower it (cosine, one-cycle)"))
    if chance is not None and "accuracy" in valid and len(valid) and valid["accuracy"].notna().all():
        last = float(valid["accuracy"].iloc[-1])
        rows.append(_row("validation beats chance", last > chance + 0.1 * (1 - chance),
                         f"validation accuracy {last:.1%}, chance {chance:.1%}",
                         "check that labels match inputs (the same shuffle), the validation set's "
                         "preprocessing is the training set's, and the model can learn one batch"))
        if "accuracy" in train and len(train):
            gap = float(train["accuracy"].iloc[-1]) - last
            rows.append(_row("train and validation agree", gap <= 0.10, f"train minus validation accuracy {gap:+.1%}",
                             "overfitting: more data or augmentation, dropout or weight decay, early stopping"))
    if gradients is not None:
        rows += _gradient_rows(gradients)
    return _table(rows)


@checked(model=MODEL, x=INPUTS, y=Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim == 1 and len(v) > 0,
                                           "a 1-D tensor of labels", bad=["y", [0, 1]]),
         images=COUNT, steps=COUNT, lr=LEARNING_RATE)
def overfit_batch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, images: int = 32, steps: int = 200,
                  lr: float = 1e-2) -> dict[str, Any]:
    """Train a copy of ``model`` on the first ``images`` rows of ``x`` alone, ``steps`` Adam steps
    on that one batch, and return ``{"loss": final, "accuracy": final, "first_loss": ..., "curve":
    [loss per step]}``. A model, loss and labels that fit together reach about 100% accuracy; one
    that cannot has a bug (in the model, the loss or the labels) that no tuning will fix.
    ``model`` itself is not changed.

    >>> import torch
    >>> from nbhelpers import MLP
    >>> out = overfit_batch(MLP(10, 3), torch.randn(64, 10), torch.arange(64) % 3, steps=100)
    >>> out["accuracy"]
    1.0
    """
    if len(y) != len(x):
        raise fail("overfit_batch", "y", f"one label per row of x ({len(x)})", f"{len(y)} labels")
    batch = (x[:images], y[:images])
    result = fit(copy.deepcopy(model), (batch, batch), epochs=steps, lr=lr, batch_size=images, progress=False, seed=0)
    train = result.history[result.history["split"] == "valid"].sort_values("epoch")  # scored after each step
    return {"loss": float(train["loss"].iloc[-1]), "accuracy": float(train["accuracy"].iloc[-1]),
            "first_loss": float(train["loss"].iloc[0]), "curve": train["loss"].tolist()}
