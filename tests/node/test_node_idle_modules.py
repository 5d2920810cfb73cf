"""What the idle node holds on the unix port: modules it must not load on its default path.

Every module an idle node loads stays in its heap for good (its function objects, dicts and
what it builds at import; bench/RESULTS.md, "Node heap"). These modules are for other paths.
"""

import time

import pytest
from harness import REPO, micropython_path

NODES = REPO / "tests" / "node" / "nodes"

# asyncio.funcs: wait_for/gather (the status waits without them); asyncio.lock: the handle syncs
# its subscriptions without a Lock; ha_publish/ha_payload/ha_entity: loaded for one call each;
# the logger's control part: start-up and stop only; the MQTT handle's rare methods: per call
NOT_ON_THE_IDLE_PATH = (
    "asyncio.event",  # discovery's Event is made only for a wait(); the status asks ready()
    "asyncio.funcs",
    "asyncio.lock",
    "pysmartnode.utils.component.ha_publish",
    "pysmartnode.utils.component.ha_payload",
    "pysmartnode.utils.component.ha_entity",
    "pysmartnode.logging.control",
    "pysmartnode.networking.mqtt_rare",  # connect, on_link, stats...: loaded per call
    "pysmartnode.platform.unix_rare",  # device_id, watch, every...: loaded per lookup
    "pysmartnode.platform._host_rare",  # host_name, the host's address...: loaded per lookup
    "pysmartnode.version",  # its one string is held where it is used; dropped before the build
)

# Packages whose modules the running node reaches by their full names: the packages themselves
# only map names to them (a module, a dict, a table, a __path__ string each: 192-320 B);
# discovery's publications load theirs for a moment
EMPTY_PACKAGES = ("pysmartnode.components", "pysmartnode.networking", "pysmartnode.utils.component")

STATUS_ENTITIES = ("uptime", "ram_free", "reconnects", "ip", "version", "restart")


@pytest.fixture
def idle_node(mosquitto, start_node, observer):
    micropython_path()  # skipped (failed in CI) without the unix port
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    obs.subscribe("homeassistant/device/#")
    node = start_node("micropython", mosquitto, components="modules", INTERVAL_SENSOR_PUBLISH=1)
    node.proc.wait_line("modules: components loaded")
    return node, obs


def loaded(node, obs):
    mark = obs.mark()
    obs.publish(node.topic("modules/set"), "?")
    return obs.wait_message(node.topic("modules"), after=mark, timeout=10).text.split()


def test_idle_node_loads_no_module_of_other_paths_on_the_unix_port(idle_node):
    node, obs = idle_node
    # the paths that ran: connect (discovery, status), two interval reports, a status request,
    # Home Assistant's birth message (discovery again)
    obs.wait_message(node.topic("available"), b"online", timeout=15)
    obs.wait_messages(node.topic("status"), 3, timeout=15)
    mark = obs.mark()
    obs.publish(node.topic("status/set"), "now")
    obs.wait_message(node.topic("status"), after=mark)
    mark = obs.mark()
    obs.publish("homeassistant/status", "online")
    config = obs.wait_message("homeassistant/device/+/config", after=mark, timeout=15).json()
    # the status's entities (made one at a time, publication modules loaded for it), all there
    assert set(config["cmps"]) == {"status_" + key for key in STATUS_ENTITIES}
    uptime = config["cmps"]["status_uptime"]
    assert uptime["val_tpl"] == "{{ value_json.uptime }}" and uptime["dev_cla"] == "duration"
    obs.wait_message(node.topic("status"), after=mark, timeout=15)
    # Discovery drops its modules from sys.modules as it loads them (a running call holds its
    # module); other paths may drop theirs a moment after they end. Asked again a few times
    # (a module once loaded for good never goes, so this cannot hide one)
    for _ in range(20):
        modules = loaded(node, obs)
        held = [name for name in NOT_ON_THE_IDLE_PATH if name in modules]
        if not held:
            break
        time.sleep(0.25)
    assert "pysmartnode.components.machine.status" in modules  # the probe sees the node's own
    assert held == []
    # nor the packages only the start-up went through: their modules stay, under their own names
    assert [name for name in EMPTY_PACKAGES if name in modules] == []
    assert "pysmartnode.networking.mqtt" in modules
    # the watchdog's check is a thread (a build with ffi) or a shell process (the PyPI wheel):
    # the module of the one it uses is loaded, not the other's
    ways = ("pysmartnode.platform.unix_thread", "pysmartnode.platform.unix_watch")
    assert len([m for m in ways if m in modules]) == 1, modules


# Loaded only while components are built (sensor_setup also for each interval change), or only by
# a switch with max_on_time or offline_off; the registry itself is dropped after the build
NOT_AFTER_THE_BUILD = (
    "pysmartnode.utils.component.definitions",
    "pysmartnode.utils.component.sensor_setup",
    "pysmartnode.utils.component.switch_timers",
    "pysmartnode.utils.registry",
)


def test_a_built_node_drops_its_build_modules_also_after_an_interval_change(
    mosquitto, start_node, observer, tmp_path
):
    micropython_path()  # skipped (failed in CI) without the unix port
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    # one sensor and one switch of the library, and the modules probe of nodes/modules.py
    folder = tmp_path / "built"
    folder.mkdir()
    built = {
        "uptime": {"package": ".unix.uptime", "component": "Uptime"},
        "lamp": {"package": ".unix.file_switch", "component": "FileSwitch"},
    }
    probe = (NODES / "modules.py").read_text()
    (folder / "components.py").write_text("COMPONENTS = %r\n%s" % (built, probe))
    node = start_node("micropython", mosquitto, folder=folder)
    node.proc.wait_line("modules: components loaded")
    obs.wait_message(node.topic("available"), b"online", timeout=15)
    modules = loaded(node, obs)
    assert "pysmartnode.components.unix.uptime" in modules  # both components were built
    assert "pysmartnode.components.unix.file_switch" in modules
    assert [name for name in NOT_AFTER_THE_BUILD if name in modules] == []
    # nor the packages the build went through (their modules stay, under their own names)
    packages = ("pysmartnode.components", "pysmartnode.components.unix")
    assert [name for name in packages if name in modules] == []
    mark = obs.mark()
    obs.publish(node.topic("uptime/interval/set"), '{"reading": 7, "publish": 7}')
    state = obs.wait_message(node.topic("uptime/interval"), after=mark, timeout=10).json()
    assert state == {"reading": 7, "publish": 7}  # the change ran (sensor_setup was loaded)
    assert [name for name in NOT_AFTER_THE_BUILD if name in loaded(node, obs)] == []


def test_no_function_of_the_start_up_module_outlives_the_start(mosquitto, start_node, observer):
    # pysmartnode.startup is dropped from sys.modules once the node runs; its code is collected
    # only if nothing holds one of its functions (0.5 KiB on the unix port). CPython's gc can
    # list them; what holds one there (a handler, a sink, a local of main.run) holds it anywhere
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_node("cpython", mosquitto, components="held_functions")
    node.proc.wait_line("held: components loaded")
    obs.wait_message(node.topic("available"), b"online", timeout=15)
    for _ in range(20):  # the start ends just after the connect: asked until it has
        mark = obs.mark()
        obs.publish(node.topic("held/set"), "?")
        held = obs.wait_message(node.topic("held"), after=mark, timeout=10).text.split()
        if "pysmartnode.startup" not in held and "pysmartnode.startup_components" not in held:
            break
        time.sleep(0.25)
    assert "pysmartnode.logging.logger" in held  # the probe sees the node's own
    assert "pysmartnode.startup" not in held and "pysmartnode.startup_components" not in held


def test_the_start_up_modules_are_out_of_sys_modules_while_the_components_are_built(
    mosquitto, start_node, observer
):
    # sys.modules' table grows from 37 slots to 47 at its 38th module (a 752-byte block at the
    # build, the one that failed first at the edge of the 5 sensors + 3 switches node): what
    # only the start-up needs is out of it before the components load. The watchdog and
    # discovery are on, their modules loaded and dropped
    micropython_path()  # skipped (failed in CI) without the unix port
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    obs.subscribe("homeassistant/device/#")
    node = start_node("micropython", mosquitto, components="build_modules", WATCHDOG_TIMEOUT=30)
    line = node.proc.wait_line("build_modules:", timeout=20)
    assert " 0 turns" not in line, line  # the probe ran while the registry built
    assert line.endswith("held none"), line
    # and components.py's entries were let go as each was built, not held to the build's end
    line = node.proc.wait_line("build_modules: entries", timeout=5)
    assert line.endswith("entries [None, None], the first while building None"), line
    # what they made lives on: the status reports (with discovery), the node runs
    obs.wait_message(node.topic("available"), b"online", timeout=15)
    mark = obs.mark()
    obs.publish(node.topic("status/set"), "now")
    assert obs.wait_message(node.topic("status"), after=mark, timeout=10).json()["components"] == 2
    assert obs.wait_message("homeassistant/device/+/config", timeout=15).json()["cmps"]


def test_an_entry_of_components_py_own_package_finds_the_module_that_ran(
    mosquitto, start_node, observer
):
    # components.py leaves sys.modules before the build only when no entry is of its package:
    # the registry imports that by name, which must not run the file a second time
    micropython_path()  # skipped (failed in CI) without the unix port
    obs = observer(mosquitto)
    obs.subscribe("home/#")
    node = start_node("micropython", mosquitto, components="own_package")
    obs.wait_message(node.topic("available"), b"online", timeout=15)
    mark = obs.mark()
    obs.publish(node.topic("status/set"), "now")
    status = obs.wait_message(node.topic("status"), after=mark, timeout=10).json()
    assert status["components"] == 1 and status["components_failed"] == 0, status
    assert node.proc.output().count("own_package: components.py runs") == 1, node.proc.output()


@pytest.mark.parametrize("heapsize", ["200k", "256k", "1024k"])
def test_the_node_collects_its_garbage_each_64th_of_a_heap_up_to_256_kib_on_micropython(
    mosquitto, start_node, heapsize
):
    # Not only when the heap is full: start-up's garbage, collected early, is reused at once and
    # what the node keeps packs at the heap's bottom, not strewn with holes between (the idle
    # node's smallest heap 38 -> 34 KiB; bench/RESULTS.md, session 21). A larger heap keeps
    # MicroPython's own rule (-1: collect when full): the collections' time buys nothing there
    micropython_path()  # skipped (failed in CI) without the unix port
    node = start_node("micropython", mosquitto, components="gc_threshold", heapsize=heapsize)
    line = node.proc.wait_line("gc_threshold:", timeout=20)
    threshold, heap = (int(n) for n in line.split(":", 1)[1].split(" of "))
    # the heap the node was given, less the allocator's own table
    assert heap > int(heapsize[:-1]) * 1024 * 0.95, line
    if heapsize == "1024k":
        assert threshold == -1, line
    else:
        assert heap // 64 - 32 < threshold <= heap // 64, line  # kept in whole GC blocks
