//! The blob builder and parser on crafted file contents.

use super::*;
use lwprof_records::tracing_files::{SystemFormats, TracingFiles};

const SWITCH: &str = "name: sched_switch\nID: 316\nformat:\n\
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
    \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
    \tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
    \tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n\n\
    print fmt: \"prev_comm=%s prev_pid=%d\", REC->prev_comm, REC->prev_pid\n";
const IRQ: &str = "name: irq_handler_entry\nID: 100\nformat:\n\
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\
    \tfield:int irq;\toffset:8;\tsize:4;\tsigned:1;\n\
    \tfield:__data_loc char[] name;\toffset:12;\tsize:4;\tsigned:0;\n\n\
    print fmt: \"irq=%d name=%s\", REC->irq, __get_str(name)\n";
const FUNCTION: &str = "name: function\nID: 1\nformat:\n\
    \tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n\n\
    print fmt: \" %ps\", (void *)REC->ip\n";

/// Two systems, one ftrace event, every optional file present.
pub(crate) fn crafted_files() -> TracingFiles {
    TracingFiles {
        header_page: b"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n".to_vec(),
        header_event: b"# compressed entry header\n".to_vec(),
        ftrace_formats: vec![FUNCTION.as_bytes().to_vec()],
        systems: vec![
            SystemFormats {
                system: "irq".into(),
                formats: vec![IRQ.as_bytes().to_vec()],
            },
            SystemFormats {
                system: "sched".into(),
                formats: vec![SWITCH.as_bytes().to_vec()],
            },
        ],
        printk_formats: b"0xffffffff82819e34 : \"thaw_processes\"\n".to_vec(),
        saved_cmdlines: b"42 sleep\n".to_vec(),
        unreadable: Vec::new(),
    }
}

const LE: TracingHost = TracingHost {
    big_endian: false,
    long_size: 8,
    page_size: 4096,
};

#[test]
fn the_blob_is_laid_out_as_perf_writes_it() {
    let files = crafted_files();
    let b = build(&files, LE).unwrap();
    assert_eq!(&b[..10], b"\x17\x08\x44tracing");
    assert_eq!(&b[10..14], b"0.6\0");
    assert_eq!((b[14], b[15]), (0, 8), "endianness, long size");
    assert_eq!(&b[16..20], &4096u32.to_le_bytes());
    assert_eq!(&b[20..32], b"header_page\0");
    let hp = files.header_page.len();
    assert_eq!(&b[32..40], &(hp as u64).to_le_bytes());
    assert_eq!(&b[40 + hp..40 + hp + 13], b"header_event\0");
    // The tail: kallsyms size 0 (u32), printk_formats (u32 size), cmdlines (u64 size).
    let tail = 4 + 4 + files.printk_formats.len() + 8 + files.saved_cmdlines.len();
    let t = &b[b.len() - tail..];
    assert_eq!(&t[..4], &[0; 4]);
    assert_eq!(&t[4..8], &(files.printk_formats.len() as u32).to_le_bytes());
    assert!(t.ends_with(b"42 sleep\n"));
}

#[test]
fn the_parser_reads_back_what_the_builder_wrote() {
    let files = crafted_files();
    let bytes = build(&files, LE).unwrap();
    let t = TracingData::parse(bytes.clone()).unwrap();
    assert_eq!(t.as_bytes(), &bytes[..]);
    assert_eq!(
        (t.version(), t.big_endian(), t.long_size(), t.page_size()),
        ("0.6", false, 8, 4096)
    );
    assert_eq!(t.header_page(), &files.header_page[..]);
    assert_eq!(t.header_event(), &files.header_event[..]);
    assert_eq!(t.printk_formats(), &files.printk_formats[..]);
    assert_eq!(t.saved_cmdlines(), b"42 sleep\n");
    assert!(t.kallsyms().is_empty());
    assert_eq!(t.unread_bytes(), 0);
    let names: Vec<_> = t
        .formats()
        .map(|f| (f.system.as_str(), f.name.as_str(), f.id))
        .collect();
    assert_eq!(
        names,
        [
            ("ftrace", "function", 1),
            ("irq", "irq_handler_entry", 100),
            ("sched", "sched_switch", 316)
        ]
    );
    let sw = t.format_by_id(316).unwrap();
    assert_eq!(sw, t.format("sched", "sched_switch").unwrap());
    let comm = sw.field("prev_comm").unwrap();
    assert_eq!(
        (comm.offset, comm.size, comm.signed, comm.type_name.as_str()),
        (8, 16, false, "char[16]")
    );
    assert!(sw.field("prev_pid").unwrap().signed);
    assert!(sw.print_fmt.starts_with("\"prev_comm=%s"));
    assert!(t
        .format("irq", "irq_handler_entry")
        .unwrap()
        .field("name")
        .unwrap()
        .is_dynamic());
}

#[test]
fn a_big_endian_blob_reads_the_same() {
    let files = crafted_files();
    let be = TracingHost {
        big_endian: true,
        ..LE
    };
    let b = build(&files, be).unwrap();
    assert_eq!(b[14], 1);
    assert_eq!(&b[16..20], &4096u32.to_be_bytes());
    let t = TracingData::parse(b).unwrap();
    let l = TracingData::parse(build(&files, LE).unwrap()).unwrap();
    assert!(t.big_endian());
    assert_eq!(
        t.formats().collect::<Vec<_>>(),
        l.formats().collect::<Vec<_>>()
    );
    assert_eq!(t.saved_cmdlines(), l.saved_cmdlines());
}

#[test]
fn version_0_5_has_no_saved_cmdlines() {
    let mut files = crafted_files();
    files.saved_cmdlines.clear();
    let mut b = build(&files, LE).unwrap();
    b.truncate(b.len() - 8); // the u64 cmdlines size
    b[12] = b'5';
    let t = TracingData::parse(b).unwrap();
    assert_eq!(t.version(), "0.5");
    assert!(t.saved_cmdlines().is_empty());
    assert_eq!(t.format_by_id(316).unwrap().name, "sched_switch");
}

#[test]
fn every_truncation_is_an_error_naming_an_offset_inside_the_blob() {
    let b = build(&crafted_files(), LE).unwrap();
    for len in 0..b.len() {
        let e = TracingData::parse(b[..len].to_vec()).unwrap_err();
        let off = e.offset().unwrap();
        assert!(off <= len, "cut at {len}: {e}");
    }
}

#[test]
fn absurd_counts_and_sizes_are_corrupt_not_allocations() {
    let b = build(&crafted_files(), LE).unwrap();
    // The ftrace count follows header_event.
    let hp = crafted_files().header_page.len();
    let he = crafted_files().header_event.len();
    let at = 40 + hp + 13 + 8 + he;
    let mut bad = b.clone();
    bad[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = TracingData::parse(bad).unwrap_err();
    assert!(
        matches!(e, TracingDataError::Corrupt { offset, .. } if offset == at),
        "{e}"
    );
    let mut bad = b.clone();
    bad[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    let e = TracingData::parse(bad).unwrap_err();
    assert!(
        matches!(e, TracingDataError::Truncated { offset: 40, .. }),
        "{e}"
    );
    let mut bad = b;
    bad[0] = 0;
    assert!(TracingData::parse(bad)
        .unwrap_err()
        .to_string()
        .contains("magic"));
}

#[test]
fn a_broken_format_file_names_its_offset_and_line() {
    let mut files = crafted_files();
    files.systems[1].formats[0] = b"name: sched_switch\nID: x\n".to_vec();
    let b = build(&files, LE).unwrap();
    let start = b
        .windows(18)
        .position(|w| w == b"name: sched_switch")
        .unwrap();
    let e = TracingData::parse(b).unwrap_err();
    assert_eq!(e.offset(), Some(start), "{e}");
    assert!(e.to_string().contains("line 2"), "{e}");
}
