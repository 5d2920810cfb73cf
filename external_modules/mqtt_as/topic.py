"""MQTT topic names and filters: validation and `+`/`#` matching (MQTT 3.1.1 §4.7). They live in
codec.py and subs.py (filters); this name stays for applications that imported it."""

from .codec import check_size, check_topic, matches  # noqa: F401
from .subs import check_filter  # noqa: F401
