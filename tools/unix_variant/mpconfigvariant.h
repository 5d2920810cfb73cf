// The unix-port variant tools/firmware.py builds: MicroPython's standard variant, with Ctrl-C
// (SIGINT) taken by the VM at its next check instead of raised from the signal handler.
//
// The standard variant raises KeyboardInterrupt straight from the handler, wherever the main
// thread is. Inside the allocator or a garbage collection that jump leaves the heap's mutex
// locked, and the interpreter's next allocation then waits on it for ever: a node stopped with
// Ctrl-C while it collected hung about once in some hundred stops (gdb: the main thread in
// pthread_mutex_lock, the watchdog's thread asleep). Scheduled, the interrupt is raised
// between bytecodes or when a blocking call returns EINTR; a second Ctrl-C before that ends
// the process at once (exit status 1).
#include "variants/standard/mpconfigvariant.h"

#undef MICROPY_ASYNC_KBD_INTR
#define MICROPY_ASYNC_KBD_INTR (0)
