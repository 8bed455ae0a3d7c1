"""The PID optimizer: SGD-momentum read as a controller, plus a derivative term.

An et al., "A PID Controller Approach for Stochastic Optimization of Deep Networks" (CVPR
2018) read SGD-momentum as a PI controller whose error signal is the gradient, and add a
D term: a moving average of the *change* in the gradient, which brakes when the gradient
turns (the overshoot of momentum). Per parameter, with ``g_t`` the gradient (plus
``weight_decay * theta_t``, an L2 term as in ``torch.optim.SGD``)::

    v_t = m * v_{t-1} + g_t                          v_1 = g_1   (SGD's momentum buffer)
    d_t = m * d_{t-1} + (1 - m) * (g_t - g_{t-1})    d_1 = 0     (no previous gradient yet)
    theta_{t+1} = theta_t - lr * (Kp * g_t + Ki * v_t + Kd * d_t)

``m`` is ``momentum``; ``Kp``, ``Ki``, ``Kd`` are ``proportional``, ``integral``,
``derivative``. Two points of this family matter:

- ``proportional=0, integral=1, derivative=0`` is ``torch.optim.SGD(momentum=m)`` step for
  step (tests/test_optim.py checks the trajectories are identical). The momentum buffer is
  the I term; the paper's P + I split of SGD-momentum is its current and past gradients.
- the defaults, ``proportional=1, integral=3, derivative=100`` with ``momentum=0.9`` and
  ``lr=0.01``, are the demo settings ``PIDOptimizer(lr=0.01, momentum=0.9, I=3, D=100)`` of
  the public ports, whose update is ``lr * (g + I * v + D * d)``: they carry over unchanged.

The derivative starts at step 2 from the true difference ``g_2 - g_1``. The ports keep a
zero "previous gradient" on step 1, so their step 2 gets a spurious kick of
``Kd (1 - m) g_2`` (10x the gradient in the demo); the authors' script never stores the
previous gradient at all, so its D term is an extra momentum of ``lr * g``. Both add the
terms into ``p.grad`` in place; nothing here writes into ``p.grad``.

Under a constant gradient ``g`` the D term is 0 and ``v`` tends to ``g / (1 - m)``, so the
step tends to ``lr * (Kp + Ki / (1 - m)) * g``: `effective_step`. The demo's is
``0.01 * (1 + 3 / 0.1) = 0.31``, 3.1x that of SGD-momentum at the same ``lr`` and
``momentum`` (``lr / (1 - m) = 0.1``): compare PID with SGD-momentum at
``lr = effective_step(...) * (1 - m)`` to tell the D term from a larger step.

Examples
--------
>>> import torch
>>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
>>> opt = PID([w], lr=0.1, momentum=0.5, proportional=1.0, integral=1.0, derivative=2.0)
>>> w.grad = torch.tensor([1.0, 1.0])
>>> opt.step()                       # step 1: v = g, d = 0, so theta -= 0.1 * (1 * g + 1 * v)
>>> [round(x, 6) for x in w.tolist()]
[0.8, -2.2]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch

from .._checks import LEARNING_RATE, Real, Satisfies, checked

MOMENTUM = Real(low=0, high=1, high_open=True)
GAIN = Real(low=0)
PARAMS = Satisfies(lambda v: isinstance(v, Iterable) and not isinstance(v, (str, bytes, Mapping, torch.Tensor)),
                   "an iterable of parameters or of parameter-group dicts, such as model.parameters()",
                   bad=["weights", 3])


class PID(torch.optim.Optimizer):
    """SGD-momentum plus proportional and derivative terms (An et al., CVPR 2018).

    ``theta -= lr * (proportional * g + integral * v + derivative * d)`` with ``v`` SGD's
    momentum buffer and ``d`` the moving average (factor ``momentum``) of the change in the
    gradient; the module's docstring has the update and its two landmarks. Use it by name
    (``fit(..., optimizer="pid")``: these defaults), as a class, or as a factory with other
    gains: ``fit(..., optimizer=functools.partial(PID, integral=3, derivative=100))``.
    ``weight_decay`` is an L2 term added to the gradient, as in ``torch.optim.SGD``.

    >>> w = torch.nn.Parameter(torch.zeros(2))
    >>> PID([w]).defaults["derivative"]
    100.0
    """

    @checked(params=PARAMS, lr=LEARNING_RATE, momentum=MOMENTUM, proportional=GAIN, integral=GAIN, derivative=GAIN,
             weight_decay=Real(low=0))
    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9, proportional: float = 1.0,
                 integral: float = 3.0, derivative: float = 100.0, weight_decay: float = 0.0):
        defaults = dict(lr=lr, momentum=float(momentum), proportional=float(proportional), integral=float(integral),
                        derivative=float(derivative), weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; ``closure`` re-evaluates the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, m, decay = group["lr"], group["momentum"], group["weight_decay"]
            kp, ki, kd = group["proportional"], group["integral"], group["derivative"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("PID does not support sparse gradients; use torch.optim.SparseAdam.")
                g = p.grad.add(p, alpha=decay) if decay != 0 else p.grad  # a new tensor: p.grad stays as it was
                state = self.state[p]
                if not state:  # step 1: the buffers start from this gradient; no change in it yet
                    v = state["momentum_buffer"] = g.clone()
                    d = state["derivative_buffer"] = torch.zeros_like(p)
                    state["previous_grad"] = g.clone()
                else:
                    v, d, previous = state["momentum_buffer"], state["derivative_buffer"], state["previous_grad"]
                    v.mul_(m).add_(g)
                    d.mul_(m).add_(g - previous, alpha=1 - m)
                    previous.copy_(g)
                # The same operations as torch.optim.SGD for the I term, so (0, 1, 0) is SGD to the bit.
                if ki != 0:
                    p.add_(v, alpha=-lr * ki)
                if kp != 0:
                    p.add_(g, alpha=-lr * kp)
                if kd != 0:
                    p.add_(d, alpha=-lr * kd)
        return loss


@checked(lr=LEARNING_RATE, momentum=MOMENTUM, proportional=GAIN, integral=GAIN)
def effective_step(lr: float, momentum: float = 0.9, proportional: float = 1.0, integral: float = 3.0) -> float:
    """The step per unit of a constant gradient that `PID` tends to: ``lr * (Kp + Ki / (1 - m))``.

    Under a constant gradient the derivative term is zero and the momentum buffer tends to
    ``g / (1 - m)``. The defaults are `PID`'s (the ports' demo): 0.31 at ``lr=0.01``.
    SGD-momentum is ``proportional=0, integral=1``: ``lr / (1 - m)``. So SGD-momentum with
    ``lr = effective_step(...) * (1 - momentum)`` takes the same steady steps as the PID.

    >>> round(effective_step(0.01), 6)                     # the demo: 0.01 * (1 + 3 / 0.1)
    0.31
    >>> round(effective_step(0.01, 0.9, proportional=0, integral=1), 6)   # SGD-momentum
    0.1
    >>> round(effective_step(0.01) * (1 - 0.9), 6)          # SGD-momentum's lr for the same step
    0.031
    """
    return float(lr) * (float(proportional) + float(integral) / (1.0 - float(momentum)))
