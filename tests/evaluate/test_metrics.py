"""The field metrics of LANGUAGE.md §5: examples for each rule, and their laws as properties."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dspx_lang.ir import schema as ir
from dspx_lang.runtime.metrics import (
    as_text,
    contains,
    exact_match,
    f1,
    last_number,
    numeric_match,
    objectives_of,
)

texts = st.text(max_size=40)
values = st.one_of(
    texts, st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans()
)


class Intent(StrEnum):
    get_weather = "get_weather"


# ----------------------------------------------------------------------------- exact_match


@pytest.mark.parametrize(
    ("predicted", "expected"),
    [
        ("Paris", "paris"),
        ("  Paris\n", "Paris"),
        (Intent.get_weather, "get_weather"),
        (3, "3"),
        (3.0, "3"),
        (True, "true"),
        (["a", "b"], ["a", "b"]),
    ],
)
def test_exact_match_ignores_case_and_surrounding_space(
    predicted: object, expected: object
) -> None:
    assert exact_match(predicted, expected) == 1.0


@pytest.mark.parametrize(
    ("predicted", "expected"),
    [("New York", "NewYork"), ("Paris.", "Paris"), (3.5, "3"), (["a", "b"], ["b", "a"])],
)
def test_exact_match_keeps_everything_else(predicted: object, expected: object) -> None:
    assert exact_match(predicted, expected) == 0.0


@given(values, values)
def test_exact_match_is_symmetric(a: object, b: object) -> None:
    assert exact_match(a, b) == exact_match(b, a)


@given(values)
def test_exact_match_is_reflexive(a: object) -> None:
    assert exact_match(a, a) == 1.0


@given(texts)
def test_exact_match_ignores_case_and_padding_of_any_text(text: str) -> None:
    assert exact_match(f"  {text.upper()}\t", text.lower()) == exact_match(
        text.upper(), text.lower()
    )


# --------------------------------------------------------------------------------------- f1


def test_f1_is_squad_token_f1() -> None:
    # tokens: [cat, sat] vs [cat, sat, on, mat] -> precision 1, recall 1/2
    assert f1("The cat sat.", "a cat sat on the mat") == pytest.approx(2 / 3)
    assert f1("Paris", "paris!") == 1.0
    assert f1("London", "Paris") == 0.0
    assert f1("", "") == 1.0
    assert f1("the", "") == 1.0  # only an article: no tokens on either side
    assert f1("Paris", "") == 0.0


@given(texts, texts)
def test_f1_is_in_unit_interval_and_symmetric(a: str, b: str) -> None:
    assert 0.0 <= f1(a, b) <= 1.0
    assert f1(a, b) == pytest.approx(f1(b, a))


@given(texts)
def test_f1_of_a_text_with_itself_is_one(a: str) -> None:
    assert f1(a, a) == 1.0


# --------------------------------------------------------------------------------- contains


def test_contains_folds_case_and_whitespace() -> None:
    assert contains("The answer is  New\nYork.", "new york") == 1.0
    assert contains("Paris", "Paris, France") == 0.0
    assert contains(["red", "green"], "green") == 1.0


@given(texts, texts, texts)
def test_contains_finds_any_part_of_a_text(before: str, part: str, after: str) -> None:
    assert contains(before + part + after, part) == 1.0


# ---------------------------------------------------------------------------- numeric_match


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("The answer is 42.", "42"),
        ("$1,234.50 in all", "1234.5"),
        ("from 3 to -7", "-7"),
        ("it is \u22122.5 degrees", "-2.5"),
        ("5-3", "3"),
        ("1,2,3", "3"),
        ("about 1e3 people", "1000"),
        ("50% of .5", "0.5"),
        ("version v1.2", "1.2"),
        (72, "72"),
        (0.25, "0.25"),
    ],
)
def test_last_number_reads_the_last_number(text: object, number: str) -> None:
    assert last_number(text) == Decimal(number)


@pytest.mark.parametrize("text", ["no numbers", "", "-", "."])
def test_last_number_is_none_without_digits(text: str) -> None:
    assert last_number(text) is None


def test_numeric_match_compares_the_last_numbers() -> None:
    assert numeric_match("So she has 1,200 dollars.", "1200") == 1.0
    assert numeric_match("12 minus 2 is 10", 10) == 1.0
    assert numeric_match("10.50", "10.5") == 1.0
    assert numeric_match("10 then 11", "10") == 0.0
    assert numeric_match("none", "10") == 0.0


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=0, max_value=99),
    st.sampled_from(["{:,}", "{}"]),
    st.sampled_from(["", "The answer is ", "so $"]),
    st.sampled_from(["", ".", " dollars", "!"]),
)
def test_numeric_match_ignores_how_a_number_is_written(
    whole: int, cents: int, style: str, prefix: str, suffix: str
) -> None:
    sign = "-" if whole < 0 else ""
    digits = style.format(abs(whole))
    written = f"{prefix}{sign}{digits}.{cents:02d}0{suffix}"
    plain = Decimal(whole) + (Decimal(cents) / 100 if whole >= 0 else -Decimal(cents) / 100)
    assert numeric_match(written, str(plain)) == 1.0
    assert numeric_match(str(plain), written) == 1.0


@given(values, values)
def test_numeric_match_is_symmetric(a: object, b: object) -> None:
    assert numeric_match(a, b) == numeric_match(b, a)


# ------------------------------------------------------------------------------ objectives


def test_objective_weights_are_normalised_and_names_are_as_written() -> None:
    decls = (
        ir.ObjectiveDecl(direction="maximize", metric="exact_match", field="intent", weight=3.0),
        ir.ObjectiveDecl(direction="maximize", metric="metric", target="m:f", weight=1.0),
        ir.ObjectiveDecl(direction="minimize", metric="cost", weight=1.0),
    )
    objectives = objectives_of(decls)
    assert [o.name for o in objectives] == ["exact_match(intent)", 'metric("m:f")', "cost"]
    assert [o.weight for o in objectives] == [0.6, 0.2, 0.2]
    assert [o.measured for o in objectives] == [False, False, True]


def test_as_text_shows_data_canonically() -> None:
    assert as_text({"b": 1, "a": [Intent.get_weather]}) == '{"a":["get_weather"],"b":1}'
    assert as_text(None) == ""
