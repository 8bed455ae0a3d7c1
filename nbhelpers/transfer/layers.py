"""Which parameters train: freeze and unfreeze by name or depth, a new head, and the table that says it.

`freeze` and `unfreeze` change ``requires_grad`` and nothing else, on exactly the parameters
asked for: by parameter-name prefix (``"stage1"`` takes ``stage1.0.conv1.weight``, the rule
`fit`'s ``param_groups`` uses) or by depth (all but the last ``k`` top-level children that
hold parameters). They change the model in place, as ``requires_grad_`` does, and return it.
`replace_head` puts a new final ``Linear`` in place of the old one; `trainable_table` lists,
layer by layer, what trains and at which learning rate `fit` will give it, read from the
parameter groups `fit` builds (`training.optimizers.parameter_groups`), not recomputed here.

>>> from nbhelpers import ResNet
>>> model = replace_head(freeze(ResNet(widths=(8, 16)), but_last=1), num_classes=3)
>>> [name for name, p in model.named_parameters() if p.requires_grad]
['head.weight', 'head.bias']
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from torch import nn

from .._checks import COUNT, MODEL, AnyOf, Instance, Optional, Real, Satisfies, checked, fail
from ..training.fit_arguments import FIT_ARGUMENTS
from ..training.optimizers import parameter_groups

if TYPE_CHECKING:  # annotations only: pandas loads when first used
    import pandas as pd

PREFIXES = AnyOf(Instance(str, "a parameter-name prefix such as 'stage1'"),
                 Satisfies(lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(p, str) for p in v),
                           "a non-empty list of prefixes", bad=[[], [1]]), None)
DEPTH = Optional(Real(low=0, integer=True))


def _owns(prefix: str, name: str) -> bool:
    """Whether the parameter ``name`` falls under ``prefix``: `parameter_groups`' rule (a whole name,
    or the name of a module above it)."""
    return name == prefix or name.startswith(prefix.rstrip(".") + ".")


def _with_parameters(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The top-level children of ``model`` that hold parameters, in order."""
    return [(name, child) for name, child in model.named_children() if next(child.parameters(), None) is not None]


def _chosen(func: str, model: nn.Module, prefixes, count: int | None, argument: str, last: bool) -> list[nn.Parameter]:
    """The parameters a call names: every one, those under ``prefixes``, or those of the last
    ``count`` top-level children with parameters (``last``) or all but them (``not last``)."""
    named = list(model.named_parameters())
    if prefixes is not None and count is not None:
        raise fail(func, argument, "None when prefixes are given (choose by name or by depth, not both)", count)
    if count is not None:
        children = _with_parameters(model)
        if count > len(children):
            raise fail(func, argument, f"at most {len(children)}, the top-level children of {type(model).__name__} "
                       "with parameters: " + ", ".join(n for n, _ in children), count)
        tail = {id(p) for _, child in children[len(children) - count:] for p in child.parameters()}
        return [p for _, p in named if (id(p) in tail) == last]
    if prefixes is None:
        return [p for _, p in named]
    chosen = []
    for prefix in [prefixes] if isinstance(prefixes, str) else prefixes:
        found = [p for name, p in named if _owns(prefix, name)]
        if not found:
            top = list(dict.fromkeys(name.split(".")[0] for name, _ in named))
            every = {".".join(name.split(".")[:k]) for name, _ in named for k in range(1, name.count(".") + 2)}
            close = difflib.get_close_matches(prefix, sorted(every), n=1)
            raise fail(func, "prefixes", "prefixes of parameter names, such as " + ", ".join(top[:12]), prefix,
                       f"Did you mean {close[0]!r}?" if close else "")
        chosen += found
    return chosen


@checked(model=MODEL, prefixes=PREFIXES, but_last=DEPTH)
def freeze(model: nn.Module, prefixes: str | Sequence[str] | None = None, *, but_last: int | None = None) -> nn.Module:
    """Stop the named parameters of ``model`` from training (``requires_grad = False``); return ``model``.

    ``prefixes``: a parameter-name prefix or a list of them (``"stage1"`` freezes every
    parameter whose name starts with ``stage1.``); ``but_last=k``: every parameter except
    those of the last ``k`` top-level children that hold parameters (``but_last=1`` leaves
    the head); neither: the whole model. Parameters not named keep their ``requires_grad``.
    BatchNorm layers still update their running statistics in training mode: freezing
    stops the gradient, not the statistics (call ``.eval()`` on a layer to keep them).

    >>> from nbhelpers import MLP
    >>> model = freeze(MLP(4, 2, width=8, depth=2), ["layer1", "layer2"])
    >>> [name for name, p in model.named_parameters() if p.requires_grad]
    ['head.weight', 'head.bias']
    """
    for p in _chosen("freeze", model, prefixes, but_last, "but_last", last=False):
        p.requires_grad_(False)
    return model


@checked(model=MODEL, prefixes=PREFIXES, last=Optional(COUNT))
def unfreeze(model: nn.Module, prefixes: str | Sequence[str] | None = None, *, last: int | None = None) -> nn.Module:
    """Let the named parameters of ``model`` train again (``requires_grad = True``); return ``model``.

    ``prefixes`` as in `freeze`; ``last=k``: the parameters of the last ``k`` top-level
    children that hold parameters; neither: the whole model. Parameters not named keep
    their ``requires_grad``.

    >>> from nbhelpers import ResNet
    >>> model = unfreeze(freeze(ResNet(widths=(8, 16))), last=2)  # the top stage and the head
    >>> sorted({name.split(".")[0] for name, p in model.named_parameters() if p.requires_grad})
    ['head', 'stage2']
    """
    for p in _chosen("unfreeze", model, prefixes, last, "last", last=True):
        p.requires_grad_(True)
    return model


def find_head(func: str, model: nn.Module) -> tuple[str, nn.Linear]:
    """The name and module of ``model``'s head: its last module with parameters, which must be a Linear."""
    owners = [(name, m) for name, m in model.named_modules() if name and next(m.parameters(recurse=False), None) is not None]
    if not owners or not isinstance(owners[-1][1], nn.Linear):
        last = (f"Its last layer with parameters is {owners[-1][0]!r} ({type(owners[-1][1]).__name__}): replace that "
                "layer yourself, or end the model with a Linear." if owners else "It has no layer with parameters.")
        raise fail(func, "model", "a model whose last layer with parameters is a torch.nn.Linear (its head)",
                   type(model).__name__, last)
    return owners[-1]


@checked(model=MODEL, num_classes=COUNT)
def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Put a new, freshly initialised ``Linear(in_features, num_classes)`` in place of ``model``'s head; return ``model``.

    The head is the last module that holds parameters, and it must be a ``torch.nn.Linear``
    (the course's `MLP`, `CNN` and `ResNet`: ``head``; torchvision's ResNets: ``fc``; VGG:
    ``classifier.6``); anything else is an error that names the layer found. The new head
    trains (``requires_grad=True``) even where the rest is frozen, sits on the old one's
    device and dtype, and ``model.config["num_classes"]`` follows where the model has one.

    >>> import torch
    >>> from nbhelpers import CNN
    >>> replace_head(CNN(channels=(8,)), num_classes=5)(torch.randn(2, 1, 28, 28)).shape
    torch.Size([2, 5])
    """
    name, old = find_head("replace_head", model)
    parent, _, leaf = name.rpartition(".")
    new = nn.Linear(old.in_features, int(num_classes), bias=old.bias is not None, device=old.weight.device,
                    dtype=old.weight.dtype)
    setattr(model.get_submodule(parent) if parent else model, leaf, new)
    config = getattr(model, "config", None)
    if isinstance(config, dict) and "num_classes" in config:
        config["num_classes"] = int(num_classes)
    return model


@checked(model=MODEL, lr=FIT_ARGUMENTS["lr"], param_groups=FIT_ARGUMENTS["param_groups"], depth=Optional(COUNT))
def trainable_table(model: nn.Module, lr: float = 1e-3, param_groups: Mapping[str, Mapping] | None = None, *,
                    depth: int | None = None) -> pd.DataFrame:
    """One row per layer of ``model``: ``layer``, ``parameters``, ``trainable`` and the ``lr`` `fit` gives it.

    The learning rates are read from the groups `fit(model, ..., lr=lr, param_groups=...)`
    builds (the longest matching prefix wins; the rest get ``lr``), so the table cannot
    disagree with training; a frozen layer gets ``nan``, and a prefix `fit` would refuse is
    refused here with the same message. ``depth`` groups layers by the first ``depth``
    parts of their names (``depth=1``: ``stem``, ``stage1``, ..., ``head``); a layer whose
    parameters differ in what they get gets one row for each.

    >>> from nbhelpers import ResNet
    >>> model = freeze(ResNet(widths=(8, 16)), "stem")
    >>> print(trainable_table(model, lr=1e-3, param_groups={"stage1": {"lr": 1e-4}}, depth=1).to_string(index=False))
     layer  parameters  trainable     lr
      stem          88      False    NaN
    stage1        1184       True 0.0001
    stage2        3680       True 0.0010
      head         170       True 0.0010
    """
    import pandas as pd

    named = list(model.named_parameters())
    groups = parameter_groups(model, param_groups, "trainable_table") if any(p.requires_grad for _, p in named) else []
    rate = {id(p): float(group.get("lr", lr)) for group in groups for p in group["params"]}
    rows: dict[tuple, int] = {}
    for name, p in named:
        parts = name.split(".")[:-1] or ["(model)"]  # a parameter of the model itself
        layer = ".".join(parts[:depth] if depth is not None else parts)
        key = (layer, p.requires_grad, rate.get(id(p)))  # None, not nan, for a frozen one: nan != nan
        rows[key] = rows.get(key, 0) + p.numel()
    return pd.DataFrame([{"layer": layer, "parameters": n, "trainable": trainable,
                          "lr": float("nan") if rate is None else rate} for (layer, trainable, rate), n in rows.items()])
