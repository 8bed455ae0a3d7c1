"""`fit`: the course's one training loop.

Examples
--------
>>> import torch
>>> from nbhelpers import fit, MLP
>>> x, y = torch.randn(256, 8), torch.randint(0, 2, (256,))
>>> result = fit(MLP(8, 2, width=16), ((x[:200], y[:200]), (x[200:], y[200:])),
...              epochs=2, lr=1e-2, progress=False, seed=0)
>>> list(result.history.columns)
['epoch', 'split', 'loss', 'accuracy', 'lr', 'seconds']
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._checks import checked, fail
from ..data.loader import as_batch_augment, resolve_data, split_labels
from ..device import get_device, seed_everything
from ..models._blocks import weight_parameters
from .callbacks import HOOKS, EarlyStopping, StopTraining, TrainState
from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .distributed import Group
from .fit_arguments import FIT_ARGUMENTS
from .inference import count_correct, looks_like_classification, model_dtype, run_eval, warn_notes
from .interrupts import note_stop
from .losses import check_targets, class_loss, make_loss
from .optimizers import make_optimizer
from .progress import Reporter
from .result import NonFiniteLossWarning, TrainResult, run_config, weights_source
from .schedules import make_schedule
from .stepping import Stepper, check_schedule_free, resolve_amp

CHECK_EVERY = 50  # batches between the (syncing) non-finite loss checks


class _NonFiniteLoss(Exception):
    pass


@dataclass
class _Run:
    """Everything one `fit` call set up; the steps of the loop read it and update ``state``."""

    model: nn.Module
    forward: Callable                    # the model, or its torch.compile'd version
    optimizer: torch.optim.Optimizer
    stepper: Stepper                     # backward, clipping, the step, the schedule; the optimizer's modes
    autocast: Any
    loss: str | Callable
    loss_fn: Callable
    classification: bool | None          # None: decided from the first batch
    l1: float
    l1_weights: list
    train_batches: Any
    valid_batches: Any
    device: torch.device
    channels_last: bool
    generator: torch.Generator
    callbacks: list
    hooks: dict
    state: TrainState
    reporter: Reporter
    group: Group                         # the data-parallel process group (a single process outside one)
    checkpoint: Any
    monitor: str
    sign: float
    splits: tuple
    config: dict
    notes: set = field(default_factory=set)  # what the data adapter converted, told once set-up is done
    valid_check: Any = None              # the label check of a reader's validation batches, until it has run
    best: dict = field(default_factory=dict)
    steps_at_start: int = 0


@checked(**FIT_ARGUMENTS)
def fit(model: nn.Module, data, *, epochs: int, lr: float, optimizer: str | type | Callable = "adam",
        param_groups: Mapping[str, Mapping] | None = None, loss: str | Callable = "cross_entropy",
        weight_decay: float = 0.0, l1: float = 0.0, schedule: str | Callable | None = None, batch_size: int = 128,
        augment: Callable | None = None, early_stopping: int | EarlyStopping | None = None,
        grad_clip: float | None = None, grad_clip_value: float | None = None, amp: bool | str = "auto",
        compile: bool = False, callbacks: Sequence = (), progress: bool = True, live_plot: bool = False,
        seed: int | None = None, checkpoint: str | Path | None = None, resume: bool = False,
        device: str | torch.device | None = None) -> TrainResult:
    """Train ``model`` on ``data`` and return a `TrainResult`.

    ``data`` is a `DataBundle`, tensors or NumPy arrays ``((x_train, y_train), (x_valid,
    y_valid))`` or ``(x, y)``, or ``(train_batches, valid_batches)`` iterables such as your own
    ``DataLoader``s (``valid`` may be ``None``). Tensors stay on the device and batches are
    index slices, the fast path. Arrays are converted once: float64 inputs to the model's
    float32, labels to int64 for ``cross_entropy``/``nll`` (a `DataConversionWarning` says which).

    ``optimizer``: ``adam``, ``adamw``, ``sgd``, ``momentum``, ``nesterov``, ``rmsprop``,
    ``adagrad``, ``pid``, ``adamw_schedulefree``, ``muon`` (`make_optimizer` says what each
    is), an optimizer class or a factory, called as ``optimizer(params, lr=lr,
    weight_decay=weight_decay)`` (e.g. ``functools.partial(torch.optim.SGD, momentum=0.95)``).
    ``param_groups`` gives layers their own options by parameter-name prefix, e.g.
    ``{"head": {"lr": 1e-2}}`` (discriminative learning rates); the other parameters use
    ``lr`` and ``weight_decay``. ``loss``: ``cross_entropy``, ``nll``, ``bce``, ``mse``,
    ``l1``/``mae``, ``huber`` or a callable; accuracy is recorded for classification only.
    ``l1`` adds ``l1 * sum|w|`` over weight matrices (not biases). ``schedule``:
    ``onecycle``, ``cosine``, ``warmup_cosine``, ``warmup``, ``step``, ``exponential`` or a callable ``(optimizer,
    total_steps) -> LRScheduler``, stepped every batch; a schedule-free optimizer takes none
    (it averages its iterates instead, and is validated, kept and returned at that average).
    ``grad_clip`` rescales the gradient to that norm at most, ``grad_clip_value`` clips each
    element to ``[-grad_clip_value, grad_clip_value]`` (first, when both are given).
    ``augment(x)`` or ``augment(x, y)`` runs on each training batch on the device.
    ``early_stopping``: a patience or an `EarlyStopping`; when it stops, the best epoch's
    weights are restored. ``amp="auto"`` uses bf16 autocast on CUDA (fp16 with a gradient
    scaler on GPUs without bf16) and float32 elsewhere. ``checkpoint`` saves every epoch;
    ``resume=True`` continues from it to the same history an uninterrupted run gives.

    ``seed`` seeds shuffling, dropout and augmentation (and records itself in ``config``);
    the initial weights are drawn when the model is built, before ``fit`` runs, so call
    ``seed_everything(seed)`` before building the model to repeat a run to the bit.
    Inside a ``torch.distributed`` process group (a script started by torchrun, `process_group`)
    ``fit`` trains data-parallel by itself: DDP, one shard of each epoch per rank, metrics summed
    over the ranks, rank 0 alone reporting and checkpointing (``training/distributed.py``).
    Callbacks that keep state between epochs (`EarlyStopping`) start afresh in every call,
    unless ``resume`` restores their state from the checkpoint.

    A NaN/infinite loss stops training with a `NonFiniteLossWarning` that says what to
    try; Ctrl-C or Jupyter's Stop ends training early. Either way the best weights so far
    are restored and the result is returned with its ``stop_reason`` (a `sweep` stops too).
    """
    arguments = dict(locals())
    if resume and checkpoint is None:
        raise fail("fit", "checkpoint", "a file path when resume=True", checkpoint)
    check_schedule_free("fit", optimizer, schedule)
    run = _setup(arguments, [*callbacks, *_early_stopping(early_stopping)])
    warn_notes(run.notes)
    state, stop_reason = run.state, "completed"
    try:
        _call(run.hooks["on_fit_begin"], state)
        for epoch in range(state.epoch + 1, epochs + 1):
            state.epoch = epoch
            _call(run.hooks["on_epoch_begin"], state)
            started = time.perf_counter()
            sums, seen = _train_epoch(run)
            _end_epoch(run, sums, seen, time.perf_counter() - started)
    except StopTraining as stop:
        stop_reason = stop.reason
    except KeyboardInterrupt:
        stop_reason = "interrupted"
        run.reporter.write(f"fit(): interrupted in epoch {state.epoch}; kept the history so far and the weights "
                           f"of the best epoch ({run.best['epoch'] or 'none finished: initial weights'}).")
    except _NonFiniteLoss:
        stop_reason = "non-finite loss"
        warnings.warn(  # stacklevel 3: past @checked's wrapper, to the line that called fit
            f"fit(): the loss became NaN or infinite in epoch {state.epoch} (lr={lr:g}, optimizer={optimizer!r}). "
            f"Training stopped; the weights of the best epoch ({run.best['epoch'] or 'none finished: initial weights'}) "
            "were restored. Try: a learning rate 3-10x lower, grad_clip=1.0, inputs checked for NaN or huge "
            "values (torch.isfinite(x).all(), then scale them), or amp=False.", NonFiniteLossWarning, stacklevel=3)
    finally:
        run.reporter.close(state.history)
    return _finish(run, stop_reason)


def _early_stopping(early_stopping) -> list:
    if early_stopping is None:
        return []
    return [early_stopping if isinstance(early_stopping, EarlyStopping) else EarlyStopping(patience=early_stopping)]


def _setup(a: dict, callbacks: list) -> _Run:
    """Seed, move model and data to the device, build optimizer, schedule, autocast; resume."""
    model, epochs, seed = a["model"], a["epochs"], a["seed"]
    loss_fn, classification = make_loss(a["loss"])
    if seed is not None:
        seed_everything(seed)
    device = torch.device(a["device"]) if a["device"] is not None else get_device()
    group = Group.current()  # inside torchrun's process group: DDP (training/distributed.py)
    generator = torch.Generator().manual_seed(group.shared_seed(seed if seed is not None else
                                                                int(torch.randint(2**31, ()))))
    notes: set[str] = set()
    train_batches, valid_batches = resolve_data(a["data"], batch_size=a["batch_size"], device=device,
                                                generator=generator, augment=as_batch_augment(a["augment"]),
                                                dtype=model_dtype(model), class_loss=class_loss(a["loss"]), notes=notes,
                                                shard=group.shard)
    model.to(device)
    # Channels-last lets cuDNN and oneDNN pick their fastest convolutions: CNN(channels=(16, 32))
    # trained 1.3x faster on a 2-core CPU (median of 4 interleaved runs), the usual gain on CUDA.
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    channels_last = bool(convs) and (device.type == "cuda" or device.type == "cpu" and not any(
        1 < m.in_channels < 8 for m in convs))  # torch 2.14's oneDNN crashes (SIGSEGV/abort) in the backward of
    # a strided 1x1 channels-last convolution with 2-7 input channels, e.g. ResNet(widths=(4, 8))'s shortcut
    if channels_last:
        model.to(memory_format=torch.channels_last)
    opt = make_optimizer(a["optimizer"], model, a["lr"], a["weight_decay"], a["param_groups"])
    check_schedule_free("fit", opt, a["schedule"])  # a factory's optimizer is known once built
    try:
        steps_per_epoch = len(train_batches)
    except TypeError:  # a reader's generator of batches has no length
        steps_per_epoch = None
    if a["schedule"] not in (None, "constant") and not steps_per_epoch:
        raise fail("fit", "schedule", "None for training batches without a length (a schedule needs the step count)",
                   a["schedule"])
    scheduler = make_schedule(a["schedule"], opt, epochs * (steps_per_epoch or 1))
    autocast_dtype = resolve_amp(a["amp"], device)
    autocast = torch.autocast(device.type, dtype=autocast_dtype) if autocast_dtype else contextlib.nullcontext()
    scaler = torch.amp.GradScaler("cuda") if autocast_dtype == torch.float16 and device.type == "cuda" else None
    stopper = next((cb for cb in callbacks if isinstance(cb, EarlyStopping)), None)
    splits = ("train", "valid") if valid_batches is not None else ("train",)
    available = tuple(f"{s}_{m}" for s in splits for m in ("loss", "accuracy") if m == "loss" or classification is not False)
    monitor = stopper.monitor if stopper else f"{splits[-1]}_loss"
    config = run_config(model, {**{k: v for k, v in a.items() if k not in ("model", "data", "callbacks", "progress",
                                                                          "live_plot", "resume", "device")},
                             "steps_per_epoch": steps_per_epoch, "channels_last": channels_last,
                             "device": str(device), "amp": autocast_dtype, **group.config()})
    state = TrainState(model=model, optimizer=opt, epochs=epochs, device=device, scheduler=scheduler,
                       metrics_available=available)
    stepper = Stepper(opt, scheduler, scaler, list(model.parameters()), a["grad_clip"], a["grad_clip_value"])
    forward = group.wrap(model, device)  # DDP inside a process group, else the model itself
    run = _Run(model=model, forward=torch.compile(forward) if a["compile"] else forward, optimizer=opt, stepper=stepper,
               autocast=autocast, loss=a["loss"], loss_fn=loss_fn, classification=classification,
               l1=a["l1"], l1_weights=[p for _, p in weight_parameters(model, trainable_only=True)],
               train_batches=train_batches, valid_batches=valid_batches, device=device,
               channels_last=channels_last, generator=generator, callbacks=callbacks,
               hooks={hook: [getattr(cb, hook) for cb in callbacks if hasattr(cb, hook)] for hook in HOOKS},
               state=state, reporter=None, group=group, checkpoint=a["checkpoint"], monitor=monitor,
               sign=-1.0 if monitor.endswith("accuracy") else 1.0, splits=splits, config=config, notes=notes,
               best={"value": math.inf, "epoch": None, "weights": _copy_weights(model)})
    for callback in callbacks:  # a callback reused from an earlier fit starts afresh (a checkpoint may restore it)
        if hasattr(callback, "reset"):
            callback.reset()
    if a["resume"] and Path(a["checkpoint"]).exists():
        _resume(run, load_checkpoint(a["checkpoint"]))
    elif a["resume"]:
        print(f"fit(): no checkpoint at {a['checkpoint']} yet; starting from epoch 1.")
    run.reporter = Reporter(epochs=epochs, steps_per_epoch=steps_per_epoch, device_type=device.type,
                            progress=a["progress"] and group.main, live_plot=a["live_plot"] and group.main,
                            start_epoch=state.epoch)
    run.steps_at_start = state.step
    return run


def _train_epoch(run: _Run) -> tuple[list[torch.Tensor], int]:
    """One pass over the training batches. The loss sum and the number correct stay on the
    device: nothing here waits for the GPU but the finite-loss check every CHECK_EVERY batches
    (and, once per fit, the label check on the first batch)."""
    state, stepper, hooks = run.state, run.stepper, run.hooks
    run.forward.train()
    stepper.train()
    loss_sum = torch.zeros((), device=run.device)
    correct = torch.zeros((), device=run.device, dtype=torch.long)
    seen = 0
    for x, y in run.train_batches:
        if run.channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        state.batch = (x, y)
        _call(hooks["on_batch_begin"], state)
        with run.autocast:
            out = run.forward(x)
            if state.step == run.steps_at_start:
                _check_labels(run, out, y)
            batch_loss = run.loss_fn(out, y)
            objective = batch_loss + run.l1 * sum(w.abs().sum() for w in run.l1_weights) if run.l1 else batch_loss
        stepper.backward(objective)
        _call(hooks["on_after_backward"], state)
        stepper.step()  # clip, step, schedule
        state.step, state.loss, seen = state.step + 1, batch_loss, seen + y.shape[0]
        loss_sum += batch_loss.detach() * y.shape[0]
        if run.classification is None:
            run.classification = looks_like_classification(out, y)
        if run.classification:
            correct += count_correct(out.detach(), y)
        _call(hooks["on_batch_end"], state)
        run.reporter.batch_done(state.step - run.steps_at_start, _sync(run.device))
        if state.step % CHECK_EVERY == 0 and not run.group.all_finite(loss_sum):  # the one sync per CHECK_EVERY batches
            raise _NonFiniteLoss(state.epoch)
    if seen == 0:
        raise fail("fit", "data", "training data with at least one batch", "an empty training set")
    return [loss_sum.float(), correct.float()], seen


def _check_labels(run: _Run, out: torch.Tensor, y: torch.Tensor) -> None:
    """On the first batch: each split's labels against the loss and the model's outputs, all of them
    where a split is one tensor (read together, once). A reader's validation batches are checked
    on their first batch, in the first validation pass."""
    train, valid = split_labels(run.train_batches), split_labels(run.valid_batches)
    labels = {"train": y if train is None else train} | ({} if valid is None else {"valid": valid})
    if valid is None and run.valid_batches is not None:
        run.valid_check = lambda out, y: check_targets("fit", run.loss, out, y, {"valid": y})
    check_targets("fit", run.loss, out, y, labels)


def _end_epoch(run: _Run, sums: list[torch.Tensor], seen: int, seconds: float) -> None:
    """Validate, read the epoch's numbers (the one sync of the epoch), record them, keep the
    best weights, report, call ``on_epoch_end`` and write the checkpoint."""
    state, classification = run.state, run.classification
    count = 0
    run.stepper.eval()  # a schedule-free optimizer's average is what is scored, kept as best and saved
    run.group.sync_buffers(run.model)  # each rank's batch-norm statistics came from its own shard
    if run.valid_batches is not None:
        check, run.valid_check = run.valid_check, None
        valid_sums, count, run.classification = run_eval(run.forward, run.valid_batches, run.loss_fn,
                                                         classification, run.autocast, run.channels_last, check=check)
        classification = run.classification
        sums = [*sums, *valid_sums]
    numbers, seen, count = run.group.totals(sums, seen, count)  # summed over the ranks of a process group
    metrics = {"train_loss": numbers[0] / seen}
    if classification:
        metrics["train_accuracy"] = numbers[1] / seen
    if run.valid_batches is not None:
        metrics["valid_loss"] = numbers[2] / count
        if classification:
            metrics["valid_accuracy"] = numbers[3] / count
    if not all(math.isfinite(v) for v in metrics.values()):
        raise _NonFiniteLoss(state.epoch)
    lr_now = run.optimizer.param_groups[0]["lr"]
    for split in run.splits:
        state.history.append({"epoch": state.epoch, "split": split, "loss": metrics[f"{split}_loss"],
                              "accuracy": metrics.get(f"{split}_accuracy", math.nan), "lr": lr_now,
                              "seconds": seconds})
    state.metrics = metrics
    if run.sign * metrics[run.monitor] < run.best["value"]:
        run.best = {"value": run.sign * metrics[run.monitor], "epoch": state.epoch, "weights": _copy_weights(run.model)}
    run.reporter.epoch_done(state.epoch, metrics, lr_now, seconds, state.history)
    _call(run.hooks["on_epoch_end"], state)
    if run.checkpoint is not None and run.group.main:
        save_checkpoint(run.checkpoint, {
            "model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(), **run.stepper.state_dict(),
            "rng": rng_state(run.generator), "history": state.history, "epoch": state.epoch, "step": state.step,
            "best": run.best, "callbacks": [[type(cb).__name__, cb.state_dict()] for cb in run.callbacks
                                            if hasattr(cb, "state_dict")]})


def _resume(run: _Run, saved: dict) -> None:
    run.model.load_state_dict(saved["model"])
    run.optimizer.load_state_dict(saved["optimizer"])
    run.stepper.load_state_dict(saved)
    set_rng_state(saved["rng"], run.generator)
    state = run.state
    state.history, state.epoch, state.step, run.best = saved["history"], saved["epoch"], saved["step"], saved["best"]
    _restore_callbacks(run.callbacks, saved["callbacks"])


def _finish(run: _Run, stop_reason: str) -> TrainResult:
    import pandas as pd

    run.stepper.eval()  # the average of a schedule-free run is the model; before the best weights are loaded
    weights_epoch, weights_from = weights_source(stop_reason, run.state.epoch, run.best["epoch"])
    if stop_reason != "completed":  # what weights_source says: the best epoch's weights (or the initial ones)
        run.model.load_state_dict(run.best["weights"])
    _call(run.hooks["on_fit_end"], run.state)
    note_stop(stop_reason)  # lets a sweep or explore around this fit see a Stop or Ctrl-C
    run.config.update(stop_reason=stop_reason, best_by=run.monitor)
    history = pd.DataFrame(run.state.history, columns=["epoch", "split", "loss", "accuracy", "lr", "seconds"])
    if not run.classification:
        history = history.drop(columns="accuracy")
    return TrainResult(model=run.model, history=history, best_epoch=run.best["epoch"], config=run.config,
                       stop_reason=stop_reason, weights_epoch=weights_epoch, weights_from=weights_from)


def _sync(device: torch.device) -> Callable[[], None]:
    return torch.cuda.synchronize if device.type == "cuda" else _no_sync


def _no_sync() -> None:
    pass


def _restore_callbacks(callbacks: list, saved: list) -> None:
    """Give each callback with ``load_state_dict`` the saved state of the same class, in order."""
    unused = list(saved)
    for callback in callbacks:
        match = next((entry for entry in unused if entry[0] == type(callback).__name__), None)
        if match is not None and hasattr(callback, "load_state_dict"):
            callback.load_state_dict(match[1])
            unused.remove(match)


def _call(hooks: list, state: TrainState) -> None:
    for hook in hooks:
        hook(state)


def _copy_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
