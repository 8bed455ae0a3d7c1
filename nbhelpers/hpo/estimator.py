"""`TorchClassifier`: a PyTorch model trained by `fit`, as a scikit-learn classifier.

The guides' ``GridSearchCV`` over a Keras model translates one to one::

    model = KerasClassifier(model=create_model, verbose=0)          # Keras (scikeras)
    model = TorchClassifier(model=create_model, verbose=0)          # PyTorch, nbhelpers
    param_grid = {"optimizer": ["adam", "rmsprop"], "batch_size": [10, 30], "epochs": [10, 20]}
    grid = GridSearchCV(estimator=model, param_grid=param_grid, cv=3)
    grid_result = grid.fit(X_train, y_train)

``model`` builds the network: a function (or a class such as `MLP`) whose arguments you
give as keyword arguments here and search like any other (``activation``, ``width``); its
``in_features`` and ``num_classes``, when it has them and you do not give them, come from the
data. The other arguments go to `fit`. As scikit-learn requires, the constructor only stores
its arguments (``clone`` and ``set_params`` rely on it); ``fit`` checks them.

It subclasses scikit-learn's base classes, so importing this module imports scikit-learn
(1.5 s); `nbhelpers` loads it only when `TorchClassifier` is first used.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._checks import Real, Satisfies, check_arguments, fail
from ..device import seed_everything
from ..training.inference import predict
from ..training.loop import fit
from ..training.fit_arguments import FIT_ARGUMENTS

FILLED = ("in_features", "num_classes")  # builder arguments read from the data when not given


class TorchClassifier(ClassifierMixin, BaseEstimator):
    """A classifier that builds ``model(**model_params)`` and trains it with `fit`.

    ``fit(X, y)`` takes NumPy arrays or tensors and any labels (``classes_`` keeps them);
    ``predict`` returns labels, ``predict_proba`` softmax probabilities, ``score`` accuracy.
    ``model_`` is the trained network, ``history_`` its `fit` history.

    >>> from sklearn.base import clone
    >>> from nbhelpers import MLP
    >>> net = TorchClassifier(MLP, epochs=2, width=8)
    >>> clone(net).set_params(width=16, lr=0.01).get_params()["width"]
    16
    >>> x, y = np.random.default_rng(0).normal(size=(40, 3)), np.array(["cat", "dog"] * 20)
    >>> net.fit(x, y).predict(x[:3]).shape, net.classes_.tolist()
    ((3,), ['cat', 'dog'])
    """

    # What each argument may be, checked in ``fit`` (scikit-learn's rule: __init__ only stores).
    __checked__ = {"model": Satisfies(callable, "a function or class that returns a torch.nn.Module, e.g. MLP",
                                      bad=["MLP", 3]),
                   **{k: FIT_ARGUMENTS[k] for k in ("epochs", "lr", "optimizer", "batch_size", "seed", "device")},
                   "verbose": Real(low=0, high=1, integer=True)}

    def __init__(self, model: Callable[..., torch.nn.Module] | None = None, *, epochs: int = 10, lr: float = 1e-3,
                 optimizer: str | Callable = "adam", batch_size: int = 32, seed: int | None = 0, verbose: int = 0,
                 device: str | torch.device | None = None, **model_params: Any):
        self.model, self.epochs, self.lr, self.optimizer = model, epochs, lr, optimizer
        self.batch_size, self.seed, self.verbose, self.device = batch_size, seed, verbose, device
        for name, value in model_params.items():  # each its own attribute, as scikit-learn expects of parameters
            setattr(self, name, value)

    def _model_params(self) -> dict[str, Any]:
        own = set(self._get_param_names())
        return {k: v for k, v in vars(self).items() if k not in own and not k.endswith("_") and not k.startswith("_")}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {**super().get_params(deep=deep), **self._model_params()}

    def set_params(self, **params: Any) -> TorchClassifier:
        for name, value in params.items():  # an unknown name is a model argument, checked by fit
            setattr(self, name, value)
        return self

    def _build(self, n_features: int, n_classes: int) -> torch.nn.Module:
        given = self._model_params()
        try:
            signature = inspect.signature(self.model).parameters
        except (TypeError, ValueError):
            signature = {}
        takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.values())
        for name in given:
            if signature and name not in signature and not takes_any:
                close = difflib.get_close_matches(name, list(signature), n=1)
                raise fail("TorchClassifier", name, f"an argument of {getattr(self.model, '__name__', 'model')}(): "
                           + ", ".join(signature), name, f"Did you mean {close[0]!r}?" if close else "")
        filled = {k: v for k, v in zip(FILLED, (n_features, n_classes)) if k in signature and k not in given}
        if self.seed is not None:
            seed_everything(self.seed)  # the initial weights, so that refitting gives the same model
        network = self.model(**filled, **given)
        if not isinstance(network, torch.nn.Module):
            raise fail("TorchClassifier", "model", "a function that returns a torch.nn.Module",
                       f"one that returned a {type(network).__name__}")
        return network

    def fit(self, X: Any, y: Any) -> TorchClassifier:  # noqa: N803  (scikit-learn's names)
        arguments = {k: getattr(self, k) for k in self.__checked__ if k != "model" or self.model is not None}
        check_arguments("TorchClassifier", self.__checked__, arguments)
        if self.model is None:
            raise fail("TorchClassifier", "model", self.__checked__["model"].allowed, None)
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        self.model_ = self._build(X.shape[1], len(self.classes_))
        data = (torch.from_numpy(X), torch.from_numpy(labels.astype(np.int64)))
        result = fit(self.model_, data, epochs=self.epochs, lr=self.lr, optimizer=self.optimizer,
                     batch_size=self.batch_size, progress=bool(self.verbose), seed=self.seed, device=self.device)
        self.history_ = result.history
        return self

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803
        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        return torch.softmax(predict(self.model_, torch.from_numpy(X)).float(), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        probabilities = self.predict_proba(X)
        return self.classes_[probabilities.argmax(axis=1)]
