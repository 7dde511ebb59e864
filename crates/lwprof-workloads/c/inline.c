/* Inline frames: mix_inlined is always inlined into outer_loop, so a
 * profile with inline frames shows mix_inlined under outer_loop, and one
 * without shows only outer_loop. Argument: seconds. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

volatile uint64_t sink;

static inline __attribute__((always_inline)) uint64_t mix_inlined(uint64_t x) {
    for (int k = 0; k < 64; k++) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return x;
}

__attribute__((noinline)) void outer_loop(uint64_t n) {
    uint64_t x = sink;
    for (uint64_t i = 0; i < n; i++) x = mix_inlined(x + i);
    sink = x;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    double end = now() + secs;
    while (now() < end) outer_loop(20000);
    return 0;
}
