"""Sequence classifiers for channels-first input ``N x C x L`` (like the 1-D CNN): GRU, RNN, AttentionPooling.

Like the other models, each keeps its arguments in ``model.config`` and names
its last layer ``head``.

>>> import torch
>>> x = torch.randn(4, 1, 40)
>>> [tuple(m(x).shape) for m in (GRU(), RNN(activation="sigmoid"), AttentionPooling(length=40))]
[(4, 10), (4, 10), (4, 10)]
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .._checks import COUNT, FLAG, Choice, Real, checked, fail
from ._blocks import DROPOUT, _check_input, make_activation

RNN_ACTIVATIONS = ("tanh", "sigmoid", "relu")


class GRU(nn.Module):
    """A GRU classifier for channels-first sequences ``N x C x L`` (like the 1-D CNN).

    The head reads each direction's final state: the forward GRU's output at the last time
    step and, if ``bidirectional``, the backward GRU's output at the first step (the last
    one it reads), concatenated. ``dropout`` acts between stacked GRU layers and before
    the head.

    Examples
    --------
    >>> import torch
    >>> GRU(bidirectional=True, num_layers=2)(torch.randn(4, 1, 40)).shape
    torch.Size([4, 10])
    """

    @checked(input_size=COUNT, num_classes=COUNT, hidden_size=COUNT, num_layers=COUNT, bidirectional=FLAG,
             dropout=DROPOUT)
    def __init__(self, input_size: int = 1, num_classes: int = 10, *, hidden_size: int = 64,
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0) -> None:
        c: dict[str, Any] = dict(input_size=int(input_size), num_classes=int(num_classes), hidden_size=int(hidden_size),
                                 num_layers=int(num_layers), bidirectional=bidirectional, dropout=float(dropout))
        super().__init__()
        self.config = c
        self.directions = 2 if c["bidirectional"] else 1
        # nn.GRU warns when given dropout with one layer: it only drops between layers.
        self.gru = nn.GRU(c["input_size"], c["hidden_size"], c["num_layers"], batch_first=True,
                          bidirectional=c["bidirectional"], dropout=c["dropout"] if c["num_layers"] > 1 else 0.0)
        self.dropout = nn.Dropout(c["dropout"])
        self.head = nn.Linear(self.directions * c["hidden_size"], c["num_classes"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input("GRU.forward", x, 1, self.config["input_size"])
        _, h = self.gru(x.transpose(1, 2))
        # h holds each layer's and direction's final state; the last layer's are the last rows.
        last = torch.cat(list(h[-self.directions:]), dim=1)
        return self.head(self.dropout(last))


class RNN(nn.Module):
    """A plain (Elman) recurrent net, ``h_t = act(W x_t + U h_{t-1} + b)``, with a head on the last state.

    ``activation`` is ``"tanh"``, ``"sigmoid"`` or ``"relu"``; torch's ``nn.RNN`` offers no
    sigmoid, which is why this loop exists: to compare the two squashing functions in a
    recurrent net. A sigmoid state lies in (0, 1), never centred on 0, and its slope is at
    most 1/4, so gradients shrink faster through time than with tanh (slope up to 1).

    >>> import torch
    >>> RNN(hidden_size=32, activation="tanh")(torch.randn(4, 1, 40)).shape
    torch.Size([4, 10])
    """

    @checked(input_size=COUNT, num_classes=COUNT, hidden_size=COUNT, activation=Choice(*RNN_ACTIVATIONS))
    def __init__(self, input_size: int = 1, num_classes: int = 10, *, hidden_size: int = 64,
                 activation: str = "tanh") -> None:
        c: dict[str, Any] = dict(input_size=int(input_size), num_classes=int(num_classes), hidden_size=int(hidden_size),
                                 activation=activation.lower())
        super().__init__()
        self.config = c
        self.input = nn.Linear(c["input_size"], c["hidden_size"])
        self.recurrent = nn.Linear(c["hidden_size"], c["hidden_size"], bias=False)
        self.act = make_activation(c["activation"])
        self.head = nn.Linear(c["hidden_size"], c["num_classes"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input("RNN.forward", x, 1, self.config["input_size"])
        inputs = self.input(x.transpose(1, 2))  # every step's input term at once: N x L x H
        h = inputs.new_zeros(len(x), self.config["hidden_size"])
        for t in range(inputs.shape[1]):
            h = self.act(inputs[:, t] + self.recurrent(h))
        return self.head(h)


class AttentionPooling(nn.Module):
    """Local features, self-attention, then attention pooling: a small alternative to the GRU.

    A 1-D convolution (kernel 5) turns each position into ``dim`` features and a learned
    position embedding says where it is; ``layers`` Transformer encoder layers let every
    position look at every other; a learned query then scores each position, and the
    softmax of the scores weights the sum that the head reads. ``model.last_weights``
    (``N x L``, on the model's device) keeps the pooling weights of the last batch seen, to show where
    the model looks. ``length`` is the sequence length (40 for MNIST-1D).

    >>> import torch
    >>> model = AttentionPooling(length=40, dim=32, heads=4)
    >>> model(torch.randn(4, 1, 40)).shape, model.last_weights.shape
    (torch.Size([4, 10]), torch.Size([4, 40]))
    """

    @checked(input_size=COUNT, num_classes=COUNT, length=COUNT, dim=COUNT, heads=COUNT,
             layers=Real(low=0, integer=True), dropout=DROPOUT)
    def __init__(self, input_size: int = 1, num_classes: int = 10, *, length: int = 40, dim: int = 64,
                 heads: int = 4, layers: int = 1, dropout: float = 0.0) -> None:
        c: dict[str, Any] = dict(input_size=int(input_size), num_classes=int(num_classes), length=int(length),
                                 dim=int(dim), heads=int(heads), layers=int(layers), dropout=float(dropout))
        if c["dim"] % c["heads"]:  # relates two arguments, so it is checked here, not in the table
            raise fail("AttentionPooling", "heads", f"a divisor of dim={c['dim']}", heads)
        super().__init__()
        self.config = c
        self.embed = nn.Sequential(nn.Conv1d(c["input_size"], c["dim"], 5, padding=2), nn.GELU())
        self.position = nn.Parameter(torch.randn(1, c["length"], c["dim"]) * 0.02)
        layer = nn.TransformerEncoderLayer(c["dim"], c["heads"], 2 * c["dim"], c["dropout"], activation="gelu",
                                           batch_first=True, norm_first=True)
        # enable_nested_tensor only matters for padded batches, and warns with norm_first
        self.encoder = nn.TransformerEncoder(layer, c["layers"], enable_nested_tensor=False) if c["layers"] else None
        self.score = nn.Linear(c["dim"], 1)
        self.head = nn.Linear(c["dim"], c["num_classes"])
        self.last_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input("AttentionPooling.forward", x, 1, self.config["input_size"])
        if x.shape[2] != self.config["length"]:
            raise fail("AttentionPooling.forward", "x", f"sequences of length={self.config['length']} "
                       "(the length given to the constructor)", x.shape)
        h = self.embed(x).transpose(1, 2) + self.position  # N x L x dim
        if self.encoder is not None:
            h = self.encoder(h)
        weights = torch.softmax(self.score(h).squeeze(-1), dim=1)  # N x L, sums to 1 over positions
        self.last_weights = weights.detach()  # no .cpu() here: that would sync every batch
        return self.head((weights.unsqueeze(-1) * h).sum(1))
