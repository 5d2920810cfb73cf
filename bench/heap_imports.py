# Where the heap goes, by import: gc.mem_alloc() after a collection, before and after importing
# each module of an idle node, in the order start-up imports them (a package's submodules are
# counted with the package that imports them). Runs on the unix port:
#   MICROPYPATH=<tree>:.frozen micropython bench/heap_imports.py
# Prints one "IMPORT <module> <bytes>" line per module, then "TOTAL <bytes>".
import gc

gc.collect()
start = gc.mem_alloc()
MODULES = (
    "asyncio",
    "mqtt_as",
    "pysmartnode.config",
    "pysmartnode.config_loader",
    "pysmartnode.platform",
    "pysmartnode.logging.logger",
    "pysmartnode.networking.mqtt",
    "pysmartnode.node",
    "pysmartnode.components.machine.status",
    "pysmartnode.utils.watchdog",
    "pysmartnode.startup",
    "pysmartnode.main",
)
for name in MODULES:
    gc.collect()
    before = gc.mem_alloc()
    try:
        __import__(name)
    except ImportError as e:
        print("IMPORT", name, "failed:", e)
        continue
    gc.collect()
    print("IMPORT", name, gc.mem_alloc() - before)
gc.collect()
print("TOTAL", gc.mem_alloc() - start)
