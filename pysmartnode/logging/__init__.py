# Lazy table, as micropython's asyncio has: the logger module loads on first use
_attrs = {
    "getLogger": "logger",
    "DEBUG": "logger",
    "INFO": "logger",
    "WARNING": "logger",
    "ERROR": "logger",
    "CRITICAL": "logger",
}


def __getattr__(attr):
    module = _attrs.get(attr)
    try:
        # MicroPython resolves `from pysmartnode.logging import logger` through here too
        value = __import__(module or attr, globals(), None, [], 1)
    except ImportError:
        raise AttributeError(attr) from None
    if module:
        value = getattr(value, attr)
    globals()[attr] = value
    return value
