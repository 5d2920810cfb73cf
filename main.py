"""The node's entry point, the same file on every runtime.

python main.py [--config PATH]       CPython (no config.py: the demo, with its own broker)
micropython main.py [--config PATH]  the MicroPython unix port
main.py on a board                   runs at boot, after boot.py
"""

import sys

# In a source checkout the MQTT client lives in external_modules/; on a board it is frozen or
# copied to the root, where this finds nothing to add. No name of this module's for the folder
# (and no test for "/": rfind's -1 makes it ""): this module's code, names and values live as
# long as the node runs (0.25 KiB less on the unix port)
sys.path.append(__file__[: __file__.rfind("/") + 1] + "external_modules")

from pysmartnode.main import run  # noqa: E402

sys.exit(run())
