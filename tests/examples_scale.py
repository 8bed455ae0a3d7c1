"""Valid calls of chapter 09's public names (scale: data-parallel training, profiling, the fast recipe),
for tests/test_arguments.py."""

EXAMPLES = {
    "process_group": lambda: dict(backend="gloo"),
}
