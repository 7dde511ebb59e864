//! `lwprof record` of tracepoint events, judged by Linux perf: its report and
//! script must read our files and print the tracepoints' fields by name, and
//! the tracing data we write must say what perf's own says.

mod common;

use common::*;
use lwprof_perfdata::PerfDataFile;
use perf_event_open_sys::bindings::{PERF_SAMPLE_RAW, PERF_TYPE_TRACEPOINT};
use std::path::Path;

fn lwprof_record(dir: &Path, file: &str, events: &str) {
    ok(
        dir,
        &["record", "-e", events, "-o", file, "--", "sleep", "0.1"],
    );
}

/// perf's complaints about trace data it cannot parse (libtraceevent's
/// "Error: expected type ..." for a cut header_page, for one).
fn assert_perf_silent(what: &str, stderr: &str) {
    for bad in [
        "incompatible",
        "Error",
        "libtraceevent",
        "not valid",
        "Cannot",
    ] {
        assert!(!stderr.contains(bad), "{what} said '{bad}':\n{stderr}");
    }
}

#[test]
fn perf_reads_lwprof_tracepoint_recordings() {
    let tmp = scratch("tp-read");
    let dir = tmp.path();
    lwprof_record(dir, "t.data", "sched:sched_switch");

    let (report, err) = perf_ok(dir, &["report", "--stdio", "-i", "t.data"]);
    assert_perf_silent("perf report", &err);
    assert!(
        report.contains("of event 'sched:sched_switch'"),
        "perf report:\n{report}"
    );
    // perf report's "Trace output" column is the event's print format.
    assert!(report.contains("prev_comm="), "perf report:\n{report}");

    let (script, err) = perf_ok(dir, &["script", "-i", "t.data"]);
    assert_perf_silent("perf script", &err);
    let lines: Vec<&str> = script
        .lines()
        .filter(|l| l.contains("sched:sched_switch:"))
        .collect();
    assert!(!lines.is_empty(), "perf script:\n{script}");
    for l in &lines {
        for field in [
            "prev_comm=",
            "prev_pid=",
            "prev_state=",
            "next_comm=",
            "next_pid=",
        ] {
            assert!(l.contains(field), "no {field} in: {l}");
        }
    }
    // sleep switches itself out when it goes to sleep.
    assert!(
        lines.iter().any(|l| l.contains("prev_comm=sleep")),
        "perf script:\n{script}"
    );

    // The event is configured as perf configures tracepoints: the raw record
    // in every sample, every hit sampled.
    let f = PerfDataFile::open(dir.join("t.data")).unwrap();
    let event = &f.attrs()[0];
    let a = event.attr();
    assert_eq!(a.type_, PERF_TYPE_TRACEPOINT);
    assert_ne!(
        a.sample_type & PERF_SAMPLE_RAW as u64,
        0,
        "no PERF_SAMPLE_RAW"
    );
    assert_eq!((a.freq(), sample_period(event)), (0, 1));
}

fn sample_period(e: &lwprof_perfdata::EventAttr) -> u64 {
    // sample_period and sample_freq share a union (bytes 16..24); with freq
    // 0 it is the period. Read from the bytes: no unsafe outside lwprof-events.
    let mut b = [0u8; 8];
    b.copy_from_slice(&e.bytes()[16..24]);
    u64::from_ne_bytes(b)
}

#[test]
fn lwprof_tracing_data_says_what_perf_6_1_says() {
    let tmp = scratch("tp-compare");
    let dir = tmp.path();
    lwprof_record(dir, "ours.data", "sched:sched_switch,irq:irq_handler_entry");
    perf_ok(
        dir,
        &[
            "record",
            "-q",
            "-e",
            "sched:sched_switch",
            "-e",
            "irq:irq_handler_entry",
            "-o",
            "perf.data",
            "--",
            "sleep",
            "0.1",
        ],
    );
    let tracing = |name: &str| {
        let f = PerfDataFile::open(dir.join(name)).unwrap();
        assert!(
            f.feature_errors().is_empty(),
            "{name}: {:?}",
            f.feature_errors()
        );
        f.features()
            .tracing_data
            .clone()
            .unwrap_or_else(|| panic!("{name} has no TRACING_DATA"))
    };
    let (ours, theirs) = (tracing("ours.data"), tracing("perf.data"));
    assert_eq!(ours.version(), theirs.version());
    assert_eq!(
        (ours.big_endian(), ours.long_size(), ours.page_size()),
        (theirs.big_endian(), theirs.long_size(), theirs.page_size())
    );
    assert_eq!(ours.header_page(), theirs.header_page());
    assert_eq!(ours.header_event(), theirs.header_event());
    let sorted = |t: &lwprof_perfdata::tracing::TracingData| {
        let mut v: Vec<_> = t.formats().cloned().collect();
        v.sort_by(|a, b| (&a.system, &a.name).cmp(&(&b.system, &b.name)));
        v
    };
    assert_eq!(sorted(&ours), sorted(&theirs));
    assert_eq!(ours.formats().count(), 2);
    assert_eq!(ours.kallsyms(), theirs.kallsyms());
    assert_eq!(ours.printk_formats(), theirs.printk_formats());
    assert_eq!(ours.unread_bytes(), 0);
}
