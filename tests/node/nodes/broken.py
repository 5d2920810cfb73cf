# A test node's components.py that fails on import: the node must log it and run on
raise RuntimeError("components.py broken on purpose")
