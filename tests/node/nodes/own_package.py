# A test node's components.py: an entry of its own package (a class defined here). The registry
# must find the module that ran, not run this file a second time
print("own_package: components.py runs")


class Thing:
    def __init__(self, name):
        self.name = name

    def stop(self):
        pass

    def discovery_entities(self):
        return []


COMPONENTS = {"thing": {"package": "components", "component": "Thing"}}
