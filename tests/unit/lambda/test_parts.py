"""Cutting an artifact into parts (pure, no AWS)."""

from __future__ import annotations

import pytest
from parts import MAX_PARTS, MIB, MIN_PART_SIZE, part_count, part_length, part_number, part_size_for


@pytest.mark.parametrize(
    ("size", "part_size"),
    [
        (0, MIN_PART_SIZE),
        (MIN_PART_SIZE, MIN_PART_SIZE),
        (MIN_PART_SIZE * MAX_PARTS, MIN_PART_SIZE),
        (MIN_PART_SIZE * MAX_PARTS + 1, MIN_PART_SIZE + MIB),
    ],
    ids=["empty", "one-part", "largest-at-8-MiB", "just-beyond"],
)
def test_parts_are_8_mib_until_s3s_10000_parts_need_more(size: int, part_size: int) -> None:
    # GIVEN / WHEN / THEN parts grow by whole MiBs only when 10,000 of 8 MiB are not enough
    assert part_size_for(size) == part_size
    assert part_count(size, part_size_for(size)) <= MAX_PARTS


def test_the_last_part_may_be_short_and_an_empty_artifact_is_one_part() -> None:
    # GIVEN a 17-byte artifact cut into 8-byte parts
    # WHEN / THEN it has three parts, numbered from 1, the last one byte long
    assert part_count(17, 8) == 3
    assert [part_number(offset, 8) for offset in (0, 8, 16)] == [1, 2, 3]
    assert [part_length(offset, 17, 8) for offset in (0, 8, 16)] == [8, 8, 1]
    assert part_count(0, 8) == 1
