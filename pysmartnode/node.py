"""The running node: what start-up built, for the parts that need it (components, the registry).

    from pysmartnode import node
    node.mqtt.subscribe("./pump/set", on_command)

pysmartnode.main fills these in before any component loads; settings stay in pysmartnode.config.
"""

mqtt = None  # the MQTTHandle (pysmartnode.networking.mqtt)
link = None  # the platform's network Link
status = None  # the built-in Status component
components = {}  # config key -> component object, filled by the registry
failed = {}  # config key -> why it did not load (the registry)
discovery = None  # the Home Assistant discovery publisher, when discovery is on
config_hash = None  # hash of the component config that runs (canonical.config_hash), or None
reset_reason = None  # why the node last ended (the recorded reason, else the board's cause)
parts = {}  # what start-up built and a stop must end: watchdog, wifi_led, broker; and folder
