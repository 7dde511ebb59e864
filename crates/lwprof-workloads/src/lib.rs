#![doc = include_str!("../README.md")]
//!
//! Workloads with known behaviour for lwprof's tests, examples and benchmarks.
//!
//! Each binary in `src/bin` does one thing whose cost is known in advance:
//! `lwprof-touch-pages N` takes at least N page faults, `lwprof-sleeper K`
//! sleeps K times, `lwprof-spin MS` burns CPU, `lwprof-threads N MS` burns it in N
//! named threads. Tests get their paths from
//! [`path`], which builds them (release mode) on first use, so a plain
//! `cargo test` works on a fresh clone.

use std::path::PathBuf;
use std::sync::OnceLock;

/// The `target` directory of the running test or example binary
/// (`target/<profile>/deps/<exe>` or `target/<profile>/<exe>`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    for dir in exe.ancestors() {
        if dir
            .file_name()
            .is_some_and(|n| n == "debug" || n == "release")
        {
            if let Some(parent) = dir.parent() {
                return parent.to_path_buf();
            }
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

/// The path of workload binary `name` (e.g. `lwprof-touch-pages`), building
/// every workload in release mode the first time it is asked for.
///
/// # Panics
/// When the build fails: this is test support, and a test cannot go on
/// without its workload.
pub fn path(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let target = target_dir();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                "lwprof-workloads",
                "--bins",
            ])
            .arg("--manifest-path")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("running cargo to build the workloads");
        assert!(status.success(), "building lwprof-workloads failed");
        target.join("release")
    });
    let p = dir.join(name);
    assert!(p.exists(), "no workload named {name} in {}", dir.display());
    p
}

/// Compiles the bundled C workload `c/NAME.c` (with `-O2 -g
/// -fno-omit-frame-pointer`, plus `extra` flags) into the target directory
/// once per flag set, and returns the binary's path.
///
/// # Panics
/// When the C compiler is missing or fails: test support.
pub fn c_program(name: &str, extra: &[&str]) -> PathBuf {
    use std::sync::Mutex;
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("c")
        .join(format!("{name}.c"));
    let tag: String = extra
        .concat()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let out_dir = target_dir().join("lwprof-workloads-c");
    std::fs::create_dir_all(&out_dir).expect("creating the C workload directory");
    let out = out_dir.join(if tag.is_empty() {
        name.to_string()
    } else {
        format!("{name}-{tag}")
    });
    let fresh = match (std::fs::metadata(&out), std::fs::metadata(&src)) {
        (Ok(o), Ok(s)) => o.modified().ok() >= s.modified().ok(),
        _ => false,
    };
    if !fresh {
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = std::process::Command::new(cc)
            .args(["-O2", "-g", "-fno-omit-frame-pointer"])
            .args(extra)
            .arg("-o")
            .arg(&out)
            .arg(&src)
            .status()
            .expect("running the C compiler (install gcc)");
        assert!(status.success(), "compiling {} failed", src.display());
    }
    out
}
