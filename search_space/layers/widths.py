"""Channel rounding shared by the mobile blocks."""

from __future__ import annotations


def make_divisible(value: float, divisor: int = 8) -> int:
    """`value` rounded to a multiple of `divisor`, never more than 10% below it
    (MobileNetV2's rule, which EfficientNet and MobileNetV3 keep). Divisor 1 is round()."""
    if divisor <= 1:
        return max(1, round(value))
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded
