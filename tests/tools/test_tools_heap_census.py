"""bench/heap_census.py: a debug firmware prints every live object of a node's heap, with the
chain of objects holding it, and the bench sums the bytes by owner and by kind."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tarfile

import pytest
from harness import REPO, require_tool
from tool_modules import load_tool, require_firmware

spec = importlib.util.spec_from_file_location("heap_census_t", REPO / "bench" / "heap_census.py")
sys.path.insert(0, str(REPO / "bench"))
census = importlib.util.module_from_spec(spec)
spec.loader.exec_module(census)

SAMPLE = """\
CENSUS alloc 928
CEN 32 module:pysmartnode.logging.logger
CEN 32 dict<-[w1/32] module:pysmartnode.logging.logger
CEN 480 raw<-[w3/32] dict<-[w1/32] module:pysmartnode.logging.logger
CEN 32 function<-[w15/480] raw<-[w3/32] dict<-[w1/32] module:pysmartnode.logging.logger
CEN 64 async_def<-[w5/384] raw<-[w3/32] dict<-[w12/128] class:Link
CEN 96 coroutine
CEN 64 raw<-[w3/32] inst:MQTTClient
CEN 32 str'home/node/status'#16<-[w7/64] raw<-[w3/32] inst:MQTTClient
CEN 64 raw<-[w3/32] str'home/node/status'#16<-[w7/64] raw<-[w3/32] inst:MQTTClient
CEN 32 bytes'SHLVL=1'#7<-stack
CEN end
"""


def test_the_census_sums_each_object_under_the_module_class_or_instance_that_holds_it():
    kinds, owners, split = census.summarise(census.parse(SAMPLE))
    assert owners["module:pysmartnode.logging.logger"] == 32 + 32 + 480 + 32
    assert split["module:pysmartnode.logging.logger"] == {
        "module": 32,
        "dict": 32,
        "raw of dict": 480,
        "function": 32,
    }
    assert owners["class:Link"] == 64 and owners["coroutine"] == 96
    assert owners["inst:MQTTClient"] == 64 + 32 + 64 and owners["stack"] == 32
    assert kinds["str"] == 32 and kinds["raw of str"] == 64 and kinds["bytes"] == 32
    assert census.strings(census.parse(SAMPLE)) == {
        "str'home/node/status'#16": 96,
        "bytes'SHLVL=1'#7": 32,
    }
    assert kinds["raw of dict"] == 480 and kinds["raw of inst"] == 64
    assert kinds["function"] == 32 and kinds["async_def"] == 64
    assert sum(owners.values()) == 928
    text = census.report("idle node", SAMPLE, 10)
    assert "928 B in 10 objects (gc.mem_alloc() 928)" in text
    assert "- 96 B: `str'home/node/status'#16`" in text
    assert "| module:pysmartnode.logging.logger | 576 | raw of dict 480" in text


def test_the_census_patch_fits_the_micropython_tree_the_firmware_is_built_from(tmp_path):
    source = load_tool("firmware").find_source()
    if source is None:
        require_firmware()  # skips with the way to get a tree (fails under CI=true)
    (tmp_path / "py").mkdir()
    for name in ("gc.c", "runtime.c"):
        if source.is_dir():
            text = (source / "py" / name).read_text()
        else:
            with tarfile.open(source) as tar:
                member = next(m for m in tar.getmembers() if m.name.endswith("/py/" + name))
                text = tar.extractfile(member).read().decode()
        (tmp_path / "py" / name).write_text(text)
    census.patch_tree(tmp_path)
    patched = (tmp_path / "py" / "gc.c").read_text()
    assert patched.count(census.DONE) == 1
    assert patched.index(census.DONE) < patched.index("GC_EXIT();\n}\n", patched.index(census.DONE))
    # the census at the first MemoryError: before m_malloc_fail() raises it, when asked for
    runtime = (tmp_path / "py" / "runtime.c").read_text()
    assert runtime.count("HEAP_CENSUS_AT_OOM") == 1
    fail = runtime.index("m_malloc_fail(size_t num_bytes)")
    raised = runtime.index("mp_raise_msg_varg(&mp_type_MemoryError,", fail)
    assert fail < runtime.index("gc_dump_alloc_table", fail) < raised
    census.patch_tree(tmp_path)  # once only, from the untouched copies
    assert (tmp_path / "py" / "gc.c").read_text() == patched
    assert (tmp_path / "py" / "runtime.c").read_text() == runtime


def test_running_calls_frames_and_coroutines_are_named_by_their_function():
    sample = """\
CENSUS at MemoryError, allocating 72 bytes
CEN 256 frame:emit<-stack
CEN 96 tuple<-[w16/256] frame:emit<-stack
CEN 224 frame:run_until_complete<-stack
CEN 320 coroutine:_emit
CEN 32 str'home/x'#6<-[w9/320] coroutine:_emit
CEN 32 bytes'x'#1<-stack
CEN end
"""
    kinds, owners, _ = census.summarise(census.parse(sample))
    assert kinds["frame"] == 256 + 224 and kinds["coroutine"] == 320 and kinds["tuple"] == 96
    assert owners["stack"] == 256 + 96 + 224 + 32 and owners["coroutine:_emit"] == 352
    text = census.report("idle node at 30 KiB", sample, 10)
    assert "Frames of running calls on the heap: 480 B" in text
    assert text.index("- 256 B: `frame:emit`") < text.index("- 224 B: `frame:run_until_complete`")


def _census_of_the_idle_node(*args):
    # bench/heap_census.py --only idle, run as a user runs it; its output (it must succeed)
    require_firmware()
    require_tool("mosquitto", "apt-get install mosquitto")
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "heap_census.py"), "--only", "idle", *args],
        cwd=REPO, capture_output=True, text=True, timeout=170,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
@pytest.mark.xdist_group("firmware")
def test_the_census_of_an_idle_node_accounts_for_its_whole_heap(tmp_path):
    stdout = _census_of_the_idle_node("--raw", str(tmp_path))
    output = (tmp_path / "idle.txt").read_text()
    objects = census.parse(output)
    kinds, owners, _ = census.summarise(objects)
    alloc = int(output.split("CENSUS alloc ", 1)[1].split()[0])
    # every live block is named: the census sums to what the collector says is in use
    assert abs(sum(size for size, _ in objects) - alloc) <= alloc // 20, (alloc, len(objects))
    assert owners["inst:MQTTClient"] > 500 and owners["module:pysmartnode.logging.logger"] > 300
    assert kinds["function"] > 2000 and kinds["coroutine"] > 0
    assert "| owner | bytes | of which |" in stdout


@pytest.mark.slow
@pytest.mark.xdist_group("firmware")
def test_a_node_short_of_heap_is_counted_where_it_ran_out():
    stdout = _census_of_the_idle_node("--at-oom", "24")
    # 24 KiB is below the idle node's steady state: it runs out, and the census is taken there
    assert "### idle node at 24 KiB, at the first MemoryError (allocating " in stdout
    assert "| inst:MQTTClient |" in stdout or "| module:asyncio.core |" in stdout
    assert "frame:run_until_complete" in stdout  # asyncio's loop: a frame for the node's life
