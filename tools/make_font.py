"""Write the SSD1306 component's glyph module from the drawing in tools/ssd1306_font.txt.

    python3 tools/make_font.py           # (re)write pysmartnode/components/devices/ssd1306_font.py
    python3 tools/make_font.py --check   # exit 1 if the module is not what the drawing makes

The drawing holds ASCII 32..126 in order, 5 columns by 8 rows each, '@' on and '.' off, in
blocks of glyphs side by side; the module holds them as 5 bytes a glyph, a byte a column left to
right, bit 0 the top row: the page layout (MONO_VLSB) the controller shows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DRAWING = REPO / "tools" / "ssd1306_font.txt"
MODULE = REPO / "pysmartnode" / "components" / "devices" / "ssd1306_font.py"
FIRST, LAST = 32, 126
WIDE, TALL = 5, 8


class DrawingError(ValueError):
    pass


def parse(text: str) -> list[list[str]]:
    """The glyphs of a drawing, each a list of 8 rows of 5 '@'/'.' characters, in order."""
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(rows) % TALL:
        raise DrawingError("%d glyph rows: not whole blocks of %d" % (len(rows), TALL))
    glyphs = []
    for start in range(0, len(rows), TALL):
        cells = [row.split(" ") for row in rows[start : start + TALL]]
        if len({len(c) for c in cells}) != 1:
            raise DrawingError("block at glyph %d: rows of different lengths" % len(glyphs))
        for i in range(len(cells[0])):
            glyph = [c[i] for c in cells]
            if any(len(r) != WIDE or set(r) - {"@", "."} for r in glyph):
                raise DrawingError("glyph %d: rows must be 5 of '@' or '.'" % len(glyphs))
            glyphs.append(glyph)
    if len(glyphs) != LAST - FIRST + 1:
        raise DrawingError("%d glyphs, want %d (ASCII 32..126)" % (len(glyphs), LAST - FIRST + 1))
    return glyphs


def columns(glyph: list[str]) -> bytes:
    """A glyph's 5 column bytes, bit r set where row r is on."""
    return bytes(sum(1 << r for r in range(TALL) if glyph[r][c] == "@") for c in range(WIDE))


def render(glyphs: list[list[str]]) -> str:
    data = b"".join(columns(g) for g in glyphs)
    lines = []
    for start in range(0, len(data), 20):
        lines.append('    b"%s"' % "".join("\\x%02x" % b for b in data[start : start + 20]))
    return (
        "# Made by tools/make_font.py from tools/ssd1306_font.txt: do not edit.\n"
        "# The SSD1306 component's glyphs for ASCII 32..126, loaded only where there is no\n"
        "# framebuf: 5 bytes a glyph, a byte a column left to right, bit 0 the top row.\n"
        "GLYPHS = (\n%s\n)\n" % "\n".join(lines)
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check it is up to date")
    args = parser.parse_args(argv)
    try:
        wanted = render(parse(DRAWING.read_text()))
    except DrawingError as e:
        print("make_font: %s: %s" % (DRAWING.relative_to(REPO), e))
        return 1
    current = MODULE.read_text() if MODULE.exists() else None
    if args.check:
        if current != wanted:
            print("make_font: out of date: %s: run `python3 tools/make_font.py`" % MODULE.name)
            return 1
        return 0
    if current != wanted:
        MODULE.write_text(wanted)
        print("make_font: wrote %s" % MODULE.relative_to(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
