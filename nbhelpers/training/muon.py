"""Muon for the hidden weight matrices, AdamW for the rest, as one optimizer (``fit(optimizer="muon")``).

Muon (Jordan et al. 2024, "Muon: An optimizer for hidden layers in neural networks") takes
SGD-momentum's update of a weight matrix and replaces it by the nearest semi-orthogonal
matrix (five Newton-Schulz iterations): every direction of the matrix moves by the same
amount, however lopsided the gradient. It is meant for the 2-D weights of *hidden* layers;
the write-ups train the input layer (an embedding), the output layer (the classifier head),
biases and norm scales with AdamW. `MuonAdamW` is that pair as one ``torch.optim.Optimizer``:
its ``param_groups`` are the two inner optimizers' own group dicts, so a schedule that sets
``group["lr"]`` reaches both, `fit`'s gradient clipping and scaler see every parameter, and
``state_dict()`` holds both states. torch's ``Muon`` (torch >= 2.9) does the Muon part with
``adjust_lr_fn="match_rms_adamw"`` (Liu et al. 2025, "Muon is Scalable for LLM Training"),
which scales its step to AdamW's typical size, so one ``lr`` and one ``weight_decay`` serve
both parts.

Convolution kernels (4-D) go to AdamW: torch's Muon takes 2-D parameters only.

torch's Muon runs its Newton-Schulz iterations in bfloat16, which tensor cores make fast on a
GPU. Most CPUs have no bfloat16 arithmetic: a 256 x 256 product took 9.5 ms in bfloat16 and
1.3 ms in float32 on the course's 2-core test CPU, so a Muon run of chapter 05 took minutes
where AdamW took seconds. On the CPU the same iterations run in float32 (`_float32_iterations`).

Examples
--------
>>> from torch import nn
>>> model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
>>> opt = MuonAdamW(muon_groups(model, [{"params": list(model.parameters())}]), lr=1e-3)
>>> [p.shape for g in opt.muon.param_groups for p in g["params"]]      # the hidden matrix only
[torch.Size([16, 16])]
>>> sum(len(g["params"]) for g in opt.adamw.param_groups)              # 2 outer weights, 3 biases
5
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import torch
from torch import nn

from .._checks import fail

MUON_TORCH = "2.9"  # the first torch with torch.optim.Muon


def _newton_schulz_float32(grad: torch.Tensor, ns_coefficients: tuple[float, float, float], ns_steps: int,
                           eps: float) -> torch.Tensor:
    """torch's Newton-Schulz orthogonalization (``torch/optim/_muon.py``), in float32."""
    a, b, c = ns_coefficients
    tall = grad.size(0) > grad.size(1)  # more rows than columns: iterate on the transpose, whose Gram matrix is smaller
    x = grad.float().T if tall else grad.float()
    x = x / x.norm().clamp(min=eps)  # spectral norm at most 1
    for _ in range(ns_steps):
        gram = x @ x.T
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if tall else x


@contextlib.contextmanager
def _float32_iterations(on_cpu: bool) -> Iterator[None]:
    """While torch's Muon steps CPU parameters, its orthogonalization runs in float32."""
    import torch.optim._muon as impl

    saved = getattr(impl, "_zeropower_via_newtonschulz", None)
    if not on_cpu or saved is None:  # a torch that moved the function keeps its own
        yield
        return
    impl._zeropower_via_newtonschulz = _newton_schulz_float32
    try:
        yield
    finally:
        impl._zeropower_via_newtonschulz = saved


def hidden_matrices(model: nn.Module) -> set[int]:
    """The ``id`` of each 2-D weight of a hidden layer of ``model``: not the first or the last weighted
    layer (in registration order, the forward order of a Sequential), not an embedding.

    >>> model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 8), nn.Linear(8, 2))
    >>> hidden_matrices(model) == {id(model[1].weight)}
    True
    """
    weighted = [m for m in model.modules() if isinstance(getattr(m, "weight", None), nn.Parameter)
                and m.weight.ndim >= 2 and m.weight.requires_grad]
    return {id(m.weight) for m in weighted[1:-1] if m.weight.ndim == 2 and not isinstance(m, nn.Embedding)}


def muon_groups(model: nn.Module, groups: list[dict], func: str = "fit") -> list[dict]:
    """``groups`` (`parameter_groups`' list, options per group) split into a Muon part (``"muon": True``:
    the hidden matrices) and an AdamW part (``"muon": False``), each keeping its group's options.
    A model without a hidden weight matrix is an error: Muon would have nothing to train."""
    hidden = hidden_matrices(model)
    if not hidden:
        raise fail(func, "optimizer", "an optimizer the model can use: 'muon' trains the 2-D weights of hidden "
                   "layers (the first and last layers go to AdamW), and this model has none", "muon",
                   "Use a deeper model (e.g. MLP(depth=2)) or optimizer='adamw' (convolution kernels "
                   "go to AdamW: torch's Muon takes 2-D weights only).")
    split = []
    for group in groups:
        options = {k: v for k, v in group.items() if k != "params"}
        for flag in (True, False):
            params = [p for p in group["params"] if (id(p) in hidden) == flag]
            if params:
                split.append({**options, "params": params, "muon": flag})
    return split


def muon_available() -> bool:
    return hasattr(torch.optim, "Muon")


class MuonAdamW(torch.optim.Optimizer):
    """Muon for the groups marked ``"muon": True``, AdamW for the others, as one optimizer.

    ``params`` is an iterable of parameters or of group dicts; a group without a ``"muon"``
    key is split by shape (2-D parameters to Muon). `fit` marks the groups itself
    (`muon_groups`: the first and last layers go to AdamW). ``lr`` and ``weight_decay`` serve
    both parts (Muon's step is scaled to AdamW's size); ``momentum`` is Muon's (Nesterov),
    ``betas`` AdamW's. ``self.muon`` and ``self.adamw`` are the inner optimizers.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, weight_decay: float = 0.0, momentum: float = 0.95,
                 betas: tuple[float, float] = (0.9, 0.999)):
        if not muon_available():
            raise RuntimeError(f"MuonAdamW needs torch.optim.Muon, in torch >= {MUON_TORCH}; this is torch "
                               f"{torch.__version__}. Upgrade torch, or use optimizer='adamw'.")
        groups = []
        for group in params:
            group = dict(group) if isinstance(group, dict) else {"params": [group]}
            members = group["params"]
            group["params"] = [members] if isinstance(members, torch.Tensor) else list(members)
            if "muon" in group:
                groups.append(group)
                continue
            for flag in (True, False):
                chosen = [p for p in group["params"] if (p.ndim == 2) == flag]
                if chosen:
                    groups.append({**group, "params": chosen, "muon": flag})
        if not any(g["muon"] for g in groups):
            raise ValueError("MuonAdamW: no 2-D weight matrix for Muon among the parameters; use AdamW for these.")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, betas=betas, muon=False)
        super().__init__(groups, defaults)  # fills each group's options; the inner optimizers share these dicts
        self.muon = torch.optim.Muon([g for g in self.param_groups if g["muon"]], lr=lr, weight_decay=weight_decay,
                                     momentum=momentum, adjust_lr_fn="match_rms_adamw")
        adamw_groups = [g for g in self.param_groups if not g["muon"]]
        self.adamw = torch.optim.AdamW(adamw_groups, lr=lr, weight_decay=weight_decay, betas=betas) if adamw_groups \
            else None
        self._share_groups()

    def _share_groups(self) -> None:
        """One list of group dicts, the inner optimizers' own: what a schedule changes, both use."""
        self.param_groups = [*self.muon.param_groups, *(self.adamw.param_groups if self.adamw else [])]

    @torch.no_grad()
    def step(self, closure=None):
        """One step of both parts; ``closure`` re-evaluates the loss (once)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        on_cpu = all(p.device.type == "cpu" for g in self.muon.param_groups for p in g["params"])
        with _float32_iterations(on_cpu):
            self.muon.step()
        if self.adamw is not None:
            self.adamw.step()
        return loss

    def __getstate__(self) -> dict:  # torch's keeps defaults, state and groups only: copies keep both parts
        return {**super().__getstate__(), "muon": self.muon, "adamw": self.adamw}

    def state_dict(self) -> dict:
        return {"muon": self.muon.state_dict(), "adamw": self.adamw.state_dict() if self.adamw else None}

    def load_state_dict(self, state_dict: dict) -> None:
        self.muon.load_state_dict(state_dict["muon"])
        if self.adamw is not None:
            self.adamw.load_state_dict(state_dict["adamw"])
        self._share_groups()  # loading replaced the inner optimizers' group dicts
