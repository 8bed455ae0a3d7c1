"""Optimizers on 2-D loss surfaces: where each one goes, in a picture that takes no network.

Three surfaces, each a torch function of a point ``(x, y)``:

- `quadratic`: an ill-conditioned bowl ``(low * u**2 + high * v**2) / 2`` (axes turned by
  ``angle``). Its curvature is ``high`` at most, so plain SGD converges for
  ``lr < 2 / high`` and diverges above: the one place where "too large a learning rate"
  has an exact value.
- `rosenbrock`: the curved, flat-bottomed valley ``(a - x)**2 + b * (y - x**2)**2``.
- `double_well`: two valleys, a global minimum and a shallower local one, joined by a
  saddle point: ``(x**2 - 1)**2 + tilt * x + y**2 / 2``.

`trajectory` runs any torch optimizer on the two coordinates (a name of `fit`'s, ``"pid"``,
a class or a factory, with its options) and returns the `Trajectory`; `plot_paths` draws the
contours with the paths on them; `stable_lr` finds the largest rate that still lowers the loss.

Examples
--------
>>> path = trajectory("quadratic", "momentum", steps=50, lr=0.02)
>>> path.xy.shape, path.xy[0].tolist()
((51, 2), [-2.5, 1.5])
>>> bool(path.loss[-1] < 0.01 * path.loss[0])
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from ._checks import COUNT, LEARNING_RATE, TEXT, Optional, Real, Rule, Satisfies, check_choice, checked, fail
from .training.fit_arguments import FIT_ARGUMENTS
from .training.optimizers import OPTIMIZERS

if TYPE_CHECKING:  # annotations only: matplotlib loads when first used
    from .plots._figure import Figure

LIMIT = 1e6  # a coordinate this large has diverged: the path stops there


@dataclass(frozen=True)
class Surface:
    """A loss surface: ``function`` maps points of shape ``(..., 2)`` to values of shape ``(...)``."""

    name: str
    function: Callable[[torch.Tensor], torch.Tensor]
    bounds: tuple[tuple[float, float], tuple[float, float]]   # (x range, y range) to draw
    start: tuple[float, float]                                # where `trajectory` starts by default
    minima: tuple[tuple[float, float], ...]                   # the global one first
    curvature: float | None = None                            # largest Hessian eigenvalue, where it is constant
    log_levels: bool = False                                  # contours on a log scale (steep walls)

    def __call__(self, xy: torch.Tensor) -> torch.Tensor:
        return self.function(xy)


@dataclass
class Trajectory:
    """Where an optimizer went: ``xy`` (points x 2, the start first), ``loss`` per point, a ``label``.

    ``diverged`` is True when a coordinate passed 1e6 or the loss stopped being finite; the
    path then ends at its last finite point, so it has fewer than ``steps + 1`` points.
    """

    xy: np.ndarray
    loss: np.ndarray
    label: str
    diverged: bool = False

    def __repr__(self) -> str:
        end = "diverged" if self.diverged else f"ends at ({self.xy[-1, 0]:.3g}, {self.xy[-1, 1]:.3g})"
        return f"Trajectory({self.label!r}, {len(self.xy) - 1} steps, {end}, loss {self.loss[-1]:.3g})"


def _rotated(xy: torch.Tensor, angle: float) -> tuple[torch.Tensor, torch.Tensor]:
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    x, y = xy[..., 0], xy[..., 1]
    return c * x + s * y, -s * x + c * y


@checked(low=Real(low=0, low_open=True), high=Real(low=0, low_open=True), angle=Real())
def quadratic(low: float = 1.0, high: float = 20.0, angle: float = 0.0) -> Surface:
    """The bowl ``(low * u**2 + high * v**2) / 2``, ``(u, v)`` the axes turned by ``angle`` degrees.

    ``high / low`` is its condition number; ``curvature`` is ``max(low, high)``, so SGD is
    stable for ``lr < 2 / curvature``.

    >>> bowl = quadratic(1, 20)
    >>> bowl.curvature, float(bowl(torch.tensor([1.0, 1.0])))
    (20.0, 10.5)
    """
    low, high, angle = float(low), float(high), float(angle)

    def function(xy: torch.Tensor) -> torch.Tensor:
        u, v = _rotated(xy, angle)
        return 0.5 * (low * u**2 + high * v**2)

    return Surface("quadratic", function, ((-3.0, 3.0), (-2.0, 2.0)), (-2.5, 1.5), ((0.0, 0.0),),
                   curvature=max(low, high))


@checked(a=Real(), b=Real(low=0, low_open=True))
def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    """Rosenbrock's valley ``(a - x)**2 + b * (y - x**2)**2``: minimum 0 at ``(a, a**2)``.

    >>> float(rosenbrock()(torch.tensor([1.0, 1.0])))
    0.0
    """
    a, b = float(a), float(b)

    def function(xy: torch.Tensor) -> torch.Tensor:
        x, y = xy[..., 0], xy[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    return Surface("rosenbrock", function, ((-2.0, 2.0), (-1.0, 3.0)), (-1.2, 1.0), ((a, a * a),), log_levels=True)


@checked(tilt=Real(low=0, high=1))
def double_well(tilt: float = 0.3) -> Surface:
    """Two valleys joined by a saddle: ``(x**2 - 1)**2 + tilt * x + y**2 / 2``.

    The tilt makes the left valley (x near -1) the global minimum and the right one a local
    minimum; between them, at ``y = 0``, the surface has a saddle point (a maximum along x,
    a minimum along y). From the default start, right of the local minimum, plain gradient
    descent stops in the local minimum; enough momentum carries over the saddle.

    >>> [round(x, 3) for x, _ in double_well().minima]      # global, then local
    [-1.036, 0.96]
    """
    tilt = float(tilt)
    roots = sorted(float(r.real) for r in np.roots([4.0, 0.0, -4.0, tilt]))  # where 4x(x^2 - 1) + tilt = 0

    def function(xy: torch.Tensor) -> torch.Tensor:
        x, y = xy[..., 0], xy[..., 1]
        return (x**2 - 1) ** 2 + tilt * x + 0.5 * y**2

    return Surface("double_well", function, ((-2.0, 2.2), (-1.5, 1.5)), (2.0, 1.0),
                   ((roots[0], 0.0), (roots[2], 0.0)), log_levels=True)


SURFACES: dict[str, Callable[[], Surface]] = {"quadratic": quadratic, "rosenbrock": rosenbrock,
                                              "double_well": double_well}


def _surface(func: str, name: str, value) -> Surface:
    if isinstance(value, Surface):
        return value
    if isinstance(value, str):
        return SURFACES[check_choice(func, name, value, SURFACES)]()
    raise fail(func, name, "a Surface (quadratic(), rosenbrock(), double_well()) or one of their names", value)


SURFACE = Rule(_surface, "a Surface or one of 'quadratic', 'rosenbrock', 'double_well'", bad=["bowl", 3])
POINT = Satisfies(lambda v: isinstance(v, (tuple, list)) and len(v) == 2
                  and all(Real().ok(c) and math.isfinite(c) for c in v), "a point (x, y) of two finite numbers",
                  bad=[(1.0,), "origin", (0.0, math.inf)])


@checked(surface=SURFACE, optimizer=FIT_ARGUMENTS["optimizer"], start=Optional(POINT), steps=COUNT,
         lr=LEARNING_RATE, label=Optional(TEXT))
def trajectory(surface: Surface | str, optimizer="sgd", *, start: Sequence[float] | None = None, steps: int = 100,
               lr: float = 0.01, label: str | None = None, **options) -> Trajectory:
    """Run ``optimizer`` for ``steps`` steps on the two coordinates of ``surface``; return the `Trajectory`.

    ``optimizer`` is a name of `fit`'s (``sgd``, ``momentum``, ``nesterov``, ``rmsprop``,
    ``adagrad``, ``adam``, ``adamw``, ``pid``), a ``torch.optim.Optimizer`` class or a factory,
    called with ``lr`` and ``options`` (e.g. ``momentum=0.5``, ``betas=(0.9, 0.99)``,
    ``derivative=0``). ``start`` defaults to the surface's own.

    >>> trajectory(quadratic(), "sgd", lr=0.11, steps=200).diverged      # above 2 / 20
    True
    """
    surface = _surface("trajectory", "surface", surface)
    point = torch.nn.Parameter(torch.tensor(surface.start if start is None else start, dtype=torch.float64))
    made_by = getattr(optimizer, "func", optimizer)  # a functools.partial names its function
    name = optimizer.lower() if isinstance(optimizer, str) else getattr(made_by, "__name__", type(made_by).__name__)
    try:
        opt = (OPTIMIZERS[name] if isinstance(optimizer, str) else optimizer)([point], lr=lr, **options)
    except TypeError as error:
        raise fail("trajectory", "options", f"options that {name!r} accepts", options, str(error)) from None
    points, diverged = [point.detach().clone()], False
    for _ in range(int(steps)):
        opt.zero_grad()
        surface(point).backward()
        opt.step()
        if not bool(torch.isfinite(point).all()) or float(point.detach().abs().max()) > LIMIT:
            diverged = True
            break
        points.append(point.detach().clone())
    xy = torch.stack(points)
    with torch.no_grad():
        loss = surface(xy)
    diverged = diverged or not bool(torch.isfinite(loss).all())
    text = label or name + "".join(f", {k}={v}" for k, v in options.items()) + f", lr={lr:g}"
    return Trajectory(xy=xy.numpy(), loss=loss.numpy(), label=text, diverged=diverged)


@checked(surface=SURFACE, optimizer=FIT_ARGUMENTS["optimizer"], low=LEARNING_RATE, high=LEARNING_RATE, steps=COUNT,
         tolerance=Real(low=1, low_open=True))
def stable_lr(surface: Surface | str, optimizer="sgd", *, low: float = 1e-4, high: float = 10.0, steps: int = 200,
              tolerance: float = 1.01, **options) -> float:
    """The largest learning rate at which ``optimizer`` still lowers the loss of ``surface``.

    A rate is stable when `trajectory` (same ``optimizer``, ``steps`` and ``options``) ends
    below the loss it started from. Bisection on a log scale between a stable ``low`` and an
    unstable ``high`` until they are within a factor ``tolerance``; returns the stable end.
    On a quadratic, SGD's answer is ``2 / curvature`` (a little below, by ``tolerance``).

    >>> round(stable_lr(quadratic(), "sgd"), 3)   # 2 / 20
    0.1
    """
    surface = _surface("stable_lr", "surface", surface)
    if low >= high:
        raise fail("stable_lr", "high", f"a rate above `low` ({low:g})", high)

    def stable(lr: float) -> bool:
        path = trajectory(surface, optimizer, steps=steps, lr=lr, **options)
        return not path.diverged and bool(path.loss[-1] < path.loss[0])

    if not stable(low):
        raise fail("stable_lr", "low", "a rate at which the optimizer lowers the loss", low, "Pass a smaller `low`.")
    if stable(high):
        raise fail("stable_lr", "high", "a rate at which the optimizer no longer lowers the loss", high,
                   "Pass a larger `high`.")
    while high / low > tolerance:
        middle = math.sqrt(low * high)
        low, high = (middle, high) if stable(middle) else (low, middle)
    return low


def _are_paths(value) -> bool:
    items = list(value.values()) if isinstance(value, Mapping) else value if isinstance(value, (list, tuple)) else None
    return isinstance(value, Trajectory) or (bool(items) and all(isinstance(p, Trajectory) for p in items))


PATHS = Satisfies(_are_paths, "a Trajectory, a list of them or a dict {label: Trajectory}", bad=[[], "path", 3])


@checked(surface=SURFACE, paths=PATHS, title=TEXT, levels=Real(low=2, integer=True))
def plot_paths(surface: Surface | str, paths, *, title: str = "", levels: int = 30) -> Figure:
    """The contours of ``surface`` with each path on them (start: a circle; minima: stars, the global gold).

    >>> fig = plot_paths("quadratic", [trajectory("quadratic", "sgd", lr=0.05, steps=20)])
    >>> len(fig.axes)
    1
    """
    import matplotlib
    from matplotlib.colors import LogNorm

    from .plots._figure import Figure

    surface = _surface("plot_paths", "surface", surface)
    if isinstance(paths, Trajectory):
        paths = [paths]
    labelled = list(paths.items()) if isinstance(paths, Mapping) else [(p.label, p) for p in paths]
    (x0, x1), (y0, y1) = surface.bounds
    gx, gy = torch.meshgrid(torch.linspace(x0, x1, 200, dtype=torch.float64),
                            torch.linspace(y0, y1, 200, dtype=torch.float64), indexing="xy")
    with torch.no_grad():
        z = surface(torch.stack([gx, gy], dim=-1)).numpy()
    with matplotlib.rc_context({"figure.dpi": 100}):
        fig = Figure(figsize=(6.0, 4.6), layout="constrained")
        ax = fig.add_subplot()
        if surface.log_levels:
            z = z - float(z.min()) + 1e-3  # log-spaced levels show both the steep walls and the flat floor
            ax.contourf(gx.numpy(), gy.numpy(), z, levels=np.geomspace(float(z.min()), float(z.max()), int(levels)),
                        norm=LogNorm(), cmap="Greys", alpha=0.6)
        else:
            ax.contourf(gx.numpy(), gy.numpy(), z, levels=int(levels), cmap="Greys", alpha=0.6)
        colors = matplotlib.colormaps["tab10"].colors
        for i, (text, path) in enumerate(labelled):
            color = colors[i % len(colors)]
            ax.plot(path.xy[:, 0], path.xy[:, 1], ".-", color=color, lw=1.4, ms=3,
                    label=str(text) + (" (diverged)" if path.diverged else ""))
            ax.plot(path.xy[0, 0], path.xy[0, 1], "o", color=color, ms=7, mfc="white")
        for j, (mx, my) in enumerate(surface.minima):
            ax.plot(mx, my, "*", color="gold" if j == 0 else "silver", ms=14, mec="black")  # global, local
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(title or surface.name, fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
    return fig


__all__ = ["Surface", "Trajectory", "double_well", "plot_paths", "quadratic", "rosenbrock", "trajectory"]
