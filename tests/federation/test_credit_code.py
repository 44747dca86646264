"""The unified social credit code and its GB 32100-2015 check character."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wuye.federation.credit_code import (
    ALPHABET,
    InvalidCreditCode,
    check_character,
    complete,
    is_valid,
    validate,
)

first17 = st.builds(
    lambda head, division, body: head + division + body,
    st.text(ALPHABET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(ALPHABET, min_size=9, max_size=9),
)


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y43", "914403001922038216", "91110000802100433B", "91310000132149237G"],
)
def test_published_codes_of_real_firms_are_valid(code: str) -> None:
    assert validate(code) == code


def test_input_is_trimmed_and_upper_cased() -> None:
    assert validate(" 91350100m000100y43 ") == "91350100M000100Y43"


@given(first17)
def test_a_completed_code_is_always_valid(body: str) -> None:
    assert is_valid(complete(body))


@given(first17, st.sampled_from(ALPHABET))
def test_any_other_check_character_is_refused(body: str, other: str) -> None:
    if other == check_character(body):
        return
    with pytest.raises(InvalidCreditCode, match="wrong check character"):
        validate(body + other)


@given(first17, st.integers(0, 16), st.sampled_from(ALPHABET))
def test_changing_one_character_breaks_the_check(body: str, position: int, char: str) -> None:
    code = complete(body)
    changed = code[:position] + char + code[position + 1 :]
    if changed != code and (position < 2 or position > 7 or char.isdigit()):
        assert not is_valid(changed)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y4", "has 18 characters, got 17"),
        ("91350100M000100I43", "I, O, S, V and Z are never used"),
        ("9135A100M000100Y43", "administrative division"),
    ],
)
def test_malformed_codes_say_what_is_wrong(code: str, message: str) -> None:
    with pytest.raises(InvalidCreditCode, match=message):
        validate(code)
