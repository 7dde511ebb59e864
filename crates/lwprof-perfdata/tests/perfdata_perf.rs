//! perf.data against Linux perf on this machine: perf's files read by our
//! reader, our files read by `perf report`, and damaged files.
//!
//! Real records come from `perf record` (tests in this crate cannot drain a
//! ring: that needs `unsafe`). We read them with our reader and write them
//! again with our writer, with our own feature sections, then check that
//! `perf report` reads the result silently and agrees with the original.

use lwprof_events::EventConfig;
use lwprof_perfdata::{
    feature, repair, EventAttr, Features, PerfDataError, PerfDataFile, PerfDataWriter,
};
use lwprof_records::abi::record_type::{
    FINISHED_ROUND as RECORD_FINISHED_ROUND, SAMPLE as RECORD_SAMPLE, USER_TYPE_START,
};
use lwprof_testkit::{compile_c, perf_shares_and_stderr, run, scratch, TempDir};
use perf_event_open_sys::bindings::PERF_COUNT_SW_CPU_CLOCK;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Runs Linux perf, requires success, and returns (stdout, stderr).
fn perf(args: &[&str], data: &Path) -> (String, String) {
    run(Command::new("perf").args(args).arg(data))
}

/// A C program with two functions of known cost (7:3), built with frame
/// pointers, and `perf record -g` of it. Built once per test binary.
fn perf_recording() -> &'static Path {
    static REC: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    let (_, data) = REC.get_or_init(|| {
        let dir = scratch("perfdata-workload");
        let exe = compile_c(
            dir.path(),
            "busy",
            r#"
#include <stdlib.h>
#include <stdint.h>
volatile uint64_t sink;
__attribute__((noinline)) void hot_seventy(uint64_t n) { for (uint64_t i = 0; i < n; i++) sink = sink * 6364136223846793005ULL + i; }
__attribute__((noinline)) void warm_thirty(uint64_t n) { for (uint64_t i = 0; i < n; i++) sink = sink * 2862933555777941757ULL + i; }
int main(int argc, char **argv) {
    uint64_t rounds = argc > 1 ? strtoull(argv[1], 0, 10) : 100;
    for (uint64_t r = 0; r < rounds; r++) { hot_seventy(700000); warm_thirty(300000); }
    return 0;
}
"#,
            &["-O2", "-g", "-fno-omit-frame-pointer"],
        );
        let data = dir.path().join("perf.data");
        run(Command::new("perf")
            .args(["record", "-q", "-e", "cpu-clock", "-g", "-o"])
            .arg(&data)
            .arg("--")
            .arg(&exe)
            .arg("300"));
        (dir, data)
    });
    data
}

/// Reads `src` with our reader and writes it with our writer: the same
/// attributes, only the kernel's records (plus FINISHED_ROUND: none of
/// perf's own bookkeeping records), our host features, the build ids of
/// the original. Returns the number of records written.
fn rewrite(src: &Path, dst: &Path) -> u64 {
    let file = PerfDataFile::open(src).unwrap();
    assert!(
        file.feature_errors().is_empty(),
        "{:?}",
        file.feature_errors()
    );
    // Our own attribute, as lwprof builds it (full struct size, 144 bytes,
    // which perf 6.1 rejects unless the writer trims it), carrying the
    // sampling setup of perf's so the records match it.
    let events: Vec<EventAttr> = file
        .attrs()
        .iter()
        .map(|e| {
            let mut attr =
                EventConfig::software("cpu-clock", u64::from(PERF_COUNT_SW_CPU_CLOCK)).to_attr();
            assert!(attr.size > 128, "lwprof's attrs are bigger than perf 6.1's");
            let theirs = e.attr();
            attr.__bindgen_anon_1 = theirs.__bindgen_anon_1;
            attr.sample_type = theirs.sample_type;
            attr.read_format = theirs.read_format;
            attr._bitfield_1 = theirs._bitfield_1;
            attr.sample_max_stack = theirs.sample_max_stack;
            let bytes = lwprof_events::sys::attr_bytes(&attr);
            EventAttr::from_bytes(&bytes, e.name.clone(), e.ids.clone())
        })
        .collect();
    let out = std::fs::File::create(dst).unwrap();
    let mut w = PerfDataWriter::new(out, &events).unwrap();
    let walk = file.for_each_record(|r| {
        if r.type_ < USER_TYPE_START || r.type_ == RECORD_FINISHED_ROUND {
            w.write_record(r.bytes).unwrap();
        }
    });
    assert!(walk.error.is_none(), "{:?}", walk.error);
    let mut features = Features::from_host(
        "lwprof test",
        vec![
            "/usr/bin/lwprof".into(),
            "record".into(),
            "-g".into(),
            "--".into(),
            "./busy".into(),
        ],
    );
    features.build_ids = file.features().build_ids.clone();
    let n = w.records();
    w.finish(&features).unwrap();
    n
}

fn assert_no_warnings(what: &str, stderr: &str) {
    assert!(
        !stderr.to_lowercase().contains("warning"),
        "{what} warned:\n{stderr}"
    );
}

#[test]
fn perf_report_reads_our_file_silently_and_agrees() {
    let tmp = scratch("perfdata-rewrite");
    let dir = tmp.path();
    let ours = dir.join("ours.data");
    let written = rewrite(perf_recording(), &ours);
    assert!(written > 100, "only {written} records");

    let (theirs, _) = perf_shares_and_stderr(".", perf_recording());
    let (mine, stderr) = perf_shares_and_stderr(".", &ours);
    assert_no_warnings("perf report", &stderr);
    for f in ["hot_seventy", "warm_thirty"] {
        let (a, b) = (
            theirs.get(f).copied().unwrap_or(0.0),
            mine.get(f).copied().unwrap_or(-100.0),
        );
        assert!((a - b).abs() <= 1.0, "{f}: perf's file {a}%, ours {b}%");
    }
    // The workload's shape shows through: ~70/30, generous for a loaded box.
    let hot = mine["hot_seventy"];
    let warm = mine["warm_thirty"];
    assert!(
        hot > warm && hot > 45.0 && warm > 15.0,
        "hot {hot}% warm {warm}%"
    );

    let (text, stderr) = perf(&["script", "-i"], &ours);
    assert_no_warnings("perf script", &stderr);
    let samples = PerfDataFile::open(&ours)
        .unwrap()
        .for_each_record(|_| ())
        .records;
    assert!(text.contains("hot_seventy") && text.contains("warm_thirty"));
    assert!(samples > 0);
}

#[test]
fn perf_header_only_shows_our_features() {
    let tmp = scratch("perfdata-header");
    let dir = tmp.path();
    let ours = dir.join("ours.data");
    rewrite(perf_recording(), &ours);
    let (text, stderr) = perf(&["report", "--header-only", "-i"], &ours);
    assert_no_warnings("perf report --header-only", &stderr);
    let host = Features::from_host("", vec![]);
    let expect = [
        format!("# hostname : {}", host.hostname.unwrap()),
        format!("# os release : {}", host.os_release.unwrap()),
        "# perf version : lwprof test".to_string(),
        "# cmdline : /usr/bin/lwprof record -g -- ./busy".to_string(),
        format!("# nrcpus online : {}", host.nr_cpus.unwrap().online),
        "# event : name = cpu-clock".to_string(),
        "# time of first sample".to_string(),
    ];
    for e in expect {
        assert!(text.contains(&e), "missing {e:?} in:\n{text}");
    }
    // Our reader agrees with what perf shows.
    let f = PerfDataFile::open(&ours).unwrap();
    assert_eq!(f.attrs()[0].name, "cpu-clock");
    assert_eq!(f.features().cmdline.as_ref().unwrap()[0], "/usr/bin/lwprof");
    assert!(f.header().has_feature(feature::BUILD_ID));
    assert_eq!(
        f.features().build_ids,
        PerfDataFile::open(perf_recording())
            .unwrap()
            .features()
            .build_ids
    );
}

/// (offset, size, type) of every record, as `perf report -D` lists them in
/// file order ("0x108@file [0x50]: event: 69").
fn perf_dump_records(data: &Path) -> Vec<(u64, u64, u32)> {
    perf(&["report", "-D", "-i"], data)
        .0
        .lines()
        .filter_map(|l| {
            let (off, rest) = l.strip_prefix("0x")?.split_once('@')?;
            let size = rest.split_once("[0x")?.1.split_once(']')?.0;
            let ty = rest.split_once("event: ")?.1.trim();
            Some((
                u64::from_str_radix(off, 16).ok()?,
                u64::from_str_radix(size, 16).ok()?,
                ty.parse().ok()?,
            ))
        })
        .collect()
}

#[test]
fn reading_perf_own_file_finds_every_record_perf_finds() {
    let data = perf_recording();
    let file = PerfDataFile::open(data).unwrap();
    let mut ours = Vec::new();
    let mut samples_with_attr = 0;
    let walk = file.for_each_record(|r| {
        ours.push((r.offset, r.bytes.len() as u64, r.type_));
        if r.type_ == RECORD_SAMPLE && r.attr_index == Some(0) && r.time.is_some() {
            samples_with_attr += 1;
        }
    });
    assert!(walk.error.is_none(), "{:?}", walk.error);
    let theirs = perf_dump_records(data);
    assert!(
        theirs.len() > 100,
        "perf -D listed {} records",
        theirs.len()
    );
    assert_eq!(ours.len(), theirs.len(), "record count: ours vs perf -D");
    // perf -D lists in processing order (it hoists a FINISHED_ROUND); ours
    // is file order, which must already be sorted by offset.
    assert!(
        ours.windows(2).all(|w| w[0].0 + w[0].1 == w[1].0),
        "file order, back to back"
    );
    let mut theirs = theirs;
    theirs.sort();
    if let Some(i) = (0..ours.len()).find(|&i| ours[i] != theirs[i]) {
        panic!("record {i}: ours {:?}, perf -D {:?}", ours[i], theirs[i]);
    }
    assert!(samples_with_attr > 100);
    let f = file.features();
    assert_eq!(file.attrs().len(), 1);
    assert_eq!(file.attrs()[0].name, "cpu-clock");
    assert!(!file.attrs()[0].ids.is_empty());
    assert!(f.hostname.is_some() && f.os_release.is_some() && f.nr_cpus.is_some());
    assert!(f.cmdline.as_ref().unwrap().iter().any(|a| a == "record"));
    assert!(f
        .build_ids
        .iter()
        .any(|b| b.path.ends_with("/busy") && !b.build_id.is_empty()));
    let (first, last) = f.sample_time.unwrap();
    assert!(first <= last);
    // And perf reads our rewrite the same way, record for record.
    let tmp = scratch("perfdata-dump");
    let dir = tmp.path();
    let ours_file = dir.join("ours.data");
    let n = rewrite(data, &ours_file);
    assert_eq!(perf_dump_records(&ours_file).len() as u64, n);
}

#[test]
fn truncation_stops_at_the_damage_and_names_the_offset() {
    let tmp = scratch("perfdata-trunc");
    let dir = tmp.path();
    let ours = dir.join("ours.data");
    rewrite(perf_recording(), &ours);
    let whole = std::fs::read(&ours).unwrap();
    let full = PerfDataFile::open(&ours).unwrap();
    let (data_off, data_size) = full.header().data;
    let mut offsets = Vec::new();
    full.for_each_record(|r| offsets.push((r.offset, r.bytes.len() as u64)));
    for frac in [0.1, 0.37, 0.5, 0.93] {
        let cut = data_off + (data_size as f64 * frac) as u64;
        let path = dir.join(format!("cut-{cut}.data"));
        std::fs::write(&path, &whole[..cut as usize]).unwrap();
        let f = PerfDataFile::open(&path).unwrap();
        // Features sit after the data: gone, and said so.
        assert!(!f.feature_errors().is_empty());
        assert_eq!(f.attrs()[0].name, "cpu-clock"); // fallback name from the attr
        let walk = f.for_each_record(|_| ());
        let complete = offsets.iter().filter(|(o, l)| o + l <= cut).count() as u64;
        assert_eq!(walk.records, complete, "cut at {cut:#x}");
        let err = walk.error.expect("a cut file must report an error");
        let damaged_at = offsets.get(complete as usize).map_or(cut, |r| r.0);
        assert_eq!(err.offset(), Some(damaged_at), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("{damaged_at:#x}")) && msg.contains("truncated"),
            "{msg}"
        );
    }
    // A cut exactly at a record boundary is still reported.
    let (o, _) = offsets[offsets.len() / 2];
    let path = dir.join("boundary.data");
    std::fs::write(&path, &whole[..o as usize]).unwrap();
    let walk = PerfDataFile::open(&path).unwrap().for_each_record(|_| ());
    assert_eq!(walk.records, (offsets.len() / 2) as u64);
    assert_eq!(walk.error.expect("boundary cut").offset(), Some(o));
    // A record header claiming more bytes than remain.
    let mut bad = whole.clone();
    let k = offsets.len() - 5;
    let (o, _) = offsets[k];
    bad[o as usize + 6..o as usize + 8].copy_from_slice(&0xfff8u16.to_ne_bytes());
    let path = dir.join("garbage.data");
    std::fs::write(&path, &bad).unwrap();
    let walk = PerfDataFile::open(&path).unwrap().for_each_record(|_| ());
    assert_eq!(walk.records, k as u64);
    let err = walk.error.unwrap();
    assert_eq!(err.offset(), Some(o));
    assert!(err.to_string().contains("65528"), "{err}");
    // Size 0.
    bad[o as usize + 6..o as usize + 8].copy_from_slice(&0u16.to_ne_bytes());
    std::fs::write(&path, &bad).unwrap();
    let walk = PerfDataFile::open(&path).unwrap().for_each_record(|_| ());
    assert!(matches!(walk.error, Some(PerfDataError::Corrupt { offset, .. }) if offset == o));
    // A garbage type (what a bogus but in-range size leads to).
    let mut bad = whole.clone();
    let (o, _) = offsets[10];
    bad[o as usize..o as usize + 4].copy_from_slice(&0xdead_beefu32.to_ne_bytes());
    std::fs::write(&path, &bad).unwrap();
    let walk = PerfDataFile::open(&path).unwrap().for_each_record(|_| ());
    assert_eq!(walk.records, 10);
    let err = walk.error.unwrap();
    assert!(
        matches!(err, PerfDataError::Corrupt { offset, .. } if offset == o),
        "{err}"
    );
    // Not a perf.data file, and a header cut short.
    std::fs::write(&path, b"hello world, this is not perf data at all").unwrap();
    assert!(matches!(
        PerfDataFile::open(&path),
        Err(PerfDataError::NotPerfData { .. })
    ));
    std::fs::write(&path, &whole[..50]).unwrap();
    assert!(matches!(
        PerfDataFile::open(&path),
        Err(PerfDataError::Truncated { offset: 0, .. })
    ));
}

#[test]
fn an_unfinished_file_is_detected_read_and_repaired() {
    let tmp = scratch("perfdata-unfinished");
    let dir = tmp.path();
    let src = PerfDataFile::open(perf_recording()).unwrap();
    let path = dir.join("killed.data");
    let mut kept = 0u64;
    {
        let out = std::fs::File::create(&path).unwrap();
        let mut w = PerfDataWriter::new(out, src.attrs()).unwrap();
        src.for_each_record(|r| {
            if r.type_ < USER_TYPE_START {
                w.write_record(r.bytes).unwrap();
                kept += 1;
            }
        });
        // Dropped without finish(), as if the recorder died.
    }
    // Plus half a record, as if killed mid-write.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&[9, 0, 0, 0, 2, 0, 64, 0, 1, 2, 3]);
    std::fs::write(&path, &bytes).unwrap();

    let err = PerfDataFile::open(&path).unwrap_err();
    assert!(matches!(err, PerfDataError::Unfinished { .. }), "{err}");
    assert!(err.to_string().contains("never finalized"), "{err}");

    let f = PerfDataFile::open_unfinished(&path).unwrap();
    assert!(f.is_unfinished());
    let walk = f.for_each_record(|_| ());
    assert_eq!(walk.records, kept);
    assert!(walk.error.is_some());

    let report = repair(
        &path,
        &Features::from_host("lwprof test", vec!["lwprof".into()]),
    )
    .unwrap();
    assert_eq!(report.records, kept);
    assert_eq!(report.dropped_bytes, 11);
    let f = PerfDataFile::open(&path).unwrap();
    let walk = f.for_each_record(|_| ());
    assert_eq!((walk.records, walk.error.is_none()), (kept, true));
    assert!(f.features().sample_time.is_some());
    let (shares, stderr) = perf_shares_and_stderr(".", &path);
    assert_no_warnings("perf report of a repaired file", &stderr);
    assert!(
        shares.get("hot_seventy").copied().unwrap_or(0.0) > 40.0,
        "{shares:?}"
    );
}

/// samply's reader (linux-perf-data) reads our files too; and it is why we
/// have our own reader: it cannot give records from a truncated file.
#[test]
fn linux_perf_data_reads_our_file() {
    let tmp = scratch("perfdata-lpd");
    let dir = tmp.path();
    let ours = dir.join("ours.data");
    let written = rewrite(perf_recording(), &ours);
    let ours_file = PerfDataFile::open(&ours).unwrap();
    let kernel_records = {
        let mut n = 0u64;
        ours_file.for_each_record(|r| n += u64::from(r.type_ < USER_TYPE_START));
        n
    };
    assert!(kernel_records > 100 && kernel_records < written);

    let bytes = std::fs::read(&ours).unwrap();
    let linux_perf_data::PerfFileReader {
        mut perf_file,
        mut record_iter,
    } = linux_perf_data::PerfFileReader::parse_file(std::io::Cursor::new(&bytes[..])).unwrap();
    let attrs = perf_file.event_attributes();
    assert_eq!(attrs.len(), 1);
    assert_eq!(attrs[0].name(), Some("cpu-clock"));
    assert_eq!(attrs[0].ids(), &ours_file.attrs()[0].ids[..]);
    assert_eq!(
        perf_file.hostname().unwrap(),
        ours_file.features().hostname.as_deref()
    );
    let cmdline = perf_file.cmdline().unwrap().unwrap();
    assert_eq!(cmdline[0], "/usr/bin/lwprof");
    assert_eq!(
        perf_file.build_ids().unwrap().len(),
        ours_file.features().build_ids.len()
    );
    let mut theirs = 0u64;
    while let Some(rec) = record_iter.next_record(&mut perf_file).unwrap() {
        if let linux_perf_data::PerfFileRecord::EventRecord { attr_index, .. } = rec {
            assert_eq!(attr_index, 0);
            theirs += 1;
        }
    }
    assert_eq!(theirs, kernel_records);

    // Cut inside the data section: linux-perf-data refuses the whole file
    // (the feature sections are gone), ours reads up to the cut.
    let cut = (ours_file.header().data.0 + ours_file.header().data.1 / 2) as usize;
    assert!(
        linux_perf_data::PerfFileReader::parse_file(std::io::Cursor::new(&bytes[..cut])).is_err()
    );
    let cut_path = dir.join("cut.data");
    std::fs::write(&cut_path, &bytes[..cut]).unwrap();
    let walk = PerfDataFile::open(&cut_path)
        .unwrap()
        .for_each_record(|_| ());
    assert!(walk.records > 10 && walk.error.is_some());
}
