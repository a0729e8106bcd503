"""Laws of the pieces `dspxc optimize` is made of: the demo pool's order, the dev split, the
text scatter plot, and what counts as a usable instruction proposal."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from dspx_lang.optimize.bootstrap import _diverse
from dspx_lang.optimize.model import Objective
from dspx_lang.optimize.plot import MARKS, Point, text_scatter
from dspx_lang.optimize.propose import MAX_WORDS, STYLES, SYSTEM, clean, usable
from dspx_lang.optimize.scope import split as _split
from dspx_lang.runtime.examples import Example

demos = st.lists(
    st.builds(lambda i, label: {"inputs": {"i": i}, "outputs": {"y": label}},
              st.integers(0, 10**6), st.sampled_from("abcde")),
    max_size=30,
)  # fmt: skip


@given(demos, st.integers(0, 12))
def test_the_first_demos_show_as_many_different_answers_as_they_can(
    found: list[dict[str, dict[str, object]]], limit: int
) -> None:
    pool = _diverse(found, limit)
    assert len(pool) == min(limit, len(found))
    assert all(d in found for d in pool)
    distinct = len({json.dumps(d["outputs"]) for d in found})
    head = pool[: min(limit, distinct)]
    assert len({json.dumps(d["outputs"]) for d in head}) == len(head)


@given(st.integers(0, 60), st.floats(0.05, 0.95), st.integers(0, 99))
def test_the_split_is_a_seeded_partition(rows: int, split: float, seed: int) -> None:
    examples = [Example(i, {"x": i}) for i in range(rows)]
    train, dev = _split(examples, split, seed)
    assert sorted(e.index for e in train + dev) == list(range(rows))
    if rows > 1:
        assert len(dev) == max(1, math.ceil(rows * (1 - split)))
    assert _split(examples, split, seed) == (train, dev)


values = st.floats(-1e6, 1e6, allow_nan=False)
kinds = st.sampled_from(["chosen", "default", "front", "feasible", "over"])


@given(st.lists(st.tuples(kinds, values, values), max_size=25))
def test_the_scatter_plot_fits_its_grid_and_always_shows_the_chosen_point(
    points: list[tuple[str, float, float]],
) -> None:
    objectives = [Objective("quality", "maximize"), Objective("cost", "minimize")]
    pts = [
        Point(i, kind, {"quality": y, "cost": x}, {})  # type: ignore[arg-type]
        for i, (kind, x, y) in enumerate(points)
    ]
    lines = text_scatter(pts, objectives, width=40, height=10)
    if not pts:
        assert lines == ["(no scored trial to plot)"]
        return
    grid = lines[1:11]
    assert all(len(line.split("|", 1)[1]) == 40 for line in grid)
    plotted = "".join(line.split("|", 1)[1] for line in grid)
    assert ("*" in plotted) == any(kind == "chosen" for kind, _, _ in points)
    assert set(plotted) <= {" ", *MARKS.values()}


def test_proposals_that_echo_the_prompt_or_ramble_are_not_usable() -> None:
    assert usable("Identify the single intent that best matches the request.")
    assert usable("Classify the user's request into exactly one intent, reading it literally.")
    assert not usable("")
    assert not usable(SYSTEM)
    assert not usable(STYLES[1].upper())
    assert not usable("word " * (MAX_WORDS + 1))
    assert clean('```\nInstruction: "Pick one label."\n```') == "Pick one label."
    assert clean("### New instruction\nName the intent.") == "Name the intent."
