# Freeze pysmartnode and its MQTT client into a MicroPython firmware, so that their code costs
# no RAM (the only way to run a node on an ESP8266). From the MicroPython port's directory:
#     make BOARD=ESP8266_GENERIC FROZEN_MANIFEST=<this repository>/tools/manifest.py
# For the unix port use tools/manifest_unix.py (or `python3 tools/firmware.py`, which does it).
# main.py, boot.py and your config.py stay on the board's filesystem, copied with mpremote
# (tools/deploy.py). The modules frozen are tools/device_modules.py's list: host-only modules
# (the demo broker, the CPython platform) are left out, as tools/build.py leaves them out.
# Its data files (the HTTP component's page) are frozen as modules holding their bytes, written
# to build/frozen-data/ in this repository.
import os
import sys

options.defaults(board=True)
if options.board:
    include("$(PORT_DIR)/boards/manifest.py")  # the board's own frozen modules (asyncio among them)

sys.path.insert(0, os.getcwd())  # the build runs a manifest from its own folder: tools/
from device_modules import REPO, device_sources, package_files, write_data_modules  # noqa: E402

package("pysmartnode", files=package_files("pysmartnode"), base_path="..")
package("mqtt_as", files=package_files("mqtt_as"), base_path="../external_modules")
data = REPO / "build" / "frozen-data"
for path in write_data_modules(data):
    module(path, base_path=str(data))


# Every dotted module name as a static qstr. MicroPython interns a module's full name, each of
# its parents' and each level's name (`networking`) in the heap at its import unless the string
# is a qstr already (a relative import, `from pkg import sub`, `__import__` of a built name;
# an absolute `import a.b.c` only has its full name compiled in). A frozen module's qstrs all go
# to the firmware's qstr pool, so this module (never imported, never run) puts the names there
# and spares the heap ~20 qstrs (a pool of 20 entries is 288 B, the next 40 ~0.5 KiB, then 80).
ASYNCIO = ("asyncio.core", "asyncio.event", "asyncio.funcs", "asyncio.lock", "asyncio.stream")


def write_names(target):
    names = set(ASYNCIO)
    for _, rel in device_sources():
        names.add(rel[: -len("/__init__.py")] if rel.endswith("/__init__.py") else rel[:-3])
    names = {n.replace("/", ".") for n in names}
    lines = ["# Made by tools/manifest.py: do not edit (the frozen firmware's module names)"]
    lines.append("def _names():")
    for name in sorted(names):
        lines.append("    import " + name)
        if "." in name:
            parent, leaf = name.rsplit(".", 1)
            lines.append("    from %s import %s" % (parent, leaf))
    text = "\n".join(lines) + "\n"
    if not target.exists() or target.read_text() != text:
        staging = target.with_suffix(".tmp")
        staging.write_text(text)
        staging.replace(target)  # a concurrent freeze never reads half a module


write_names(data / "_frozen_names.py")
module("_frozen_names.py", base_path=str(data))
