/* Test program for lwprof-profile symbolization tests.
 *
 * It prints, for a few code addresses, the address and the /proc/self/maps
 * line of the mapping that contains it, so the test can compute file offsets
 * the way a profiler does (address - start + pgoff). Markers in comments
 * name the lines the test expects; the test finds them in this file. */
#include <stdio.h>
#include <string.h>
#include <stdint.h>

static void *volatile recorded;

__attribute__((noinline)) void record_caller(void) {
    recorded = __builtin_return_address(0);
}

static inline __attribute__((always_inline)) int lwprof_inner(int x) {
    record_caller(); /* MARK_INNER_CALL */
    return x * 3 + 1;
}

__attribute__((noinline)) int lwprof_outer(int x) {
    int r = lwprof_inner(x); /* MARK_OUTER_CALL */
    return r + 2;
}

__attribute__((noinline)) int lwprof_plain(int x) {
#ifdef VARIANT
    x += VARIANT;
#endif
    return x ^ 0x5a; /* MARK_PLAIN_BODY */
}

static void print_mapping(const char *what, uintptr_t addr) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end, off;
        char perms[8], path[3000] = "";
        if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %2999s", &start, &end, perms, &off, path) < 4)
            continue;
        if (addr >= start && addr < end) {
            printf("%s %lx %lx %lx %lx %s\n", what, (unsigned long)addr, start, end, off, path);
            break;
        }
    }
    fclose(f);
}

int main(int argc, char **argv) {
    (void)argv;
    int v = lwprof_outer(argc);
    v += lwprof_plain(v);
    print_mapping("outer", (uintptr_t)&lwprof_outer);
    print_mapping("plain", (uintptr_t)&lwprof_plain);
    print_mapping("inline_ret", (uintptr_t)recorded);
    print_mapping("libc_fopen", (uintptr_t)&fopen);
    return v == 12345 ? 1 : 0;
}
