"""The unified social credit code (统一社会信用代码) of GB 32100-2015.

An 18-character code identifies every legal entity in China:

=========  ====================================================================
position   meaning
=========  ====================================================================
1          registration authority (登记管理部门代码)
2          entity category (机构类别代码)
3-8        administrative division of the registering office (GB/T 2260)
9-17       entity identifier (主体标识码, the GB 11714 organization code)
18         check character (校验码), GB 32100-2015 section 4.3
=========  ====================================================================

The code's alphabet is the digits and the capital letters except I, O, S, V
and Z (GB 32100-2015 table 1, so that no character can be misread for another).
"""

from __future__ import annotations

import re

#: GB 32100-2015 table 1: the 31 characters, in the order of their values 0..30.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
#: GB 32100-2015 section 4.3: the weight of position i is 3^(i-1) mod 31.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_SHAPE = re.compile(rf"^[{ALPHABET}]{{2}}[0-9]{{6}}[{ALPHABET}]{{10}}$")


class InvalidCreditCode(ValueError):
    """The text is not a unified social credit code; the message says why."""


def check_character(first17: str) -> str:
    """The check character for the first 17 characters.

    GB 32100-2015 section 4.3: C18 = 31 - MOD(sum(Ci x Wi), 31), where a result of
    31 is written as 0.
    """
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise InvalidCreditCode("expects 17 characters of the code's alphabet")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def complete(first17: str) -> str:
    """The full code: ``first17`` followed by its check character."""
    return first17 + check_character(first17)


def validate(code: str) -> str:
    """Return ``code`` normalized (trimmed, upper case) or raise :class:`InvalidCreditCode`.

    The message is bilingual and says what is wrong, for a person to correct it.
    """
    text = code.strip().upper()
    if len(text) != 18:
        raise InvalidCreditCode(
            f"统一社会信用代码应为 18 位，实际 {len(text)} 位 / "
            f"a unified social credit code has 18 characters, got {len(text)}"
        )
    bad = sorted({ch for ch in text if ch not in _VALUE})
    if bad:
        raise InvalidCreditCode(
            f"包含不允许的字符 {''.join(bad)}（不使用 I、O、S、V、Z）/ "
            f"contains characters not in the code's alphabet: {''.join(bad)} "
            "(I, O, S, V and Z are never used)"
        )
    if not _SHAPE.match(text):
        raise InvalidCreditCode(
            "第 3 至 8 位应为行政区划代码（数字）/ "
            "positions 3 to 8 must be the administrative division code (digits)"
        )
    expected = check_character(text[:17])
    if text[17] != expected:
        raise InvalidCreditCode(
            f"校验码错误：第 18 位应为 {expected}，实际为 {text[17]} / "
            f"wrong check character: position 18 should be {expected}, not {text[17]}"
        )
    return text


def is_valid(code: str) -> bool:
    try:
        validate(code)
    except InvalidCreditCode:
        return False
    return True
