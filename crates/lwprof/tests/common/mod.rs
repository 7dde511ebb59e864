//! What the CLI tests share on top of `lwprof_testkit` (re-exported here):
//! running the lwprof binary this crate builds, whose path only its own
//! tests know (`CARGO_BIN_EXE_lwprof`), and reading shares out of its
//! report.
#![allow(dead_code)]

pub use lwprof_testkit::*;

use std::path::Path;
use std::process::{Command, Output};

/// A `Command` for lwprof, to be run in `dir`.
pub fn lwprof_command(dir: impl AsRef<Path>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lwprof"));
    c.current_dir(dir);
    c
}

/// Runs lwprof in `dir` with `args` (and `env`).
pub fn lwprof_env(dir: impl AsRef<Path>, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = lwprof_command(dir);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("running lwprof")
}

/// Runs lwprof in `dir` with `args`.
pub fn lwprof(dir: impl AsRef<Path>, args: &[&str]) -> Output {
    lwprof_env(dir, args, &[])
}

/// Runs lwprof and requires success; returns (stdout, stderr).
pub fn ok(dir: impl AsRef<Path>, args: &[&str]) -> (String, String) {
    let o = lwprof(dir, args);
    let t = text(&o);
    assert!(o.status.success(), "lwprof {args:?} failed:\n{}", t.1);
    t
}

/// Shares by symbol from `lwprof report -i DATA --no-children -s sym -g none`.
pub fn lwprof_shares(dir: impl AsRef<Path>, data: &str, extra: &[&str]) -> Shares {
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
