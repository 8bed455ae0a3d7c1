"""No measured number is typed into a chapter's prose: results reach the reader from the run.

A chapter's markdown explains why and what to look for; a sentence that states a result is
rendered by `say` from the result, so it cannot disagree with the table above it. This test
reads the markdown of every chapter, present and future, and fails on what only a run can
know. What counts as a measured number:

- a percentage with decimals (``90.7%``): a measured accuracy or share;
- a count of points (``+11.7 points``, ``2 points of recall``): a measured difference;
- a confidence interval (``CI``, ``interval of -0.8 to ...``);
- a signed number (``+0.5``, ``-1.3``): a measured change;
- a ratio of speeds or sizes (``1.7x slower``, ``3 times larger``);
- a number with three or more decimals (``0.5709``): a measured loss.

Not counted: code (inline or fenced: hyperparameter values, a seed guide's code), whole
percentages (``30% of the entries``: settings; write measured shares with their decimals or
render them), and sentences that cite a published result with a link to its source.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CHAPTERS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))

MEASURED = {
    "percentage with decimals": r"\d+\.\d+\s*%",
    "points": r"\d+(?:\.\d+)?\s+(?:percentage\s+)?points?\b",
    "confidence interval": r"\bCIs?\b|\binterval of [+\-−]?\d",
    "signed number": r"(?<![\w.\-+−/])[+\-−]\d+(?:\.\d+)?(?![\w.]*\d*[-/])",
    "ratio": r"\d+(?:\.\d+)?\s*(?:x|×|times)\s+(?:faster|slower|larger|smaller|more|fewer|bigger|higher|lower|as)\b",
    "three decimals": r"\b\d+\.\d{3,}\b",
}
PATTERN = re.compile("|".join(f"(?P<g{i}>{p})" for i, p in enumerate(MEASURED.values())))


def prose(markdown: str) -> str:
    """The markdown without code (fenced and inline) and without link targets."""
    markdown = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    markdown = re.sub(r"`[^`]*`", " ", markdown)
    return re.sub(r"\]\([^)]*\)", "]", markdown)


def sentences(markdown: str) -> list[str]:
    cited = re.compile(r"\]\((?:https?://|doi:)")
    out = []
    for paragraph in re.split(r"\n\s*\n", markdown):
        for sentence in re.split(r"(?<=[.!?:;])\s+(?=[A-Z*(\"'])", paragraph):
            if not cited.search(sentence):  # a published figure with its source
                out.append(prose(sentence))
    return out


def pasted_numbers(markdown: str) -> list[str]:
    """Each measured-looking number in ``markdown``, with a few words around it and its kind."""
    found = []
    names = list(MEASURED)
    for sentence in sentences(markdown):
        for match in PATTERN.finditer(sentence):
            kind = names[int(next(k for k, v in match.groupdict().items() if v is not None)[1:])]
            around = sentence[max(0, match.start() - 40):match.end() + 20].replace("\n", " ")
            found.append(f"{kind}: ...{around}...")
    return found


def test_the_detector_flags_results_and_spares_settings_code_and_citations():
    results = ["In full mode: 90.7% against 79.0%.", "The CNN gained +11.7 points.", "It cost 2 points of recall.",
               "(95% CI 20.0 to 31.1)", "an interval of -49.5 to +50.6", "one input 1.7 times slower",
               "validation loss 0.5709 at epoch 11", "the gap moved by -1.3 here"]
    for text in results:
        assert pasted_numbers(text), text
    settings = ["Each split gets 30% MAR holes.", "Set `lr=0.001` and `weight_decay=0.02`.", "a 28 x 28 image",
                "```python\nlayers.Dropout(0.5)  # 50%\nacc = 0.9071\n```", "learning rates from 1e-3 to 1e-1",
                "The paper reports 94.3% ([Smith 2020](https://doi.org/10/abc)).", "digits drawn as 1-D curves",
                "Chapters 01-04 and epochs 5-10.", "dropout 0.5 and a batch of 64"]
    for text in settings:
        assert not pasted_numbers(text), (text, pasted_numbers(text))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_no_measured_number_is_typed_into_the_prose(path):
    cells = json.loads(path.read_text())["cells"]
    pasted = [f"cell {i}: {hit}" for i, cell in enumerate(cells) if cell["cell_type"] == "markdown"
              for hit in pasted_numbers("".join(cell["source"]))]
    assert not pasted, (f"{path.name}: {len(pasted)} measured numbers typed into markdown; render them with "
                        "say(...) from the result instead:\n" + "\n".join(pasted))
