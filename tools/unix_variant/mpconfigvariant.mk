# The unix-port variant tools/firmware.py builds (mpconfigvariant.h says why): the standard
# variant's settings; the frozen manifest is given on make's command line.
include variants/standard/mpconfigvariant.mk
