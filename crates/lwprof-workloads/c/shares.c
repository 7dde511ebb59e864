/* Known shares: hot_seventy gets 70% of the CPU time, warm_thirty 30%.
 * Both are reached through run_round, so call graphs have a known shape:
 * main -> run_round -> {hot_seventy, warm_thirty}. Argument: seconds. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

volatile uint64_t sink;

__attribute__((noinline)) void hot_seventy(uint64_t n) {
    for (uint64_t i = 0; i < n; i++) sink = sink * 6364136223846793005ULL + i;
}

__attribute__((noinline)) void warm_thirty(uint64_t n) {
    for (uint64_t i = 0; i < n; i++) sink = sink * 2862933555777941757ULL + i;
}

__attribute__((noinline)) void run_round(void) {
    hot_seventy(700000);
    warm_thirty(300000);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    double end = now() + secs;
    while (now() < end) run_round();
    return 0;
}
