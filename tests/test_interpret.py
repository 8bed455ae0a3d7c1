"""nbhelpers.interpret: attribution maps point where the answer is, the randomization check sees
weights go, hooks and modes are left as found, embeddings are the classifier's input, and the
confidently wrong are wrong."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from nbhelpers import (Figure, activation_maps, attribute, confidently_wrong, embeddings, fit, plot_activation_maps,
                       plot_attributions, plot_confidently_wrong, plot_randomization, plot_tsne, predict,
                       randomization_check)
from nbhelpers.interpret.embedding import stratified_rows
from nbhelpers.interpret.sanity import randomizable_layers, rank_similarity

METHODS = ["saliency", "integrated_gradients", "grad_cam"]


def quadrant_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """16 x 16 noise; class 1 has a bright 4 x 4 patch somewhere in the top-left quadrant, class 0
    none; half the images of both classes have a bright bar in another quadrant (a distractor)."""
    g = torch.Generator().manual_seed(seed)
    x = 0.5 * torch.randn(n, 1, 16, 16, generator=g)
    y = torch.arange(n) % 2
    for i in range(n):
        if y[i] == 1:
            r, c = torch.randint(0, 5, (2,), generator=g).tolist()
            x[i, 0, r:r + 4, c:c + 4] += 2.0
        if torch.rand(1, generator=g) < 0.5:
            q = int(torch.randint(1, 4, (1,), generator=g))
            r0, c0 = (q // 2) * 8, (q % 2) * 8
            x[i, 0, r0 + 4, c0:c0 + 8] += 2.0
    return x, y


def small_cnn() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
                         nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(16, 2))


@pytest.fixture(scope="module")
def trained():
    """A small CNN trained (a few seconds) until it reads the patch: its test accuracy is checked."""
    test = quadrant_data(64, 1)
    result = fit(small_cnn(), (quadrant_data(384, 0), test), epochs=5, lr=1e-2, progress=False, seed=0, device="cpu")
    accuracy = float((predict(result.model, test[0]).argmax(1) == test[1]).float().mean())
    assert accuracy >= 0.95, f"the fixture model did not learn the patch (test accuracy {accuracy})"
    return result.model, test


def patched(test, n=12):
    x, y = test
    return x[y == 1][:n]


# ---------------------------------------------------------------- attribution


@pytest.mark.parametrize("method", METHODS)
def test_maps_point_at_the_quadrant_that_decides_the_class(trained, method):
    model, test = trained
    maps = attribute(model, patched(test), method=method, target=1).abs()
    assert maps.shape == (12, 16, 16)
    in_quadrant = maps[:, :8, :8].sum((1, 2)) / maps.sum((1, 2))  # the quadrant is a quarter of the image
    assert float(in_quadrant.min()) > 0.5, in_quadrant
    peak = maps.flatten(1).argmax(1)
    assert bool(((peak // 16 < 8) & (peak % 16 < 8)).all()), peak


def test_maps_of_an_image_without_the_patch_do_not_point_there(trained):
    """The control: where nothing is in the quadrant, Grad-CAM's mass is not drawn to it."""
    model, (x, y) = trained
    maps = attribute(model, x[y == 0][:12], method="grad_cam", target=1)
    with_patch = attribute(model, patched((x, y)), method="grad_cam", target=1)
    share = lambda m: float((m[:, :8, :8].sum((1, 2)) / m.sum((1, 2)).clamp_min(1e-12)).mean())  # noqa: E731
    assert share(maps) < share(with_patch) - 0.3


def test_target_none_explains_the_predicted_class_and_a_tensor_one_per_image(trained):
    model, (x, _) = trained
    predicted = predict(model, x[:6]).argmax(1)
    assert torch.equal(attribute(model, x[:6]), attribute(model, x[:6], target=predicted))
    both = attribute(model, x[:2], target=torch.tensor([0, 1]))
    assert torch.allclose(both[1], attribute(model, x[1:2], target=1)[0], atol=1e-6)
    assert torch.allclose(both[0], attribute(model, x[:1], target=0)[0], atol=1e-6)
    assert not torch.allclose(both[0], attribute(model, x[:1], target=1)[0], atol=1e-6)


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode])
def test_maps_are_computed_where_the_reader_turned_gradients_off(trained, mode):
    model, test = trained
    x = patched(test, 2)
    expected = {m: attribute(model, x, method=m, steps=4) for m in METHODS}
    with mode():
        for m in METHODS:
            assert torch.equal(attribute(model, x, method=m, steps=4), expected[m])
        assert len(randomization_check(model, x, method="grad_cam")) == 4


def test_saliency_is_the_absolute_gradient_largest_over_channels():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 36, 3))
    x = torch.randn(2, 3, 6, 6, requires_grad=True)
    model(x)[:, 2].sum().backward()
    assert torch.allclose(attribute(model, x.detach(), target=2), x.grad.abs().amax(1))


def test_integrated_gradients_add_up_to_the_score_minus_the_baselines():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.Softplus(), nn.Flatten(), nn.Linear(3 * 25, 2))
    x = torch.randn(3, 1, 5, 5)
    maps = attribute(model, x, method="integrated_gradients", target=1, steps=64)
    with torch.no_grad():
        gap = model(x)[:, 1] - model(torch.zeros_like(x))[:, 1]
    assert torch.allclose(maps.sum((1, 2)), gap, atol=1e-3)


def test_grad_cam_is_non_negative_upsampled_and_takes_a_layer_by_module_or_name(trained):
    model, test = trained
    x = patched(test, 4)
    by_default = attribute(model, x, method="grad_cam")
    assert by_default.shape == (4, 16, 16) and bool((by_default >= 0).all())
    assert torch.equal(by_default, attribute(model, x, method="grad_cam", layer="3"))  # the last Conv2d
    assert torch.equal(attribute(model, x, method="grad_cam", layer=model[0]),
                       attribute(model, x, method="grad_cam", layer="0"))
    assert not torch.equal(by_default, attribute(model, x, method="grad_cam", layer="0"))


def state(model: nn.Module) -> list:
    return ([m.training for m in model.modules()],
            [(p.requires_grad, None if p.grad is None else p.grad.clone()) for p in model.parameters()])


def test_model_mode_requires_grad_and_grad_are_left_as_they_were():
    model = small_cnn().train()
    model[3].eval()  # mixed modes are restored module by module
    model[0].weight.requires_grad_(False)
    model[7].weight.grad = torch.full_like(model[7].weight, 0.5)
    before = state(model)
    x = quadrant_data(4, 3)[0]
    for method in METHODS:
        attribute(model, x, method=method, steps=4)
    activation_maps(model, x)
    embeddings(model, (x, torch.zeros(4, dtype=torch.long)))
    confidently_wrong(model, (x, torch.zeros(4, dtype=torch.long)))
    randomization_check(model, x, method=METHODS, steps=4)
    after = state(model)
    assert before[0] == after[0]
    for (rg0, g0), (rg1, g1) in zip(before[1], after[1]):
        assert rg0 == rg1 and ((g0 is None and g1 is None) or torch.equal(g0, g1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_works_on_the_models_device():
    model = small_cnn().cuda()
    x = quadrant_data(3, 4)[0]  # on the CPU: moved to the model
    for method in METHODS:
        maps = attribute(model, x, method=method)
        assert maps.device.type == "cpu"
        assert torch.allclose(maps, attribute(model.cpu(), x, method=method), atol=1e-4)
        model.cuda()
    table = randomization_check(model, x.cuda(), method=METHODS)
    assert len(table) == 3 * (1 + len(randomizable_layers(model)))
    assert activation_maps(model, x).device.type == "cpu"


def test_bad_arguments_get_the_course_errors(trained):
    model, test = trained
    x = patched(test, 2)
    cases = [
        (dict(method="gradcam"), "attribute(): `method` must be one of", "Did you mean 'grad_cam'?"),
        (dict(method="grad_cam", layer="3.weight"), "attribute(): `layer` must be the name of a module",
         "'3.weight' is a parameter; its module is '3'."),
        (dict(method="grad_cam", layer="33"), "attribute(): `layer` must be the name of a module", "Did you mean '3'?"),
        (dict(method="saliency", layer="3"), "attribute(): `layer` must be None unless method='grad_cam'", ""),
        (dict(target=2), "attribute(): `target` must be a class number in 0..1; got 2.", ""),
        (dict(target=torch.tensor([0, 1, 1])), "attribute(): `target` must be one class number per image (2)", ""),
        (dict(method="grad_cam", layer=nn.Conv2d(1, 1, 1)), "attribute(): `layer` must be a module of the model", ""),
        (dict(method="grad_cam", layer="7"), "attribute(): `layer` must be a layer whose output is N x C x h x w", ""),
    ]
    for arguments, start, hint in cases:
        with pytest.raises(ValueError) as error:
            attribute(model, x, **arguments)
        assert str(error.value).startswith(start) and hint in str(error.value), str(error.value)
    with pytest.raises(ValueError, match=r"attribute\(\): `layer` must be a layer of the model \(it has no Conv2d"):
        attribute(nn.Sequential(nn.Flatten(), nn.Linear(256, 2)), x, method="grad_cam")
    with pytest.raises(ValueError, match=r"activation_maps\(\): `layer` must be a layer whose output is N x C x h x w"):
        activation_maps(model, x, layer="7")
    with pytest.raises(ValueError, match=r"embeddings\(\): `layer` must be a layer of the model \(it has no Linear"):
        embeddings(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()), test)
    with pytest.raises(ValueError, match=r"randomization_check\(\): `method` must be"):
        randomization_check(model, x, method=["saliency", "lime"])


# ---------------------------------------------------------------- the randomization check


def test_randomization_check_similarity_falls_and_the_model_is_untouched(trained):
    model, test = trained
    weights = copy.deepcopy(model.state_dict())
    table = randomization_check(model, patched(test, 8), method=METHODS, seed=0)
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    layers = randomizable_layers(model)
    assert [name for name, _ in layers] == ["7", "3", "0"]  # from the output down
    assert len(table) == len(METHODS) * (1 + len(layers))
    assert table.query("step == 0")["similarity"].tolist() == pytest.approx([1.0] * 3)
    last = table.query(f"step == {len(layers)}").set_index("method")["similarity"]
    assert last["saliency"] < 0.6 and last["grad_cam"] < 0.6, last
    assert (last < 0.9).all(), last
    assert table.groupby("layer", sort=False)["step"].first().tolist() == [0, 1, 2, 3]


def test_randomization_check_is_seeded():
    model, x = small_cnn(), quadrant_data(3, 5)[0]
    a, b = (randomization_check(model, x, seed=s) for s in (1, 1))
    assert a.equals(b)
    assert not a.equals(randomization_check(model, x, seed=2))


def test_rank_similarity_is_spearmans_rho_of_the_absolute_maps_with_ties_and_constants():
    from scipy.stats import spearmanr

    g = torch.Generator().manual_seed(0)
    a = torch.randint(-3, 4, (4, 5, 5), generator=g).float()  # many ties
    b = a + torch.randn(4, 5, 5, generator=g)
    rho = rank_similarity(a, b)
    expected = [spearmanr(a[i].abs().flatten(), b[i].abs().flatten())[0] for i in range(4)]
    assert rho.tolist() == pytest.approx(expected)
    assert rank_similarity(torch.zeros(1, 5, 5), b[:1]).tolist() == [0.0]  # a constant map: no shared ranking
    assert rank_similarity(a, -a).tolist() == pytest.approx([1.0] * 4)  # absolute maps


# ---------------------------------------------------------------- activations, embeddings


def test_activation_maps_are_the_layers_output_and_the_hook_goes(trained):
    model, test = trained
    x = patched(test, 3)
    maps = activation_maps(model, x)
    assert maps.shape == (3, 16, 8, 8)
    with torch.no_grad():
        assert torch.allclose(maps, model[:4](x))
        assert torch.allclose(activation_maps(model, x, layer="1"), model[:2](x))
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_embeddings_are_the_classifiers_input_in_any_batch_size(trained):
    model, test = trained
    features, labels = embeddings(model, test, batch_size=10)
    assert features.shape == (64, 16) and torch.equal(labels, test[1])
    with torch.no_grad():
        assert torch.allclose(features, model[:7](test[0]), atol=1e-6)
        assert torch.allclose(model[7](features), model(test[0]), atol=1e-5)
    assert torch.allclose(embeddings(model, test, batch_size=64)[0], features, atol=1e-6)
    conv, _ = embeddings(model, test, layer="4")  # another layer's input, flattened
    assert conv.shape == (64, 16 * 8 * 8)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


# ---------------------------------------------------------------- confidently wrong


def test_confidently_wrong_lists_only_wrong_predictions_most_confident_first():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(8, 3))
    x, y = torch.randn(60, 2, 2, 2), torch.arange(60) % 3
    out = predict(model, x)
    wrong = int((out.argmax(1) != y).sum())
    table = confidently_wrong(model, (x, y), k=10)
    assert len(table) == min(10, wrong)
    assert bool(table["confidence"].is_monotonic_decreasing)
    p = torch.softmax(out, 1)
    for row in table.itertuples():
        assert y[row.index] == row.true != row.predicted == int(out[row.index].argmax())
        assert row.confidence == pytest.approx(float(p[row.index].max()))
        assert row.p_true == pytest.approx(float(p[row.index, row.true]))
    right = p.max(1).values[out.argmax(1) != y]
    assert table["confidence"].iloc[0] == pytest.approx(float(right.max()))  # none more confident left out
    everything = confidently_wrong(model, (x, y), k=1000, classes=["a", "b", "c"])
    assert len(everything) == wrong and set(everything["true"]) <= {"a", "b", "c"}


def test_confidently_wrong_checks_labels_and_names():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    x = torch.randn(6, 1, 2, 2)
    with pytest.raises(ValueError, match=r"confidently_wrong\(\): `data_split` must be labels in 0..1"):
        confidently_wrong(model, (x, torch.arange(6)))
    with pytest.raises(ValueError, match=r"confidently_wrong\(\): `classes` must be a name for every class 0..1"):
        confidently_wrong(model, (x, torch.arange(6) % 2), classes=["one"])


# ---------------------------------------------------------------- figures


def test_figures_draw_what_they_are_given(trained):
    model, test = trained
    x = patched(test, 3)
    maps = {m: attribute(model, x, method=m) for m in METHODS}
    fig = plot_attributions(x, maps, torch.ones(3, dtype=torch.long), ["none", "patch"])
    assert isinstance(fig, Figure) and len(fig.axes) == 3 * 4
    assert [ax.get_title() for ax in fig.axes[:4]] == ["image", *METHODS]
    ig = fig.axes[2].images[-1].get_array()  # integrated gradients are signed: blue against, red for the class
    cam = fig.axes[3].images[-1].get_array()  # Grad-CAM: inferno, transparent where the map is 0
    signed = maps["integrated_gradients"][0]
    assert ig.shape == (16, 16, 4) and ig[..., 3].max() == pytest.approx(0.6)
    assert ig[..., 0].flatten()[int(signed.argmax())] == pytest.approx(1.0, abs=0.02)   # red at the largest
    assert ig[..., 2].flatten()[int(signed.argmin())] == pytest.approx(1.0, abs=0.02)   # blue at the smallest
    assert bool((cam[..., 3][maps["grad_cam"][0].numpy() == 0] == 0).all())
    assert fig.axes[0].get_ylabel() == "patch"
    with pytest.raises(ValueError, match=r"plot_attributions\(\): `maps` must be maps shaped like the images"):
        plot_attributions(x, {"wrong": torch.zeros(3, 8, 8)})

    table = randomization_check(model, x, method=["saliency", "grad_cam"])
    fig = plot_randomization(table)
    assert len(fig.axes[0].get_legend().get_texts()) == 2
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["(trained)", "7", "3", "0"]

    acts = activation_maps(model, x)
    fig = plot_activation_maps(acts, image=x[0], channels=5)
    assert len(fig.axes) == 6 and fig.axes[0].get_title() == "image"
    top = int(acts[0].mean((1, 2)).argmax())
    assert fig.axes[1].get_title() == f"channel {top}"

    wrong = confidently_wrong(model, test, k=4)
    fig = plot_confidently_wrong(test, wrong)
    assert len(fig.axes) == max(1, len(wrong)) or len(wrong) == 0


def test_plot_tsne_draws_each_class_of_a_stratified_sample(trained):
    model, test = trained
    features, labels = embeddings(model, test)
    fig = plot_tsne(features, labels, ["none", "patch"], ax_title="learned", max_points=40, perplexity=10)
    assert [c.get_label() for c in fig.axes[0].collections] == ["none", "patch"]
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == 40
    assert fig.axes[0].get_title() == "learned"
    raw = plot_tsne(test[0], labels, max_points=30, perplexity=5)  # raw pixels, N x C x H x W
    assert "256 features" in raw.axes[0].get_title()


def test_stratified_rows_keep_each_class_share_and_are_seeded():
    labels = torch.tensor([0] * 80 + [1] * 15 + [2] * 5)
    rows = stratified_rows(labels, 20, seed=0)
    assert torch.bincount(labels[rows]).tolist() == [16, 3, 1]
    assert torch.equal(rows, stratified_rows(labels, 20, seed=0))
    assert not torch.equal(rows, stratified_rows(labels, 20, seed=1))
    assert torch.equal(stratified_rows(labels, 500, seed=0), torch.arange(100))
