# Freeze pysmartnode and its MQTT client into a MicroPython firmware, so that their code costs
# no RAM (the only way to run a node on an ESP8266). From the MicroPython port's directory:
#     make BOARD=ESP8266_GENERIC FROZEN_MANIFEST=<this repository>/tools/manifest.py
# Paths below are relative to this file. main.py, boot.py and your config.py stay on the board's
# filesystem, copied with mpremote.

include("$(PORT_DIR)/boards/manifest.py")  # the board's own frozen modules (asyncio among them)

package("pysmartnode", base_path="..")
package("mqtt_as", base_path="../external_modules")
