//! Code outside the files of lwprof's mount namespace, against the real
//! kernel and perf 6.1: the vDSO (named from its image, kept in the
//! build-id cache) and binaries of a process in another mount namespace
//! (a container), read while it lived.

mod common;

use common::*;
use std::path::Path;

/// A program that spends its second in `clock_gettime`, most of it in the
/// vDSO.
const CLOCK_LOOP_C: &str = r#"#include <time.h>
int main(void) {
    struct timespec s, t;
    clock_gettime(CLOCK_MONOTONIC, &s);
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - s.tv_sec) * 1000000000L + (t.tv_nsec - s.tv_nsec) < 1000000000L);
    return 0;
}
"#;

/// `(share, symbol)` of the first report line of DSO `dso`
/// (`-s dso,sym --no-children -g none` text).
fn first_of_dso(report: &str, dso: &str) -> Option<(f64, String)> {
    report.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let pct = f.first()?.strip_suffix('%')?.parse::<f64>().ok()?;
        let level = f.iter().position(|w| *w == "[.]")?;
        f[1..level]
            .contains(&dso)
            .then(|| (pct, f[level + 1..].join(" ")))
    })
}

fn report_dso_sym(dir: &Path, data: &str, cache: &Path) -> String {
    let o = lwprof_env(
        dir,
        &[
            "report",
            "-i",
            data,
            "--no-children",
            "-s",
            "dso,sym",
            "-g",
            "none",
        ],
        &[("PERF_BUILDID_DIR", cache)],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    out
}

#[test]
fn vdso_time_is_named_from_the_vdso_image_in_lwprof_and_perf_recordings() {
    let dir = scratch("vdso");
    let d = dir.path();
    let prog = compile_c(d, "clockloop", CLOCK_LOOP_C, &["-O2"]);
    let prog = prog.to_str().expect("utf-8 path");
    let cache = d.join("cache");
    let env = [("PERF_BUILDID_DIR", cache.as_path())];
    let o = lwprof_env(d, &["record", "-o", "l.data", "--", prog], &env);
    assert!(o.status.success(), "{}", text(&o).1);

    // The image is kept as perf keeps it, under the build id recorded.
    let ids = perf_ok(d, &["buildid-list", "-i", "l.data"]).0;
    let id = ids
        .lines()
        .find_map(|l| l.strip_suffix(" [vdso]"))
        .unwrap_or_else(|| panic!("no [vdso] build id recorded:\n{ids}"));
    let kept = cache.join("[vdso]").join(id).join("vdso");
    let image = std::fs::read(&kept).unwrap_or_else(|e| panic!("{}: {e}", kept.display()));
    assert!(image.starts_with(b"\x7fELF"));
    assert!(cache
        .join(".build-id")
        .join(&id[..2])
        .join(&id[2..])
        .join("vdso")
        .is_file());

    let out = report_dso_sym(d, "l.data", &cache);
    let (share, name) = first_of_dso(&out, "[vdso]").unwrap_or_else(|| panic!("no [vdso]:\n{out}"));
    assert!(share > 30.0, "{out}");
    assert!(name.ends_with("clock_gettime"), "{name}:\n{out}");

    // A perf recording of the same program, read by lwprof, names it the
    // way perf does (perf prefers the `__vdso_` alias of the same symbol).
    let o = perf(d, &["record", "-q", "-N", "-o", "p.data", "--", prog]);
    assert!(o.status.success(), "{}", text(&o).1);
    let perf_out = perf_ok(
        d,
        &[
            "report",
            "-i",
            "p.data",
            "--stdio",
            "--no-children",
            "-s",
            "dso,sym",
            "-g",
            "none",
        ],
    )
    .0;
    let (_, perf_name) =
        first_of_dso(&perf_out, "[vdso]").unwrap_or_else(|| panic!("perf: no [vdso]:\n{perf_out}"));
    // An empty cache: the running kernel's image is the recorded build.
    let out = report_dso_sym(d, "p.data", &d.join("empty"));
    let (share, name) = first_of_dso(&out, "[vdso]").unwrap_or_else(|| panic!("no [vdso]:\n{out}"));
    assert!(share > 30.0, "{out}");
    assert!(
        perf_name.ends_with(&name) && name.ends_with("clock_gettime"),
        "lwprof {name}, perf {perf_name}"
    );
}

#[test]
fn a_binary_run_from_a_tmpfs_of_a_dead_mount_namespace_is_named_from_the_cache() {
    if !tools::available("unshare", "util-linux") {
        return;
    }
    let dir = scratch("mntns");
    let d = dir.path();
    let prog = compile_c(d, "prog", &busy_c("boxed_hot", "boxed_side"), &["-O1"]);
    // A fresh directory: the tmpfs mounted on it exists only in the new
    // mount namespace (unshare makes its mounts private), and dies with it.
    let boxdir = d.join("box");
    std::fs::create_dir(&boxdir).expect("mkdir");
    let inside = boxdir.join("prog");
    let script = format!(
        "mount -t tmpfs none {b} && cp {p} {i} && {i} 1",
        b = boxdir.display(),
        p = prog.display(),
        i = inside.display()
    );
    let cache = d.join("cache");
    let env = [("PERF_BUILDID_DIR", cache.as_path())];
    let o = lwprof_env(
        d,
        &[
            "record", "-o", "ns.data", "--", "unshare", "-m", "sh", "-c", &script,
        ],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(!inside.exists(), "the tmpfs outlived its namespace");

    // The recorded build id is the binary's, and its copy is in the cache.
    let ids = perf_ok(d, &["buildid-list", "-i", "ns.data"]).0;
    let want = lwprof_symbols::read_build_id(&prog).expect("a build id");
    let line = format!("{} {}", lwprof_symbols::hex(&want), inside.display());
    assert!(ids.lines().any(|l| l == line), "{line} not in:\n{ids}");
    let kept = cache.join(inside.strip_prefix("/").expect("absolute"));
    assert!(kept.join(lwprof_symbols::hex(&want)).join("elf").is_file());

    let shares = |cache: &Path| {
        let o = lwprof_env(
            d,
            &[
                "report",
                "-i",
                "ns.data",
                "--no-children",
                "-s",
                "sym",
                "-g",
                "none",
            ],
            &[("PERF_BUILDID_DIR", cache)],
        );
        assert!(o.status.success(), "{}", text(&o).1);
        (parse_shares(&text(&o).0), text(&o).0)
    };
    let (s, out) = shares(&cache);
    assert!(share(&s, "boxed_hot") > 50.0, "{out}");
    // Nothing else could have named it: without the cache it is addresses.
    let (s, out) = shares(&d.join("empty"));
    assert_eq!(share(&s, "boxed_hot"), 0.0, "{out}");
}

/// Kills a process when dropped (a failing test leaves nothing running).
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg(self.0.to_string())
            .status();
    }
}

#[test]
fn a_perf_recording_with_namespaces_reads_a_live_containers_binary_through_its_root() {
    if !tools::available("unshare", "util-linux") {
        return;
    }
    let dir = scratch("mntns-perf");
    let d = dir.path();
    let prog = compile_c(d, "prog", &busy_c("rooted_hot", "rooted_side"), &["-O1"]);
    let boxdir = d.join("box");
    std::fs::create_dir(&boxdir).expect("mkdir");
    let inside = boxdir.join("prog");
    let pid_file = d.join("pid");
    // The program outlives the recording, keeping its namespace (and the
    // tmpfs) alive while the report runs.
    let script = format!(
        "mount -t tmpfs none {b} && cp {p} {i} || exit 1; {i} 60 >/dev/null 2>&1 </dev/null & echo $! > {f}; sleep 1.5",
        b = boxdir.display(),
        p = prog.display(),
        i = inside.display(),
        f = pid_file.display(),
    );
    let o = perf(
        d,
        &[
            "record",
            "-q",
            "-N",
            "--namespaces",
            "-o",
            "ns.data",
            "--",
            "unshare",
            "-m",
            "sh",
            "-c",
            &script,
        ],
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid written: {}", text(&o).1));
    let guard = KillOnDrop(pid);
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(
        !inside.exists(),
        "the tmpfs is visible outside its namespace"
    );

    let report = || {
        let empty = d.join("empty-cache");
        let o = lwprof_env(
            d,
            &[
                "report",
                "-i",
                "ns.data",
                "--no-children",
                "-s",
                "sym",
                "-g",
                "none",
            ],
            &[("PERF_BUILDID_DIR", empty.as_path())],
        );
        assert!(o.status.success(), "{}", text(&o).1);
        text(&o).0
    };
    // Alive: found through /proc/PID/root (no cache, path not visible here).
    let out = report();
    assert!(share(&parse_shares(&out), "rooted_hot") > 50.0, "{out}");
    // Gone (with its namespace): nothing names it any more.
    drop(guard);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = report();
    assert_eq!(share(&parse_shares(&out), "rooted_hot"), 0.0, "{out}");
}
