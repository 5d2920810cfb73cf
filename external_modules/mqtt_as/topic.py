"""MQTT topic names and filters: validation and `+`/`#` matching (MQTT 3.1.1 §4.7). They live in
codec.py (one module less on the heap); this name stays for applications that imported it."""

from .codec import check_filter, check_size, check_topic, matches  # noqa: F401
