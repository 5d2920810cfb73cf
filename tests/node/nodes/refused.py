# A test node's components.py: one subscription the broker refuses (amqtt's taboo plugin says
# "prohibited" to SUBSCRIBE with 0x80), one it grants, for the retry-and-summary test
from pysmartnode import node


def on_any(topic, msg, retained):
    pass


node.mqtt.subscribe("prohibited", on_any)
node.mqtt.subscribe("./granted", on_any)
