# Lazy, as micropython's asyncio is: the logger module loads on first use. The names it answers
# for are a tuple constant in the code (in the firmware when frozen), not a dict on the heap


def __getattr__(attr):
    of_logger = attr in ("getLogger", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    try:
        # MicroPython resolves `from pysmartnode.logging import logger` through here too
        value = __import__("logger" if of_logger else attr, globals(), None, [], 1)
    except ImportError:
        raise AttributeError(attr) from None
    if of_logger:
        value = getattr(value, attr)
    globals()[attr] = value
    return value
