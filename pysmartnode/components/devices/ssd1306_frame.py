"""The few framebuf calls the SSD1306 component makes (`fill`, `text`), for runtimes without
MicroPython's `framebuf` (CPython, ports built without it): a page-format (MONO_VLSB) buffer,
a byte a column of 8 rows, bit 0 on top, and this project's 5x8 glyphs in 8x8 cells
(ssd1306_font.py). Characters outside ASCII 32..126 show as `?`. Loaded only where framebuf is
missing, so boards with framebuf never import it.
"""

from pysmartnode.components.devices.ssd1306_font import GLYPHS


class Frame:
    def __init__(self, buffer, width, height):
        if len(buffer) < width * ((height + 7) // 8):
            raise ValueError("buffer too small for %dx%d" % (width, height))
        self._buffer, self._width, self._pages = buffer, width, (height + 7) // 8

    def fill(self, color):
        byte = 0xFF if color else 0
        buf = self._buffer
        for i in range(self._width * self._pages):
            buf[i] = byte

    def text(self, text, x, y, color=1):
        """Draws text from (x, y), the top left corner of its first 8x8 cell; no wrapping."""
        page, shift = y >> 3, y & 7  # the rows may straddle two pages
        for n, char in enumerate(text):
            code = ord(char)
            start = ((code if 32 <= code <= 126 else 63) - 32) * 5
            for c in range(5):
                column = x + n * 8 + 1 + c  # one empty column before the glyph, two after
                if 0 <= column < self._width:
                    bits = GLYPHS[start + c] << shift
                    self._put(page, column, bits & 0xFF, color)
                    self._put(page + 1, column, bits >> 8, color)

    def _put(self, page, column, bits, color):
        if bits and 0 <= page < self._pages:
            i = page * self._width + column
            self._buffer[i] = self._buffer[i] | bits if color else self._buffer[i] & ~bits & 0xFF
