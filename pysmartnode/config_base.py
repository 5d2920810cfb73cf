"""Every setting a node has, with its default. The user's config.py overrides only what it names.

This module holds values only: loading, checking and merging live in config_loader.py, and the
merged settings are read from pysmartnode.config. Every option is explained in config_example.py.
"""

# name, default: one constant (in the firmware when frozen: no heap). pysmartnode.config answers
# with these for every setting the user did not set, so its table holds only those the user set
DEFAULTS = (
    # Network link (boards only; unix and CPython use the host's network)
    ("WIFI_SSID", ""),
    ("WIFI_PASSPHRASE", ""),
    # Broker. MQTT_HOST "embedded" starts an amqtt broker inside the node (CPython only).
    ("MQTT_HOST", ""),
    ("MQTT_PORT", 1883),
    ("MQTT_USER", ""),
    ("MQTT_PASSWORD", ""),
    ("MQTT_KEEPALIVE", 60),
    ("MQTT_TLS", False),
    ("MQTT_TLS_CA", None),
    ("MQTT_TLS_CERT", None),
    ("MQTT_TLS_KEY", None),
    ("MQTT_TLS_INSECURE", False),
    # Topics
    ("MQTT_HOME", "home"),
    ("MQTT_AVAILABILITY_SUBTOPIC", "available"),
    ("MQTT_DISCOVERY_PREFIX", "homeassistant"),
    ("MQTT_DISCOVERY_ENABLED", True),
    ("MQTT_DISCOVERY_PER_ENTITY", False),
    ("MQTT_RECEIVE_CONFIG", False),
    ("MQTT_CONFIG_SECRET", None),
    ("MQTT_CONFIG_WAIT", 10),
    ("MQTT_CONFIG_APPLY_WAIT", 30),
    ("MQTT_CONFIG_ALLOW", "pysmartnode.components."),
    # The node
    ("DEVICE_NAME", None),
    ("DEBUG", False),
    ("INTERVAL_SENSOR_PUBLISH", 600),
    ("INTERVAL_SENSOR_READ", 120),
    ("WATCHDOG_TIMEOUT", 120),
    ("LOG_QUEUE_LEN", 16),
    # Board extras
    ("WIFI_LED", None),
    ("WIFI_LED_ACTIVE_HIGH", True),
    ("RTC_SYNC_ACTIVE", True),
    ("RTC_SERVER", "pool.ntp.org"),
    ("RTC_TIMEZONE_OFFSET", 0),
    ("RTC_DAYLIGHT_SAVINGS", False),
)
