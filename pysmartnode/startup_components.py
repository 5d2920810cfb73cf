"""Start-up's second half: the node's components, from the SmartServer (MQTT_RECEIVE_CONFIG),
the demo or components.py, built by the registry (pysmartnode.utils.registry). startup.start()
imports this module for that and drops it from sys.modules at once, so its code costs no RAM
once the node runs.
"""

import asyncio
import sys

from pysmartnode import node
from pysmartnode.utils import forget


async def load(log, demo, mqtt):
    # Components come from the SmartServer (MQTT_RECEIVE_CONFIG), else from components.py
    # (beside config.py, or on the board's root): its code runs, and a COMPONENTS dict in it
    # goes to the registry (pysmartnode.utils.registry).
    # The tasks components start are noted, so that a stop ends them while node.mqtt is still
    # there (pysmartnode.main._stop); MicroPython has no asyncio.all_tasks() to find them later.
    # A finished task holds its coroutine's frame: the running node takes those out
    # (pysmartnode.main._prune)
    create_task = asyncio.create_task
    tasks = node.parts.setdefault("tasks", [])
    builder = asyncio.current_task()

    def noted(coro):
        task = create_task(coro)
        # Only what the components start: the registry and components.py run in this task.
        # Other tasks run while it waits (the embedded broker's connections of clients that
        # came meanwhile, the MQTT client's own); a stop that cancelled those first would cut
        # a subscriber off before the `offline` reached it
        if asyncio.current_task() is builder:
            tasks.append(task)
        return task

    asyncio.create_task = noted
    try:
        await _build(log, demo, mqtt)
    finally:
        asyncio.create_task = create_task


async def _build(log, demo, mqtt):
    from pysmartnode import config

    COMPONENTS, remote = None, None
    if config.MQTT_RECEIVE_CONFIG and not demo:
        from pysmartnode.networking.remote_config import obtain

        COMPONENTS, remote = await obtain(mqtt, config, node.parts.get("folder", ""), log)
        if remote is not None:
            remote.listen()  # signed commands from the server (restart) while the node runs
            node.parts["remote_config"] = remote
    if demo:
        from pysmartnode.demo import COMPONENTS
    elif COMPONENTS is None:
        COMPONENTS = _local_components(log)
        node.config_hash = _config_hash(COMPONENTS, log)
        if remote is not None:
            remote.source = source = "local" if COMPONENTS else "none"
            if not COMPONENTS:
                log.warning("no components: no server config, no saved copy, no components.py")
            asyncio.create_task(remote.report(source, None))
    if not COMPONENTS:
        return
    if remote is None and not _names_itself(COMPONENTS):
        # components.py's objects live on where components use them, its COMPONENTS here; only
        # a remote config's rollback reads it again, and an entry of its own package imports it
        sys.modules.pop("components", None)
    from pysmartnode.utils import registry

    forget("pysmartnode.utils.registry")  # held here while it builds; nothing imports it
    try:
        # components.py's entries are read by nothing else (a remote config's are kept)
        await registry.build(COMPONENTS, keep=remote is not None or demo)
    except Exception as e:  # the registry isolates each component; this is its own failure
        log.error("registry failed: %s: %s", type(e).__name__, e)
    if config.MQTT_RECEIVE_CONFIG and not demo and node.status is not None:
        await node.status._publish_state()  # it reported at connect, before these were built
    if remote is None:  # an entry of components.py's own package needed it in sys.modules
        sys.modules.pop("components", None)


def _names_itself(components):
    # An entry whose package is components.py itself: the registry imports it by that name,
    # which must find the module that ran, not run the file again
    if isinstance(components, dict):
        for entry in components.values():
            if isinstance(entry, dict) and entry.get("package") == "components":
                return True
    return False


def _config_hash(components, log):
    # What the status reports as config_hash: the SmartServer hashes a folder file the same way
    if not isinstance(components, dict) or not components:
        return None
    from pysmartnode.utils.canonical import config_hash

    try:
        return config_hash(components)
    except (TypeError, ValueError) as e:  # a value JSON cannot hold: no hash, nothing else lost
        log.info("components.py has no config hash: %s", e)
        return None
    finally:
        forget("pysmartnode.utils.canonical")  # needed again only by a remote config


def _local_components(log):
    try:
        import components
    except ImportError as e:
        if not str(e).endswith("'components'"):
            log.error("components.py failed: %s", e)
        return None
    except Exception as e:  # a broken components.py must not stop the node
        log.error("components.py failed: %s: %s", type(e).__name__, e)
        return None
    return getattr(components, "COMPONENTS", None)
