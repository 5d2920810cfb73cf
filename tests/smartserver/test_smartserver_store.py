"""The SQLite store: schema migrations keep the data, retention bounds the log."""

from __future__ import annotations

import sqlite3
import time

import pytest
from smartserver.store import SCHEMA_VERSION, Store, StoreError


def test_an_old_store_is_migrated_in_place_and_keeps_its_data(tmp_path):
    path = tmp_path / "s.db"
    old = Store(path, upto=1)  # what the first SmartServer wrote
    assert old.version == 1
    old.update_device("node1", availability="online", secret="k", counter=7)
    old.add_log("node1", "info", "node", "hello")
    old.close()
    store = Store(path)
    assert store.version == SCHEMA_VERSION == 3
    row = store.device("node1")
    assert (row["availability"], row["secret"], row["counter"]) == ("online", "k", 7)
    assert row["config_error"] is None  # the column migration 2 added
    assert row["last_push"] is None  # migration 3
    assert [r["message"] for r in store.logs()] == ["hello"]
    store.add_push("node1", "web", 8, "h", "sent", "detail")  # pushes.detail exists now
    assert store.pushes("node1")[0]["detail"] == "detail"
    store.close()


def test_a_store_from_a_newer_smartserver_is_refused(tmp_path):
    path = tmp_path / "s.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this SmartServer"):
        Store(path)


def test_log_retention_drops_old_lines_and_keeps_the_newest_per_device(tmp_path):
    store = Store(tmp_path / "s.db")
    now = time.time()
    for i in range(5):
        store.add_log("old", "info", None, f"old {i}", ts=now - 40 * 86400)
    for i in range(30):
        store.add_log("busy", "info", None, f"line {i}", ts=now - 30 + i)
    store.add_log("quiet", "error", None, "only one", ts=now)
    dropped = store.prune_logs(max_age_days=30, max_per_device=10)
    assert dropped == 5 + 20
    assert [r["message"] for r in store.logs("busy", limit=100)] == [
        f"line {i}" for i in range(29, 19, -1)
    ]
    assert store.logs("old") == []
    assert [r["message"] for r in store.logs("quiet")] == ["only one"]
    store.close()


def test_the_signing_counter_only_grows(tmp_path):
    store = Store(tmp_path / "s.db")
    assert store.next_counter("n") == 1
    assert store.next_counter("n", at_least=41) == 42
    assert store.next_counter("n", at_least=3) == 43
    store.close()
    assert Store(tmp_path / "s.db").next_counter("n") == 44  # kept across restarts


def test_serve_says_when_it_cannot_open_its_store(tmp_path, config_folder):
    from smartserver_helpers import run_cli

    done = run_cli(
        "serve",
        "-c",
        str(config_folder),
        "--store",
        str(tmp_path / "no" / "s.db"),
        "--broker",
        "127.0.0.1:1",
        "--http",
        "off",
    )
    assert done.returncode == 2
    assert f"smartserver: cannot open the store {tmp_path / 'no' / 's.db'}:" in done.stderr
