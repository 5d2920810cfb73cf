# A test node's components.py: a Ctrl-C in the moment the node connects. When the client logs
# "connected to", this log tap holds the event loop until the test's SIGINT has come. The unix
# port raises KeyboardInterrupt right here, in the middle of the client's connect (connected,
# not yet ready to publish); on CPython the stop begins as soon as the loop runs again, while
# the node still subscribes its 40 topics (one SUBACK after the other) before `online`
import asyncio
import time

from pysmartnode import node
from pysmartnode.logging import logger


def _tap(level, name, text):
    if name == "mqtt" and text.startswith("connected to"):
        logger.untap(_tap)
        print("interrupt_at_connect: waiting for the signal")
        cancelling = getattr(asyncio.current_task(), "cancelling", None)
        while cancelling is None or not cancelling():  # CPython: SIGINT cancels the main task
            time.sleep(0.01)


def _ignore(topic, msg, retained):
    pass


for _i in range(40):
    node.mqtt.subscribe("./many/%d" % _i, _ignore)
logger.tap(_tap)
