"""Chapter 09's techniques: where a step's time goes (scale/timing.py)."""

import pytest
import torch
from torch import nn

from nbhelpers import MLP, plot_time_breakdown, time_breakdown
from nbhelpers.scale.timing import PHASES


def data(n=512, features=64):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, features, generator=g), torch.randint(0, 4, (n,), generator=g)


def test_the_phases_add_up_to_the_step_and_leave_the_model_alone(one_thread):
    model = MLP(64, 4, width=32)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    table = time_breakdown(model, data(), batch_size=64, steps=4, warmup=1, device="cpu")
    assert table["phase"].tolist() == list(PHASES)
    assert (table["ms"] >= 0).all() and table.loc[table.phase != "other", "ms"].gt(0).all()
    assert table["ms"].sum() == pytest.approx(table.attrs["step_ms"])
    assert table["share"].sum() == pytest.approx(1.0)
    assert table.attrs["device"] == "cpu" and table.attrs["amp"] == "float32" and not table.attrs["channels_last"]
    ops = table.attrs["ops"]
    assert list(ops.columns) == ["op", "self_ms", "calls"] and len(ops) > 0 and ops["self_ms"].is_monotonic_decreasing
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "the reader's model is not trained"


def test_a_dataloader_spends_longer_getting_a_batch_than_slicing_tensors(one_thread):
    """Per-image indexing and collation against one index slice: the point of keeping data on the device."""
    x, y = data(2048)
    model = nn.Linear(64, 4)
    device = time_breakdown(model, (x, y), batch_size=256, steps=6, warmup=2, device="cpu", loader="device")
    loader = time_breakdown(model, (x, y), batch_size=256, steps=6, warmup=2, device="cpu", loader="dataloader")
    data_ms = lambda t: float(t.set_index("phase").loc["data", "ms"])  # noqa: E731
    assert data_ms(loader) > 3 * data_ms(device)


def test_bad_data_is_named():
    with pytest.raises(ValueError, match=r"time_breakdown\(\): `data` must be an \(x, y\) pair of tensors"):
        time_breakdown(nn.Linear(2, 2), (torch.zeros(3, 2), torch.zeros(4)))


def test_the_figure_has_one_bar_per_setting():
    t = time_breakdown(nn.Linear(64, 4), data(64), batch_size=32, steps=1, warmup=0, device="cpu")
    fig = plot_time_breakdown({"on the device": t, "again": t}, title="where the time goes")
    ax = fig.axes[0]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["again", "on the device"]
    assert len(ax.patches) == 2 * len(PHASES)
    assert len(plot_time_breakdown(t).axes[0].patches) == len(PHASES)
