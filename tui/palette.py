"""A stable colour per runner, the same in every chart, panel title and table.

Chosen near the 16 ANSI colours (blue, yellow, magenta, red, green, cyan) so a
16-colour terminal still tells the runners apart after Rich downgrades them.
"""

from __future__ import annotations

KNOWN = {
    "keras/jax": (66, 135, 245),
    "keras/tensorflow": (240, 180, 40),
    "keras/torch": (200, 90, 220),
    "torch": (230, 70, 60),
    "torch/compile": (60, 190, 100),
}
SPARE = [(40, 190, 200), (170, 170, 170), (150, 110, 60)]


def runner_colours(runners: list[str]) -> dict[str, tuple[int, int, int]]:
    spare = iter(SPARE * len(runners))
    return {name: KNOWN.get(name) or next(spare) for name in runners}


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def faded(rgb: tuple[int, int, int], background: tuple[int, int, int], amount: float = 0.6):
    """The colour moved ``amount`` of the way toward the background: the raw line behind the smoothed one."""
    return tuple(round(c + (b - c) * amount) for c, b in zip(rgb, background))
