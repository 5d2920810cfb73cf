# A test node's components.py that adds nothing, only prints what the garbage collector's
# threshold and the heap's size are when the components are built (MicroPython)
import gc

print("gc_threshold: %d of %d" % (gc.threshold(), gc.mem_free() + gc.mem_alloc()))
