"""Inline SVG pictures for the report: per-side pads, and where values differ.

Pictures are schematic: the input is a fixed box and each pad a band whose thickness
grows with the pad, so a one-pixel shift is as visible on a 224x224 input as on 7x7.
A side whose pad differs from the reference's is drawn red; a side the output never
reads (negative consumed pad) is hatched inside the input.
"""

from __future__ import annotations

import math
from html import escape

from .geometry import sides

BOX = 56  # the input, in px
UNIT = 5  # px per padded row, capped
CAP = 25
COLOURS = {"same": "#7fb3d5", "differs": "#e74c3c", "asym": "#f5b041"}


def _band(pad: int) -> int:
    return min(CAP, abs(pad) * UNIT)


def pad_picture(label: str, pads: tuple[int, ...] | None, reference: tuple[int, ...] | None,
                size: tuple[int, ...] | None = None, rank: int = 2) -> str:
    """One adapter's pads (or crops) around the input, against the reference, in axis order
    low before high; a 3-D case draws height and width and writes the depth pads below."""
    margin, width = CAP + 14, BOX + 2 * (CAP + 14)
    names = sides(rank)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{width + 16}" '
             f'role="img" aria-label="pads of {escape(label)}" class="pads">',
             f'<text x="{width / 2}" y="12" text-anchor="middle" class="lbl">{escape(label)}</text>',
             f'<rect x="{margin}" y="{margin + 16}" width="{BOX}" height="{BOX}" fill="#ddd" stroke="#666"/>']
    if size:
        parts.append(f'<text x="{width / 2}" y="{margin + 16 + BOX / 2 + 4}" text-anchor="middle" '
                     f'class="dim">{"x".join(map(str, size))}</text>')
    if pads is None:
        parts.append(f'<text x="{width / 2}" y="{width + 4}" text-anchor="middle" class="dim">not measured</text>')
        return "".join(parts) + "</svg>"
    by_side = dict(zip(names, pads))
    ref_side = dict(zip(names, reference)) if reference is not None else {}
    if "front" in by_side:
        parts.append(f'<text x="{width / 2}" y="{width + 12}" text-anchor="middle" class="dim">depth: front '
                     f'{by_side["front"]}, back {by_side["back"]}</text>')
    opposite = {"top": "bottom", "bottom": "top", "left": "right", "right": "left"}
    x0, y0 = margin, margin + 16
    for side in ("top", "bottom", "left", "right"):
        if side not in by_side:
            continue
        pad = by_side[side]
        asymmetric = pad != by_side[opposite[side]]
        differs = side in ref_side and pad != ref_side[side]
        colour = COLOURS["differs"] if differs else COLOURS["asym"] if asymmetric else COLOURS["same"]
        band = _band(pad)
        inside = pad < 0
        rect = {
            "top": (x0, y0 - band if not inside else y0, BOX, band),
            "bottom": (x0, y0 + BOX if not inside else y0 + BOX - band, BOX, band),
            "left": (x0 - band if not inside else x0, y0, band, BOX),
            "right": (x0 + BOX if not inside else x0 + BOX - band, y0, band, BOX),
        }[side]
        fill = "url(#hatch)" if inside else colour
        if band:
            parts.append(f'<rect x="{rect[0]}" y="{rect[1]}" width="{rect[2]}" height="{rect[3]}" fill="{fill}" '
                         f'stroke="{colour}" stroke-width="{2 if differs else 1}"><title>{side}: {pad}</title></rect>')
        tx, ty = {"top": (x0 + BOX / 2, y0 - band - 3), "bottom": (x0 + BOX / 2, y0 + BOX + band + 11),
                  "left": (x0 - band - 3, y0 + BOX / 2 + 4), "right": (x0 + BOX + band + 3, y0 + BOX / 2 + 4)}[side]
        if inside:
            tx, ty = {"top": (x0 + BOX / 2, y0 - 3), "bottom": (x0 + BOX / 2, y0 + BOX + 11),
                      "left": (x0 - 3, y0 + BOX / 2 + 4), "right": (x0 + BOX + 3, y0 + BOX / 2 + 4)}[side]
        anchor = {"left": "end", "right": "start"}.get(side, "middle")
        weight = ' font-weight="bold" fill="#c0392b"' if differs else ""
        parts.append(f'<text x="{tx}" y="{ty}" text-anchor="{anchor}" class="num"{weight}>{pad}</text>')
    return "".join(parts) + "</svg>"


def hatch_defs() -> str:
    """The hatch pattern for unread input rows, defined once per page."""
    return ('<svg width="0" height="0" style="position:absolute"><defs><pattern id="hatch" width="4" height="4" '
            'patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" fill="#fdecea"/>'
            '<line x1="0" y1="0" x2="0" y2="4" stroke="#e74c3c" stroke-width="1.5"/></pattern></defs></svg>')


def heat_map(grid: str, label: str) -> str:
    """A coarse map of |y - ref| / bound over output rows x columns (red where above 1)."""
    rows = [[float(v) for v in line.split()] for line in grid.split("/") if line.strip()]
    if not rows:
        return ""
    cell = max(6, min(16, 160 // max(len(rows), len(rows[0]))))
    width, height = cell * len(rows[0]), cell * len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{max(width + 2, 190)}" height="{height + 18}" '
             f'role="img" aria-label="value differences of {escape(label)}" class="heat">',
             f'<text x="0" y="11" class="lbl">{escape(label)}: |y - ref| / bound</text>',
             f'<rect x="0.5" y="15.5" width="{width + 1}" height="{height + 1}" fill="none" stroke="#999"/>']
    for r, line in enumerate(rows):
        for c, value in enumerate(line):
            parts.append(f'<rect x="{1 + c * cell}" y="{16 + r * cell}" width="{cell}" height="{cell}" '
                         f'fill="{_heat_colour(value)}"><title>{value:.3g}</title></rect>')
    return "".join(parts) + "</svg>"


def _heat_colour(ratio: float) -> str:
    """White at 0, amber near the bound, red at 10x the bound and beyond (log scale)."""
    if not ratio or math.isnan(ratio):
        return "#ffffff"
    level = max(0.0, min(1.0, (math.log10(ratio) + 2) / 3)) if ratio != math.inf else 1.0
    red, green, blue = 255, int(255 - 200 * level), int(255 - 240 * level)
    return f"#{red:02x}{green:02x}{blue:02x}"
