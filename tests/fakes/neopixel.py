# A fake of MicroPython's `neopixel` for tests: each write() is a write of the fake `machine`,
# so it lands in FAKE_MACHINE_LOG as "<pin> pixels r,g,b;r,g,b;..." and fails for a pin listed
# in FAKE_MACHINE_FAULTS (or machine.faults in-process)
import machine


class NeoPixel:
    def __init__(self, pin, n, bpp=3, timing=1):
        self.pin = pin
        self.n = n
        self.bpp = bpp
        self._pixels = [(0,) * bpp] * n

    def __len__(self):
        return self.n

    def __setitem__(self, i, value):
        if len(value) != self.bpp or not all(0 <= c <= 255 for c in value):
            raise ValueError("a pixel is %d values 0..255, got %r" % (self.bpp, value))
        self._pixels[i] = tuple(value)

    def __getitem__(self, i):
        return self._pixels[i]

    def fill(self, value):
        for i in range(self.n):
            self[i] = value

    def write(self):
        text = ";".join(",".join(str(c) for c in p) for p in self._pixels)
        machine._write(self.pin.pin, "pixels", text)
