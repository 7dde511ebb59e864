/* JIT code: copies a small machine-code loop into an anonymous executable
 * mapping, names it in /tmp/perf-PID.map (perf's JIT map format) and runs
 * it. A profile names the generated code `jitted_hot_loop`. x86-64 only.
 * Argument: seconds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    /* mov rax, rdi; loop: dec rax; jnz loop; ret */
    static const unsigned char code[] = {
        0x48, 0x89, 0xf8,       /* mov rax, rdi */
        0x48, 0xff, 0xc8,       /* dec rax */
        0x75, 0xfb,             /* jnz -5 */
        0xc3                    /* ret */
    };
    unsigned char *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return 1;
    memcpy(mem, code, sizeof code);
    char path[64];
    snprintf(path, sizeof path, "/tmp/perf-%d.map", getpid());
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fprintf(f, "%lx %zx jitted_hot_loop\n", (unsigned long)mem, sizeof code);
    fclose(f);
    void (*fn)(uint64_t) = (void (*)(uint64_t))mem;
    double end = now() + secs;
    while (now() < end) fn(1000000);
    return 0;
}
