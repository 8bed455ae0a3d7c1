"""Every public argument, fed bad values: each gets the one message form, before anything happens.

Each public function declares what its arguments may be (`nbhelpers._checks.checked`). This
test takes every declared argument of every public name, asks its constraint for values it
rejects, puts each into an otherwise valid call (from the ``examples_*.py`` files beside this
one) and expects ``<function>(): `<argument>` must be <allowed>; got <value>.``
"""

import importlib
import inspect
from pathlib import Path

import pytest

import nbhelpers
from nbhelpers._checks import declared

EXAMPLES, THEN = {}, {}
for path in sorted(Path(__file__).parent.glob("examples_*.py")):
    module = importlib.import_module(path.stem)
    EXAMPLES.update(module.EXAMPLES)
    THEN.update(getattr(module, "THEN", {}))  # scikit-learn estimators check their arguments in fit

PUBLIC = {name: getattr(nbhelpers, name) for name in nbhelpers.__all__}
CALLABLE = {name: obj for name, obj in PUBLIC.items()
            if callable(obj) and not (inspect.isclass(obj) and issubclass(obj, BaseException))}
# Names whose arguments are not the reader's to choose: records and panels the package builds
# (`fit` makes TrainResult and TrainState, `explore` a Panel, `gap_panel` a GapPanel, ...;
# their arguments are checked where the reader gives them) and matplotlib's Figure.
RECORDS = {"TrainResult", "TrainState", "Comparison", "Figure", "Panel", "GapPanel", "PreviewPanel"}


def parameters(obj) -> list[str]:
    target = obj.__init__ if inspect.isclass(obj) else obj
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [n for n, p in inspect.signature(target).parameters.items() if n != "self" and p.kind not in kinds]


def test_every_public_argument_is_declared():
    missing = {name: [p for p in parameters(obj) if p not in (declared(obj) or {})]
               for name, obj in CALLABLE.items() if name not in RECORDS and parameters(obj)}
    missing = {name: params for name, params in missing.items() if params}
    assert not missing, f"declare these arguments with @checked(...): {missing}"


def test_every_checked_function_has_an_example_call():
    lacking = [name for name, obj in CALLABLE.items() if declared(obj) and name not in EXAMPLES]
    assert not lacking, f"add a valid call to tests/examples_*.py for: {lacking}"


CASES = [(name, argument, bad) for name, obj in CALLABLE.items() if declared(obj)
         for argument, constraint in declared(obj).items() for bad in constraint.bad_values()]


@pytest.mark.parametrize("name", sorted({name for name, _, _ in CASES}))
def test_bad_values_get_the_one_message(name):
    obj, shown = CALLABLE[name], name
    wrong = []
    for _, argument, bad in [case for case in CASES if case[0] == name]:
        arguments = EXAMPLES[name]()
        arguments[argument] = bad
        try:
            made = obj(**arguments)
            THEN.get(name, lambda made: None)(made)
        except ValueError as error:
            message = str(error)
            if not (message.startswith(f"{shown}(): `{argument}` must be ") and f"; got {bad!r}" in message):
                wrong.append(f"{argument}={bad!r}: {message}")
        except Exception as error:  # noqa: BLE001  (any other exception is the finding)
            wrong.append(f"{argument}={bad!r}: {type(error).__name__}: {error}")
        else:
            wrong.append(f"{argument}={bad!r}: accepted")
    assert not wrong, "\n".join(wrong)


def test_examples_are_valid_calls():
    """Each example runs as it is, so a bad value's error comes from that value alone."""
    for name, example in EXAMPLES.items():
        THEN.get(name, lambda made: None)(CALLABLE[name](**example()))


def test_report_how_many_bad_values_are_tried(capsys):
    with capsys.disabled():
        print(f"\n{len(CASES)} bad values over {len({(n, a) for n, a, _ in CASES})} arguments "
              f"of {len({n for n, _, _ in CASES})} public names")
    assert len(CASES) > 0
