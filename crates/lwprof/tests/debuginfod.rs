//! `lwprof report` of a stripped binary whose debug file only a loopback
//! debuginfod (elfutils' own) serves: with `DEBUGINFOD_URLS` its functions
//! are named, without it or with `--offline` they stay addresses; a server
//! that never answers or answers garbage costs one note line and the report
//! still succeeds, and the next run does not ask it again.

mod common;

use common::debuginfod::{stripped_program, Behaviour, Debuginfod, FakeServer, StrippedProgram};
use common::*;
use std::path::Path;
use std::process::Output;

/// Records the stripped program for 0.3 s into `DIR/rec.data`.
fn record(d: &Path, prog: &StrippedProgram) {
    let cache = d.join("buildid");
    let o = lwprof_env(
        d,
        &[
            "record",
            "-o",
            "rec.data",
            "--",
            prog.binary.to_str().unwrap_or_default(),
            "0.3",
        ],
        &[("PERF_BUILDID_DIR", cache.as_path())],
    );
    assert!(o.status.success(), "{}", text(&o).1);
}

/// `lwprof report` of `DIR/rec.data` by symbol, with this debuginfod cache
/// and environment (`DEBUGINFOD_URLS` unset unless given).
fn report(d: &Path, cache: &str, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut c = lwprof_command(d);
    c.args([
        "report",
        "-i",
        "rec.data",
        "--no-children",
        "-s",
        "sym",
        "-g",
        "none",
    ])
    .args(extra)
    .env_remove("DEBUGINFOD_URLS")
    .env("PERF_BUILDID_DIR", d.join("buildid"))
    .env("DEBUGINFOD_CACHE_PATH", d.join(cache));
    for (k, v) in env {
        c.env(k, v);
    }
    output(&mut c)
}

fn program(d: &Path) -> StrippedProgram {
    stripped_program(
        d,
        "prog",
        &busy_c("fetched_hot", "fetched_side"),
        &["-O1", "-fno-omit-frame-pointer"],
    )
}

/// The note lines about `prog`.
fn notes_about<'a>(stderr: &'a str, prog: &StrippedProgram) -> Vec<&'a str> {
    let path = prog.binary.to_str().unwrap_or_default();
    stderr
        .lines()
        .filter(|l| l.contains("debuginfod") && l.contains(path))
        .collect()
}

#[test]
fn a_stripped_binary_is_named_from_debuginfod_and_not_offline() {
    if !tools::available("debuginfod", "debuginfod") {
        return;
    }
    let dir = scratch("debuginfod-report");
    let d = dir.path();
    let prog = program(d);
    record(d, &prog);
    let server = Debuginfod::start(&d.join("debug"), d, &[&prog.build_id]);
    let url = server.url();

    // No DEBUGINFOD_URLS, or --offline: no fetch, the function is an address.
    for (cache, env, extra) in [
        ("cache-unset", vec![], vec![]),
        (
            "cache-offline",
            vec![("DEBUGINFOD_URLS", url.as_str())],
            vec!["--offline"],
        ),
    ] {
        let o = report(d, cache, &env, &extra);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{err}");
        assert!(!out.contains("fetched_hot"), "{cache}: named:\n{out}");
        assert!(out.contains("0x"), "{cache}: no address:\n{out}");
        assert!(
            !d.join(cache).join(&prog.build_id).exists(),
            "{cache}: fetched anyway"
        );
    }

    let o = report(d, "cache", &[("DEBUGINFOD_URLS", url.as_str())], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        share(&parse_shares(&out), "fetched_hot") > 50.0,
        "not named from debuginfod:\n{out}\n{err}"
    );
    assert!(notes_about(&err, &prog).is_empty(), "{err}");
    let cached = d.join("cache").join(&prog.build_id).join("debuginfo");
    assert!(cached.is_file(), "not in the cache");

    // The cache alone names it once fetched, even offline.
    drop(server);
    let o = report(d, "cache", &[], &["--offline"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(share(&parse_shares(&out), "fetched_hot") > 50.0, "{out}");
}

#[test]
fn a_deleted_binary_is_fetched_with_its_debug_file() {
    if !tools::available("debuginfod", "debuginfod") {
        return;
    }
    let dir = scratch("debuginfod-deleted");
    let d = dir.path();
    let prog = program(d);
    // -N: no copy in the build-id cache, so the binary is really gone.
    let o = lwprof(
        d,
        &[
            "record",
            "-N",
            "-o",
            "rec.data",
            "--",
            prog.binary.to_str().unwrap_or_default(),
            "0.3",
        ],
    );
    assert!(o.status.success(), "{}", text(&o).1);
    std::fs::rename(&prog.binary, d.join("debug").join("prog")).expect("move the binary away");
    let server = Debuginfod::start(&d.join("debug"), d, &[&prog.build_id]);
    server.wait_for(&format!("/buildid/{}/executable", prog.build_id));
    let url = server.url();
    let o = report(d, "cache", &[("DEBUGINFOD_URLS", url.as_str())], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        share(&parse_shares(&out), "fetched_hot") > 50.0,
        "not named from the fetched files:\n{out}\n{err}"
    );
    for artifact in ["executable", "debuginfo"] {
        let f = d.join("cache").join(&prog.build_id).join(artifact);
        assert!(
            std::fs::metadata(&f).is_ok_and(|m| m.len() > 0),
            "{artifact} not fetched"
        );
    }
}

#[test]
fn record_format_fetches_too_and_offline_does_not() {
    if !tools::available("debuginfod", "debuginfod") {
        return;
    }
    let dir = scratch("debuginfod-record-format");
    let d = dir.path();
    let prog = program(d);
    let server = Debuginfod::start(&d.join("debug"), d, &[&prog.build_id]);
    let url = server.url();
    for (offline, cache) in [(true, "cache-offline"), (false, "cache")] {
        let mut c = lwprof_command(d);
        c.args(["record", "-o", "rec.data", "--format", "folded"]);
        if offline {
            c.arg("--offline");
        }
        c.args(["--", prog.binary.to_str().unwrap_or_default(), "0.3"])
            .env("DEBUGINFOD_URLS", &url)
            .env("PERF_BUILDID_DIR", d.join("buildid"))
            .env("DEBUGINFOD_CACHE_PATH", d.join(cache));
        let o = output(&mut c);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{err}");
        assert_eq!(
            out.contains("fetched_hot"),
            !offline,
            "offline {offline}:\n{out}"
        );
    }
}

#[test]
fn a_server_that_never_answers_costs_one_note_and_one_timeout_per_miss_period() {
    let dir = scratch("debuginfod-silent-report");
    let d = dir.path();
    let prog = program(d);
    record(d, &prog);
    let silent = FakeServer::start(Behaviour::Silent);
    let url = silent.url();
    let env = [
        ("DEBUGINFOD_URLS", url.as_str()),
        ("DEBUGINFOD_TIMEOUT", "1"),
    ];
    let o = report(d, "cache", &env, &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("0x"), "{out}");
    let notes = notes_about(&err, &prog);
    assert_eq!(notes.len(), 1, "{err}");
    assert!(
        notes[0].contains(&prog.build_id) && notes[0].contains(&url) && notes[0].contains("1 s"),
        "{}",
        notes[0]
    );
    let first = silent.accepted();
    assert!(first >= 1, "the server was not asked");

    // The next run within the miss period asks nobody, and says so once.
    let o = report(d, "cache", &env, &[]);
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(silent.accepted(), first, "asked the silent server again");
    let notes = notes_about(&err, &prog);
    assert_eq!(notes.len(), 1, "{err}");
    assert!(notes[0].contains("negative cache"), "{}", notes[0]);
}

#[test]
fn a_server_that_sends_garbage_is_rejected_with_a_note() {
    let dir = scratch("debuginfod-garbage-report");
    let d = dir.path();
    let prog = program(d);
    record(d, &prog);
    let garbage = FakeServer::start(Behaviour::Garbage);
    let url = garbage.url();
    let o = report(d, "cache", &[("DEBUGINFOD_URLS", url.as_str())], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("0x") && !out.contains("fetched_hot"), "{out}");
    let notes = notes_about(&err, &prog);
    assert_eq!(notes.len(), 1, "{err}");
    assert!(
        notes[0].contains(&prog.build_id)
            && notes[0].contains(&url)
            && notes[0].contains("rejected"),
        "{}",
        notes[0]
    );
    let cached = d.join("cache").join(&prog.build_id).join("debuginfo");
    assert_eq!(
        std::fs::metadata(&cached).map(|m| m.len()).ok(),
        Some(0),
        "garbage kept as a file, or no negative entry"
    );
}
