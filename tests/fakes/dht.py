# A fake of MicroPython's `dht` driver (drivers/dht/dht.py): the same classes and errors, over
# the bytes fake_chips.dht_bytes gives (faults: "etimedout", "crc", "range" for "dht:<pin>").
import fake_chips


class DHTBase:
    _kind = 22

    def __init__(self, pin):
        self.pin = pin
        self.buf = bytearray(5)

    def measure(self):
        self.buf[:] = fake_chips.dht_bytes(self.pin.pin, self._kind)
        buf = self.buf
        if (buf[0] + buf[1] + buf[2] + buf[3]) & 0xFF != buf[4]:
            raise Exception("checksum error")


class DHT11(DHTBase):
    _kind = 11

    def humidity(self):
        return self.buf[0]

    def temperature(self):
        return self.buf[2] + self.buf[3] / 10


class DHT22(DHTBase):
    def humidity(self):
        return (self.buf[0] << 8 | self.buf[1]) * 0.1

    def temperature(self):
        t = ((self.buf[2] & 0x7F) << 8 | self.buf[3]) * 0.1
        if self.buf[2] & 0x80:
            t = -t
        return t
