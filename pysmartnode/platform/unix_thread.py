"""The unix port's watchdog check as a thread (platform/unix.py's every()): loaded only when used,
so a node checked by a shell process (unix_watch.py) holds none of this."""

from time import sleep as _sleep


class Every:
    interrupted = False

    def __init__(self, seconds, func, mask):
        import _thread

        self._running = True
        self.seconds = seconds
        self.sigint_blocked = mask is not None
        if mask is None:
            _thread.start_new_thread(self._run, (func,))
            return
        # A thread that never receives SIGINT (Ctrl-C). MicroPython raises Ctrl-C in whichever
        # thread Linux hands the signal to. A thread that gets it while the main thread
        # collects garbage deadlocks the interpreter: the main thread has sent it the signal
        # that makes a thread scan its own stack and waits for that scan, holding the heap's
        # lock; the Ctrl-C jumps out of the scan before it reports back, and the thread then
        # waits for the heap's lock to note the KeyboardInterrupt (docs/node.md). A new thread
        # inherits the signal mask of the one that starts it, so SIGINT is blocked here for the
        # moment of the start, then the old mask comes back; a Ctrl-C meanwhile waits for the
        # main thread. (Here, not a function of this module: 32 B of heap for good, as the
        # thread's object holds the module)
        import struct

        sigint = bytearray(struct.pack("L", 1 << 1))  # SIGINT (2) is bit 1 of the first word
        sigint.extend(bytes(128 - len(sigint)))  # a sigset_t: 128 bytes on glibc and musl
        old = bytearray(128)
        mask(0, sigint, old)  # SIG_BLOCK
        try:
            _thread.start_new_thread(self._run, (func,))
        finally:
            mask(2, old, None)  # SIG_SETMASK: the main thread takes Ctrl-C again

    def _run(self, func):
        # The thread's frame, for the node's life: 11 words at most (locals, value stack, 3 for
        # the `try`), so that it is on the thread's C stack, not a block of the heap
        # (bench/heap_frames.py): no local for `sleep` or the seconds
        while self._running:
            try:
                _sleep(self.seconds)
                if self._running:
                    func()
            except KeyboardInterrupt:
                # Without ffi (sigint_blocked False) Linux may hand SIGINT (Ctrl-C) to this
                # thread rather than the main one, and MicroPython then raises it here, where it
                # would end only this thread and leave the node running. Note it; the event
                # loop side raises it again (watchdog.py)
                self.interrupted = True

    def stop(self):
        self._running = False
