"""The widget for each control of `explore`: sliders, drop-downs, checkboxes, and their text form."""

from __future__ import annotations

import inspect
import math
import numbers
from typing import Any

from .._checks import fail
from ..runs import is_number, label

ALLOWED = "a control: a (low, high) tuple with low < high, a list of choices, a bool or an ipywidget"


def make_control(name: str, spec: Any, default: Any = inspect.Parameter.empty, snap: bool = False):
    """The widget for one control: ``(low, high)`` -> slider (log scale when high/low >= 100,
    whole numbers when both ends are ints), list -> drop-down (with ``snap``, a list of numbers
    -> a slider that stops on exactly those values), bool -> checkbox, ipywidget -> itself.
    Sliders and drop-downs start at ``default`` (the train function's) when it is allowed."""
    import ipywidgets as w

    common = dict(description=name, style={"description_width": "initial"}, layout=w.Layout(width="420px"))
    slider = dict(common, continuous_update=False)  # a value on release; arrow keys still send one per press
    if isinstance(spec, w.ValueWidget):
        widget = spec
        widget.description = widget.description or name
    elif isinstance(spec, bool):
        widget = w.Checkbox(value=spec, description=name, indent=False)
    elif (isinstance(spec, tuple) and len(spec) == 2 and all(is_number(v) and math.isfinite(v) for v in spec)
          and spec[0] < spec[1]):
        low, high = spec
        start = default if is_number(default) and low <= default <= high else None
        if all(isinstance(v, numbers.Integral) for v in spec):
            widget = w.IntSlider(min=low, max=high, value=(low + high) // 2 if start is None else start, **slider)
        elif low > 0 and high / low >= 100:
            a, b = math.log10(low), math.log10(high)
            widget = w.FloatLogSlider(min=a, max=b, step=(b - a) / 60, value=start or 10 ** ((a + b) / 2), **slider)
        else:
            widget = w.FloatSlider(min=low, max=high, step=(high - low) / 100, readout_format=".3g",
                                   value=(low + high) / 2 if start is None else start, **slider)
    elif isinstance(spec, list) and spec:
        options, value = [(label(v), v) for v in spec], default if default in spec else spec[0]
        if snap and all(is_number(v) for v in spec):
            widget = w.SelectionSlider(options=options, value=value, **slider)
        else:
            widget = w.Dropdown(options=options, value=value, **common)
    else:
        raise fail("explore", name, ALLOWED, spec)
    widget.add_class(f"nbh-control-{name}")
    return widget


def choices_text(widget) -> str:
    if hasattr(widget, "options"):
        labels = [o[0] if isinstance(o, tuple) else str(o) for o in widget.options]
        return "one of " + ", ".join(labels[:8]) + (", ..." if len(labels) > 8 else "")
    if hasattr(widget, "base"):
        return f"{widget.base ** widget.min:g} to {widget.base ** widget.max:g}, log scale"
    if hasattr(widget, "min"):
        return f"{widget.min:g} to {widget.max:g}"
    return "True or False" if isinstance(widget.value, bool) else type(widget).__name__
