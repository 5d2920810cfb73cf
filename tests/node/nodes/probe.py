# A test node's components.py: callbacks that report what they saw, for the subscription tests
import asyncio

from pysmartnode import node

mqtt = node.mqtt
state = {"switch": None}


def report(sub, text):
    asyncio.create_task(mqtt.publish("./probe/" + sub, text, qos=1))


def on_switch(topic, msg, retained):
    state["switch"] = msg
    report("switch", "%s %s %s" % (topic, msg, retained))
    return True  # echo the command to ./switch, retained


def on_query(topic, msg, retained):
    report("state", str(state["switch"]))


def raising(topic, msg, retained):
    raise RuntimeError("probe callback failed on purpose")


def after_raising(topic, msg, retained):
    report("multi", msg)


async def on_async(topic, msg, retained):
    await asyncio.sleep(0.01)
    return "async " + msg  # published to ./async instead of the payload


def on_json(topic, msg, retained):
    report("json", str(msg["value"]))


def on_text(topic, msg, retained):
    report("text", msg)


def on_wildcard(topic, msg, retained):
    report("wildcard", topic)


def on_connect(reason):
    report("hook", reason)


def on_late(topic, msg, retained):
    report("late", msg)


def subscribe_late(topic, msg, retained):
    # a subscription made while the node runs (long after the connect's sync)
    mqtt.subscribe("./late", on_late)


mqtt.subscribe("./switch/set", on_switch, restore_state=True)
mqtt.subscribe("./query", on_query)
mqtt.subscribe("./multi", raising)
mqtt.subscribe("./multi", after_raising)
mqtt.subscribe("./async/set", on_async)
mqtt.subscribe("./json", on_json, parse_json=True)
mqtt.subscribe("./text", on_text)
mqtt.subscribe("probe_ext/+/x/#", on_wildcard)
mqtt.subscribe("./subscribe_late", subscribe_late)
mqtt.on_connect(on_connect)
print("probe: components loaded")
