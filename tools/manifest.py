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
from device_modules import REPO, package_files, write_data_modules  # noqa: E402

package("pysmartnode", files=package_files("pysmartnode"), base_path="..")
package("mqtt_as", files=package_files("mqtt_as"), base_path="../external_modules")
data = REPO / "build" / "frozen-data"
for path in write_data_modules(data):
    module(path, base_path=str(data))
