//! Helpers shared by the CLI tests: running lwprof and perf, scratch
//! directories, compiling small C programs, and reading shares out of
//! `perf report`-style text.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory that is removed when dropped.
pub fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("lwprof-test-{name}-"))
        .tempdir()
        .expect("creating a scratch directory")
}

/// Runs lwprof in `dir` with `args` (and `env`).
pub fn lwprof_env(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lwprof"));
    c.current_dir(dir).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("running lwprof")
}

/// Runs lwprof in `dir` with `args`.
pub fn lwprof(dir: &Path, args: &[&str]) -> Output {
    lwprof_env(dir, args, &[])
}

/// Runs Linux perf in `dir` with `args`.
pub fn perf(dir: &Path, args: &[&str]) -> Output {
    Command::new("perf")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("Linux perf is installed by .ci/run")
}

/// stdout and stderr as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs lwprof and requires success; returns (stdout, stderr).
pub fn ok(dir: &Path, args: &[&str]) -> (String, String) {
    let o = lwprof(dir, args);
    let t = text(&o);
    assert!(o.status.success(), "lwprof {args:?} failed:\n{}", t.1);
    t
}

/// Runs perf and requires success; returns (stdout, stderr).
pub fn perf_ok(dir: &Path, args: &[&str]) -> (String, String) {
    let o = perf(dir, args);
    let t = text(&o);
    assert!(o.status.success(), "perf {args:?} failed:\n{}", t.1);
    t
}

/// Compiles C source `src` with gcc and `flags` into `dir/name`.
pub fn compile_c(dir: &Path, name: &str, src: &str, flags: &[&str]) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, src).expect("writing C source");
    let out = dir.join(name);
    let status = Command::new("cc")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&c)
        .status()
        .expect("running the C compiler");
    assert!(status.success(), "compiling {name} failed");
    out
}

/// Self shares by symbol from `perf report`-style text (`pct [.] name`).
pub fn parse_shares(out: &str) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for line in out.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let Some(i) = f.iter().position(|w| *w == "[.]" || *w == "[k]") {
            if let Ok(p) = f[0].trim_end_matches('%').parse::<f64>() {
                *m.entry(f[i + 1..].join(" ")).or_default() += p;
            }
        }
    }
    m
}

/// The sum of shares whose name ends with `name`.
pub fn share(m: &BTreeMap<String, f64>, name: &str) -> f64 {
    m.iter()
        .filter(|(k, _)| k.ends_with(name))
        .map(|(_, v)| *v)
        .sum()
}

/// Shares by symbol from `lwprof report --no-children -s sym -g none`.
pub fn lwprof_shares(dir: &Path, data: &str, extra: &[&str]) -> BTreeMap<String, f64> {
    let mut args = vec![
        "report",
        "-i",
        data,
        "--no-children",
        "--sort",
        "sym",
        "-g",
        "none",
    ];
    args.extend_from_slice(extra);
    parse_shares(&ok(dir, &args).0)
}

/// Shares by symbol from `perf report --stdio --no-children -s sym -g none`.
pub fn perf_shares(dir: &Path, data: &str) -> BTreeMap<String, f64> {
    parse_shares(
        &perf_ok(
            dir,
            &[
                "report",
                "--stdio",
                "--no-children",
                "-q",
                "--sort",
                "sym",
                "-g",
                "none",
                "-i",
                data,
            ],
        )
        .0,
    )
}

/// A C program that spends its time in `hot` (argument: seconds).
pub fn busy_c(function: &str, other: &str) -> String {
    format!(
        r#"#include <stdlib.h>
#include <time.h>
volatile unsigned long sink;
__attribute__((noinline)) void {function}(void) {{
    for (unsigned long i = 0; i < 200000; i++) sink = sink * 6364136223846793005UL + i;
}}
__attribute__((noinline)) void {other}(void) {{ sink += 3; }}
static double now(void) {{
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}}
int main(int argc, char **argv) {{
    double end = now() + (argc > 1 ? atof(argv[1]) : 1.0);
    while (now() < end) {{ {function}(); {other}(); }}
    return 0;
}}
"#
    )
}
