//! `lwprof report` on the files perf 6.1 wrote that lwprof-perfdata checks
//! in (`crates/lwprof-perfdata/tests/data`), against perf 6.1's own report
//! of them (`golden/NAME.comm-dso`): the same entries, the same shares.
//! Needs neither root nor perf. `-i -` reads a pipe-mode stream from
//! standard input.

mod common;

use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../lwprof-perfdata/tests/data")
}

const COMM_DSO: [&str; 6] = [
    "--stdio",
    "-q",
    "--no-children",
    "-g",
    "none",
    "--sort=comm,dso",
];

/// Lines without trailing blanks and without blank lines.
fn entries(report: &str) -> Vec<String> {
    report
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn golden(name: &str) -> Vec<String> {
    let path = data_dir().join(format!("golden/{name}.comm-dso"));
    entries(&std::fs::read_to_string(path).expect("golden file"))
}

#[test]
fn perf_files_of_every_variant_report_as_perf_reports_them() {
    let d = data_dir();
    for name in [
        "zstd",
        "pipe",
        "pipe-tracepoint",
        "callgraph-fp",
        "dwarf",
        "tracepoint",
        "two-events",
        // A --threads directory (data + data.N), read by the report's -i DIR.
        "threads",
        // --threads -z: each data.N is its own zstd stream.
        "threads-zstd",
    ] {
        let input = format!("{name}.data");
        let mut args = vec!["report", "-i", &input];
        args.extend(COMM_DSO);
        let (out, err) = ok(&d, &args);
        assert_eq!(entries(&out), golden(name), "{name}: {err}");
    }
}

#[test]
fn stats_of_threads_directories_count_every_stream_as_perf_does() {
    let d = data_dir();
    for name in ["threads", "threads-zstd"] {
        let input = format!("{name}.data");
        let (out, err) = ok(&d, &["report", "--stats", "-i", &input]);
        let want = std::fs::read_to_string(d.join(format!("golden/{name}.stats"))).expect("golden");
        assert_eq!(entries(&out), entries(&want), "{name}: {err}");
    }
}

#[test]
fn report_dash_i_dash_reads_a_pipe_mode_stream_from_standard_input() {
    let d = data_dir();
    let stream = std::fs::read(d.join("pipe.data")).expect("fixture");
    let mut child = lwprof_command(&d)
        .args(["report", "-i", "-"])
        .args(COMM_DSO)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lwprof");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&stream));
    let o = child.wait_with_output().expect("lwprof");
    writer.join().expect("writer").expect("writing the stream");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(entries(&out), golden("pipe"), "{err}");
}

#[test]
fn empty_standard_input_is_one_line_and_a_failure() {
    let d = data_dir();
    let o = lwprof_command(&d)
        .args(["report", "-i", "-", "--stdio"])
        .stdin(Stdio::null())
        .output()
        .expect("lwprof");
    let err = text(&o).1;
    assert!(!o.status.success());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("standard input"), "{err}");
}

#[test]
fn byte_swapped_file_reports_as_its_original() {
    // swapped-two-events.data is two-events.data in the other byte order
    // (made by the swapper of lwprof-perfdata's tests/swapped.rs).
    let d = data_dir();
    let mut args = vec!["report", "-i", "swapped-two-events.data"];
    args.extend(COMM_DSO);
    let (out, err) = ok(&d, &args);
    assert_eq!(entries(&out), golden("two-events"), "{err}");
}

#[test]
fn report_dash_i_dash_reads_a_file_redirected_to_standard_input() {
    // `lwprof report -i - < FILE`: a seekable standard input, in either format.
    let d = data_dir();
    for name in ["zstd", "pipe"] {
        let file = std::fs::File::open(d.join(format!("{name}.data"))).expect("fixture");
        let o = lwprof_command(&d)
            .args(["report", "-i", "-"])
            .args(COMM_DSO)
            .stdin(file)
            .output()
            .expect("lwprof");
        let (out, err) = text(&o);
        assert!(o.status.success(), "{name}: {err}");
        assert_eq!(entries(&out), golden(name), "{name}: {err}");
    }
}
