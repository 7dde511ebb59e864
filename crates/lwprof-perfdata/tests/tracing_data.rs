//! The TRACING_DATA feature: the blob built from a fake tracefs tree, laid
//! out byte for byte as perf's trace-event-info.c does, and perf 6.1's own
//! blob read by our parser.

use lwprof_events::tracefs::Tracefs;
use lwprof_perfdata::tracing::{build, TracingData, TracingHost};
use lwprof_perfdata::{feature, PerfDataFile};
use lwprof_testkit::{perf_ok, scratch, TempDir};
use std::path::{Path, PathBuf};

fn fake_tracefs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../lwprof-events/tests/data/tracefs")
}

/// The blob for `files` written out by hand from perf's layout: what the
/// builder must produce.
fn expected_blob(root: &Path, host: TracingHost, systems: &[(&str, &[&str])]) -> Vec<u8> {
    let read = |p: &str| std::fs::read(root.join(p)).unwrap();
    let mut b = b"\x17\x08\x44tracing0.6\0".to_vec();
    b.push(0); // little-endian
    b.push(host.long_size);
    b.extend_from_slice(&host.page_size.to_le_bytes());
    for (tag, file) in [
        (&b"header_page\0"[..], "events/header_page"),
        (&b"header_event\0"[..], "events/header_event"),
    ] {
        let f = read(file);
        b.extend_from_slice(tag);
        b.extend_from_slice(&(f.len() as u64).to_le_bytes());
        b.extend_from_slice(&f);
    }
    b.extend_from_slice(&0u32.to_le_bytes()); // no ftrace events
    b.extend_from_slice(&(systems.len() as u32).to_le_bytes());
    for (sys, names) in systems {
        b.extend_from_slice(sys.as_bytes());
        b.push(0);
        b.extend_from_slice(&(names.len() as u32).to_le_bytes());
        for n in *names {
            let f = read(&format!("events/{sys}/{n}/format"));
            b.extend_from_slice(&(f.len() as u64).to_le_bytes());
            b.extend_from_slice(&f);
        }
    }
    b.extend_from_slice(&0u32.to_le_bytes()); // kallsyms: size 0, as perf writes
    let printk = read("printk_formats");
    b.extend_from_slice(&(printk.len() as u32).to_le_bytes());
    b.extend_from_slice(&printk);
    let cmdlines = read("saved_cmdlines");
    b.extend_from_slice(&(cmdlines.len() as u64).to_le_bytes());
    b.extend_from_slice(&cmdlines);
    b
}

#[test]
fn tracing_data_from_a_fake_tracefs_is_laid_out_as_perf_writes_it() {
    let root = fake_tracefs();
    let tfs = Tracefs::new(&root);
    // Unordered, with a duplicate: each format is written once, by system.
    let files = tfs
        .tracing_files(&[
            ("sched", "sched_switch"),
            ("irq", "irq_handler_entry"),
            ("sched", "sched_wakeup"),
            ("sched", "sched_switch"),
        ])
        .unwrap();
    assert!(files.unreadable.is_empty(), "{:?}", files.unreadable);
    let host = TracingHost {
        big_endian: false,
        long_size: 8,
        page_size: 4096,
    };
    let blob = build(&files, host).unwrap();
    let want = expected_blob(
        &root,
        host,
        &[
            ("irq", &["irq_handler_entry"]),
            ("sched", &["sched_switch", "sched_wakeup"]),
        ],
    );
    assert_eq!(blob, want);

    let t = TracingData::parse(blob).unwrap();
    let ids: Vec<_> = t
        .formats()
        .map(|f| (f.system.as_str(), f.name.as_str(), f.id))
        .collect();
    assert_eq!(
        ids,
        [
            ("irq", "irq_handler_entry", 100),
            ("sched", "sched_switch", 316),
            ("sched", "sched_wakeup", 318),
        ]
    );
    // The ids agree with the tree's id files, which is what perf matches
    // attr.config against.
    for f in t.formats() {
        let id = std::fs::read_to_string(root.join(format!("events/{}/{}/id", f.system, f.name)))
            .unwrap();
        assert_eq!(id.trim().parse::<u64>().unwrap(), f.id);
    }
    let name = t.format_by_id(100).unwrap().field("name").unwrap();
    assert!(name.is_dynamic() && name.size == 4, "{name:?}");
    assert_eq!(t.saved_cmdlines(), b"1 systemd\n42 sleep\n");
}

#[test]
fn a_missing_format_file_is_an_error_naming_it() {
    // sched_process_exec has an id but no format file in the fake tree.
    let err = Tracefs::new(fake_tracefs())
        .tracing_files(&[("sched", "sched_process_exec")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("sched_process_exec/format"), "{err}");
}

/// `perf record -e sched:sched_switch` by Linux perf on this machine, in a
/// scratch directory that holds it until dropped.
fn perf_tracepoint_recording() -> (TempDir, PathBuf) {
    let dir = scratch("tracing");
    perf_ok(
        dir.path(),
        &[
            "record",
            "-q",
            "-e",
            "sched:sched_switch",
            "-o",
            "perf.data",
            "--",
            "sleep",
            "0.1",
        ],
    );
    let data = dir.path().join("perf.data");
    (dir, data)
}

#[test]
fn perf_6_1_tracing_data_gives_the_sched_switch_fields() {
    let (_dir, data) = perf_tracepoint_recording();
    let f = PerfDataFile::open(data).unwrap();
    assert!(f.header().has_feature(feature::TRACING_DATA));
    assert!(f.feature_errors().is_empty(), "{:?}", f.feature_errors());
    let t = f
        .features()
        .tracing_data
        .as_ref()
        .expect("parsed TRACING_DATA");
    assert_eq!(t.version(), "0.6");
    assert_eq!(t.unread_bytes(), 0);
    // perf finds the format by the event's attr.config; so do we.
    let config = f.attrs()[0].attr().config;
    let sw = t.format_by_id(config).expect("a format for the event's id");
    assert_eq!(
        (sw.system.as_str(), sw.name.as_str()),
        ("sched", "sched_switch")
    );
    let tracefs_id =
        std::fs::read_to_string("/sys/kernel/tracing/events/sched/sched_switch/id").unwrap();
    assert_eq!(sw.id, tracefs_id.trim().parse::<u64>().unwrap());
    let common: Vec<_> = sw
        .fields
        .iter()
        .filter(|x| x.common)
        .map(|x| (x.name.as_str(), x.offset, x.size))
        .collect();
    assert_eq!(
        common,
        [
            ("common_type", 0, 2),
            ("common_flags", 2, 1),
            ("common_preempt_count", 3, 1),
            ("common_pid", 4, 4),
        ]
    );
    let fields: Vec<_> = sw
        .event_fields()
        .map(|x| {
            (
                x.name.as_str(),
                x.type_name.as_str(),
                x.offset,
                x.size,
                x.signed,
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("prev_comm", "char[16]", 8, 16, false),
            ("prev_pid", "pid_t", 24, 4, true),
            ("prev_prio", "int", 28, 4, true),
            ("prev_state", "long", 32, 8, true),
            ("next_comm", "char[16]", 40, 16, false),
            ("next_pid", "pid_t", 56, 4, true),
            ("next_prio", "int", 60, 4, true),
        ]
    );
    assert_eq!(sw.field("prev_comm").unwrap().array_len, Some(16));
    assert!(
        sw.print_fmt.starts_with("\"prev_comm=%s prev_pid=%d"),
        "{}",
        sw.print_fmt
    );
}

#[test]
fn every_format_on_this_machine_parses() {
    // The parser must take every tracepoint this kernel has, not only the
    // ones in the tests above.
    let events = Path::new("/sys/kernel/tracing/events");
    let mut n = 0;
    for sys in std::fs::read_dir(events).unwrap().flatten() {
        let Ok(evs) = std::fs::read_dir(sys.path()) else {
            continue;
        };
        for ev in evs.flatten() {
            let path = ev.path().join("format");
            let Ok(text) = std::fs::read(&path) else {
                continue;
            };
            let system = sys.file_name().to_string_lossy().into_owned();
            let f = lwprof_perfdata::tracing::parse_format(&system, &text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                !f.fields.is_empty() || system == "ftrace",
                "{}",
                path.display()
            );
            n += 1;
        }
    }
    assert!(n > 100, "only {n} format files under {}", events.display());
}

#[test]
fn the_fuzz_seeds_parse() {
    // The checked-in seeds of fuzz/fuzz_targets/parse_tracing_data.rs are
    // meaningful inputs: every blob among them parses. crash-* inputs are
    // what fuzzing found (a format field with a non-ASCII byte before its
    // name panicked the format parser): they must not panic.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/parse_tracing_data");
    let mut blobs = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let bytes = std::fs::read(e.path()).unwrap();
        if e.file_name().to_string_lossy().starts_with("crash-") {
            let _ = TracingData::parse(bytes.clone());
            let _ = lwprof_perfdata::tracing::parse_format("seed", &bytes);
        } else if bytes.starts_with(b"\x17\x08\x44tracing") {
            let t = TracingData::parse(bytes)
                .unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
            assert!(t.formats().count() > 0, "{}", e.path().display());
            blobs += 1;
        } else {
            lwprof_perfdata::tracing::parse_format("seed", &bytes).unwrap();
        }
    }
    assert!(blobs >= 4, "{blobs} blobs in {}", dir.display());
}
