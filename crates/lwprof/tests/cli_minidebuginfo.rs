//! `lwprof record` then `lwprof report` of a stripped C program whose only
//! names for its static functions are in its MiniDebugInfo
//! (`.gnu_debugdata`, as Fedora ships binaries): the hot static function is
//! named in the report.

mod common;

use common::*;

const SOURCE: &str = r#"#include <stdlib.h>
#include <time.h>
volatile unsigned long sink;
static __attribute__((noinline)) void static_hot_loop(void) {
    for (unsigned long i = 0; i < 200000; i++) sink = sink * 6364136223846793005UL + i;
}
static double now(void) {
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
int main(int argc, char **argv) {
    double end = now() + (argc > 1 ? atof(argv[1]) : 1.0);
    while (now() < end) static_hot_loop();
    return 0;
}
"#;

#[test]
fn report_names_a_static_function_from_gnu_debugdata() {
    if !tools::available("xz", "xz-utils") {
        return;
    }
    let tmp = scratch("minidebuginfo");
    let dir = tmp.path();
    let exe = compile_c(dir, "prog", SOURCE, &["-O2", "-fno-omit-frame-pointer"]);
    let mdi = dir.join("prog-mdi");
    cc::strip_with_minidebuginfo(&exe, &mdi);
    std::fs::remove_file(&exe).expect("remove the unstripped build");
    let o = lwprof_env(
        dir,
        &[
            "record",
            "-F",
            "1000",
            "--",
            mdi.to_str().expect("utf-8 path"),
            "0.7",
        ],
        &[("HOME", dir)],
    );
    assert!(o.status.success(), "lwprof record failed:\n{}", text(&o).1);
    let mut report = lwprof_command(dir);
    report.env("HOME", dir).args([
        "report",
        "-i",
        "perf.data",
        "--no-children",
        "--sort",
        "sym",
        "-g",
        "none",
    ]);
    let (out, _) = run(&mut report);
    let shares = parse_shares(&out);
    let hot = share(&shares, "static_hot_loop");
    assert!(hot > 50.0, "static_hot_loop at {hot}%:\n{out}");
}
