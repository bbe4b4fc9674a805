"""How an artifact is cut into parts: one part is in memory at a time, and S3 allows 10,000."""

from __future__ import annotations

import math

# Memory holds one part at a time, so this bounds it (at 10,000 parts, S3's limit, artifacts above
# 78 GiB need larger parts). 8 MiB is the AWS CLI's default multipart size.
MIN_PART_SIZE = 8 * 1024 * 1024
MAX_PARTS = 10_000
MIB = 1024 * 1024


def part_size_for(size: int) -> int:
    """MIN_PART_SIZE, or whole MiBs large enough to stay within S3's 10,000 parts."""
    return max(MIN_PART_SIZE, math.ceil(size / MAX_PARTS / MIB) * MIB)


def part_count(size: int, part_size: int) -> int:
    """Parts of `size` bytes: the last may be short, and an empty artifact is one."""
    return max(1, math.ceil(size / part_size))


def part_number(offset: int, part_size: int) -> int:
    """S3's 1-based number of the part starting at offset."""
    return offset // part_size + 1


def part_length(offset: int, size: int, part_size: int) -> int:
    return min(part_size, size - offset)
