"""Optimizers by name, class or factory, with options per layer (parameter groups).

Examples
--------
>>> import torch
>>> model = torch.nn.Linear(4, 2)
>>> type(make_optimizer("adamw", model, lr=1e-3, weight_decay=0.01)).__name__
'AdamW'
"""

from __future__ import annotations

import difflib
import importlib.util
import numbers
from collections.abc import Callable, Mapping

import torch
from torch import nn

from .._checks import check_choice, fail
from .muon import MUON_TORCH, MuonAdamW, muon_available, muon_groups
from .pid import PID


def _schedule_free(params, **kw) -> torch.optim.Optimizer:
    import schedulefree  # loaded where used: `import nbhelpers` stays cheap

    optimizer = schedulefree.AdamWScheduleFree(params, **kw)
    optimizer.train()  # ready for a plain loop of steps (`trajectory`); fit switches the modes itself
    return optimizer


OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": lambda params, **kw: torch.optim.SGD(params, **kw),
    "momentum": lambda params, **kw: torch.optim.SGD(params, momentum=0.9, **kw),
    "nesterov": lambda params, **kw: torch.optim.SGD(params, momentum=0.9, nesterov=True, **kw),
    "rmsprop": lambda params, **kw: torch.optim.RMSprop(params, **kw),
    "adagrad": lambda params, **kw: torch.optim.Adagrad(params, **kw),
    "adam": lambda params, **kw: torch.optim.Adam(params, **kw),
    "adamw": lambda params, **kw: torch.optim.AdamW(params, **kw),
    "pid": lambda params, **kw: PID(params, **kw),  # An et al. 2018, with the ports' demo gains
    "adamw_schedulefree": _schedule_free,  # Defazio et al. 2024; fit switches its train/eval modes
    "muon": lambda params, **kw: MuonAdamW(params, **kw),  # Muon for hidden matrices, AdamW for the rest
}

FUSED = ("sgd", "momentum", "nesterov", "adagrad", "adam", "adamw")  # torch has fused kernels for these

def check_optimizer(func: str, optimizer) -> None:
    """Raise unless ``optimizer`` is a name, a ``torch.optim.Optimizer`` subclass or a factory."""
    if isinstance(optimizer, str):
        name = check_choice(func, "optimizer", optimizer, OPTIMIZERS)
        if name == "muon" and not muon_available():
            raise fail(func, "optimizer", f"an optimizer this torch has: 'muon' needs torch.optim.Muon, in torch >= "
                       f"{MUON_TORCH} (this is torch {torch.__version__})", optimizer, "Upgrade torch, or use 'adamw'.")
        if name == "adamw_schedulefree" and importlib.util.find_spec("schedulefree") is None:
            raise fail(func, "optimizer", "an optimizer whose package is installed: 'adamw_schedulefree' needs the "
                       "schedulefree package", optimizer, "Install it: pip install 'schedulefree>=1.4' (make does).")
    elif isinstance(optimizer, type):
        if not issubclass(optimizer, torch.optim.Optimizer):
            raise fail(func, "optimizer", "a name, a torch.optim.Optimizer subclass or a factory "
                       "(params, lr, weight_decay) -> Optimizer", optimizer)
    elif isinstance(optimizer, torch.optim.Optimizer) or not callable(optimizer):
        raise fail(func, "optimizer", "a name (" + ", ".join(OPTIMIZERS) + "), a torch.optim.Optimizer subclass or a "
                   "factory (params, lr, weight_decay) -> Optimizer", optimizer,
                   "An optimizer already built holds another model's parameters: pass its class instead."
                   if isinstance(optimizer, torch.optim.Optimizer) else "")


def check_param_groups(func: str, param_groups) -> None:
    """Raise unless ``param_groups`` is None or a dict of parameter-name prefix -> dict of options."""
    if param_groups is None:
        return
    allowed = "None or a dict of parameter-name prefix -> optimizer options, e.g. {'head': {'lr': 1e-2}}"
    if not isinstance(param_groups, Mapping) or not param_groups:
        raise fail(func, "param_groups", allowed, param_groups)
    for prefix, options in param_groups.items():
        if not isinstance(prefix, str) or not isinstance(options, Mapping) or "params" in options:
            raise fail(func, "param_groups", allowed, {prefix: options})
        lr, decay = options.get("lr", 1.0), options.get("weight_decay", 0.0)
        for value, low_open in ((lr, True), (decay, False)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (value > 0 if low_open else value >= 0):
                raise fail(func, "param_groups", "a dict of prefix -> options whose 'lr' is > 0 and 'weight_decay' "
                           ">= 0", dict(param_groups))


def parameter_groups(model: nn.Module, param_groups, func: str = "fit") -> list[dict]:
    """The trainable parameters of ``model`` as torch's list of groups.

    Each parameter joins the group whose prefix is the longest that starts its name
    (``"head"`` takes ``head.weight`` and ``head.bias``); the rest form a first group with
    the optimizer's own options. A prefix that names no trainable parameter is an error.

    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    >>> [(len(g["params"]), g.get("lr")) for g in parameter_groups(model, {"1": {"lr": 0.1}})]
    [(2, None), (2, 0.1)]
    """
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise fail(func, "model", "a module with trainable parameters", type(model).__name__)
    if not param_groups:
        return [{"params": [p for _, p in named]}]
    prefixes = sorted(param_groups, key=len, reverse=True)
    members: dict[str | None, list] = {None: [], **{prefix: [] for prefix in param_groups}}
    for name, p in named:
        owner = next((x for x in prefixes if name == x or name.startswith(x.rstrip(".") + ".")), None)
        members[owner].append(p)
    for prefix in param_groups:
        if not members[prefix]:
            layers = sorted({n.rsplit(".", 1)[0] for n, _ in named})
            close = difflib.get_close_matches(prefix, layers, n=1)
            raise fail(func, "param_groups", "prefixes of trainable parameter names: " + ", ".join(layers[:12]),
                       prefix, f"Did you mean {close[0]!r}?" if close else "")
    groups = [{"params": members[None]}] if members[None] else []
    return groups + [{"params": members[prefix], **param_groups[prefix]} for prefix in param_groups]


def make_optimizer(optimizer: str | type[torch.optim.Optimizer] | Callable, model: nn.Module, lr: float,
                   weight_decay: float = 0.0, param_groups: Mapping[str, Mapping] | None = None,
                   func: str = "fit") -> torch.optim.Optimizer:
    """Build an optimizer over the trainable parameters of ``model``.

    ``optimizer`` is a name (``sgd``, ``momentum``, ``nesterov``, ``rmsprop``, ``adagrad``,
    ``adam``, ``adamw``, ``pid``: `PID` with its defaults; ``adamw_schedulefree``: the
    schedulefree package's ``AdamWScheduleFree``, Defazio et al. 2024, with its defaults
    and no warm-up, whose train and eval modes `fit` switches; ``muon``: `MuonAdamW`, Muon
    for the 2-D weights of the hidden layers and AdamW for the first and last layers, the
    biases and the norms, one ``lr`` for both), a ``torch.optim.Optimizer`` subclass, or a factory: both are called
    as ``optimizer(params, lr=lr, weight_decay=weight_decay)``, so
    ``functools.partial(torch.optim.SGD, momentum=0.95)`` tunes momentum and a function can
    build any optimizer, the course's own included. ``param_groups`` gives layers their own
    options (`parameter_groups`), e.g. a learning rate per layer. Note that ``weight_decay``
    means an L2 term added to the gradient for ``adam`` and decoupled decay for ``adamw``.

    >>> import functools
    >>> model = torch.nn.Linear(4, 2)
    >>> opt = make_optimizer(functools.partial(torch.optim.SGD, momentum=0.95), model, lr=0.1)
    >>> opt.defaults["momentum"], opt.defaults["lr"]
    (0.95, 0.1)
    """
    check_optimizer(func, optimizer)
    groups = parameter_groups(model, param_groups, func)
    if not isinstance(optimizer, str):
        built = optimizer(groups, lr=lr, weight_decay=weight_decay)
        if not isinstance(built, torch.optim.Optimizer):
            raise fail(func, "optimizer", "a factory that returns a torch.optim.Optimizer",
                       f"one that returned a {type(built).__name__}")
        return built
    name = optimizer.lower()
    if name == "muon":
        groups = muon_groups(model, groups, func)
    if name in FUSED and groups[0]["params"][0].device.type in ("cpu", "cuda"):
        # One fused kernel per step instead of a loop over parameters: same update,
        # measured 25% more samples/s for a 784-256-10 MLP on a 2-core CPU.
        try:
            return OPTIMIZERS[name](groups, lr=lr, weight_decay=weight_decay, fused=True)
        except (RuntimeError, TypeError, ValueError):  # older torch, or dtypes the kernel lacks
            pass
    return OPTIMIZERS[name](groups, lr=lr, weight_decay=weight_decay)
