"""Signed commands the SmartServer sends a running node on `<home>/login/<id>`: `restart`, and
`config` (a push: checked, then applied as one transaction by config_apply.py, one at a time).
Imported on the first command (remote_config.py: getting the config at start).
"""

import asyncio


def command(remote, msg):
    """Verifies msg (signed for this node, newer than the last) and acts on it."""
    try:
        body = remote.verify(msg.encode() if isinstance(msg, str) else msg)
    except ValueError as e:
        remote._log.warning("message from %s rejected: %s", remote._topic, e)
        return
    remote.counter = body["counter"]
    try:  # before acting on it: a replay must find it used, also after a restart
        remote._write(remote._path + ".counter", str(remote.counter).encode())
    except OSError as e:
        remote._log.error("cannot save the counter: %s", e)
    kind = body.get("kind")
    if kind == "restart":
        asyncio.create_task(_restart(remote))
    elif kind == "config":
        _pushed(remote, body, msg)
    else:
        remote._log.warning("unknown command %r from %s", kind, remote._topic)


def _pushed(remote, body, payload):
    # A config pushed while the node runs: checked before anything changes, then applied by
    # pysmartnode.networking.config_apply. One apply at a time: a push that arrives meanwhile
    # waits for it; a newer push replaces a waiting one (reported superseded)
    counter = body["counter"]
    try:
        remote.allowed(body)
    except ValueError as e:
        remote._log.warning("config push (counter %d) refused, nothing changed: %s", counter, e)
        asyncio.create_task(remote.report(remote.source, None, False, str(e), counter, "refused"))
        return
    if remote._next is not None:
        old = remote._next[0]["counter"]
        remote._log.warning("config push (counter %d) superseded by %d", old, counter)
        error = "superseded by counter %d before it was applied" % counter
        asyncio.create_task(remote.report(remote.source, None, False, error, old, "superseded"))
    remote._next = (body, payload)
    if remote._applying:
        remote._log.info("config push (counter %d) waits for the running apply", counter)
    else:
        remote._applying = True
        asyncio.create_task(_apply_pushed(remote))


async def _apply_pushed(remote):
    try:
        while remote._next is not None:
            body, payload = remote._next
            remote._next = None
            from pysmartnode.networking.config_apply import apply

            await apply(remote, body, payload)
    finally:
        from pysmartnode.utils import forget

        remote._applying = False
        forget("pysmartnode.networking.config_apply")  # code not needed until the next push
        forget("pysmartnode.utils.registry")


async def _restart(remote):
    from pysmartnode import logging
    from pysmartnode.logging import logger
    from pysmartnode.platform import restart

    reason = "restart requested by the SmartServer"
    remote._log.warning(reason)
    logger.record_reset(reason)
    logging.getLogger("node").info("stopping")  # a clean stop: the server shows offline
    await logger.flush(1)
    await remote._mqtt.stop()
    restart(1)  # a supervisor (systemd Restart=on-failure) starts the node again
