//! Reading the tracefs files of perf.data's TRACING_DATA feature, on the
//! fake tree in `tests/data/tracefs` (the tracefs root is a parameter).

use lwprof_events::tracefs::{Tracefs, TracingFiles};
use std::path::{Path, PathBuf};

fn fake() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tracefs")
}

fn read(p: &str) -> Vec<u8> {
    std::fs::read(fake().join(p)).unwrap()
}

#[test]
fn the_files_of_the_recorded_tracepoints_are_read_grouped_by_system() {
    let files = Tracefs::new(fake())
        .tracing_files(&[
            ("sched", "sched_wakeup"),
            ("irq", "irq_handler_entry"),
            ("sched", "sched_switch"),
        ])
        .unwrap();
    assert_eq!(files.header_page, read("events/header_page"));
    assert_eq!(files.header_event, read("events/header_event"));
    let systems: Vec<_> = files
        .systems
        .iter()
        .map(|s| (s.system.as_str(), s.formats.clone()))
        .collect();
    assert_eq!(
        systems,
        [
            ("irq", vec![read("events/irq/irq_handler_entry/format")]),
            (
                "sched",
                vec![
                    read("events/sched/sched_switch/format"),
                    read("events/sched/sched_wakeup/format")
                ]
            ),
        ]
    );
    assert!(files.ftrace_formats.is_empty());
    assert_eq!(files.printk_formats, read("printk_formats"));
    assert_eq!(files.saved_cmdlines, read("saved_cmdlines"));
    assert!(files.unreadable.is_empty());
}

#[test]
fn missing_optional_files_are_named_not_fatal() {
    // A copy of the tree's events/ without printk_formats and saved_cmdlines.
    let root = std::env::temp_dir().join(format!("lwprof-tracefs-{}", std::process::id()));
    let sw = root.join("events/sched/sched_switch");
    std::fs::create_dir_all(&sw).unwrap();
    for f in ["header_page", "header_event"] {
        std::fs::copy(fake().join("events").join(f), root.join("events").join(f)).unwrap();
    }
    for f in ["id", "format"] {
        std::fs::copy(fake().join("events/sched/sched_switch").join(f), sw.join(f)).unwrap();
    }
    let files: TracingFiles = Tracefs::new(&root)
        .tracing_files(&[("sched", "sched_switch")])
        .unwrap();
    assert!(files.printk_formats.is_empty() && files.saved_cmdlines.is_empty());
    assert_eq!(files.unreadable.len(), 2, "{:?}", files.unreadable);
    assert!(
        files.unreadable[0].contains("printk_formats"),
        "{:?}",
        files.unreadable
    );
    assert!(
        files.unreadable[1].contains("saved_cmdlines"),
        "{:?}",
        files.unreadable
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn names_that_leave_the_tree_are_refused() {
    let t = Tracefs::new(fake());
    for (s, n) in [("..", "x"), ("sched", "../../printk_formats"), ("", "a")] {
        assert!(t.tracing_files(&[(s, n)]).is_err(), "{s}:{n}");
    }
}

#[test]
fn a_tracepoint_is_found_by_its_id() {
    let t = Tracefs::new(fake());
    assert_eq!(
        t.tracepoint_by_id(316).unwrap(),
        Some(("sched".into(), "sched_switch".into()))
    );
    assert_eq!(
        t.tracepoint_by_id(100).unwrap(),
        Some(("irq".into(), "irq_handler_entry".into()))
    );
    assert_eq!(t.tracepoint_by_id(12345).unwrap(), None);
}
