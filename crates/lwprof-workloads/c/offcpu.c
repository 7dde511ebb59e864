/* Off-CPU time: about half the wall time blocked in blocking_wait (nanosleep),
 * half spinning in busy_spin. Argument: seconds. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

volatile uint64_t sink;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The syscall is made here, not in libc: libc's wrappers have no frame
 * pointer, so a frame-pointer walk from inside them skips their caller. */
__attribute__((noinline)) void blocking_wait(void) {
    struct timespec ts = {0, 5 * 1000 * 1000};
#if defined(__x86_64__)
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(35 /* SYS_nanosleep */), "D"(&ts), "S"(0)
                     : "rcx", "r11", "memory");
    (void)ret;
#else
    nanosleep(&ts, NULL);
#endif
    sink++; /* not a tail call: keep this frame on the stack */
}

__attribute__((noinline)) void busy_spin(void) {
    double end = now() + 0.005;
    while (now() < end) sink = sink * 6364136223846793005ULL + 1;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    double end = now() + secs;
    while (now() < end) {
        blocking_wait();
        busy_spin();
    }
    return 0;
}
