# Loads the settings as a node does (sys.argv: main.py's arguments) and prints what came out,
# on both runtimes: `port N` and `host H`, or `error: ...` per problem
import sys

from pysmartnode import config, config_loader

try:
    config_loader.load(sys.argv[1:])
    print("port %d" % config.MQTT_PORT)
    print("host %s" % config.MQTT_HOST)
except config.ConfigError as e:
    for line in str(e).split("\n"):
        print("error: " + line)
