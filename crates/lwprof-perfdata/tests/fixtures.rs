//! The checked-in files perf 6.1 wrote (`tests/data`, see its README) read
//! as perf reads them: the record counts of `perf report --stats` (kept in
//! `tests/data/golden`), per type and per event. Needs neither root nor perf.

use lwprof_perfdata::compressed::{RECORD_COMPRESSED, RECORD_COMPRESSED2};
use lwprof_perfdata::{
    EventAttr, Features, PerfDataError, PerfDataFile, PerfDataInput, PerfDataWriter, PipeDataFile,
};
use lwprof_records::abi::record_type::{self, SAMPLE, USER_TYPE_START};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// perf's `--stats`: the aggregated counts by perf's type name, and the
/// SAMPLE count of each event by name.
#[derive(Debug, Default, PartialEq, Eq)]
struct Stats {
    total: u64,
    by_type: BTreeMap<String, u64>,
    samples_by_event: BTreeMap<String, u64>,
}

fn golden_stats(name: &str) -> Stats {
    let text = std::fs::read_to_string(data(&format!("golden/{name}.stats"))).unwrap();
    let mut stats = Stats::default();
    let mut event: Option<String> = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(e) = line.strip_suffix(" stats:") {
            event = (e != "Aggregated").then(|| e.to_string());
            continue;
        }
        let (kind, rest) = line.trim().split_once(" events:").expect("a count line");
        let n: u64 = rest.split_whitespace().next().unwrap().parse().unwrap();
        match (&event, kind) {
            (None, "TOTAL") => stats.total = n,
            (None, _) => {
                stats.by_type.insert(kind.to_string(), n);
            }
            (Some(e), "SAMPLE") => {
                stats.samples_by_event.insert(e.clone(), n);
            }
            (Some(_), _) => {}
        }
    }
    stats
}

/// Our counts, as perf's `--stats` counts: every record, and a compressed
/// record once itself and once for each record inside it.
fn our_stats(input: &PerfDataInput) -> (Stats, Option<PerfDataError>) {
    let mut stats = Stats::default();
    let names: Vec<String> = input.attrs().iter().map(|a| a.name.clone()).collect();
    let walk = input.for_each_record(|r| {
        let name = record_type::name(r.type_).unwrap_or("unknown");
        *stats.by_type.entry(name.to_string()).or_default() += 1;
        if r.type_ == SAMPLE {
            let e = r.attr_index.map_or("?".to_string(), |i| names[i].clone());
            *stats.samples_by_event.entry(e).or_default() += 1;
        }
    });
    if walk.compressed > 0 {
        stats.by_type.insert("COMPRESSED".into(), walk.compressed);
    }
    stats.total = walk.records + walk.compressed;
    (stats, walk.error)
}

fn assert_reads_as_perf_does(name: &str) -> PerfDataInput {
    let input = PerfDataInput::open(data(&format!("{name}.data"))).unwrap();
    assert!(
        input.feature_errors().is_empty(),
        "{name}: {:?}",
        input.feature_errors()
    );
    let (ours, error) = our_stats(&input);
    assert!(error.is_none(), "{name}: {error:?}");
    assert_eq!(ours, golden_stats(name), "{name}");
    // Re-open: a stream is walked once.
    PerfDataInput::open(data(&format!("{name}.data"))).unwrap()
}

#[test]
fn perf_record_z_file_counts_as_perf_report_stats() {
    let input = assert_reads_as_perf_does("zstd");
    assert!(!input.is_pipe());
}

#[test]
fn frame_pointer_dwarf_and_two_event_files_count_as_perf_report_stats() {
    assert_reads_as_perf_does("callgraph-fp");
    assert_reads_as_perf_does("dwarf");
    let two = assert_reads_as_perf_does("two-events");
    let names: Vec<&str> = two.attrs().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["cpu-clock", "page-faults"]);
}

#[test]
fn tracepoint_files_count_as_perf_report_stats_and_carry_tracing_data() {
    for name in ["tracepoint", "pipe-tracepoint"] {
        let input = assert_reads_as_perf_does(name);
        let tracing = input.features().tracing_data.as_ref();
        assert!(tracing.is_some(), "{name}: no tracing data");
        let names: Vec<&str> = input.attrs().iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            ["sched:sched_process_exec", "sched:sched_process_exit"],
            "{name}"
        );
    }
}

#[test]
fn saved_pipe_mode_file_reads_like_any_other() {
    let input = assert_reads_as_perf_does("pipe");
    assert!(input.is_pipe());
    assert_eq!(input.attrs()[0].name, "cpu-clock:ppp");
    // Features arrive as HEADER_FEATURE records.
    let f = input.features();
    assert!(f.hostname.is_some() && f.cmdline.is_some(), "{f:?}");
    assert!(f.sample_time.is_some(), "{f:?}");
}

/// A reader that is not `Seek`, as standard input is.
struct Stream<'a>(&'a [u8]);

impl std::io::Read for Stream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // A few bytes at a time, as a pipe may deliver them.
        let n = buf.len().min(self.0.len()).min(7);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn pipe_stream_from_a_non_seekable_reader_is_walked_once() {
    let bytes = std::fs::read(data("pipe.data")).unwrap();
    let pipe = PipeDataFile::from_reader(Stream(&bytes), "stdin").unwrap();
    let mut samples = 0;
    let walk = pipe.for_each_record(|r| samples += u64::from(r.type_ == SAMPLE));
    assert!(walk.error.is_none(), "{:?}", walk.error);
    assert_eq!(samples, golden_stats("pipe").by_type["SAMPLE"]);
    let again = pipe.for_each_record(|_| ());
    assert!(
        matches!(again.error, Some(PerfDataError::StreamConsumed { .. })),
        "{again:?}"
    );
}

#[test]
fn pipe_stream_cut_short_hands_out_every_record_before_the_cut() {
    let bytes = std::fs::read(data("pipe.data")).unwrap();
    let whole = PipeDataFile::from_reader(Stream(&bytes), "whole").unwrap();
    let mut ends = Vec::new();
    whole.for_each_record(|r| ends.push(r.offset + r.bytes.len() as u64));
    let cut = bytes.len() - 20;
    let before = ends.iter().filter(|&&e| e <= cut as u64).count() as u64;
    let pipe = PipeDataFile::from_reader(Stream(&bytes[..cut]), "cut").unwrap();
    let walk = pipe.for_each_record(|_| ());
    assert_eq!(walk.records, before);
    let err = walk.error.expect("the cut is an error").to_string();
    assert!(err.contains("the stream") && err.contains("ended"), "{err}");
    // Nothing but the header, and no header at all.
    assert!(PipeDataFile::from_reader(Stream(&bytes[..16]), "empty").is_err());
    let err = PipeDataFile::from_reader(Stream(&[]), "none").unwrap_err();
    assert!(err.to_string().contains("pipe-mode header"), "{err}");
}

#[test]
fn truncated_file_gives_every_record_before_the_cut_and_names_it() {
    let whole = PerfDataFile::open(data("callgraph-fp.data")).unwrap();
    let cut = std::fs::metadata(data("truncated.data")).unwrap().len();
    let mut before = 0u64;
    let mut first_cut = None;
    whole.for_each_record(|r| {
        if r.offset + r.bytes.len() as u64 <= cut {
            before += 1;
        } else {
            first_cut.get_or_insert(r.offset);
        }
    });
    let input = PerfDataInput::open(data("truncated.data")).unwrap();
    let walk = input.for_each_record(|_| ());
    assert_eq!(walk.records, before);
    let err = walk.error.expect("truncation is an error");
    assert_eq!(err.offset(), first_cut);
    assert!(err.to_string().contains("file truncated"), "{err}");
}

#[test]
fn unfinished_perf_file_with_feature_bits_is_read_to_its_end() {
    // perf sets the feature bits when it starts; a killed perf leaves them
    // with data size 0 and no sections.
    let path = data("unfinished.data");
    let err = PerfDataInput::open(&path).unwrap_err();
    assert!(matches!(err, PerfDataError::Unfinished { .. }), "{err}");
    let input = PerfDataInput::open_unfinished(&path).unwrap();
    assert!(input.is_unfinished());
    let (ours, error) = our_stats(&input);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(ours, golden_stats("unfinished"));
}

/// The records of a file, as one zstd stream flushed at `cuts` (byte
/// offsets into the records, which fall inside records), each flush one
/// COMPRESSED (or COMPRESSED2) record.
fn compressed_records(stream: &[u8], cuts: &[usize], type_: u32) -> Vec<Vec<u8>> {
    use zstd::stream::raw::{Encoder, InBuffer, Operation, OutBuffer};
    let mut enc = Encoder::new(3).unwrap();
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        let mut buf = vec![0u8; 60_000];
        let mut input = InBuffer::around(&stream[start..cut]);
        let mut output = OutBuffer::around(&mut buf[..]);
        enc.run(&mut input, &mut output).unwrap();
        enc.flush(&mut output).unwrap();
        assert_eq!(input.pos(), cut - start);
        let n = output.pos();
        let mut body = Vec::new();
        if type_ == RECORD_COMPRESSED2 {
            body.extend_from_slice(&(n as u64).to_ne_bytes());
        }
        body.extend_from_slice(&buf[..n]);
        if type_ == RECORD_COMPRESSED2 {
            // What COMPRESSED2 adds: padding after the data it sizes.
            body.resize(body.len().next_multiple_of(8), 0);
        }
        let mut rec = Vec::new();
        rec.extend_from_slice(&type_.to_ne_bytes());
        rec.extend_from_slice(&0u16.to_ne_bytes());
        rec.extend_from_slice(&((8 + body.len()) as u16).to_ne_bytes());
        rec.extend_from_slice(&body);
        out.push(rec);
        start = cut;
    }
    out
}

#[test]
fn compressed_and_compressed2_records_spanning_two_chunks_read_whole() {
    let src = PerfDataFile::open(data("two-events.data")).unwrap();
    let mut kernel: Vec<Vec<u8>> = Vec::new();
    src.for_each_record(|r| {
        if r.type_ < USER_TYPE_START {
            kernel.push(r.bytes.to_vec());
        }
    });
    let stream: Vec<u8> = kernel.concat();
    // Cut inside the 3rd record's header and inside the 40th's body.
    let third = kernel[..2].iter().map(Vec::len).sum::<usize>() + 3;
    let fortieth = kernel[..39].iter().map(Vec::len).sum::<usize>() + 17;
    let events: Vec<EventAttr> = src.attrs().to_vec();
    for type_ in [RECORD_COMPRESSED, RECORD_COMPRESSED2] {
        let mut w = PerfDataWriter::new(Cursor::new(Vec::new()), &events).unwrap();
        for rec in compressed_records(&stream, &[third, fortieth], type_) {
            w.write_record(&rec).unwrap();
        }
        let bytes = w.finish(&Features::default()).unwrap().into_inner();
        let file = PerfDataFile::from_reader(Cursor::new(bytes), "compressed").unwrap();
        let mut got: Vec<(Vec<u8>, Option<usize>)> = Vec::new();
        let walk = file.for_each_record(|r| got.push((r.bytes.to_vec(), r.attr_index)));
        assert!(walk.error.is_none(), "{type_}: {:?}", walk.error);
        assert_eq!(walk.compressed, 3, "{type_}");
        let records: Vec<Vec<u8>> = got.iter().map(|g| g.0.clone()).collect();
        assert_eq!(records, kernel, "{type_}");
        // Both events' samples are told apart inside the compressed data.
        let samples_of = |i| {
            got.iter()
                .filter(|g| g.0[0] == SAMPLE as u8 && g.1 == Some(i))
                .count()
        };
        assert!(samples_of(0) > 0 && samples_of(1) > 0, "{type_}");
    }
}

#[test]
fn clock_data_of_perf_record_k_is_perf_header_only_reference_time() {
    // perf: "# reference time: ... = SECS.USECS (TOD) = SECS.NSECS (monotonic)"
    let golden = std::fs::read_to_string(data("golden/clockid.header")).unwrap();
    let line = golden
        .lines()
        .find(|l| l.starts_with("# reference time"))
        .unwrap();
    let parts: Vec<&str> = line.split(" = ").collect();
    let tod_us = parts[1].trim_end_matches(" (TOD)").replace('.', "");
    let mono_ns = parts[2].trim_end_matches(" (monotonic)").replace('.', "");
    let file = PerfDataFile::open(data("clockid.data")).unwrap();
    let clock = file.features().clock_data().expect("CLOCK_DATA").unwrap();
    assert_eq!(clock.clock_name(), Some("monotonic"));
    assert!(golden.contains(&format!("# clockid: monotonic ({})", clock.clockid)));
    assert_eq!(clock.tod_ns / 1000, tod_us.parse::<u64>().unwrap());
    assert_eq!(clock.clockid_ns, mono_ns.parse::<u64>().unwrap());
    assert_eq!(clock.to_wall_ns(clock.clockid_ns), clock.tod_ns);
    assert!(PerfDataFile::open(data("zstd.data"))
        .unwrap()
        .features()
        .clock_data()
        .is_none());
}
