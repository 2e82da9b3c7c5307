// Lets a Swift program with an `async` main run under Valgrind (scripts/bench-instructions.sh).
//
// Swift's async main ends the main thread in libdispatch's dispatch_main(), which leaves it with
// pthread_exit() while the other threads go on; Valgrind (3.19 and 3.24 alike) then dies of a
// SIGSEGV of its own as soon as a thread is created. Preloaded (LD_PRELOAD), this dispatch_main()
// keeps the main thread and drains the main queue on it, as a run loop does, through the hooks
// libdispatch has for CoreFoundation; everything else is the real libdispatch. Its symbols are
// resolved from the program's libdispatch when first called, so preloading it into a program
// without libdispatch (the valgrind launcher) does nothing.
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

extern int _dispatch_get_main_queue_handle_4CF(void);
extern void _dispatch_main_queue_callback_4CF(void *message);

void dispatch_main(void) {
  // An eventfd that libdispatch signals when it puts work on the main queue.
  int wakeups = _dispatch_get_main_queue_handle_4CF();
  for (;;) {
    struct pollfd ready = {.fd = wakeups, .events = POLLIN};
    if (poll(&ready, 1, -1) < 1) continue;
    uint64_t signals;
    (void)read(wakeups, &signals, sizeof signals);
    _dispatch_main_queue_callback_4CF(0);
  }
}
