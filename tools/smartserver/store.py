"""The SQLite store: devices, log lines (with retention), config pushes and their outcome.

The schema is versioned with `PRAGMA user_version`; `MIGRATIONS[n]` takes a store from version
n to n + 1, so a store written by an older SmartServer is upgraded in place when opened. One
connection, shared by the threads of `serve` under a lock; WAL lets `status` read meanwhile.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

MIGRATIONS = [
    # 0 -> 1: the first schema
    """
    CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        availability TEXT NOT NULL DEFAULT 'unknown',
        since REAL,
        last_seen REAL,
        version TEXT, platform TEXT, uptime INTEGER, ram_free INTEGER, ip TEXT,
        reconnects INTEGER, reset_reason TEXT, last_error TEXT, last_error_at REAL,
        running_hash TEXT, counter INTEGER NOT NULL DEFAULT 0, status_json TEXT, secret TEXT
    );
    CREATE TABLE logs (
        id INTEGER PRIMARY KEY, ts REAL NOT NULL, device TEXT NOT NULL, level TEXT NOT NULL,
        logger TEXT, message TEXT NOT NULL
    );
    CREATE INDEX logs_device_ts ON logs(device, ts);
    CREATE INDEX logs_ts ON logs(ts);
    CREATE TABLE pushes (
        id INTEGER PRIMARY KEY, ts REAL NOT NULL, device TEXT NOT NULL, trigger TEXT NOT NULL,
        counter INTEGER, hash TEXT, outcome TEXT NOT NULL
    );
    CREATE INDEX pushes_device ON pushes(device, ts);
    """,
    # 1 -> 2: why the folder's file of a device is not sent, and what a push's outcome says
    """
    ALTER TABLE devices ADD COLUMN config_error TEXT;
    ALTER TABLE pushes ADD COLUMN detail TEXT;
    """,
    # 2 -> 3: the outcome of the last push, for the fleet table
    """
    ALTER TABLE devices ADD COLUMN last_push TEXT;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
DEVICE_FIELDS = (
    "id",
    "availability",
    "since",
    "last_seen",
    "version",
    "platform",
    "uptime",
    "ram_free",
    "ip",
    "reconnects",
    "reset_reason",
    "last_error",
    "last_error_at",
    "running_hash",
    "config_error",
    "last_push",
)


class StoreError(Exception):
    pass


class Store:
    """The SmartServer's database at path (created if missing, migrated if old)."""

    def __init__(self, path: str | Path, upto: int = SCHEMA_VERSION) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self.migrate(upto)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self, upto: int = SCHEMA_VERSION) -> None:
        with self._lock:
            current = self.version
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema {current}, newer than this SmartServer"
                    f" ({SCHEMA_VERSION}): upgrade smartserver"
                )
            for n in range(current, upto):
                self._db.execute("BEGIN")
                try:
                    for statement in MIGRATIONS[n].split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={n + 1}")
                    self._db.execute("COMMIT")
                except Exception:
                    self._db.execute("ROLLBACK")
                    raise

    # -- devices -------------------------------------------------------------------------

    def device(self, device_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM devices WHERE id=?", (device_id,)).fetchone()
        return dict(row) if row else None

    def devices(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM devices ORDER BY id").fetchall()
        return [dict(r) for r in rows]

    def update_device(self, device_id: str, **fields: Any) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO devices(id) VALUES (?)", (device_id,))
            if fields:
                sets = ", ".join(f"{k}=?" for k in fields)
                self._db.execute(
                    f"UPDATE devices SET {sets} WHERE id=?", (*fields.values(), device_id)
                )

    def next_counter(self, device_id: str, at_least: int = 0) -> int:
        """The counter for the next signed message to device_id (stored before it is sent)."""
        with self._lock:
            self.update_device(device_id)
            row = self._db.execute("SELECT counter FROM devices WHERE id=?", (device_id,))
            counter = max(row.fetchone()[0], at_least) + 1
            self._db.execute("UPDATE devices SET counter=? WHERE id=?", (counter, device_id))
            return counter

    def secret(self, device_id: str) -> str | None:
        row = self.device(device_id)
        return row["secret"] if row else None

    def set_secret(self, device_id: str, secret: str) -> None:
        self.update_device(device_id, secret=secret)

    # -- logs ----------------------------------------------------------------------------

    def add_log(self, device: str, level: str, logger: str | None, message: str, ts=None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO logs(ts, device, level, logger, message) VALUES (?,?,?,?,?)",
                (ts or time.time(), device, level, logger, message),
            )

    def logs(
        self,
        device: str | None = None,
        level: str | None = None,
        text: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The newest log lines first, filtered by device, level and a text they contain."""
        where, params = [], []
        if device:
            where.append("device=?")
            params.append(device)
        if level:
            where.append("level=?")
            params.append(level)
        if text:
            where.append("(message LIKE ? ESCAPE '\\' OR logger LIKE ? ESCAPE '\\')")
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [like, like]
        sql = "SELECT * FROM logs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*params, limit)).fetchall()
        return [dict(r) for r in rows]

    def log_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM logs").fetchone()[0]

    def prune_logs(self, max_age_days: float, max_per_device: int) -> int:
        """Retention: drops lines older than max_age_days and all but the newest
        max_per_device of each device. Returns how many were dropped."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM logs WHERE ts < ?", (time.time() - max_age_days * 86400,)
            )
            dropped = cur.rowcount
            cur = self._db.execute(
                """DELETE FROM logs WHERE id IN (
                       SELECT id FROM (
                           SELECT id, ROW_NUMBER() OVER (PARTITION BY device ORDER BY id DESC) AS n
                           FROM logs)
                       WHERE n > ?)""",
                (max_per_device,),
            )
            return dropped + cur.rowcount

    # -- pushes --------------------------------------------------------------------------

    def add_push(self, device, trigger, counter, hash_, outcome, detail=None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO pushes(ts, device, trigger, counter, hash, outcome, detail)"
                " VALUES (?,?,?,?,?,?,?)",
                (time.time(), device, trigger, counter, hash_, outcome, detail),
            )

    def set_push_outcome(self, device, counter, outcome, detail=None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE pushes SET outcome=?, detail=? WHERE device=? AND counter=?",
                (outcome, detail, device, counter),
            )

    def pushes(self, device: str, limit: int = 20) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM pushes WHERE device=? ORDER BY id DESC LIMIT ?", (device, limit)
            ).fetchall()
        return [dict(r) for r in rows]
