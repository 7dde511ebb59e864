//! perf.data of the other byte order ("2ELIFREP"), which this machine
//! cannot make: a test-only swapper turns the perf 6.1 fixtures into the
//! file a big-endian perf would have written for the same run, and the
//! reader must give the same events, ids, features and records as the
//! original. `tests/data/swapped-two-events.data` is the swapper's output
//! for `two-events.data`, checked in so the CLI can report it; the test
//! checks that it is exactly what the swapper makes (`LWPROF_BLESS=1`
//! rewrites it). Pipe-mode streams of the other byte order are made the
//! same way and must read as the original file.

use lwprof_perfdata::{attr_to_native, feature, EventAttr, PerfDataFile, MAGIC};
use lwprof_records::abi::record_type::{COMM, EXIT, FINISHED_ROUND, FORK, MMAP, MMAP2, SAMPLE};
use lwprof_records::{Endianness, RawData, RawRecord, Record};
use std::io::Cursor;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn other() -> Endianness {
    match Endianness::NATIVE {
        Endianness::Little => Endianness::Big,
        Endianness::Big => Endianness::Little,
    }
}

/// Reverses the bytes of each (offset, width) field of `b`.
fn swap_fields(b: &mut [u8], fields: &[(usize, usize)]) {
    for &(off, w) in fields {
        b[off..off + w].reverse();
    }
}

const S_IP: u64 = 1 << 0;
const S_TID: u64 = 1 << 1;
const S_TIME: u64 = 1 << 2;
const S_ADDR: u64 = 1 << 3;
const S_CALLCHAIN: u64 = 1 << 5;
const S_ID: u64 = 1 << 6;
const S_CPU: u64 = 1 << 7;
const S_PERIOD: u64 = 1 << 8;
const S_STREAM_ID: u64 = 1 << 9;
const S_IDENTIFIER: u64 = 1 << 16;
/// The sample fields this swapper knows.
const KNOWN: u64 = S_IP
    | S_TID
    | S_TIME
    | S_ADDR
    | S_CALLCHAIN
    | S_ID
    | S_CPU
    | S_PERIOD
    | S_STREAM_ID
    | S_IDENTIFIER;

/// The fields of the sample_id trailer of non-sample records, from its start.
fn trailer_fields(st: u64) -> Vec<(usize, usize)> {
    let mut f = Vec::new();
    let mut at = 0;
    for (bit, widths) in [
        (S_TID, &[4usize, 4][..]),
        (S_TIME, &[8]),
        (S_ID, &[8]),
        (S_STREAM_ID, &[8]),
        (S_CPU, &[4, 4]),
        (S_IDENTIFIER, &[8]),
    ] {
        if st & bit != 0 {
            for &w in widths {
                f.push((at, w));
                at += w;
            }
        }
    }
    f
}

/// One record in the other byte order, as the kernel of the other order
/// would have written it.
fn swap_record(native: &[u8], attr: &EventAttr) -> Vec<u8> {
    let mut r = native.to_vec();
    let type_ = u32::from_ne_bytes(r[0..4].try_into().unwrap());
    let misc = u16::from_ne_bytes(r[4..6].try_into().unwrap());
    swap_fields(&mut r, &[(0, 4), (4, 2), (6, 2)]);
    let st = attr.attr().sample_type;
    assert_eq!(
        st & !KNOWN,
        0,
        "sample_type {st:#x} has fields the swapper does not know"
    );
    let u32s = |n: usize, from: usize| (0..n).map(move |i| (from + 4 * i, 4));
    let mut fields: Vec<(usize, usize)> = match type_ {
        SAMPLE => {
            let mut f = Vec::new();
            let mut at = 8;
            for (bit, widths) in [
                (S_IDENTIFIER, &[8usize][..]),
                (S_IP, &[8]),
                (S_TID, &[4, 4]),
                (S_TIME, &[8]),
                (S_ADDR, &[8]),
                (S_ID, &[8]),
                (S_STREAM_ID, &[8]),
                (S_CPU, &[4, 4]),
                (S_PERIOD, &[8]),
            ] {
                if st & bit != 0 {
                    for &w in widths {
                        f.push((at, w));
                        at += w;
                    }
                }
            }
            if st & S_CALLCHAIN != 0 {
                let nr = u64::from_ne_bytes(native[at..at + 8].try_into().unwrap()) as usize;
                f.extend((0..=nr).map(|i| (at + 8 * i, 8)));
                at += 8 * (nr + 1);
            }
            assert_eq!(at, native.len(), "sample layout");
            return {
                swap_fields(&mut r, &f);
                r
            };
        }
        MMAP => u32s(2, 8).chain([(16, 8), (24, 8), (32, 8)]).collect(),
        MMAP2 => {
            let mut f: Vec<_> = u32s(2, 8).chain([(16, 8), (24, 8), (32, 8)]).collect();
            // With a build id (misc bit 14) the next 24 bytes are bytes.
            if misc & (1 << 14) == 0 {
                f.extend([(40, 4), (44, 4), (48, 8), (56, 8)]);
            }
            f.extend([(64, 4), (68, 4)]);
            f
        }
        COMM => u32s(2, 8).collect(),
        FORK | EXIT => u32s(4, 8).chain([(24, 8)]).collect(),
        FINISHED_ROUND => Vec::new(),
        other => panic!("the swapper does not know record type {other}"),
    };
    if type_ != FINISHED_ROUND && attr.attr().sample_id_all() != 0 {
        let t = trailer_fields(st);
        let len: usize = t.iter().map(|f| f.1).sum();
        let start = native.len() - len;
        fields.extend(t.iter().map(|&(o, w)| (start + o, w)));
    }
    swap_fields(&mut r, &fields);
    r
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&other_u32(v));
}
fn other_u32(v: u32) -> [u8; 4] {
    v.swap_bytes().to_ne_bytes()
}
fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.swap_bytes().to_ne_bytes());
}
/// perf's string: u32 length (padded to 64 bytes... perf pads to 64), bytes, NULs.
fn put_string(out: &mut Vec<u8>, s: &str) {
    let len = (s.len() + 1).next_multiple_of(64);
    put_u32(out, len as u32);
    let start = out.len();
    out.extend_from_slice(s.as_bytes());
    out.resize(start + len, 0);
}

/// The feature sections the swapper writes, in the other byte order.
fn swapped_features(file: &PerfDataFile) -> Vec<(u32, Vec<u8>)> {
    let f = file.features();
    let mut out = Vec::new();
    let mut build_ids = Vec::new();
    for b in &f.build_ids {
        let name_len = (b.path.len() + 1).next_multiple_of(64);
        let mut head = Vec::new();
        head.extend_from_slice(&other_u32(67));
        let misc = b.misc | (1 << 15);
        head.extend_from_slice(&misc.swap_bytes().to_ne_bytes());
        head.extend_from_slice(&((36 + name_len) as u16).swap_bytes().to_ne_bytes());
        head.extend_from_slice(&other_u32(b.pid as u32));
        let mut id = [0u8; 24];
        id[..b.build_id.len()].copy_from_slice(&b.build_id);
        id[20] = b.build_id.len() as u8;
        head.extend_from_slice(&id);
        head.extend_from_slice(b.path.as_bytes());
        head.resize(36 + name_len, 0);
        build_ids.extend(head);
    }
    out.push((feature::BUILD_ID, build_ids));
    let mut host = Vec::new();
    put_string(&mut host, f.hostname.as_deref().unwrap());
    out.push((feature::HOSTNAME, host));
    let mut cmdline = Vec::new();
    let args = f.cmdline.as_ref().unwrap();
    put_u32(&mut cmdline, args.len() as u32);
    for a in args {
        put_string(&mut cmdline, a);
    }
    out.push((feature::CMDLINE, cmdline));
    let mut desc = Vec::new();
    put_u32(&mut desc, file.attrs().len() as u32);
    put_u32(&mut desc, 128);
    for a in file.attrs() {
        desc.extend_from_slice(&attr_to_native(&a.bytes()[..128], other()));
        put_u32(&mut desc, a.ids.len() as u32);
        put_string(&mut desc, &a.name);
        for &id in &a.ids {
            put_u64(&mut desc, id);
        }
    }
    out.push((feature::EVENT_DESC, desc));
    let mut time = Vec::new();
    let (first, last) = f.sample_time.unwrap();
    put_u64(&mut time, first);
    put_u64(&mut time, last);
    out.push((feature::SAMPLE_TIME, time));
    out
}

/// `src` as the perf of the other byte order would have written it: the
/// same attributes, ids and kernel records (plus FINISHED_ROUND), and the
/// features build ids, host name, command line, event names, sample time.
fn swap_file(src: &Path) -> Vec<u8> {
    let file = PerfDataFile::open(src).unwrap();
    let attrs = file.attrs();
    let mut records = Vec::new();
    file.for_each_record(|r| {
        if r.type_ < 64 || r.type_ == FINISHED_ROUND {
            let attr = &attrs[r.attr_index.unwrap_or(0)];
            records.extend(swap_record(r.bytes, attr));
        }
    });
    let entry = 128 + 16;
    let attrs_at = 104u64;
    let ids_at = attrs_at + (attrs.len() * entry) as u64;
    let mut ids = Vec::new();
    let mut section = Vec::new();
    for a in attrs {
        let mut native = a.bytes()[..128].to_vec();
        native[4..8].copy_from_slice(&128u32.to_ne_bytes());
        section.extend(attr_to_native(&native, other()));
        put_u64(&mut section, ids_at + ids.len() as u64);
        put_u64(&mut section, (a.ids.len() * 8) as u64);
        for &id in &a.ids {
            put_u64(&mut ids, id);
        }
    }
    let data_at = ids_at + ids.len() as u64;
    let features = swapped_features(&file);
    let mut bitmap = [0u64; 4];
    for (bit, _) in &features {
        bitmap[(*bit / 64) as usize] |= 1 << (bit % 64);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC.swap_bytes().to_ne_bytes());
    for w in [104, entry as u64, attrs_at, section.len() as u64] {
        put_u64(&mut out, w);
    }
    for w in [data_at, records.len() as u64, 0, 0] {
        put_u64(&mut out, w);
    }
    for w in bitmap {
        put_u64(&mut out, w);
    }
    out.extend(section);
    out.extend(ids);
    out.extend(records);
    let mut at = out.len() as u64 + features.len() as u64 * 16;
    let mut bodies = Vec::new();
    for (_, body) in &features {
        put_u64(&mut out, at);
        put_u64(&mut out, body.len() as u64);
        at += body.len() as u64;
        bodies.extend_from_slice(body);
    }
    out.extend(bodies);
    out
}

/// Every kernel record parsed: its debug form, with the order it was in.
fn parsed_records(file: &PerfDataFile<impl std::io::Read + std::io::Seek>) -> Vec<String> {
    let e = file.endianness();
    let infos: Vec<_> = file
        .attrs()
        .iter()
        .map(|a| a.parse_info().with_endianness(e))
        .collect();
    let mut out = Vec::new();
    let walk = file.for_each_record(|r| {
        if r.type_ < 64 {
            let raw = RawRecord::from_data(RawData::Single(r.bytes), e).unwrap();
            let rec = raw.parse(&infos[r.attr_index.unwrap_or(0)]).unwrap();
            // A sample's call chain is a view of the bytes in the file's
            // order: compare the values.
            let text = match &rec {
                Record::Sample(s) => format!(
                    "sample {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:x?}",
                    s.cpumode(),
                    s.ip(),
                    s.pid(),
                    s.tid(),
                    s.time(),
                    s.id(),
                    s.cpu(),
                    s.period(),
                    s.callchain().map(|c| c.to_vec())
                ),
                other => format!("{other:?}"),
            };
            out.push(format!(
                "{:?} {:?} {:?} {text}",
                r.time, r.attr_index, r.misc
            ));
        }
    });
    assert!(walk.error.is_none(), "{:?}", walk.error);
    out
}

#[test]
fn byte_swapped_files_read_as_their_originals() {
    for name in ["callgraph-fp", "two-events"] {
        let original = PerfDataFile::open(data(&format!("{name}.data"))).unwrap();
        let bytes = swap_file(&data(&format!("{name}.data")));
        assert_eq!(&bytes[..8], b"2ELIFREP");
        let swapped = PerfDataFile::from_reader(Cursor::new(bytes), "swapped").unwrap();
        assert_eq!(swapped.endianness(), other());
        assert!(
            swapped.feature_errors().is_empty(),
            "{:?}",
            swapped.feature_errors()
        );
        for (a, b) in original.attrs().iter().zip(swapped.attrs()) {
            assert_eq!(a.name, b.name, "{name}");
            assert_eq!(a.ids, b.ids, "{name}");
            // The whole attribute, flags bitfield included (the size field
            // is 128 in the swapped file).
            assert_eq!(&a.bytes()[8..], &b.bytes()[8..], "{name}: {a:?} {b:?}");
            assert_eq!(a.attr().sample_id_all(), 1);
            assert_eq!(b.attr().sample_id_all(), 1);
        }
        assert_eq!(original.attrs().len(), swapped.attrs().len());
        let (f, g) = (original.features(), swapped.features());
        assert_eq!(
            (&f.hostname, &f.cmdline, f.sample_time, &f.build_ids),
            (&g.hostname, &g.cmdline, g.sample_time, &g.build_ids),
            "{name}"
        );
        let (a, b) = (parsed_records(&original), parsed_records(&swapped));
        assert!(a.len() > 100, "{name}: {}", a.len());
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn attr_flags_bitfield_bits_are_reversed_per_byte() {
    let mut attr = vec![0u8; 128];
    attr[0] = 1; // type
    attr[40] = 0b0000_0001; // disabled (bit 0)
    attr[42] = 0b0000_0100; // bit 18: sample_id_all
    let other_bytes = attr_to_native(&attr, other());
    assert_eq!(other_bytes[40], 0b1000_0000);
    assert_eq!(other_bytes[42], 0b0010_0000);
    assert_eq!(
        u32::from_ne_bytes(other_bytes[0..4].try_into().unwrap()),
        1u32.swap_bytes()
    );
    assert_eq!(attr_to_native(&other_bytes, other()), attr);
}

#[test]
fn checked_in_swapped_fixture_is_what_the_swapper_makes() {
    let made = swap_file(&data("two-events.data"));
    let path = data("swapped-two-events.data");
    if std::env::var_os("LWPROF_BLESS").is_some() {
        std::fs::write(&path, &made).unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), made);
}

/// A record of perf's own (type >= 64) in the other byte order: its header,
/// then `body` (already in that order).
fn put_user_record(out: &mut Vec<u8>, type_: u32, body: &[u8]) {
    put_u32(out, type_);
    out.extend_from_slice(&0u16.swap_bytes().to_ne_bytes());
    out.extend_from_slice(&((8 + body.len()) as u16).swap_bytes().to_ne_bytes());
    out.extend_from_slice(body);
}

/// `src` as the perf of the other byte order would have streamed it with
/// `-o -`: the pipe header, HEADER_ATTR and HEADER_FEATURE records,
/// FINISHED_INIT, then the kernel records.
fn swap_pipe(src: &Path) -> Vec<u8> {
    let file = PerfDataFile::open(src).unwrap();
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC.swap_bytes().to_ne_bytes());
    put_u64(&mut out, 16);
    for a in file.attrs() {
        let mut native = a.bytes()[..128].to_vec();
        native[4..8].copy_from_slice(&128u32.to_ne_bytes());
        let mut body = attr_to_native(&native, other());
        for &id in &a.ids {
            put_u64(&mut body, id);
        }
        put_user_record(&mut out, 64, &body);
    }
    for (bit, section) in swapped_features(&file) {
        if bit == feature::BUILD_ID {
            // Streamed as HEADER_BUILD_ID records, one per entry.
            let mut at = 0;
            while at + 8 <= section.len() {
                let size = u16::from_ne_bytes([section[at + 6], section[at + 7]]).swap_bytes();
                let entry = &section[at..at + size as usize];
                let mut e = entry.to_vec();
                e[..4].copy_from_slice(&other_u32(67));
                out.extend_from_slice(&e);
                at += size as usize;
            }
            continue;
        }
        let mut body = Vec::new();
        put_u64(&mut body, u64::from(bit));
        body.extend_from_slice(&section);
        put_user_record(&mut out, 80, &body);
    }
    put_user_record(&mut out, 82, &[]);
    let attrs = file.attrs();
    file.for_each_record(|r| {
        if r.type_ < 64 || r.type_ == FINISHED_ROUND {
            out.extend(swap_record(r.bytes, &attrs[r.attr_index.unwrap_or(0)]));
        }
    });
    out
}

#[test]
fn byte_swapped_pipe_streams_read_as_their_originals() {
    for name in ["callgraph-fp", "two-events"] {
        let path = data(&format!("{name}.data"));
        let original = PerfDataFile::open(&path).unwrap();
        let stream = swap_pipe(&path);
        assert!(lwprof_perfdata::is_pipe_header(&stream[..16]));
        let pipe = lwprof_perfdata::PipeDataFile::from_reader(Cursor::new(stream), "swapped")
            .expect("a swapped stream opens");
        assert_eq!(pipe.endianness(), other());
        assert!(
            pipe.feature_errors().is_empty(),
            "{:?}",
            pipe.feature_errors()
        );
        let names = |a: &[EventAttr]| {
            a.iter()
                .map(|a| (a.name.clone(), a.ids.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(original.attrs()), names(pipe.attrs()), "{name}");
        for (a, b) in original.attrs().iter().zip(pipe.attrs()) {
            assert_eq!(&a.bytes()[8..], &b.bytes()[8..], "{name}");
        }
        let (f, g) = (original.features(), pipe.features());
        assert_eq!(
            (&f.hostname, &f.cmdline, f.sample_time, &f.build_ids),
            (&g.hostname, &g.cmdline, g.sample_time, &g.build_ids),
            "{name}"
        );
        let e = pipe.endianness();
        let infos: Vec<_> = pipe
            .attrs()
            .iter()
            .map(|a| a.parse_info().with_endianness(e))
            .collect();
        let mut samples = Vec::new();
        let walk = pipe.for_each_record(|r| {
            if r.type_ == 9 {
                let raw = RawRecord::from_data(RawData::Single(r.bytes), e).unwrap();
                if let Ok(Record::Sample(s)) = raw.parse(&infos[r.attr_index.unwrap_or(0)]) {
                    samples.push((s.time(), s.ip(), s.callchain().map(|c| c.to_vec())));
                }
            }
        });
        assert!(walk.error.is_none(), "{:?}", walk.error);
        let mut want = Vec::new();
        let infos: Vec<_> = original.attrs().iter().map(|a| a.parse_info()).collect();
        original.for_each_record(|r| {
            if r.type_ == 9 {
                let raw =
                    RawRecord::from_data(RawData::Single(r.bytes), Endianness::NATIVE).unwrap();
                if let Ok(Record::Sample(s)) = raw.parse(&infos[r.attr_index.unwrap_or(0)]) {
                    want.push((s.time(), s.ip(), s.callchain().map(|c| c.to_vec())));
                }
            }
        });
        assert!(want.len() > 100, "{name}: {}", want.len());
        assert_eq!(samples, want, "{name}");
    }
}
