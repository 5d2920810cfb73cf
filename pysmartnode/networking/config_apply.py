"""Applies a config the SmartServer pushed while the node runs, as one transaction.

Imported when a push arrives (pysmartnode.networking.remote_config, which checked signature,
counter and allow-list already) and dropped after it. The running config must be restorable
(the saved copy, components.py, or none) or the push is refused and nothing changes. Then the
old components stop, the registry builds the new set, and the node must be back at work within
MQTT_CONFIG_APPLY_WAIT seconds: discovery published (entities that went away removed) and a
status report taken by the broker. If a component of the new set does not build, or the node
is not back in time, the new components stop and the old set is built again (rolled back).
Either way the outcome goes to the server on ./config; only an applied config is saved for the
next start.
"""

import asyncio

from pysmartnode import logging, node


async def apply(remote, body, payload):
    """Runs body instead of the running config; True if applied, False if not (reported)."""
    log = logging.getLogger("config")
    counter, short = body["counter"], body["hash"][:8]
    try:
        old = _running(remote)
    except (OSError, ValueError) as e:
        error = "the running config cannot be restored: %s" % e
        log.error("config %s (counter %d) refused, nothing changed: %s", short, counter, error)
        await remote.report(remote.source, None, False, error, counter, "refused")
        return False
    from pysmartnode.networking.remote_config import components

    log.info("config %s pushed (counter %d): applying", short, counter)
    old_hash = node.config_hash
    announced = _stop_all(log)
    node.config_hash = body["hash"]  # the status that says the node is back carries it
    error = await _build(components(body))
    if error is None:
        error = await _back(announced)
    if error is None:
        if isinstance(payload, str):
            payload = payload.encode()
        remote.save(payload)  # atomically: the next start runs it too
        remote.source = "server"
        log.info(
            "config %s applied (counter %d): %d components", short, counter, len(node.components)
        )
        await remote.report("server", body, outcome="applied")
        return True
    log.error("config %s (counter %d) failed: %s; rolling back", short, counter, error)
    announced.update(_stop_all(log))
    node.config_hash = old_hash
    problem = await _build(old)
    problem = await _back(announced) or problem
    if problem:  # as at a start: what does not build is isolated, the rest runs
        log.error("rolled back, with problems: %s", problem)
    await remote.report(remote.source, None, False, error, counter, "rolled back")
    return False


def _running(remote):
    # The COMPONENTS of the running config, read back from where it came from; {} for none
    source = remote.source
    if source in ("server", "saved"):
        from pysmartnode.utils.signing import unseal

        with open(remote._path, "rb") as f:
            body = unseal(remote._secret, f.read())
        remote.allowed(body)
        if body.get("hash") != node.config_hash:
            raise ValueError("the saved copy is not the config that runs")
        from pysmartnode.networking.remote_config import components

        return components(body)
    if source == "local":
        import sys

        return getattr(sys.modules.get("components"), "COMPONENTS", None) or {}
    return {}


def _entities(obj):
    # {object_id: platform} of what obj announced to Home Assistant
    if not getattr(obj, "discover", False) or not hasattr(obj, "discovery_entities"):
        return {}
    try:
        return {e[0]: e[1] for e in obj.discovery_entities()}
    except Exception:  # its discovery failed: it announced nothing
        return {}


def _stop_all(log):
    # Stops every component; returns the entities they had announced
    entities = {}
    for name in list(node.components):
        obj = node.components.pop(name)
        entities.update(_entities(obj))
        try:
            if hasattr(obj, "stop"):
                obj.stop()
        except Exception as e:  # one component's stop must not keep the old set half alive
            log.error("stopping %s: %s: %s", name, type(e).__name__, e)
    node.failed.clear()
    return entities


async def _build(components):
    # Builds components; the reason if any of them failed, else None
    from pysmartnode.utils import registry

    try:
        await registry.build(components)
    except Exception as e:  # the registry isolates each component; this is its own failure
        return "registry: %s: %s" % (type(e).__name__, e)
    if not node.failed:
        return None
    return "; ".join("component %s failed: %s" % item for item in node.failed.items())


async def _back(announced):
    # Discovery (without what went away) and a status report out within MQTT_CONFIG_APPLY_WAIT
    # seconds; the reason if not, else None
    running = {}
    for obj in node.components.values():
        running.update(_entities(obj))
    discovery = node.discovery
    if discovery is not None:
        per_entity = discovery.per_entity
        gone = {}
        for object_id, platform in announced.items():
            if object_id not in running or per_entity and running[object_id] != platform:
                gone[object_id] = platform
        discovery.gone(gone)
    from pysmartnode.config import MQTT_CONFIG_APPLY_WAIT as wait

    try:
        await asyncio.wait_for(_publish(discovery), wait)
    except asyncio.TimeoutError:
        return "the node was not back online (discovery and status) within %s s" % wait
    except Exception as e:  # whatever it was, the node is not back: the caller rolls back
        return "discovery or status failed: %s: %s" % (type(e).__name__, e)
    return None


async def _publish(discovery):
    if discovery is not None:
        while not await discovery.publish():
            await asyncio.sleep(1)  # not taken (offline): again, until the wait is over
    status = node.status
    if status is not None:
        before = status.reports
        await status._publish_state()  # asks for a report now
        while status.reports == before:
            await asyncio.sleep(0.05)
