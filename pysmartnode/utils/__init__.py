"""Small helpers the parts of the node share."""


def forget(name):
    """Forgets the module `name` (dotted; loaded or not): out of sys.modules and off its package,
    so its code can be collected once nothing holds it (modules loaded for one use)."""
    import sys

    sys.modules.pop(name, None)
    package, leaf = name.rsplit(".", 1)
    package = sys.modules.get(package)
    if package is not None and leaf in package.__dict__:
        delattr(package, leaf)


def use_once(name):
    """Imports the module `name` (dotted) for one use and forgets it at once (see forget): it
    lives as long as the caller holds it or a function of it runs. Its package too, if this
    import loaded it: sys.modules is left as it was found."""
    import sys

    package = name[: name.rfind(".")]
    fresh = package not in sys.modules
    module = __import__(name, None, None, ("_",))
    forget(name)
    if fresh:
        forget(package)
    return module
