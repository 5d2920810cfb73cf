# A test node's components.py: one subscription the broker refuses (amqtt's taboo plugin says
# "prohibited" to SUBSCRIBE with 0x80), one it grants, for the retry-and-summary test
from pysmartnode import node
from pysmartnode.networking import mqtt_subs

# The first pause 1 s instead of 5 s, so the test sees three refusals in seconds; the doubling
# and the summaries at 1, 2, 4... failures are the code's own
mqtt_subs._SUBSCRIBE_RETRY = 1


def on_any(topic, msg, retained):
    pass


node.mqtt.subscribe("prohibited", on_any)
node.mqtt.subscribe("./granted", on_any)
