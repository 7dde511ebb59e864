//! `lwprof report` and the symbol cache: the first report writes entries
//! under `$XDG_CACHE_HOME/lwprof/symbols`, the second (warm) prints the same
//! report, and `--no-cache` neither reads nor writes any.

mod common;

use common::*;

#[test]
fn reports_write_entries_and_no_cache_bypasses_them() {
    let dir = scratch("report-symcache");
    let d = dir.path();
    let prog = compile_c(
        d,
        "prog",
        &busy_c("cached_hot", "cached_side"),
        &["-O2", "-g", "-fno-omit-frame-pointer"],
    );
    perf_ok(
        d,
        &[
            "record",
            "-q",
            "-g",
            "-o",
            "s.data",
            "--",
            prog.to_str().unwrap(),
            "0.3",
        ],
    );
    let cache = d.join("xdg");
    let symbols = cache.join("lwprof").join("symbols");
    let report = |args: &[&str], xdg: &std::path::Path| {
        let mut a = vec!["report", "-i", "s.data", "--no-children"];
        a.extend_from_slice(args);
        let o = lwprof_env(d, &a, &[("XDG_CACHE_HOME", xdg)]);
        assert!(o.status.success(), "{}", text(&o).1);
        text(&o).0
    };
    let cold = report(&[], &cache);
    assert!(cold.contains("cached_hot"), "{cold}");
    let entries: Vec<_> = std::fs::read_dir(&symbols)
        .expect("the symbol cache directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        entries
            .iter()
            .any(|e| e.ends_with(".v1") && !e.starts_with("kallsyms")),
        "{entries:?}"
    );
    let warm = report(&[], &cache);
    assert_eq!(warm, cold, "warm and cold reports differ");
    let other = d.join("xdg-other");
    let bypassed = report(&["--no-cache"], &other);
    assert_eq!(bypassed, cold);
    assert!(
        !other.join("lwprof").join("symbols").exists(),
        "--no-cache wrote the symbol cache"
    );
}
