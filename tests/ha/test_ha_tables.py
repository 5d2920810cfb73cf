"""Discovery's code on the unix port stays below a table's growth step: the publication's modules
are loaded at the first connect, the heap's peak, where a 272- or 368-byte block for a module's
table was what failed first at the edge (bench/RESULTS.md, session 20); the Discovery class is
held for the node's life."""

from __future__ import annotations

from pathlib import Path

APPS = Path(__file__).parent / "apps"
# names (with __name__ and __file__; a class's with __module__ and __qualname__) at most: the
# table then has 10 or 12 slots, the next name grows it to 12 or 17
MOST = {"ha_payload": 12, "ha_publish": 10, "ha_entity": 12, "discovery": 8, "Discovery": 12}


def test_discovery_modules_and_class_stay_below_a_table_growth_step(run_py):
    proc = run_py("micropython", APPS / "tables_check.py")
    assert proc.wait(timeout=20) == 0, proc.output()
    names = {line.split()[1]: int(line.split()[2]) for line in proc.lines if line[:6] == "names "}
    assert names.keys() == MOST.keys(), proc.output()
    assert {k: v for k, v in names.items() if v > MOST[k]} == {}, names
