//! Workloads with known behaviour for lwprof's tests, examples and benchmarks.
//!
//! Each binary in `src/bin` does one thing whose cost is known in advance:
//! `lwprof-touch-pages N` takes at least N page faults, `lwprof-sleeper K`
//! sleeps K times, `lwprof-spin MS` burns CPU. Tests get their paths from
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
