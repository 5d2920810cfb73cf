"""Keeps a board's clock on UTC from NTP, and the log's local-time offset (zone and EU summer time).

On Linux the operating system keeps the clock; the task ends at once there.
"""

import asyncio
import time

from pysmartnode.logging import getLogger
from pysmartnode.logging.logger import set_clock_offset
from pysmartnode.platform import ntp_sync

_SYNC_EVERY = 5  # hours between syncs


def weekday(y, m, d):
    """Day of the week, 0 = Sunday (Sakamoto's method)."""
    t = (0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4)
    if m < 3:
        y -= 1
    return (y + y // 4 - y // 100 + y // 400 + t[m - 1] + d) % 7


def eu_summer_time(y, m, d, h):
    """True between 01:00 UTC on the last Sundays of March and October."""
    if 3 < m < 10:
        return True
    if m not in (3, 10):
        return False
    last_sunday = 31 - weekday(y, m, 31)
    after = d > last_sunday or (d == last_sunday and h >= 1)
    return after if m == 3 else not after


def offset(zone_hours, summer_time):
    """Seconds to add to UTC for local time now."""
    extra = 0
    if summer_time:
        t = time.gmtime()
        extra = 3600 if eu_summer_time(t[0], t[1], t[2], t[3]) else 0
    return int(zone_hours * 3600) + extra


async def keep_time(server, zone_hours, summer_time):
    """Syncs every few hours, retrying sooner after errors; returns at once on Linux."""
    log = getLogger("ntp")
    hours = 0
    pause = 1
    while True:
        if hours % _SYNC_EVERY == 0:
            try:
                if not ntp_sync(server):
                    return
                pause = 1
            except Exception as e:  # no network, or no answer: try again soon
                log.warning("time sync with %s failed: %s", server, e)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 600)
                continue
        set_clock_offset(offset(zone_hours, summer_time))
        hours += 1
        await asyncio.sleep(3600)
