"""devices/ssd1306 without framebuf (CPython): the component draws its lines with the project's
own glyphs (ssd1306_frame.py, ssd1306_font.py), the fake SSD1306 receives them over the fake
I2C bus, and the tests read the fake's RAM back into text with the glyphs of the drawing
tools/ssd1306_font.txt (not the module under test). On the unix port framebuf draws, as before,
and the fallback is never imported."""

from __future__ import annotations

import subprocess
import sys

import pytest
from harness import REPO, micropython_path
from test_devices import bus, display, parts, run  # noqa: F401  (bus, parts: fixtures)

DRAWING = REPO / "tools" / "ssd1306_font.txt"
PRINTABLE = "".join(chr(c) for c in range(32, 127))


def drawn_cells() -> dict[bytes, str]:
    """{the 8 column bytes of a character's 8x8 cell: the character}, from the drawing."""
    rows = [r for r in DRAWING.read_text().splitlines() if r.strip() and not r.startswith("#")]
    cells = []
    for start in range(0, len(rows), 8):
        block = [row.split() for row in rows[start : start + 8]]
        for i in range(len(block[0])):
            columns = [sum(1 << r for r in range(8) if block[r][i][c] == "@") for c in range(5)]
            cells.append(bytes([0, *columns, 0, 0]))  # an empty column before, two after
    assert len(cells) == len(PRINTABLE)
    return {cell: PRINTABLE[i] for i, cell in enumerate(cells)}


def read_back(ram: bytes | bytearray) -> list[str]:
    """The 8 text lines of a 128x64 page-format RAM (a cell it cannot read shows as '¿')."""
    cells = drawn_cells()
    lines = []
    for page in range(8):
        row = ram[page * 128 : (page + 1) * 128]
        lines.append("".join(cells.get(bytes(row[n * 8 : n * 8 + 8]), "¿") for n in range(16)))
    return [line.rstrip() for line in lines]


def test_ssd1306_on_cpython_shows_the_labelled_values_in_its_ram(parts, bus):  # noqa: F811
    oled = display(parts, "ssd1306", [21.456, None, -3], labels=["Air", "Water", "Frost"],
                   decimals=2)  # fmt: skip
    run(oled.refresh())
    chip = bus._chips[60]
    assert chip.on
    assert read_back(chip.ram) == ["Air 21.46", "Water --", "Frost -3.00", "", "", "", "", ""]
    oled._lines[1][0].next = 7  # the next frame replaces the whole screen
    oled._lines[0] = (oled._lines[0][0], "temperature", "A label longer than 16")
    run(oled.refresh())
    assert read_back(chip.ram) == ["A label longer t", "Water 7.00", "Frost -3.00"] + [""] * 5


def test_every_printable_character_has_a_glyph_of_its_own():
    from pysmartnode.components.devices.ssd1306_font import GLYPHS
    from pysmartnode.components.devices.ssd1306_frame import Frame

    glyphs = [GLYPHS[i * 5 : i * 5 + 5] for i in range(len(PRINTABLE))]
    assert len(GLYPHS) == 5 * len(PRINTABLE)
    assert len(set(glyphs)) == len(PRINTABLE)
    assert [c for c, g in zip(PRINTABLE, glyphs, strict=True) if not any(g)] == [" "]
    buffer = bytearray(1024)
    frame = Frame(buffer, 128, 64)
    lines = [PRINTABLE[i : i + 16] for i in range(0, len(PRINTABLE), 16)]
    for row, text in enumerate(lines):
        frame.text(text, 0, row * 8, 1)
    assert read_back(buffer) == [line.rstrip() for line in lines] + ["", ""]
    frame.fill(0)
    frame.text("é\x7f\tä", 0, 0, 1)  # outside ASCII 32..126
    assert read_back(buffer)[0] == "????"


def test_the_glyph_module_is_what_the_drawing_makes():
    done = subprocess.run([sys.executable, str(REPO / "tools" / "make_font.py"), "--check"],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_fallback_text_between_pages_clipped_and_in_color_0():
    from pysmartnode.components.devices.ssd1306_frame import Frame

    buffer = bytearray(1024)
    frame = Frame(buffer, 128, 64)
    frame.text("H", 0, 11, 1)  # rows 11..18: straddles pages 1 and 2
    h = next(cell for cell, char in drawn_cells().items() if char == "H")
    assert [buffer[128 + c] | buffer[256 + c] << 8 for c in range(8)] == [b << 3 for b in h]
    assert not any(buffer[:128]) and not any(buffer[384:])
    frame.text("WW", 120, 60, 1)  # mostly off the screen: clipped, no IndexError
    frame.fill(1)
    frame.text("H", 0, 0, 0)  # color 0 clears the glyph's pixels only
    assert bytes(buffer[:8]) == bytes(0xFF & ~b for b in h)
    with pytest.raises(ValueError):
        Frame(bytearray(100), 128, 64)


_UNIX = """
import sys, asyncio
from pysmartnode.components.devices.ssd1306 import SSD1306
class S:
    name = "s"
    sensor_types = ["temperature"]
    def getTopic(self, t):
        return "x"
    async def getValue(self, t):
        return 20.5
oled = SSD1306("oled", 21, 22, [S()], labels=["Air"])
asyncio.run(oled.refresh())
print(type(oled._frame).__name__, [m for m in sys.modules if "ssd1306_f" in m] == [])
from pysmartnode.components.devices.ssd1306_frame import Frame
b = bytearray(1024)
f = Frame(b, 128, 64)
for i, t in enumerate(%r):
    f.text(t, 0, i * 8 + i, 1)
print("".join("%%02x" %% x for x in b))
"""


def test_unix_port_draws_with_framebuf_and_the_fallback_draws_as_on_cpython():
    """framebuf on the unix port, the fallback not loaded by the component; the fallback module
    itself (for a port without framebuf) makes the same bytes there as on CPython."""
    from pysmartnode.components.devices.ssd1306_frame import Frame

    lines = [PRINTABLE[i : i + 16] for i in range(0, len(PRINTABLE), 16)]
    roots = [str(REPO), str(REPO / "external_modules"), str(REPO / "tests" / "fakes")]
    done = subprocess.run([micropython_path(), "-c", _UNIX % (lines,)], capture_output=True,
                          text=True, timeout=60, env={"MICROPYPATH": ":".join([".frozen", *roots])},
                          )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    drawn_with, frame = done.stdout.split()[:-1], done.stdout.split()[-1]
    assert drawn_with == ["FrameBuffer", "True"]
    want = bytearray(1024)
    for i, text in enumerate(lines):
        Frame(want, 128, 64).text(text, 0, i * 8 + i, 1)  # rows 9 apart: across pages
    assert bytes.fromhex(frame) == want
