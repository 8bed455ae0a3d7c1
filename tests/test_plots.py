"""Figures are plain matplotlib Figures that Jupyter shows as PNG without pyplot."""


import pandas as pd
import pytest
import torch

from nbhelpers import learning_curves, show_images


def test_learning_curves_draw_one_axis_per_metric_and_render_png():
    history = pd.DataFrame({"epoch": [1, 1, 2, 2], "split": ["train", "valid"] * 2,
                            "loss": [1.0, 1.2, 0.5, 0.8], "accuracy": [0.5, 0.4, 0.8, 0.7]})
    fig = learning_curves(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert [len(line.get_xdata()) for line in fig.axes[0].lines][:2] == [2, 2]
    assert fig._repr_png_().startswith(b"\x89PNG")


def test_show_images_titles_with_class_names():
    x = torch.rand(6, 1, 8, 8)
    fig = show_images(x, torch.tensor([0, 1, 2, 0, 1, 2]), ["a", "b", "c"], n=6, columns=3)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c", "a", "b", "c"]
    with pytest.raises(ValueError, match="`x` must be a tensor of shape N x C x H x W"):
        show_images(torch.rand(8, 8))
    with pytest.raises(ValueError, match="`history` must be a DataFrame"):
        learning_curves([1, 2])
