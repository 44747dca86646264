"""Synthetic people for sandboxes and demos: realistic, valid in format, and fake.

Names are common surnames and given names; phone numbers come from the
1390000xxxx block and ID numbers (GB 11643) carry the region code 999999,
which no administrative division has - so every one passes format checks and
none can belong to a real person. Rows built from them are marked ``synthetic``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静磊洋艳勇军杰娟涛明超秀英华平刚桂兰玉萍红建国志强丽霞"
#: Not an administrative division (GB/T 2260): marks an ID number as synthetic.
SYNTHETIC_REGION = "999999"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_check_character(first17: str) -> str:
    """GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def is_synthetic_id_number(value: str) -> bool:
    return value.startswith(SYNTHETIC_REGION)


@dataclass(frozen=True)
class Person:
    name: str
    phone: str
    id_number: str


class SyntheticPeople:
    """A reproducible stream of fake people with distinct phone numbers."""

    def __init__(self, *, seed: int, phone_block: int = 0) -> None:
        self.rng = random.Random(seed)
        self.n = phone_block

    def next(self) -> Person:
        rng = self.rng
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
        first17 = f"{SYNTHETIC_REGION}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
        phone = f"1390000{self.n % 10000:04d}"
        self.n += 1
        return Person(name, phone, first17 + id_check_character(first17))
