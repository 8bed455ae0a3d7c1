"""The fastest recipe the course teaches, and its parts: `EMA` (a `fit` callback that keeps an
exponential moving average of the weights), `predict_tta` (test-time augmentation) and
`train_fast`, which puts them together with `FastNet` through `fit`.

The recipe (after airbench on CIFAR-10 and Myrtle's "bag of tricks"): data on the device as
one tensor; batched flips and small translations (pass ``augment=pipeline(hflip=True,
crop=2)``); a narrow conv-pool-BN net with a 2 x 2 whitening first layer (`FastNet`);
label smoothing; SGD with Nesterov momentum and a one-cycle schedule; the weights'
moving average; test-time augmentation with flips and 1-pixel shifts; bf16 and channels-last
on a GPU (what `fit` does there anyway). Every trick can be turned off one at a time, which is
how the chapter's ablation measures what each bought.

>>> import torch
>>> x, y = torch.randn(256, 1, 28, 28), torch.arange(256) % 10
>>> run = train_fast((x, y), (x[:64], y[:64]), epochs=1, widths=(8, 16), batch_size=64, device="cpu")
>>> sorted(run)[:5], len(run["curve"])
(['accuracy', 'config', 'correct', 'curve', 'model'], 1)
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from .._checks import (COUNT, FLAG, FRACTION, LEARNING_RATE, MODEL, SEED, AnyOf, Choice, Function, Optional, Real,
                       Satisfies, checked)
from ..device import DEVICE, get_device, seed_everything
from ..models._blocks import SIZES
from ..models.fast import FastNet
from ..training.callbacks import Callback, TrainState
from ..training.fit_arguments import FIT_ARGUMENTS
from ..training.inference import correct, model_device
from ..training.loop import fit

if TYPE_CHECKING:
    import pandas as pd

PAIR = Satisfies(lambda v: isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(t, torch.Tensor) for t in v)
                 and v[0].ndim == 4 and len(v[0]) == len(v[1]) > 0, "an (images N x C x H x W, labels) pair of tensors",
                 bad=["train.csv", 3])


class EMA(Callback):
    """Keep an exponential moving average of the weights while `fit` trains, and put it into the
    model when training ends (``apply=True``).

    Every ``every`` steps: ``average += (1 - decay**every) * (weights - average)``, with
    ``decay`` warmed up as ``min(decay, (1 + t) / (10 + t))`` so the first steps do not
    dominate. Buffers (batch-norm statistics) are copied, not averaged. ``ema.model`` is the
    averaged network at any time (e.g. to score it after each epoch).

    >>> import torch
    >>> from nbhelpers import MLP, fit
    >>> x, y = torch.randn(64, 4), torch.arange(64) % 2
    >>> ema = EMA(decay=0.9, every=1)
    >>> _ = fit(MLP(4, 2, width=8), (x, y), epochs=2, lr=0.1, progress=False, callbacks=[ema])
    >>> ema.updates > 0
    True
    """

    @checked(decay=Real(low=0, high=1, high_open=True), every=COUNT, apply=FLAG)
    def __init__(self, decay: float = 0.99, every: int = 5, apply: bool = True) -> None:
        self.decay, self.every, self.apply = decay, int(every), apply
        self.model: nn.Module | None = None
        self.updates = 0

    def reset(self) -> None:
        self.model, self.updates = None, 0

    def on_fit_begin(self, state: TrainState) -> None:
        self.model = copy.deepcopy(state.model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def on_batch_end(self, state: TrainState) -> None:
        if state.step % self.every:
            return
        decay = min(self.decay, (1 + state.step) / (10 + state.step)) ** self.every
        average = [p for p in self.model.parameters() if p.is_floating_point()]
        current = [p.detach() for p in state.model.parameters() if p.is_floating_point()]
        torch._foreach_lerp_(average, current, 1 - decay)
        for mine, theirs in zip(self.model.buffers(), state.model.buffers()):
            mine.copy_(theirs)
        self.updates += 1

    @torch.no_grad()
    def on_fit_end(self, state: TrainState) -> None:
        if self.apply and self.updates:
            state.model.load_state_dict(self.model.state_dict())


@checked(model=MODEL, x=Satisfies(lambda v: isinstance(v, torch.Tensor) and v.ndim == 4, "images N x C x H x W",
                                  bad=["x", torch.zeros(3)]),
         flips=FLAG, shift=Real(low=0, integer=True), fill=Optional(Real()), batch_size=COUNT)
def predict_tta(model: nn.Module, x: torch.Tensor, *, flips: bool = True, shift: int = 0, fill: float | None = None,
                batch_size: int = 1024) -> torch.Tensor:
    """Logits of ``model`` for images ``x`` averaged over test-time augmentations, in eval mode,
    in batches; returned on the CPU. ``flips``: the image and its left-right mirror. ``shift``
    (pixels; 0: none): also copies of those views moved ``shift`` pixels up-left and down-right,
    the uncovered border set to ``fill`` (None: the smallest value in ``x``, black, as
    `pipeline`'s crop fills it while training); as in airbench, the unmoved views count half
    and each moved pair a quarter. ``flips=False, shift=0``: the image alone.

    >>> import torch
    >>> from nbhelpers import CNN
    >>> predict_tta(CNN(channels=(4,)), torch.randn(5, 1, 28, 28), shift=1).shape
    torch.Size([5, 10])
    """
    device, was_training = model_device(model), model.training
    last = any(isinstance(m, nn.Conv2d) and m.weight.is_contiguous(memory_format=torch.channels_last)
               and not m.weight.is_contiguous() for m in model.modules())
    fill = float(x.amin()) if shift and fill is None else fill
    model.eval()

    def views(xb: torch.Tensor) -> torch.Tensor:
        xb = xb.contiguous(memory_format=torch.channels_last) if last else xb
        out = model(xb).float()
        return (out + model(xb.flip(-1)).float()) / 2 if flips else out

    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size].to(device)
            out = views(xb)
            if shift:
                h, w, s = xb.shape[-2], xb.shape[-1], shift
                padded = nn.functional.pad(xb, (s, s, s, s), value=fill)
                moved = views(padded[..., :h, :w]) + views(padded[..., 2 * s:, 2 * s:])
                out = out / 2 + moved / 4
            outs.append(out.cpu())
    model.train(was_training)
    return torch.cat(outs)


class _Scorer(Callback):
    """After each epoch (``every_epoch=False``: the last only): the training time so far (the
    scoring itself not counted) and the accuracy of the averaged (or current) weights on
    ``eval_data``, with TTA's flips and shifts (`predict_tta`'s ``flips`` and ``shift``) or without."""

    def __init__(self, eval_data, ema: EMA | None, tta: dict, sync: Callable[[], None], every_epoch: bool) -> None:
        self.eval_data, self.ema, self.tta, self.sync, self.every_epoch = eval_data, ema, tta, sync, every_epoch
        self.curve: list[dict] = []
        self.correct: torch.Tensor | None = None
        self.train_seconds, self.started = 0.0, 0.0

    def on_epoch_begin(self, state: TrainState) -> None:
        self.sync()
        self.started = time.perf_counter()

    def on_epoch_end(self, state: TrainState) -> None:
        self.sync()
        self.train_seconds += time.perf_counter() - self.started
        if self.every_epoch:
            self.score(state)

    def on_fit_end(self, state: TrainState) -> None:
        if not self.curve or self.curve[-1]["epoch"] != state.epoch:  # the last epoch, or where fit stopped
            self.score(state)

    def score(self, state: TrainState) -> None:
        model = self.ema.model if self.ema is not None and self.ema.updates else state.model
        x, y = self.eval_data
        self.correct = correct(predict_tta(model, x, **self.tta), y.cpu())
        accuracy = self.correct.float().mean().item()
        self.curve.append({"epoch": state.epoch, "train_seconds": self.train_seconds, "accuracy": accuracy})


@checked(train=PAIR, eval_data=PAIR, epochs=COUNT, widths=SIZES, batch_size=COUNT, lr=LEARNING_RATE,
         weight_decay=Real(low=0), augment=Optional(Function("a callable on a batch: augment(x) or augment(x, y)")),
         label_smoothing=FRACTION, whitening=FLAG, ema=Optional(Real(low=0, high=1, high_open=True)), tta=FLAG,
         tta_shift=Real(low=0, integer=True),
         optimizer=Choice("nesterov", "momentum", "sgd", "adam", "adamw"),
         schedule=AnyOf(Choice("onecycle", "cosine", "warmup_cosine", "constant"), None),
         amp=FIT_ARGUMENTS["amp"],
         compile=FLAG, seed=SEED, device=Optional(DEVICE), curve=FLAG)
def train_fast(train: tuple[torch.Tensor, torch.Tensor], eval_data: tuple[torch.Tensor, torch.Tensor], *,
               epochs: int = 12, widths: Sequence[int] = (24, 48, 96), batch_size: int = 256, lr: float = 0.1,
               weight_decay: float = 5e-4, augment: Callable | None = None, label_smoothing: float = 0.1,
               whitening: bool = True, ema: float | None = 0.99, tta: bool = True, tta_shift: int = 1,
               optimizer: str = "nesterov", schedule: str | None = "onecycle", amp: str | bool = "auto",
               compile: bool = False, seed: int = 0,
               device: str | torch.device | None = None, curve: bool = True) -> dict:
    """Train `FastNet` on ``train`` with the fastest recipe the course teaches, scoring
    ``eval_data`` (a validation split while tuning, the test set to report) after every epoch.

    Each trick is an argument, so the ablation turns one off at a time: ``augment`` (e.g.
    ``pipeline(hflip=True, crop=2)``; None: none), ``label_smoothing`` (0: none),
    ``whitening`` (False: a trained 3 x 3 stem), ``ema`` (the decay; None: the last
    weights), ``tta`` (test-time augmentation: flips, and with ``tta_shift`` pixels (0: none)
    shifted copies; `predict_tta`), ``optimizer`` and ``schedule``
    (``"nesterov"`` with ``"onecycle"``; e.g. ``"adam"`` with ``"constant"`` to remove them).
    ``amp`` and ``compile`` as in `fit` (bf16 and channels-last on a GPU are `fit`'s default).

    Returns a dict: ``accuracy`` (on ``eval_data``, after the last epoch), ``curve`` (one
    row per epoch: ``epoch``, ``train_seconds`` so far, ``accuracy``; ``curve=False`` scores
    the last epoch only, which saves the scoring of the others), ``correct`` (after the last
    epoch, whether each image of ``eval_data`` was classified right: a NumPy bool array, for
    `paired_gain`'s ``images=``), ``train_seconds``
    (training only: data on the device, the scoring not counted), ``seconds`` (the whole
    call, whitening and scoring included), ``model`` (the averaged weights when ``ema``)
    and ``config``.
    """
    started = time.perf_counter()
    device = torch.device(device) if device is not None else get_device()
    seed_everything(seed)
    x, y = (t.to(device) for t in train)
    net = FastNet(x.shape[1], int(max(train[1].max(), eval_data[1].max())) + 1, widths=widths, whitening=whitening)
    if whitening:
        net.whiten(x[:5000])
    average = EMA(decay=ema) if ema is not None else None
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    views = dict(flips=tta, shift=tta_shift if tta else 0)
    scorer = _Scorer((eval_data[0].to(device), eval_data[1]), average, views, sync, every_epoch=curve)
    loss = functools.partial(nn.functional.cross_entropy, label_smoothing=label_smoothing) if label_smoothing \
        else "cross_entropy"
    result = fit(net, (x, y), epochs=epochs, lr=lr, optimizer=optimizer, weight_decay=weight_decay, loss=loss,
                 schedule=schedule, batch_size=batch_size, augment=augment, amp=amp, compile=compile, seed=seed,
                 progress=False, device=device, callbacks=[c for c in (average, scorer) if c is not None])
    config = dict(epochs=epochs, widths=tuple(widths), batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                  augment=repr(augment) if augment is not None else None, label_smoothing=label_smoothing,
                  whitening=whitening, ema=ema, tta=tta, tta_shift=tta_shift, optimizer=optimizer, schedule=schedule,
                  amp=str(amp), compile=compile, seed=seed, device=str(device), train_images=len(y),
                  eval_images=len(eval_data[1]), channels_last=result.config.get("channels_last"),
                  autocast=str(result.config.get("amp")))
    return {"accuracy": scorer.curve[-1]["accuracy"], "curve": scorer.curve, "correct": scorer.correct.numpy(),
            "model": result.model, "train_seconds": scorer.train_seconds, "seconds": time.perf_counter() - started,
            "config": config}


@checked(curve=Satisfies(lambda v: isinstance(v, (list, tuple)) and all(
    isinstance(r, dict) and {"train_seconds", "accuracy"} <= set(r) for r in v),
    "a list of rows with 'train_seconds' and 'accuracy' (train_fast's curve)", bad=["curve", [{"epoch": 1}]]),
    accuracy=FRACTION)
def time_to(curve: Sequence[dict], accuracy: float) -> float | None:
    """The training seconds after which ``curve`` (`train_fast`'s) first reached ``accuracy``, or None.

    >>> time_to([{"train_seconds": 40.0, "accuracy": 0.91}, {"train_seconds": 80.0, "accuracy": 0.935}], 0.93)
    80.0
    """
    return next((row["train_seconds"] for row in curve if row["accuracy"] >= accuracy), None)


# What removing each trick means: the arguments of `train_fast` that turn it off.
TRICKS: dict[str, dict] = {
    "flips and translations": {"augment": None},
    "label smoothing": {"label_smoothing": 0.0},
    "whitening layer": {"whitening": False},
    "weight averaging (EMA)": {"ema": None},
    "test-time augmentation": {"tta": False},
    "TTA's shifted copies": {"tta_shift": 0},
    "Nesterov + one-cycle": {"optimizer": "adam", "schedule": "constant", "lr": 2e-3},
    "bf16 (GPU)": {"amp": False},
}


@checked(train=PAIR, eval_data=PAIR, seeds=Satisfies(lambda v: isinstance(v, (list, tuple, range)) and len(v) > 0
                                                   and all(SEED.ok(s) for s in v), "a non-empty list of seeds",
                                                   bad=[[], 3, [-1]]),
         remove=Satisfies(lambda v: isinstance(v, (list, tuple)) and all(t in TRICKS for t in v),
                          "a list of trick names: " + ", ".join(repr(t) for t in TRICKS), bad=["EMA", ["ema"]]))
def ablation(train: tuple[torch.Tensor, torch.Tensor], eval_data: tuple[torch.Tensor, torch.Tensor], *,
             seeds: Sequence[int] = (0, 1, 2), remove: Sequence[str] = tuple(TRICKS)[:6], **recipe) -> pd.DataFrame:
    """The recipe (`train_fast` with ``recipe``'s arguments) and, for each trick of ``remove``, the
    recipe without it, each over ``seeds``: one row per run with ``removed`` (``"none"`` for the
    whole recipe), ``seed``, ``accuracy``, ``correct`` (per image of ``eval_data``),
    ``train_seconds``, ``seconds``. `paired_gain` with ``column="removed", baseline="none",
    images="correct"`` then says what each trick bought, pairing the images as well as the seeds.

    ``TRICKS`` lists the names and what removing each means (``"bf16 (GPU)"`` matters on a GPU
    only: on the CPU `fit` trains in float32 anyway).
    """
    import pandas as pd

    rows = []
    for seed in seeds:
        for removed in ("none", *remove):
            options = {**recipe, **(TRICKS[removed] if removed != "none" else {}), "seed": seed}
            run = train_fast(train, eval_data, **options, curve=False)
            rows.append({"removed": removed, "seed": seed, "accuracy": run["accuracy"], "correct": run["correct"],
                         "train_seconds": run["train_seconds"], "seconds": run["seconds"]})
    return pd.DataFrame(rows)
