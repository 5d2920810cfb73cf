"""Builds components from a COMPONENTS dict (DESIGN §4.2), isolating each one.

    COMPONENTS = {
        "living_temp": {"package": ".sensors.dht22", "component": "DHT22",
                        "constructor_args": {"pin": 4}},
        "fan": {"package": ".devices.fan", "component": "Fan",
                "constructor_args": {"sensor": {"ref": "living_temp"}}},
    }

`package` starting with "." means `pysmartnode.components.`. A reference to another component
is explicit, `{"ref": "<config key>"}` (also as an item of a list), and that component is built
first. Every failure (unknown
package, missing class, bad or missing argument, a constructor or import that raises, a missing
or cyclic reference) is logged with the component's name and reason; the others still load. The
dict may come from components.py or from a server: the registry does not care. Entries are built
in the dict's order; MicroPython does not keep a dict literal's order, so give `"_order": [...]`
where the order matters (references are always built first anyway).
"""

import asyncio
import sys

from pysmartnode import logging, node
from pysmartnode.utils import forget

_ARGS = ("package", "component", "constructor_args")
_LAZY = "pysmartnode.utils.component"


class ComponentError(ValueError):
    """A COMPONENTS entry that cannot be built (the message says why)."""


async def build(components, start=True, keep=True):
    """Builds every entry of components; returns {config key: component} of those that work.

    Built components are added to node.components (and started, with start); failures go to
    node.failed as {config key: reason}. Never raises for a bad entry. With keep=False the
    entries of those built are set to None as the build goes (their dicts freed while the
    others are built: components.py's, which nothing reads again).
    """
    log = logging.getLogger("registry")
    if not isinstance(components, dict):
        log.error("COMPONENTS must be a dict, got %s", type(components).__name__)
        return {}
    order = components.get("_order")
    names = [n for n in (order if isinstance(order, list) else components) if n != "_order"]
    for name in components:
        if name not in names and name != "_order":
            names.append(name)
    built = {}
    for name in names:
        if name in node.components or name in node.failed:
            continue
        _build_one(name, components, built, [], log, start)
        if not keep:
            for done in built:  # this one and those it referred to
                components[done] = None  # the key stays: a reference to it finds it built
        await asyncio.sleep(0)  # let the network and the garbage collector breathe
    for leaf in ("definitions", "sensor_setup"):  # only constructors read them
        forget("pysmartnode.utils.component." + leaf)
    _forget_packages()
    ok, failed = len(built), len(node.failed)
    log.info("%d components running, %d failed", ok, failed)
    if node.discovery is not None:
        node.discovery.refresh()
    return built


def _forget_packages():
    # The packages the build went through, pysmartnode.components and its sub-packages and the
    # lazy pysmartnode.utils.component: their modules stay loaded under their own names; a
    # package only maps names to them (a dict slot per module loaded from it or name looked up,
    # in a table that grew during the build and never shrinks: 200-320 B each), and an import
    # later loads it again, small (discovery does at the first connect)
    for name in [n for n in sys.modules if n[:22] == "pysmartnode.components" or n == _LAZY]:
        if hasattr(sys.modules[name], "__path__"):
            forget(name)


def _build_one(name, components, built, chain, log, start):
    if name in node.components:
        return node.components[name]
    if name in node.failed:
        raise ComponentError("%r failed to load: %s" % (name, node.failed[name]))
    try:
        obj = _make(name, components, built, chain, log, start)
    except ComponentError as e:
        _fail(name, str(e), log)
        if chain:
            raise ComponentError("%r failed to load: %s" % (name, e)) from None
        return None
    except Exception as e:  # a constructor or an import raising: log and go on
        _fail(name, "%s: %s" % (type(e).__name__, e), log)
        if chain:
            raise ComponentError("%r failed to load" % name) from None
        return None
    if obj is not None:
        node.components[name] = obj
        built[name] = obj
        if start and hasattr(obj, "start"):
            obj.start()
        log.debug("added %s", name)  # the summary is logged: a queue of 16 fills fast
    return obj


def _fail(name, reason, log):
    node.failed[name] = reason
    log.error("component %s failed: %s", name, reason)


def _make(name, components, built, chain, log, start):
    from pysmartnode import config
    from pysmartnode.utils.component.base import check_name

    entry = components.get(name)
    if not isinstance(entry, dict):
        raise ComponentError("the entry must be a dict with package and component")
    check_name(name)
    if name in ("status", "restart", "log", "login", config.MQTT_AVAILABILITY_SUBTOPIC):
        raise ComponentError("the name %r is the node's own topic: choose another" % name)
    for key in entry:
        if key not in _ARGS:
            raise ComponentError("unknown key %r (want package, component, constructor_args)" % key)
    package, attr = entry.get("package"), entry.get("component")
    if not isinstance(package, str) or not package:
        raise ComponentError("package is missing")
    if not isinstance(attr, str) or not attr:
        raise ComponentError("component is missing (the class or function in %s)" % package)
    args = entry.get("constructor_args") or {}
    if not isinstance(args, dict):
        raise ComponentError("constructor_args must be a dict of keyword arguments")
    kwargs = {}
    for key, value in args.items():
        if isinstance(value, list):  # a list of references: [{"ref": "a"}, {"ref": "b"}]
            value = [_resolve(name, key, v, components, built, chain + [name], log, start)
                     for v in value]  # fmt: skip
        else:
            value = _resolve(name, key, value, components, built, chain + [name], log, start)
        kwargs[key] = value
    if package[0] == ".":
        package = "pysmartnode.components" + package
    try:
        __import__(package)
    except ImportError as e:
        raise ComponentError("cannot import %s: %s" % (package, e)) from None
    factory = getattr(sys.modules[package], attr, None)
    if factory is None:
        raise ComponentError("%s has no %s" % (package, attr))
    if isinstance(factory, type):
        try:
            return factory(name, **kwargs)
        except TypeError as e:  # wrong or missing argument
            raise ComponentError("wrong arguments for %s: %s" % (attr, e)) from None
    try:  # a service: a plain function or an async def, called with its arguments
        result = factory(**kwargs)
    except TypeError as e:
        raise ComponentError("wrong arguments for %s: %s" % (attr, e)) from None
    if result is not None and hasattr(result, "send"):
        result = Service(name, result)
        if start:
            result.start()
    return result if result is not None else Service(name, None)


def _resolve(name, key, value, components, built, chain, log, start):
    if isinstance(value, dict) and len(value) == 1 and "ref" in value:
        target = value["ref"]
        if not isinstance(target, str) or target not in components or target == "_order":
            raise ComponentError(
                "constructor_args.%s refers to %r, which is not in COMPONENTS" % (key, target)
            )
        if target in chain:
            raise ComponentError(
                "cyclic reference: %s" % " -> ".join(chain[chain.index(target) :] + [target])
            )
        obj = _build_one(target, components, built, chain, log, start)
        if obj is None or isinstance(obj, Service) and obj.task is None:
            raise ComponentError(
                "constructor_args.%s refers to %r, which is no component" % (key, target)
            )
        return obj
    return value


class Service:
    """A plain function or an async def from COMPONENTS: it ran (function) or runs (async)."""

    def __init__(self, name, coro):
        self.name = name
        self._coro = coro
        self.task = None

    def start(self):
        if self._coro is not None and self.task is None:
            self.task = asyncio.create_task(self._run())

    async def _run(self):
        try:
            await self._coro
        except Exception as e:  # a service that fails is logged, like a component's loop
            logging.getLogger(self.name).error("service failed: %s: %s", type(e).__name__, e)

    def stop(self):
        if self.task is not None:
            self.task.cancel()

    def discovery_entities(self):
        return []


async def remove(name):
    """Stops the component called name and removes its Home Assistant entities."""
    obj = node.components.pop(name, None)
    if obj is None:
        raise KeyError(name)
    obj.stop()
    if node.discovery is not None:
        await node.discovery.remove(obj)
    return obj
