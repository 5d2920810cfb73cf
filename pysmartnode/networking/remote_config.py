"""Remote config (MQTT_RECEIVE_CONFIG = True): the node's side of the SmartServer protocol.

At start the node asks on `<home>/login/<id>/set`, waits up to MQTT_CONFIG_WAIT seconds for a
signed answer on `<home>/login/<id>`, and takes its components from, in this order: the server,
the copy saved after the last server-sent config, the local components.py, none. A config is
accepted only if it is signed with MQTT_CONFIG_SECRET, names this node, carries a counter newer
than the last accepted one (no replay), and imports only packages under MQTT_CONFIG_ALLOW;
anything else is logged and ignored while the node waits on. The saved copy is the signed
message itself, written atomically (temp file + rename): a corrupt copy fails its signature,
is logged and skipped. What the node runs is reported, retained, on `./config`. A config the
server pushes while the node runs is checked the same way, then applied as one transaction
(remote_commands.py, then config_apply.py: rolled back if it fails). See docs/smartserver.md
("Protocol", "The node side").
"""

import asyncio

_SAVED = "remote_config.json"
_ASK_EVERY = 2  # s between requests while waiting (the first may precede our subscription)


class RemoteConfig:
    """Gets and keeps the node's server-sent config.

    Args:
        mqtt: the node's MQTTHandle.
        secret: the device's signing secret (str).
        folder: where the saved copy lives ("" or a path ending in "/").
        allow: comma-separated package prefixes a remote config may import.
        log: the logger to report to.
    """

    def __init__(self, mqtt, secret, folder, allow, log):
        self._mqtt = mqtt
        self._secret = secret
        self._path = folder + _SAVED
        self._allow = tuple(p.strip() for p in allow.split(",") if p.strip())
        self._log = log
        from pysmartnode import config

        self._topic = "%s/login/%s" % (config.MQTT_HOME, mqtt.device_id)
        self._got = asyncio.Event()
        self._answer = None  # (body, payload) of the accepted answer
        self.counter = 0  # the last counter accepted
        self.source = "none"  # where the running config came from: server, saved, local, none
        self._next = None  # (body, payload) of a pushed config waiting for the running apply
        self._applying = False

    def verify(self, payload):
        """The body of a message signed for this node, newer than the last; else ValueError."""
        from pysmartnode.utils.signing import check, unseal

        body = unseal(self._secret, payload)
        check(body, self._mqtt.device_id, self.counter)
        return body

    def check(self, payload):
        """The body of payload if it is a config this node may run; else raises ValueError."""
        body = self.verify(payload)
        self.allowed(body)
        return body

    def allowed(self, body):
        """Raises ValueError unless body is a well-formed config inside MQTT_CONFIG_ALLOW."""
        if body.get("kind") != "config":
            raise ValueError("not a config: %r" % (body.get("kind"),))
        components, order = body.get("components"), body.get("order")
        if not isinstance(components, dict) or not isinstance(order, list):
            raise ValueError("components or order missing")
        if len(order) != len(components) or any(k not in components for k in order):
            raise ValueError("order does not list the components")
        for key in order:
            entry = components[key]
            package = entry.get("package") if isinstance(entry, dict) else None
            if not isinstance(package, str):
                raise ValueError("%s: no package" % key)
            full = "pysmartnode.components" + package if package[:1] == "." else package
            if not any(full.startswith(prefix) for prefix in self._allow):
                raise ValueError("%s: package %s is not in MQTT_CONFIG_ALLOW" % (key, full))

    def load_saved(self):
        """The body of the saved copy, or None (none saved, or corrupt: logged)."""
        try:
            with open(self._path, "rb") as f:
                payload = f.read()
        except OSError:
            return None
        try:
            body = self.check(payload)
        except ValueError as e:
            self._log.error("saved config %s skipped, corrupt or not ours: %s", self._path, e)
            return None
        self.counter = body["counter"]
        return body

    def load_counter(self):
        """Raises the replay floor to the counter of the last command (kept across starts)."""
        try:
            with open(self._path + ".counter") as f:
                self.counter = max(self.counter, int(f.read()))
        except (OSError, ValueError):
            pass  # none yet, or unreadable: the saved copy's counter is the floor

    def _write(self, path, data):
        import os

        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        try:
            os.rename(tmp, path)
        except OSError:  # FAT cannot rename over a file: the old one goes first
            os.remove(path)
            os.rename(tmp, path)

    def save(self, payload):
        """Writes the signed payload atomically; a failure is logged, never raised."""
        try:
            self._write(self._path, payload)
        except OSError as e:
            self._log.error("cannot save the config: %s", e)

    def _on_answer(self, topic, msg, retained):
        if retained:
            self._log.warning("retained message on %s ignored", self._topic)
            return
        try:
            body = self.check(msg.encode() if isinstance(msg, str) else msg)
        except ValueError as e:
            self._log.warning("config from %s rejected: %s", self._topic, e)
            return
        if self._answer is None:
            self._answer = (body, msg)
            self._got.set()

    async def _ask(self, request):
        try:
            await self._mqtt.publish(self._topic + "/set", request, qos=1)
        except Exception as e:  # the next request, or the saved copy, covers it
            self._log.warning("config request failed: %s", e)

    async def fetch(self, wait, running_hash=None):
        """Asks the server; the accepted (body, payload) or None after wait seconds."""
        from pysmartnode.platform import PLATFORM
        from pysmartnode.version import VERSION

        request = {
            "version": VERSION,
            "platform": PLATFORM,
            "counter": self.counter,
            "hash": running_hash,
        }
        self._mqtt.subscribe(self._topic, self._on_answer, qos=1)
        try:
            waited = 0
            while waited < wait:
                if self._mqtt.isconnected():
                    asyncio.create_task(self._ask(request))
                step = min(_ASK_EVERY, wait - waited)
                try:
                    await asyncio.wait_for(self._got.wait(), step)
                    return self._answer
                except asyncio.TimeoutError:
                    waited += step
            return None
        finally:
            self._mqtt.unsubscribe(self._topic, self._on_answer)

    def listen(self):
        """After start: takes signed commands (restart, config) from the server while it runs."""
        self._mqtt.subscribe(self._topic, self._on_command, qos=1)

    def _on_command(self, topic, msg, retained):
        if not retained:  # a command that was kept must not run again at every start
            from pysmartnode.networking.remote_commands import command

            command(self, msg)

    async def report(self, source, body, ok=True, error=None, counter=None, outcome=None):
        """Publishes what the node runs, retained, on ./config.

        body: the config that runs (None: local or none, node.config_hash is its hash).
        counter, outcome: of a push that did not change what runs (rolled back, refused...).
        """
        from pysmartnode import node

        result = {
            "counter": counter if counter is not None else body.get("counter") if body else None,
            "hash": body.get("hash") if body else node.config_hash,
            "source": source,
            "ok": ok,
            "error": error,
        }
        if outcome is not None:
            result["outcome"] = outcome
        try:
            await self._mqtt.publish("./config", result, retain=True, qos=1)
        except Exception as e:  # a lost report is not worth failing the start for
            self._log.warning("config report failed: %s", e)


def components(body):
    """The components of body in their order (an OrderedDict where the runtime has one)."""
    try:
        from collections import OrderedDict
    except ImportError:
        OrderedDict = dict
    out = OrderedDict()
    for key in body["order"]:
        out[key] = body["components"][key]
    return out


async def obtain(mqtt, config, folder, log):
    """(COMPONENTS or None, RemoteConfig or None): server, then the saved copy.

    None means: fall back to components.py (the caller reports that with report()).
    """
    if not config.MQTT_CONFIG_SECRET:
        log.error("MQTT_RECEIVE_CONFIG needs MQTT_CONFIG_SECRET (smartserver secret <id>)")
        return None, None
    remote = RemoteConfig(mqtt, config.MQTT_CONFIG_SECRET, folder, config.MQTT_CONFIG_ALLOW, log)
    saved = remote.load_saved()
    remote.load_counter()
    answer = await remote.fetch(config.MQTT_CONFIG_WAIT, saved.get("hash") if saved else None)
    if answer is not None:
        body, payload = answer
        remote.counter = body["counter"]
        remote.save(payload.encode() if isinstance(payload, str) else payload)
        source = "server"
        log.info("config %s from the server (counter %d)", body["hash"][:8], body["counter"])
    elif saved is not None:
        body, source = saved, "saved"
        log.warning(
            "no config from the server in %s s: using the saved copy", config.MQTT_CONFIG_WAIT
        )
    else:
        log.warning("no config from the server in %s s and none saved", config.MQTT_CONFIG_WAIT)
        return None, remote
    from pysmartnode import node

    remote.source = source
    node.config_hash = body["hash"]
    asyncio.create_task(remote.report(source, body))
    return components(body), remote
