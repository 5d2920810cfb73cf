# The freeze manifest for the MicroPython unix port (used by tools/firmware.py): asyncio, which a
# board port's own manifest brings, then pysmartnode and mqtt_as through tools/manifest.py.
#     make -C ports/unix MICROPY_PY_BTREE=0 MICROPY_SSL_MBEDTLS=0 MICROPY_PY_SSL=0 \
#          FROZEN_MANIFEST=<this repository>/tools/manifest_unix.py
include("$(MPY_DIR)/extmod/asyncio")
include("manifest.py", board=False)
