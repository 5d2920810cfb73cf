"""MQTTClient is one class made of layers: Wire (wire.py), Link (link.py) and Session
(session.py) are written as classes of their own, and __init__.py copies their names into
MQTTClient and drops them. A name defined in two layers would be silently overwritten there,
and past 37 names MicroPython's class table grows from 37 slots to 47 (160 bytes, 64-bit)."""

from __future__ import annotations

import ast

from harness import REPO

PACKAGE = REPO / "external_modules" / "mqtt_as"
LAYERS = (("__init__.py", "MQTTClient"), ("session.py", "Session"), ("link.py", "Link"),
          ("wire.py", "Wire"))  # fmt: skip

PROBE = """\
import mqtt_as
from mqtt_as import MQTTClient, link, session, wire

names = [n for n in MQTTClient.__dict__ if n[:2] != "__" or n == "__init__" or n == "__getattr__"]
layers = [m for m in (wire, link, session) if hasattr(m, ("Wire", "Link", "Session")[
    (wire, link, session).index(m)])]
print("names", len(names), "bases", len(MQTTClient.__bases__), "layers left", len(layers))
print("has", " ".join(n for n in ("_feed", "_fault", "_emit", "publish") if hasattr(MQTTClient, n)))

import gc



def lookups(c, mem_alloc):  # locals: no global made while it counts
    before, n = mem_alloc(), 0
    while n < 100:  # the reader asks for _large at every packet, with the heap full too
        n += 1
        large = c._large
        lockq = c._lockq
        debug = c.DEBUG
    return mem_alloc() - before, large, lockq, debug


c = MQTTClient({"server": "127.0.0.1"})
print("defaults", c._large, c._lockq, c._slotq, c.queue, c.up, c.down, c.DEBUG)
mem_alloc = getattr(gc, "mem_alloc", lambda: 0)  # MicroPython's
lookups(c, mem_alloc)
gc.collect()
print("allocated", lookups(c, mem_alloc)[0])
"""


def class_names(path, cls):
    """The names a class body binds (defs, assignments, imports), in either branch of an `if`."""
    tree = ast.parse(path.read_text())
    todo = list(next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls).body)
    names = set()
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If):
            todo += node.body + node.orelse
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif not isinstance(node, (ast.Expr, ast.Pass)):  # a docstring
            raise AssertionError("%s: a %s in class %s" % (path.name, type(node).__name__, cls))
    return names


def test_the_layers_define_no_name_twice_and_37_at_most_in_all():
    seen = {}
    for module, cls in LAYERS:
        for name in class_names(PACKAGE / module, cls):
            assert name not in seen, "%s is defined by both %s and %s" % (name, seen[name], cls)
            seen[name] = cls
    # the merged table on MicroPython: these names, and __module__ and __qualname__ once
    assert len(seen) + 2 <= 37, "%d names: MQTTClient's class table grows to 47 slots" % len(seen)


def test_the_client_is_one_class_and_the_layer_classes_are_dropped(runtime, run_py, tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    proc = run_py(runtime, script, cwd=tmp_path)
    assert proc.wait(timeout=60) == 0, proc.output()
    out = proc.output()
    total = sum(len(class_names(PACKAGE / m, c)) for m, c in LAYERS)
    assert "names %d bases 1 layers left 0" % total in out, out
    assert "has _feed _fault _emit publish" in out, out
    # What an instance sets only when first needed, and DEBUG, are __getattr__'s defaults (not
    # names of the class's table), looked up with no allocation
    assert "defaults None None None None None None False" in out, out
    assert "allocated 0" in out, out


# MicroPython's hash tables grow, when full, along these sizes (py/map.c), and never shrink
TABLE_SIZES = (2, 4, 6, 8, 10, 12, 17, 23, 29, 37, 47, 59)
# The slots each module's dict takes at most on MicroPython (16 bytes each on 64-bit): the
# layers' dicts live as long as the client (its merged methods hold them), conn.py's is made
# again at each connect
MODULE_TABLES = {"wire.py": 10, "link.py": 8, "session.py": 8, "codec.py": 17, "conn.py": 12}


def module_peak(path):
    """The most names a module's dict holds at once while it runs on MicroPython: __name__ and
    __file__, then what its top level binds in order, less what it deletes (a deleted slot is
    reused); `_NAME = const(...)` binds nothing there (the compiler folds it in)."""
    live, peak = {"__name__", "__file__"}, 2
    todo = list(ast.parse(path.read_text()).body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, ast.If):  # either branch: both bind the same names here
            todo[:0] = node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo[:0] = node.body + [n for h in node.handlers for n in h.body]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            live.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            live.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign):
            value = node.value
            folded = isinstance(value, ast.Call) and getattr(value.func, "id", "") == "const"
            for target in node.targets:
                if isinstance(target, ast.Name) and not (folded and target.id[0] == "_"):
                    live.add(target.id)
        elif isinstance(node, ast.Delete):
            live.difference_update(t.id for t in node.targets if isinstance(t, ast.Name))
        peak = max(peak, len(live))
    return peak


def test_the_client_modules_dicts_stay_within_their_tables():
    for module, slots in MODULE_TABLES.items():
        peak = module_peak(PACKAGE / module)
        grown = next(size for size in TABLE_SIZES if size >= peak)
        assert grown <= slots, "%s: %d names at once, a table of %d slots (%d budgeted)" % (
            module, peak, grown, slots)  # fmt: skip
