//! Small C programs for tests, built with the system's C compiler (`cc`,
//! gcc on Debian), and one program with a known hot function.
//!
//! It does not cache builds between test binaries or pick flags: each test
//! says how its program is built (`-O2 -g -fno-omit-frame-pointer`, ...).

use crate::run::run;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Compiles the C file `source` with `cc FLAGS -o EXE SOURCE`; panics with
/// the compiler's messages when it fails.
pub fn compile_c_file(source: &Path, exe: &Path, flags: &[&str]) {
    run(Command::new("cc")
        .args(flags)
        .arg("-o")
        .arg(exe)
        .arg(source));
}

/// Writes the C source `src` to `dir/NAME.c` and compiles it with `flags`
/// into `dir/NAME`, which it returns.
pub fn compile_c(dir: &Path, name: &str, src: &str, flags: &[&str]) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, src).unwrap_or_else(|e| panic!("writing {}: {e}", c.display()));
    let exe = dir.join(name);
    compile_c_file(&c, &exe, flags);
    exe
}

/// A C program that spends its time in `function` and calls `other`, a
/// cheap one, once per round; its argument is how many seconds it runs
/// (default 1).
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

/// Makes `out`, a stripped copy of `exe` (`objcopy --strip-all`) with
/// MiniDebugInfo as Fedora's `find-debuginfo` adds it: the functions of
/// `.symtab` that `.dynsym` lacks, in an `--only-keep-debug` copy stripped
/// of everything else, xz-compressed into a `.gnu_debugdata` section.
/// Needs binutils (`nm`, `objcopy`) and `xz` (xz-utils).
pub fn strip_with_minidebuginfo(exe: &Path, out: &Path) {
    let work = out.with_extension("minidebuginfo.d");
    std::fs::create_dir_all(&work).unwrap_or_else(|e| panic!("{}: {e}", work.display()));
    let names = |dynamic: bool| -> Vec<String> {
        let mut nm = Command::new("nm");
        if dynamic {
            nm.arg("-D");
        }
        let (listing, _) = run(nm.args(["--format=posix", "--defined-only"]).arg(exe));
        let mut names: Vec<String> = listing
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let (name, kind) = (f.next()?, f.next()?);
                (dynamic || matches!(kind, "T" | "t" | "D")).then(|| name.to_string())
            })
            .collect();
        names.sort();
        names
    };
    let dynamic = names(true);
    let keep: Vec<String> = names(false)
        .into_iter()
        .filter(|n| dynamic.binary_search(n).is_err())
        .collect();
    let keep_file = work.join("keep_symbols");
    std::fs::write(&keep_file, keep.join("\n") + "\n").expect("writing keep_symbols");
    let debug = work.join("debug");
    let mini = work.join("mini_debuginfo");
    run(Command::new("objcopy")
        .arg("--only-keep-debug")
        .arg(exe)
        .arg(&debug));
    run(Command::new("objcopy")
        .args(["-S", "--remove-section", ".gdb_index", "--remove-section"])
        .arg(".comment")
        .arg(format!("--keep-symbols={}", keep_file.display()))
        .arg(&debug)
        .arg(&mini));
    run(Command::new("xz").args(["-f", "--threads=1"]).arg(&mini));
    run(Command::new("objcopy").arg("--strip-all").arg(exe).arg(out));
    run(Command::new("objcopy")
        .arg(format!(
            "--add-section=.gnu_debugdata={}",
            mini.with_extension("xz").display()
        ))
        .arg(out));
}
