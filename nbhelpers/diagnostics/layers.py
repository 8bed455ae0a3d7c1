"""What happens inside a network while it trains: gradient norms per layer, activation statistics.

Two callbacks for `fit` and one function for a single batch. All three give tidy tables with
one row per (time, layer), so one plot, `plot_layers`, draws any of them:

>>> import torch
>>> from nbhelpers import MLP, fit
>>> x, y = torch.randn(256, 20), torch.randint(0, 3, (256,))
>>> grads, acts = GradientNorms(every=4), ActivationStats(x[:64])
>>> _ = fit(MLP(20, 3, depth=3, width=16), ((x, y), (x, y)), epochs=2, lr=1e-2, progress=False,
...         callbacks=[grads, acts])
>>> sorted(grads.table.columns)
['epoch', 'grad_norm', 'layer', 'position', 'step']
>>> acts.table.groupby("step").size().tolist()  # before training, then after each epoch: 3 layers
[3, 3, 3]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import torch
from torch import nn

from .._checks import COLUMN, COUNT, FLAG, TEXT, checked, DictOf, fail, Frame, Instance, Optional, Rule, shown
from ..models._blocks import weight_parameters
from ..training.callbacks import Callback, TrainState
from ..training.losses import LOSS, make_loss

if TYPE_CHECKING:  # annotations only: pandas and matplotlib load when first used
    import pandas as pd

    from ..plots._figure import Figure


ACTIVATION_TYPES = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish, nn.Tanh,
                    nn.Sigmoid, nn.Softplus, nn.Hardtanh, nn.ReLU6, nn.PReLU)


def _weights(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The trainable weight matrices and kernels (not biases, not norm scales), in forward order."""
    return [(name.removesuffix(".weight"), p) for name, p in weight_parameters(model, trainable_only=True)]


def _activations(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(name, m) for name, m in model.named_modules() if isinstance(m, ACTIVATION_TYPES)]


def _check_model(func: str, name: str, model) -> None:
    if not isinstance(model, nn.Module):
        raise fail(func, name, "a torch.nn.Module", shown(model))
    if not _weights(model):
        raise fail(func, name, "a module with trainable weight matrices", type(model).__name__)




@checked(model=Rule(_check_model, "a torch.nn.Module with trainable weight matrices", bad=["model", 3]),
         x=Instance(torch.Tensor, "a tensor batch"), y=Instance(torch.Tensor, "a tensor of targets"),
         loss=LOSS)
def layer_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str | Callable = "cross_entropy"
                    ) -> pd.DataFrame:
    """The gradient norm of every weight matrix for one batch, at the model's current weights.

    One row per layer, in forward order (``position`` 1 is the first): the picture of
    vanishing gradients is the first layers' norms being orders of magnitude below the
    last ones'. The model's gradients are cleared afterwards.

    >>> import torch
    >>> from nbhelpers import MLP
    >>> t = layer_gradients(MLP(10, 2, depth=2, width=8), torch.randn(32, 10), torch.randint(0, 2, (32,)))
    >>> t["layer"].tolist()
    ['layer1.0', 'layer2.0', 'head']
    """
    import pandas as pd

    weights = _weights(model)
    loss_fn, _ = make_loss(loss, func="layer_gradients")
    device = weights[0][1].device
    model.zero_grad(set_to_none=True)
    loss_fn(model(x.to(device)), y.to(device)).backward()
    norms = torch.stack([p.grad.norm() for _, p in weights]).tolist()
    model.zero_grad(set_to_none=True)
    return pd.DataFrame({"layer": [n for n, _ in weights], "position": range(1, len(weights) + 1),
                         "grad_norm": norms})


class GradientNorms(Callback):
    """Record each weight matrix's gradient norm every ``every`` optimizer steps during `fit`.

    The norms stay on the device and are copied to the CPU once per epoch (no sync per
    batch). ``table`` has one row per (step, layer): ``epoch``, ``step``, ``layer``,
    ``position`` (1 = first layer), ``grad_norm``. With fp16 AMP the gradients are still
    scaled when this runs, so compare layers within a run, not across runs.
    """

    @checked(every=COUNT)
    def __init__(self, every: int = 10) -> None:
        self.every = int(every)
        self.rows: list[dict] = []
        self._pending: list[tuple[int, int, torch.Tensor]] = []
        self._names: list[str] = []
        self._params: list[nn.Parameter] = []

    def on_fit_begin(self, state: TrainState) -> None:
        weights = _weights(state.model)
        self._names, self._params = [name for name, _ in weights], [p for _, p in weights]

    def on_after_backward(self, state: TrainState) -> None:
        if state.step % self.every == 0:
            norms = torch.stack([p.grad.norm() if p.grad is not None else p.new_zeros(()) for p in self._params])
            self._pending.append((state.epoch, state.step + 1, norms.detach()))

    def on_epoch_end(self, state: TrainState) -> None:
        self._flush()

    def on_fit_end(self, state: TrainState) -> None:
        self._flush()

    def _flush(self) -> None:
        for epoch, step, norms in self._pending:
            for position, (name, norm) in enumerate(zip(self._names, norms.tolist()), start=1):
                self.rows.append(dict(epoch=epoch, step=step, layer=name, position=position, grad_norm=norm))
        self._pending.clear()

    @property
    def table(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows, columns=["epoch", "step", "layer", "position", "grad_norm"])


def _unit_stats(out: torch.Tensor) -> dict[str, float]:
    """Statistics of one activation output ``N x units x ...``; a unit is a feature or a channel."""
    per_unit = out.detach().float().transpose(0, 1).reshape(out.shape[1], -1)
    spread = per_unit.amax(1) - per_unit.amin(1)
    return dict(mean=per_unit.mean().item(), std=per_unit.std().item(),
                dead_fraction=(spread <= 1e-6).float().mean().item(),  # same output for every input
                zero_fraction=(per_unit == 0).float().mean().item())


class ActivationStats(Callback):
    """Statistics of every activation layer's output on a fixed probe batch, before training
    and at the end of each epoch (or every ``every`` steps).

    A unit (a feature of a dense layer, a channel of a convolution) is *dead* when it gives
    the same output for every probe input: a dead ReLU outputs 0 and passes no gradient, so
    nothing brings it back. ``table`` has one row per (step, layer): ``epoch``, ``step``,
    ``layer``, ``position``, ``activation``, ``mean``, ``std``, ``dead_fraction``,
    ``zero_fraction``. The probe runs in eval mode (dropout off, batch norm on its running
    statistics) without gradients.
    """

    @checked(probe=Instance(torch.Tensor, "a tensor batch of inputs"), every=Optional(COUNT))
    def __init__(self, probe: torch.Tensor, every: int | None = None) -> None:
        self.probe = probe
        self.every = every
        self.rows: list[dict] = []

    def on_fit_begin(self, state: TrainState) -> None:
        self._layers = _activations(state.model)
        if not self._layers:
            raise fail("ActivationStats", "model", "a model with activation modules (nn.ReLU, nn.Tanh, ...)",
                       type(state.model).__name__)
        self._probe = self.probe.to(state.device)
        self.record(state)

    def on_batch_end(self, state: TrainState) -> None:
        if self.every is not None and state.step % self.every == 0:
            self.record(state)

    def on_epoch_end(self, state: TrainState) -> None:
        if self.every is None:
            self.record(state)

    def record(self, state: TrainState) -> None:
        outputs: dict[str, torch.Tensor] = {}
        hooks = [m.register_forward_hook(lambda _m, _i, out, name=name: outputs.__setitem__(name, out))
                 for name, m in self._layers]
        was_training = state.model.training
        state.model.eval()
        try:
            with torch.no_grad():
                state.model(self._probe)
        finally:
            state.model.train(was_training)
            for h in hooks:
                h.remove()
        for position, (name, module) in enumerate(self._layers, start=1):
            if name in outputs:
                self.rows.append(dict(epoch=state.epoch, step=state.step, layer=name, position=position,
                                      activation=type(module).__name__, **_unit_stats(outputs[name])))

    @property
    def table(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows, columns=["epoch", "step", "layer", "position", "activation", "mean", "std",
                                                "dead_fraction", "zero_fraction"])


@checked(tables=DictOf(Frame("a DataFrame"), "a non-empty dict {name: table}"), value=COLUMN, x=COLUMN,
         logy=Optional(FLAG), title=TEXT)
def plot_layers(tables: Mapping[str, pd.DataFrame], value: str = "grad_norm", *, x: str = "position",
                logy: bool | None = None, title: str = "") -> Figure:
    """One line per table (e.g. per network): ``value`` against ``x``, averaged over the rest.

    ``x="position"`` gives the gradient-flow picture (layer 1 on the left); ``x="step"``
    shows ``value`` over training (e.g. ``dead_fraction``). ``logy`` defaults to True for
    gradient norms.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"position": [1, 2, 3], "grad_norm": [1e-6, 1e-3, 1.0]})
    >>> len(plot_layers({"sigmoid": t}).axes)
    1
    """
    import matplotlib
    import seaborn as sns

    from ..plots._figure import Figure

    for t in tables.values():  # the columns a table has: data, so checked here
        for col in (x, value):
            if col not in t.columns:
                raise fail("plot_layers", "x" if col == x else "value",
                           "a column of every table: " + ", ".join(map(str, t.columns)), col)
    logy = value == "grad_norm" if logy is None else logy
    palette = sns.color_palette("deep", len(tables))
    with sns.axes_style("whitegrid"), matplotlib.rc_context({"figure.dpi": 100}):
        fig = Figure(figsize=(6.0, 3.6), layout="constrained")
        ax = fig.add_subplot()
        for color, (name, t) in zip(palette, tables.items()):
            line = t.groupby(x)[value].mean()
            if logy:
                line = line.clip(lower=1e-12)  # a zero gradient would vanish from a log axis
            ax.plot(line.index, line.to_numpy(), "o-" if len(line) <= 30 else "-", color=color, label=str(name),
                    lw=1.8, ms=5)
        if logy:
            ax.set_yscale("log")
        if x == "position":
            last = max(int(t[x].max()) for t in tables.values())
            ax.set_xticks(range(1, last + 1, max(1, math.ceil(last / 12))))
        ax.set_xlabel({"position": "layer (1 = first)", "step": "optimizer step"}.get(x, x))
        ax.set_ylabel(value.replace("_", " "))
        ax.legend(fontsize=8)
        if title:
            ax.set_title(title, fontsize=10)
    return fig
