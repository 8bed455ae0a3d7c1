"""A reader's data as they have it (issue 15): NumPy and float64 straight from scikit-learn, labels
as floats, shaped (n, 1) or out of range. fit, evaluate and predict convert what is safe to
convert, once, saying so where it matters, and every label problem names the split and the fix."""

import re
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from nbhelpers import DataConversionWarning, evaluate, fit, predict

RUN = dict(epochs=3, lr=1e-2, batch_size=32, progress=False, device="cpu", seed=0)


def blobs(n=240, features=6, classes=3, seed=0):
    """float64 features and int64 labels, as scikit-learn's make_blobs returns them."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(size=(classes, features))[y] * 3 + rng.normal(size=(n, features)) * 0.5
    return x, y


def model(features=6, classes=3):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(features, 16), nn.ReLU(), nn.Linear(16, classes))


def fit_error(data, **kwargs) -> str:
    with pytest.raises(ValueError) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        fit(model(), data, **(RUN | kwargs))
    return str(caught.value)


def notes(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, DataConversionWarning)]


def test_fit_takes_numpy_float64_with_int_labels_and_says_once_that_it_cast():
    x, y = blobs()
    assert x.dtype == np.float64 and y.dtype == np.int64
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit(model(), ((x[:200], y[:200]), (x[200:], y[200:])), **RUN)
    assert notes(caught) == ["fit(): float64 inputs converted to float32, the model's dtype. "
                             "Pass x.astype('float32') (NumPy) or x.float() (torch) to skip the copy."]
    assert len(caught) == 1, [str(w.message) for w in caught]  # one note for both splits, nothing else
    assert result.final["valid_accuracy"] > 0.9
    assert x.dtype == np.float64, "the reader's array is left as it was"


def test_the_same_numbers_from_numpy_as_from_tensors():
    x, y = blobs()
    tensors = fit(model(), (torch.from_numpy(x).float(), torch.from_numpy(y)), **RUN).history
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        arrays = fit(model(), (x, y.astype(np.int32)), **RUN).history  # int32 labels: made int64 without a word
    assert arrays.drop(columns="seconds").equals(tensors.drop(columns="seconds"))


def test_whole_float_labels_become_class_numbers_with_a_note():
    x, y = blobs()
    with pytest.warns(DataConversionWarning, match=r"^fit\(\): float labels with whole values \(0\.0, 1\.0, \.\.\.\) "
                      r"converted to int64 class numbers for loss='cross_entropy'\. If they are numeric targets, "
                      r"not classes, pass loss='mse'\.$"):
        result = fit(model(), (x.astype(np.float32), y.astype(np.float64)), **RUN)
    assert result.final["train_accuracy"] > 0.9


def test_float_labels_that_are_not_class_numbers_say_so():
    x, y = blobs()
    y = y + 0.0
    y[0] = 0.5
    assert fit_error((x, y)) == ("fit(): `data` must be class numbers 0, 1, 2, ... as train labels for "
                                 "loss='cross_entropy'; got 0.5. For numeric targets use loss='mse' (or 'bce' for "
                                 "0/1 targets with one output).")
    y[0] = np.inf  # a whole number to y == y.round(), but no class
    assert fit_error((x, y)).startswith("fit(): `data` must be class numbers 0, 1, 2, ... as train labels for "
                                        "loss='cross_entropy'; got inf.")


def test_labels_shaped_n_by_1_say_flatten_with_ravel():
    x, y = blobs()
    assert fit_error((x, y[:, None])) == (
        "fit(): `data` must be train labels of shape (n,) for loss='cross_entropy'; got 'train labels of shape "
        "(240, 1)'. Flatten them with y.ravel() (NumPy) or y.flatten() (torch).")
    message = fit_error(((x[:200], y[:200]), (x[200:], y[200:, None].astype(np.float64))))
    assert message.startswith("fit(): `data` must be valid labels of shape (n,)") and "y.ravel()" in message


@pytest.mark.parametrize("train, valid, split, bad, span, fix", [
    (lambda y: y + 1, lambda y: y, "train", 3, "1..3", "Give the model one output per class (4 for labels 0..3), "
                                                        "or, if there are only 3 classes, renumber the labels 0..2"),
    (lambda y: y, lambda y: y * 4, "valid", 8, "0..8", "Give the model one output per class (9 for labels 0..8)"),
    (lambda y: y - 1, lambda y: y, "train", -1, "-1..1", "Class numbers start at 0: renumber the labels 0..2"),
])
def test_labels_out_of_range_name_the_split_the_value_the_range_and_the_fix(train, valid, split, bad, span, fix):
    x, y = blobs()
    message = fit_error(((x[:200], train(y[:200])), (x[200:], valid(y[200:]))))
    assert message.startswith(f"fit(): `data` must be {split} labels in 0..2 for a model with 3 outputs; got {bad}. "
                              f"The {split} labels span {span}. {fix}"), message
    assert message.endswith("(sklearn.preprocessing.LabelEncoder().fit_transform(y) does it).")


def test_a_bad_label_anywhere_in_the_split_is_found_before_training():
    x, y = blobs()
    y = y.copy()
    y[-1] = 10  # not in the first batch
    trained = []
    model_ = model()
    model_.register_forward_hook(lambda module, inputs, out: trained.append(module.training))
    with pytest.raises(ValueError, match=r"got 10\. The train labels span 0\.\.10\."), warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        fit(model_, (x, y), **RUN)
    assert trained == [True], "the error came after the first batch's forward pass, before any step"


def test_a_readers_validation_batches_are_checked_too():
    x, y = blobs()
    loaders = [torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(a).float(),
                                                                          torch.from_numpy(b)), batch_size=32)
               for a, b in ((x[:200], y[:200]), (x[200:], y[200:] + 5))]
    message = fit_error(tuple(loaders))
    assert message.startswith("fit(): `data` must be valid labels in 0..2 for a model with 3 outputs; got ")


def test_float_labels_in_a_readers_batches_are_not_converted_but_explained():
    x, y = blobs()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x).float(),
                                                                        torch.from_numpy(y).float()), batch_size=32)
    assert fit_error((loader, None)) == (
        "fit(): `data` must be integer class labels for loss='cross_entropy'; got 'torch.float32 train labels'. "
        "Convert them with y.long() where the batches are made, or use loss='mse' for numeric targets.")


def test_mismatched_lengths_name_the_split():
    x, y = blobs()
    assert fit_error(((x[:200], y[:190]), (x[200:], y[200:]))) == (
        "fit(): `data` must be train x and y with one label per row; got 'x of shape (200, 6) and y of shape "
        "(190,)'. Check that x and y come from the same split.")
    assert fit_error(((x[:200], y[:200]), (x[200:], y[200:230]))).startswith(
        "fit(): `data` must be valid x and y with one label per row; got 'x of shape (40, 6) and y of shape (30,)'")
    with pytest.raises(ValueError, match=re.escape("evaluate(): `data` must be x and y with one label per row; got "
                                                   "'x of shape (40, 6) and y of shape (30,)'. Check that x and y "
                                                   "come from the same split.")):
        evaluate(model(), (torch.from_numpy(x[200:]).float(), torch.from_numpy(y[200:230])))


def test_an_array_without_its_labels_is_told_to_pass_them():
    x, _ = blobs()
    message = fit_error(x)
    assert message.startswith("fit(): `data` must be a DataBundle") and message.endswith(
        "; got 'ndarray'. Pass the labels with the inputs: (x, y).")


def test_evaluate_and_predict_take_numpy_float64():
    x, y = blobs()
    net = model()
    with pytest.warns(DataConversionWarning, match=r"^predict\(\): float64 inputs converted to float32"):
        logits = predict(net, x, batch_size=100)
    expected = predict(net, torch.from_numpy(x).float())
    assert logits.shape == (240, 3) and torch.equal(logits, expected)
    with pytest.warns(DataConversionWarning, match=r"^evaluate\(\): float64 inputs converted to float32"):
        numbers = evaluate(net, (x, y))
    assert numbers == evaluate(net, (torch.from_numpy(x).float(), torch.from_numpy(y)))
    with pytest.warns(DataConversionWarning, match=r"^evaluate\(\): float labels with whole values"):
        assert evaluate(net, (x.astype(np.float32), y.astype(np.float64))) == numbers


def test_evaluate_names_its_argument_for_a_bad_label():
    x, y = blobs()
    y = y.copy()
    y[-1] = 3  # past the first batch of the evaluation too (1024 rows)
    x, y = np.tile(x, (5, 1)), np.tile(y, 5)
    with pytest.raises(ValueError, match=re.escape("evaluate(): `data` must be labels in 0..2 for a model with 3 "
                                                   "outputs; got 3. The labels span 0..3.")):
        evaluate(model(), (torch.from_numpy(x).float(), torch.from_numpy(y)))


def test_regression_on_numpy_float64_targets_still_works():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    y = np.round(x @ np.array([1.0, -2.0, 0.5, 3.0]))  # whole numbers, but numeric targets: never class numbers
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit(nn.Linear(4, 1), (x, y), epochs=30, lr=0.05, loss="mse", progress=False, device="cpu")
    assert notes(caught) == ["fit(): float64 inputs converted to float32, the model's dtype. "
                             "Pass x.astype('float32') (NumPy) or x.float() (torch) to skip the copy."]
    assert "accuracy" not in result.history.columns
    assert result.history["loss"].iloc[-1] < 0.05 * y.var()
    with pytest.warns(DataConversionWarning, match="float64 inputs"):  # (n, 1) targets are fine for regression
        assert evaluate(result.model, (x, y[:, None]), loss="mse")["loss"] < 0.05 * y.var()


def test_pandas_tables_are_taken_like_numpy_and_text_columns_are_refused():
    pd = pytest.importorskip("pandas")
    x, y = blobs()
    frame, labels = pd.DataFrame(x), pd.Series(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        assert fit(model(), (frame, labels), **RUN).final["train_accuracy"] > 0.9
    frame["colour"] = "red"
    message = fit_error((frame, labels))
    assert message.startswith("fit(): `data` must be inputs of numbers; got 'an array of dtype object'. Encode text")
