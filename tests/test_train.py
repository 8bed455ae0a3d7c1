"""fit / evaluate / predict: learning, history, early stopping, NaN guard, interrupts,
checkpoint-resume, callbacks, argument errors."""

import math
import warnings

import pandas as pd
import pytest
import torch
from torch import nn

from nbhelpers import Callback, EarlyStopping, NonFiniteLossWarning, StopTraining, evaluate, fit, predict
from nbhelpers.training import progress as progress_module
from nbhelpers.training.checkpoint import load_checkpoint
from nbhelpers.training.loop import CHECK_EVERY


def blobs(n=512, features=10, classes=3, seed=0, noise=0.5):
    """Separable Gaussian blobs: a problem any working loop learns to > 90%."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(classes, features, generator=g) * 3
    y = torch.randint(0, classes, (n,), generator=g)
    x = centers[y] + noise * torch.randn(n, features, generator=g)
    return x, y


def split(x, y, at):
    return (x[:at], y[:at]), (x[at:], y[at:])


def small_model(features=10, classes=3, dropout=0.0, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(features, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, classes))


def weights_equal(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_fit_learns_and_records_tidy_history():
    x, y = blobs()
    result = fit(small_model(), split(x, y, 400), epochs=5, lr=1e-2, progress=False, seed=0, device="cpu")
    h = result.history
    assert list(h.columns) == ["epoch", "split", "loss", "accuracy", "lr", "seconds"]
    assert len(h) == 10 and set(h["split"]) == {"train", "valid"}
    assert h[h.split == "valid"]["accuracy"].iloc[-1] > 0.9
    assert h[h.split == "train"]["loss"].iloc[-1] < h[h.split == "train"]["loss"].iloc[0]
    assert result.final["valid_accuracy"] == pytest.approx(evaluate(result.model, (x[400:], y[400:]))["accuracy"])
    assert result.stop_reason == "completed" and result.best_epoch in range(1, 6)
    assert result.config["seed"] == 0 and result.config["device"] == "cpu" and "torch" in result.config["versions"]


def test_regression_has_no_accuracy_and_target_shape_is_matched():
    x = torch.randn(300, 4)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0])  # shape (N,), model output (N, 1)
    torch.manual_seed(0)
    result = fit(nn.Linear(4, 1), (x, y), epochs=30, lr=0.05, loss="mse", progress=False, device="cpu")
    assert "accuracy" not in result.history.columns
    assert result.history["loss"].iloc[-1] < 0.02 * y.var().item()  # an (N, N) broadcast would stay near var(y)


def test_fit_accepts_a_readers_dataloaders():
    x, y = blobs()
    loaders = [torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*part), batch_size=64, shuffle=i == 0)
               for i, part in enumerate(split(x, y, 400))]
    result = fit(small_model(), tuple(loaders), epochs=4, lr=1e-2, schedule="onecycle", progress=False, device="cpu")
    assert result.final["valid_accuracy"] > 0.9
    assert result.config["steps_per_epoch"] == 7


def test_batches_without_length_work_but_refuse_a_schedule():
    x, y = blobs()

    class Batches:
        def __iter__(self):
            return iter([(x[i:i + 64], y[i:i + 64]) for i in range(0, 512, 64)])

    result = fit(small_model(), (Batches(), None), epochs=2, lr=1e-2, progress=False, device="cpu")
    assert list(result.history["split"].unique()) == ["train"]
    with pytest.raises(ValueError, match="`schedule`"):
        fit(small_model(), (Batches(), None), epochs=2, lr=1e-2, schedule="cosine", progress=False, device="cpu")


def test_early_stopping_restores_the_best_weights():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(128, 10, generator=g)
    y = torch.randint(0, 3, (128,), generator=g)  # random labels: memorising them hurts validation
    snapshots = {}

    class Snapshot(Callback):
        def on_epoch_end(self, state):
            snapshots[state.epoch] = {k: v.clone() for k, v in state.model.state_dict().items()}

    callbacks = [Snapshot()]
    result = fit(small_model(), split(x, y, 64), epochs=100, lr=3e-2, early_stopping=3, callbacks=callbacks,
                 progress=False, seed=0, device="cpu")
    valid = result.history[result.history.split == "valid"].set_index("epoch")["loss"]
    assert result.stop_reason.startswith("early stopping")
    assert valid.index.max() == result.best_epoch + 3 < 100
    assert result.best_epoch == valid.idxmin()
    assert weights_equal(result.model.state_dict(), snapshots[result.best_epoch])
    assert len(callbacks) == 1, "fit must not add to the caller's list"


def test_the_result_and_its_plot_say_whose_weights_were_returned():
    """Without early stopping fit returns the last epoch's weights, even when an earlier epoch
    was better; the repr and the plot title must not let "best epoch 4" pass for them."""
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(128, 10, generator=g), torch.randint(0, 3, (128,), generator=g)  # overfits fast
    data = split(x, y, 64)
    last = fit(small_model(), data, epochs=15, lr=3e-2, progress=False, seed=0, device="cpu")
    valid = last.history[last.history.split == "valid"].set_index("epoch")["loss"]
    assert last.best_epoch < 15 and valid[last.best_epoch] < valid[15]  # a better epoch exists, not returned
    assert evaluate(last.model, data[1])["loss"] == pytest.approx(valid[15], rel=1e-5)
    assert (last.weights_epoch, last.weights_from) == (15, "last epoch (15)")
    assert "weights from last epoch (15)" in repr(last)
    title = last.plot()._suptitle.get_text()
    assert "weights returned from the last epoch (15)" in title and f"lowest at epoch {last.best_epoch}" in title

    stopped = fit(small_model(), data, epochs=100, lr=3e-2, early_stopping=3, progress=False, seed=0, device="cpu")
    assert evaluate(stopped.model, data[1])["loss"] == pytest.approx(valid[stopped.best_epoch], rel=1e-5)
    assert stopped.weights_epoch == stopped.best_epoch < stopped.history["epoch"].max()
    words = f"best epoch ({stopped.best_epoch}), restored by early stopping"
    assert stopped.weights_from == words and words in repr(stopped) and words in stopped.plot()._suptitle.get_text()

    class Stop(Callback):
        def on_batch_begin(self, state):
            if state.epoch == 3:
                raise StopTraining("stopped")

    cut = fit(small_model(), data, epochs=10, lr=3e-2, callbacks=[Stop()], progress=False, seed=0, device="cpu")
    assert cut.weights_from == f"best epoch ({cut.best_epoch}), restored after the run ended early (stopped)"


def test_non_finite_loss_stops_with_advice_and_keeps_finite_weights():
    x, y = blobs()
    x[7, 3] = float("nan")
    model = small_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.warns(NonFiniteLossWarning, match="learning rate") as caught:
        result = fit(model, (x, y), epochs=3, lr=1e-2, progress=False, device="cpu")
    assert "grad_clip" in str(caught[0].message)
    assert result.stop_reason == "non-finite loss" and result.history.empty
    assert weights_equal(model.state_dict(), before)


def test_interrupt_keeps_history_and_best_weights():
    x, y = blobs()
    snapshots = {}

    class CtrlC(Callback):
        def on_epoch_end(self, state):
            snapshots[state.epoch] = {k: v.clone() for k, v in state.model.state_dict().items()}

        def on_batch_begin(self, state):
            if state.epoch == 4:
                raise KeyboardInterrupt

    result = fit(small_model(), split(x, y, 400), epochs=10, lr=1e-2, callbacks=[CtrlC()], progress=False, device="cpu")
    assert result.stop_reason == "interrupted"
    assert sorted(result.history["epoch"].unique()) == [1, 2, 3]
    assert weights_equal(result.model.state_dict(), snapshots[result.best_epoch])


def test_stop_training_from_a_callback():
    x, y = blobs()

    class StopAt2(Callback):
        def on_epoch_end(self, state):
            if state.epoch == 2:
                raise StopTraining("enough")

    result = fit(small_model(), (x, y), epochs=5, lr=1e-2, callbacks=[StopAt2()], progress=False, device="cpu")
    assert result.stop_reason == "enough" and result.history["epoch"].max() == 2


def test_checkpoint_resume_gives_the_same_history(tmp_path):
    x, y = blobs(noise=2.0)
    data = split(x, y, 400)
    kwargs = dict(epochs=5, lr=1e-2, schedule="onecycle", batch_size=32, progress=False, seed=3, device="cpu",
                  early_stopping=EarlyStopping(patience=10))
    straight = fit(small_model(dropout=0.3), data, **kwargs)

    class CrashIn3(Callback):
        def on_batch_end(self, state):
            if state.epoch == 3 and state.step % 13 == 5:
                raise KeyboardInterrupt

    path = tmp_path / "run.pt"
    kwargs["early_stopping"] = EarlyStopping(patience=10)
    first = fit(small_model(dropout=0.3), data, checkpoint=path, callbacks=[CrashIn3()], **kwargs)
    assert first.stop_reason == "interrupted" and load_checkpoint(path)["epoch"] == 2
    kwargs["early_stopping"] = EarlyStopping(patience=10)
    resumed = fit(small_model(dropout=0.3, seed=99), data, checkpoint=path, resume=True, **kwargs)
    columns = ["epoch", "split", "loss", "accuracy", "lr"]
    pd.testing.assert_frame_equal(resumed.history[columns], straight.history[columns], check_exact=True)
    assert weights_equal(resumed.model.state_dict(), straight.model.state_dict())
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"], "no temporary files left behind"


def test_not_a_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    x, y = blobs()
    with pytest.raises(ValueError, match="not a checkpoint written by nbhelpers.fit"):
        fit(small_model(), (x, y), epochs=1, lr=1e-2, checkpoint=path, resume=True, progress=False, device="cpu")


def test_seeded_cpu_runs_repeat_to_the_bit():
    x, y = blobs()
    runs = [fit(small_model(dropout=0.2, seed=s), split(x, y, 400), epochs=3, lr=1e-2, progress=False, seed=7,
                device="cpu") for s in (0, 0)]
    assert runs[0].history["loss"].tolist() == runs[1].history["loss"].tolist()
    assert weights_equal(runs[0].model.state_dict(), runs[1].model.state_dict())


def test_hooks_are_called_in_order():
    x, y = blobs(n=128)
    calls = []

    class Recorder(Callback):
        def on_fit_begin(self, state): calls.append("fit_begin")
        def on_epoch_begin(self, state): calls.append("epoch_begin")
        def on_batch_begin(self, state): calls.append("batch_begin")
        def on_after_backward(self, state):
            assert all(p.grad is not None for p in state.model.parameters())
            calls.append("after_backward")
        def on_batch_end(self, state): calls.append("batch_end")
        def on_epoch_end(self, state): calls.append(f"epoch_end {sorted(state.metrics)}")
        def on_fit_end(self, state): calls.append("fit_end")

    fit(small_model(), split(x, y, 64), epochs=1, lr=1e-2, batch_size=64, callbacks=[Recorder()], progress=False, device="cpu")
    assert calls == ["fit_begin", "epoch_begin", "batch_begin", "after_backward", "batch_end",
                     "epoch_end ['train_accuracy', 'train_loss', 'valid_accuracy', 'valid_loss']", "fit_end"]


def test_grad_clip_bounds_the_gradient_norm():
    x, y = blobs()
    norms = []

    class Norm(Callback):
        def on_batch_end(self, state):
            norms.append(torch.stack([p.grad.norm() for p in state.model.parameters()]).norm().item())

    fit(small_model(), (x * 100, y), epochs=1, lr=1e-3, grad_clip=0.5, callbacks=[Norm()], progress=False, device="cpu")
    assert max(norms) <= 0.5 + 1e-4


def test_l1_makes_weights_smaller():
    x, y = blobs()
    sizes = [fit(small_model(), (x, y), epochs=5, lr=1e-2, l1=l1, progress=False, seed=0, device="cpu")
             .model[0].weight.abs().mean().item() for l1 in (0.0, 1e-2)]
    assert sizes[1] < 0.7 * sizes[0]


def test_augment_receives_batches_and_can_change_labels():
    x, y = blobs()
    seen = []

    def shift(batch):
        seen.append(batch.shape[0])
        return batch + 0.01

    fit(small_model(), (x, y), epochs=1, lr=1e-2, batch_size=100, augment=shift, progress=False, device="cpu")
    assert seen == [100] * 5 + [12]

    def soft_labels(batch, labels):  # mixup-style: one-hot targets
        return batch, nn.functional.one_hot(labels, 3).float()

    result = fit(small_model(), (x, y), epochs=2, lr=1e-2, augment=soft_labels, progress=False, device="cpu")
    assert result.history["accuracy"].iloc[-1] > 0.5


def test_amp_bf16_runs_on_the_cpu():
    x, y = blobs()
    result = fit(small_model(), (x, y), epochs=2, lr=1e-2, amp="bf16", progress=False, device="cpu")
    assert result.config["amp"] == "bfloat16" and math.isfinite(result.history["loss"].iloc[-1])


def test_time_estimate_warns_about_long_runs(monkeypatch, capsys):
    monkeypatch.setattr(progress_module, "LONG_RUN_SECONDS", 0.0)
    x, y = blobs(n=2048)
    fit(small_model(), (x, y), epochs=2, lr=1e-2, batch_size=32, device="cpu")
    out = capsys.readouterr()
    text = out.out + out.err
    assert "this run will take about" in text and "quick mode" in text
    assert "epoch 2/2" in text


def test_evaluate_and_predict_agree_with_a_manual_computation():
    x, y = blobs()
    model = small_model()
    logits = predict(model, x, batch_size=100)
    assert logits.shape == (512, 3)
    expected = nn.functional.cross_entropy(model(x), y).item()
    numbers = evaluate(model, (x, y))
    assert numbers["loss"] == pytest.approx(expected, rel=1e-5)
    assert numbers["accuracy"] == pytest.approx((logits.argmax(1) == y).float().mean().item())


def test_result_plots_itself_and_prints_a_summary():
    x, y = blobs()
    result = fit(small_model(), split(x, y, 400), epochs=2, lr=1e-2, progress=False, device="cpu")
    fig = result.plot()
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert "valid_accuracy" in repr(result) and "best epoch" in repr(result)


@pytest.mark.parametrize("kwargs, match", [
    (dict(epochs=0), r"fit\(\): `epochs` must be an integer >= 1; got 0"),
    (dict(lr=-1), r"`lr` must be a real number > 0; got -1"),
    (dict(optimizer="adma"), r"`optimizer` must be one of .*Did you mean 'adam'"),
    (dict(loss="crossentropy"), r"Did you mean 'cross_entropy'"),
    (dict(amp="fp32"), r"`amp` must be 'auto', True, False"),
    (dict(schedule="cosin"), r"Did you mean 'cosine'"),
    (dict(early_stopping=0), r"`early_stopping` must be an integer >= 1"),
    (dict(grad_clip=0), r"`grad_clip` must be a real number > 0"),
    (dict(batch_size=2.5), r"`batch_size` must be an integer"),
    (dict(resume=True), r"`checkpoint` must be a file path when resume=True"),
])
def test_bad_arguments_name_the_argument(kwargs, match):
    x, y = blobs(n=64)
    args = dict(epochs=1, lr=1e-2, progress=False, device="cpu") | kwargs
    with pytest.raises(ValueError, match=match):
        fit(small_model(), (x, y), **args)


def test_bad_data_and_misspelled_hooks_are_clear_errors():
    with pytest.raises(ValueError, match="`data` must be a DataBundle"):
        fit(small_model(), "train.csv", epochs=1, lr=1e-2, progress=False)

    class Typo:
        def on_epoch_ends(self, state):
            pass

    x, y = blobs(n=64)
    with pytest.raises(ValueError, match="Did you mean 'on_epoch_end'"):
        fit(small_model(), (x, y), epochs=1, lr=1e-2, callbacks=[Typo()], progress=False)
    with pytest.raises(ValueError, match="Did you mean 'on_batch_end'"):
        class AlsoTypo(Callback):
            def on_bach_end(self, state):
                pass


def test_early_stopping_on_a_metric_the_run_does_not_record():
    x, y = blobs(n=64)
    with pytest.raises(ValueError, match="`monitor` must be a metric this run records"):
        fit(small_model(), (x, y), epochs=2, lr=1e-2, early_stopping=EarlyStopping(monitor="valid_loss"),
            progress=False, device="cpu")


def test_no_warnings_in_a_plain_run():
    x, y = blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(small_model(), split(x, y, 400), epochs=2, lr=1e-2, progress=False, device="cpu")


# ---------------------------------------------------------------- fit's contracts


def test_a_reused_early_stopping_starts_afresh_in_every_fit():
    x, y = blobs()
    stopper = EarlyStopping(patience=2, monitor="valid_accuracy")  # blobs reach 100%, then cannot improve
    first = fit(small_model(), split(x, y, 400), epochs=30, lr=1e-2, early_stopping=stopper, progress=False,
                device="cpu", seed=0)
    assert first.stop_reason.startswith("early stopping") and stopper.best == -1.0
    second = fit(small_model(seed=1), split(x, y, 400), epochs=3, lr=1e-4, early_stopping=stopper, progress=False,
                 device="cpu", seed=0)
    assert second.history["epoch"].max() == 3, "the first fit's best and bad epochs must not stop the second"


def test_optimizer_takes_a_name_a_class_a_factory_and_parameter_groups():
    x, y = blobs(n=128)
    made = []

    def factory(params, lr, weight_decay):
        made.append(lr)
        return torch.optim.SGD(params, lr=lr, momentum=0.8, weight_decay=weight_decay)

    run = lambda **kw: fit(small_model(), (x, y), epochs=1, lr=0.05, progress=False, device="cpu", **kw)  # noqa: E731
    assert type(run(optimizer=torch.optim.RMSprop).model) is nn.Sequential
    captured = {}

    class Grab(Callback):
        def on_fit_begin(self, state):
            captured["opt"] = state.optimizer

    run(optimizer=factory, callbacks=[Grab()])
    assert made == [0.05] and captured["opt"].defaults["momentum"] == 0.8
    run(optimizer="sgd", param_groups={"3": {"lr": 0.5}}, callbacks=[Grab()])
    groups = captured["opt"].param_groups
    assert [g["lr"] for g in groups] == [0.05, 0.5] and [len(g["params"]) for g in groups] == [2, 2]
    with pytest.raises(ValueError, match=r"^fit\(\): `param_groups` must be prefixes of trainable parameter names: "
                                         r"0, 3; got 'head'"):
        run(param_groups={"head": {"lr": 0.5}})
    with pytest.raises(ValueError, match=r"^fit\(\): `optimizer` must be a factory that returns a torch.optim.Optimizer"):
        run(optimizer=lambda params, lr, weight_decay: "sgd")
    with pytest.raises(ValueError, match=r"pass its class instead"):
        run(optimizer=torch.optim.SGD(small_model().parameters(), lr=0.1))


def test_arguments_are_checked_before_anything_changes(monkeypatch):
    x, y = blobs(n=64)
    state = torch.get_rng_state()
    model = small_model()
    for bad in (dict(optimizer="adma"), dict(device="gpu"), dict(compile="yes"), dict(param_groups=[0.1]),
                dict(schedule=3), dict(augment="flip"), dict(amp=1)):
        with pytest.raises(ValueError, match=r"^fit\(\): `"):
            fit(model, (x, y), epochs=1, lr=1e-2, progress=False, seed=5, **bad)
        assert torch.equal(torch.get_rng_state(), state), f"{bad} reseeded the global RNG before failing"


SYNCING = ("item", "__bool__", "__float__", "__int__", "tolist", "cpu", "numpy")


def count_syncs(monkeypatch, batches: int, **kwargs) -> int:
    """Tensor-to-host reads during one fit of 2 epochs over ``batches`` training batches."""
    x, y = blobs(n=32 * batches + 64)
    calls = []
    for name in SYNCING:
        original = getattr(torch.Tensor, name)
        monkeypatch.setattr(torch.Tensor, name, lambda self, *a, _o=original, **k: calls.append(1) or _o(self, *a, **k))
    fit(small_model(), split(x, y, 32 * batches), epochs=2, lr=1e-2, batch_size=32, progress=False, device="cpu",
        **kwargs)
    monkeypatch.undo()
    return len(calls)


def test_no_device_sync_per_batch(monkeypatch):
    few, many = count_syncs(monkeypatch, 4), count_syncs(monkeypatch, 40)
    finite_checks = 2 * 40 // CHECK_EVERY - 2 * 4 // CHECK_EVERY  # the NaN guard reads the loss every CHECK_EVERY steps
    assert many - few == finite_checks, f"{few} reads of device values with 4 batches an epoch, {many} with 40"
    assert few <= 4, few  # one read of the epoch's numbers per epoch, plus the set-up


def test_autocast_is_applied(monkeypatch):
    x, y = blobs(n=64)
    model, dtypes = small_model(), []
    model[0].register_forward_hook(lambda module, inputs, out: dtypes.append(out.dtype))
    fit(model, (x, y), epochs=1, lr=1e-2, amp="bf16", progress=False, device="cpu")
    assert dtypes and set(dtypes) == {torch.bfloat16}
    dtypes.clear()
    fit(model, (x, y), epochs=1, lr=1e-2, amp=False, progress=False, device="cpu")
    assert set(dtypes) == {torch.float32}


def test_ctrl_c_ends_a_whole_sweep_and_keeps_the_finished_runs(tmp_path, monkeypatch):
    from nbhelpers import sweep

    monkeypatch.setenv("NBH_CACHE", str(tmp_path))
    x, y = blobs(n=128)
    calls = []

    class CtrlC(Callback):
        def on_batch_begin(self, state):
            raise KeyboardInterrupt

    def train(lr, seed=0):
        calls.append(lr)
        result = fit(small_model(), (x, y), epochs=1, lr=lr, progress=False, device="cpu",
                     callbacks=[CtrlC()] if lr == 0.02 else [])
        return {"loss": result.final.get("train_loss", math.nan)}  # a dict: it does not say fit was stopped

    with pytest.raises(KeyboardInterrupt, match=r"sweep\(\): interrupted in run 2 of 3 \(lr=0.02\); the 1 runs"):
        sweep(train, {"lr": [0.01, 0.02, 0.03]}, progress=False)
    assert calls == [0.01, 0.02], "the sweep went on after Ctrl-C"
    assert len(list(tmp_path.glob("*.json"))) == 1, "the finished run is stored, the interrupted one is not"
    table = sweep(train, {"lr": [0.01]}, progress=False)
    assert table["cached"].tolist() == [True]


@pytest.mark.parametrize("labels, loss, match", [
    (lambda y: y + 5, "cross_entropy", r"`data` must be train labels in 0\.\.2 for a model with 3 outputs; got 7\. "
                                       r"The train labels span 5\.\.7\. Give the model one output per class"),
    (lambda y: y.float() + 0.5, "cross_entropy", r"class numbers 0, 1, 2, \.\.\. as train labels .*loss='mse'"),
    (lambda y: y[:, None].repeat(1, 2), "cross_entropy",
     r"train labels of shape \(n,\) for outputs of shape \(n, classes\)"),
    (lambda y: y.float(), "mse", r"one target per model output for loss='mse' \(3 per input\); got 'train labels of "
                                 r"shape \(64,\)'"),
    (lambda y: y.repeat(2), "cross_entropy", r"train x and y with one label per row; got 'x of shape \(64, 10\) "
                                             r"and y of shape \(128,\)'"),
])
def test_wrong_labels_get_a_message_that_says_what_to_do(labels, loss, match):
    x, y = blobs(n=64)
    with pytest.raises(ValueError, match=r"^fit\(\): " + ".*" + match):
        fit(small_model(), (x, labels(y)), epochs=1, lr=1e-2, loss=loss, batch_size=32, progress=False, device="cpu")


def test_a_resnet_with_a_few_channels_trains_on_the_cpu_without_crashing():
    """torch 2.14's oneDNN dies (SIGSEGV or abort) in the backward of a strided 1x1 channels-last
    convolution with 2-7 input channels; `fit` keeps such a network in the default layout. In a
    subprocess, since the crash would end the test run itself."""
    import subprocess
    import sys

    code = ("import torch\nfrom nbhelpers import ResNet, fit\nx, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))\n"
            "r = fit(ResNet(widths=(4, 8)), ((x, y), (x, y)), epochs=2, lr=1e-3, progress=False, device='cpu')\n"
            "print('trained', r.final['train_loss'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0 and "trained" in done.stdout, (done.returncode, done.stderr[-2000:])
