# pysmartnode settings: copy this file to config.py (beside main.py, or frozen into the firmware)
# and keep only the lines you change; every line left out keeps the default shown here.
# A name that is not an option below stops the node with the closest valid name, so a typo never
# goes unnoticed. On Linux a single option can also come from the environment:
#     PYSMARTNODE_MQTT_HOST=192.168.0.10 ./run.sh --config node/config.py
# Plain Python: no `const()` needed (CPython has none); secrets stay in this file, never in logs.

# --- network link (boards only; unix and CPython use the host's network) ---------------------
WIFI_SSID = ""  # your Wi-Fi; "" on an ESP8266 reuses the network it joined last
WIFI_PASSPHRASE = ""

# --- broker ----------------------------------------------------------------------------------
MQTT_HOST = ""  # name or address of the broker; required. "embedded": start an amqtt broker
#                 inside the node on 127.0.0.1 (CPython with amqtt installed; for trying out)
MQTT_PORT = 1883  # left out: 1883, or 8883 with MQTT_TLS = True (delete this line then)
MQTT_USER = ""  # "" when the broker allows anonymous clients
MQTT_PASSWORD = ""
MQTT_KEEPALIVE = 60  # seconds; the client pings after a quarter of it without traffic
MQTT_TLS = False  # True: connect with TLS and verify the broker's certificate
MQTT_TLS_CA = None  # path of the CA certificate (PEM) that signed the broker's; required on
#                     MicroPython, on CPython None means the system's CAs
MQTT_TLS_CERT = None  # path of a client certificate (PEM), for brokers that ask for one
MQTT_TLS_KEY = None  # path of its private key (PEM)
MQTT_TLS_INSECURE = False  # True: skip verifying the broker (encryption only; not for real use)

# --- topics ----------------------------------------------------------------------------------
MQTT_HOME = "home"  # root topic: the node lives under <home>/<device id>/
MQTT_AVAILABILITY_SUBTOPIC = "available"  # <home>/<id>/available: "online" / "offline", retained
MQTT_DISCOVERY_PREFIX = "homeassistant"  # Home Assistant's discovery prefix
MQTT_DISCOVERY_ENABLED = True  # publish discovery, and re-announce when HA says "online"
MQTT_DISCOVERY_PER_ENTITY = False  # True: one config per entity, for Home Assistant before 2024.11
MQTT_RECEIVE_CONFIG = False  # True: components come from the SmartServer, not components.py
# With MQTT_RECEIVE_CONFIG (docs/smartserver.md): the device's signing secret (`smartserver
# secret <id>`), the seconds to wait for the server at start (then the saved copy, then
# components.py), the seconds a config pushed while the node runs has to get discovery and a
# status report out (else the previous config is built again: rolled back), and the package
# prefixes a remote config may import (comma-separated)
MQTT_CONFIG_SECRET = None
MQTT_CONFIG_WAIT = 10
MQTT_CONFIG_APPLY_WAIT = 30
MQTT_CONFIG_ALLOW = "pysmartnode.components."

# --- the node --------------------------------------------------------------------------------
DEVICE_NAME = None  # the node's id in topics and the client id; None: the chip id on a board,
#                     the host name on Linux. Must be unique on your broker.
DEBUG = False  # True: debug messages are printed and published too
INTERVAL_SENSOR_PUBLISH = 600  # seconds between a sensor's publications (and ./status)
INTERVAL_SENSOR_READ = 120  # seconds between a sensor's readings
WATCHDOG_TIMEOUT = 120  # seconds the event loop may stand still (a blocking component) before
#                         the node resets (on Linux: exits non-zero); 0 turns the timeout off
#                         (the unix port's PyPI wheel still ends a deadlocked node: docs/node.md)
LOG_QUEUE_LEN = 16  # log messages held while the broker is away; the oldest go first

# --- board extras ----------------------------------------------------------------------------
WIFI_LED = None  # pin of a status LED (a number, or a name such as "LED" on a Pico W)
WIFI_LED_ACTIVE_HIGH = True  # False if the LED lights when the pin is low
RTC_SYNC_ACTIVE = True  # set a board's clock from NTP every few hours (Linux keeps its own)
RTC_SERVER = "pool.ntp.org"
RTC_TIMEZONE_OFFSET = 0  # hours added to UTC in printed log times (the clock itself stays UTC)
RTC_DAYLIGHT_SAVINGS = False  # True: one more hour in EU summer time (last Sundays of Mar-Oct)
