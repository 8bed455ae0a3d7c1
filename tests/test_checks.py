"""The one message form for argument errors."""

import numpy as np
import pytest

from nbhelpers._checks import check_choice, check_number


def test_numpy_integers_pass_and_bools_do_not():
    assert check_number("f", "n", np.int64(3), integer=True, low=1) == 3
    with pytest.raises(ValueError, match=r"f\(\): `n` must be an integer >= 1; got True"):
        check_number("f", "n", True, integer=True, low=1)


def test_nan_and_bounds():
    with pytest.raises(ValueError, match="got nan"):
        check_number("f", "x", float("nan"))
    with pytest.raises(ValueError, match=r"`p` must be a real number >= 0 and <= 1; got 1.5"):
        check_number("f", "p", 1.5, low=0, high=1)
    assert check_number("f", "p", None, allow_none=True) is None


def test_choice_is_case_insensitive_with_did_you_mean():
    assert check_choice("f", "opt", "ADAM", ["adam", "sgd"]) == "adam"
    with pytest.raises(ValueError, match=r"`opt` must be one of 'adam', 'sgd'; got 'sdg'. Did you mean 'sgd'\?"):
        check_choice("f", "opt", "sdg", ["adam", "sgd"])
