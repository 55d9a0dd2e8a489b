"""Widths and keys shared by the mobile blocks (MBConv, Fused-MBConv)."""

from __future__ import annotations

from search_space.layers.widths import make_divisible
from search_space.options import Option

WIDTH_BASES = ("input", "output")


def mobile_options(*, expansion_note: str = "") -> dict[str, Option]:
    """The keys every mobile block reads about its inner width and squeeze-excite."""
    return {
        "expansion": Option(
            float,
            4,
            "inner width / the width named by expansion_from" + expansion_note,
            minimum=1,
        ),
        "expansion_from": Option(
            str,
            "output",
            "expansion multiplies the block's input (EfficientNet) or output (CoAtNet)",
            choices=WIDTH_BASES,
        ),
        "divisor": Option(
            int,
            1,
            "round inner widths to a multiple of this (8 in MobileNet), never more than 10% "
            "down; 1 = round(). Rounds the squeeze-excite width too, but only with "
            "se_from: expanded",
            minimum=1,
        ),
        "se": Option(
            float,
            0.25,
            "squeeze-excite ratio of the width se_from names: the block output by default "
            "(bottleneck's se is of its input); 0 turns it off",
            minimum=0,
            maximum=1,
        ),
        "se_from": Option(
            str,
            "output",
            "squeeze-excite width = se x this width: block input, output, or expanded (inner; "
            "rounded to divisor, as MobileNetV3). When it names expansion_from's width it is "
            "round(se x inner / expansion), as EfficientNet",
            choices=("input", "output", "expanded"),
        ),
        "se_act": Option(str, "silu", "squeeze-excite activation", choices=("relu", "silu")),
        "se_gate": Option(
            str, "sigmoid", "squeeze-excite gate", choices=("sigmoid", "hard_sigmoid")
        ),
    }


def inner_width(in_chs: int, out_chs: int, expansion: float, base: str, divisor: int) -> int:
    """The expanded width: expansion x the input or output width, rounded to `divisor`."""
    return make_divisible((in_chs if base == "input" else out_chs) * expansion, divisor)


def se_width(in_chs: int, out_chs: int, mid: int, options: dict, *, divisor: int) -> int:
    """Squeeze-excite width. From the width the expansion names it is se * mid / expansion
    (EfficientNet's rounding); from the expanded width it is rounded to `divisor`
    (MobileNetV3); otherwise se times the named width."""
    se, source, expansion = options["se"], options["se_from"], options["expansion"]
    if source == "expanded":
        return make_divisible(se * mid, divisor)
    if source == options["expansion_from"]:
        return max(1, round(se * mid / expansion))
    return max(1, round(se * (in_chs if source == "input" else out_chs)))
