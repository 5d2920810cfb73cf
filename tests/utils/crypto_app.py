# Runs the device crypto on cases from a JSON file (argv[1]) and prints one line per result.
# Runs on CPython and the MicroPython unix port alike.
import json
import sys
from binascii import hexlify, unhexlify

from pysmartnode.utils import canonical, hmac_sha256, signing

with open(sys.argv[1], "rb") as f:
    cases = json.loads(f.read().decode())
for i, (key, msg) in enumerate(cases["hmac"]):
    print("hmac", i, hmac_sha256.hexdigest(unhexlify(key), unhexlify(msg)).decode())
for i, (a, b) in enumerate(cases["equal"]):
    print("equal", i, hmac_sha256.equal(a, b))
refused = [{"bad": float("nan")}, [float("-inf")], {1: "key not str"}]
for i, obj in enumerate(cases["canonical"] + refused):
    try:
        print("canon", i, hexlify(canonical.dumps(obj).encode()).decode())
    except (TypeError, ValueError) as e:
        print("canon", i, "error", type(e).__name__)
for i, payload in enumerate(cases["payloads"]):
    try:
        body = signing.unseal(cases["secret"], unhexlify(payload))
        signing.check(body, cases["id"], cases["last_counter"])
        print("unseal", i, "ok", body["counter"])
    except ValueError as e:
        print("unseal", i, "rejected", str(e).split(":")[0])
print("done")
