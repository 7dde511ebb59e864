//! Writing perf.data while recording: header placeholder and attributes
//! first, then ring records streamed through a buffer, then the feature
//! sections and the final header on [`PerfDataWriter::finish`].
//!
//! The attributes go in before the data, so a writer that never finishes
//! (killed, out of disk) leaves a file with everything but the data size and
//! the features; [`repair`] finalizes such a file.

use super::attr::{file_attr_bytes, EventAttr};
use super::error::PerfDataError;
use super::features::{encode, encode_event_desc, DescEvent, Features};
use super::layout::AttrResolver;
use super::reader::{FileHeader, PerfDataFile, RecordReader};
use super::{HEADER_SIZE, MAGIC};
use lwprof_records::abi::record_type::{
    FINISHED_ROUND as RECORD_FINISHED_ROUND, SAMPLE as RECORD_SAMPLE,
};
use lwprof_records::RawData;
use std::fs::OpenOptions;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Buffer in front of the output: records of one ring drain coalesce into
/// few write(2) calls.
const BUFFER_SIZE: usize = 256 * 1024;

/// Streams kernel records into a perf.data file.
///
/// ```no_run
/// # use lwprof_perfdata::{PerfDataWriter, EventAttr, Features};
/// # fn f(attr_bytes: &[u8], rec: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// let file = std::fs::File::create("perf.data")?;
/// let events = [EventAttr::from_bytes(attr_bytes, "cpu-clock", vec![42])];
/// let mut w = PerfDataWriter::new(file, &events)?;
/// w.write_record(rec)?;                 // as many as the ring hands out
/// w.write_finished_round()?;            // after each pass over the rings
/// let features = Features::from_host("lwprof 0.1", std::env::args().collect());
/// w.finish(&features)?;
/// # Ok(()) }
/// ```
pub struct PerfDataWriter<W: Write + Seek> {
    out: BufWriter<W>,
    path: PathBuf,
    events: Vec<(Vec<u8>, String, Vec<u64>)>,
    attr_size: usize,
    attrs_offset: u64,
    data_offset: u64,
    data_size: u64,
    records: u64,
    resolver: AttrResolver,
    sample_time: Option<(u64, u64)>,
    /// An I/O error left the output in an unknown state.
    broken: bool,
}

impl<W: Write + Seek> std::fmt::Debug for PerfDataWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerfDataWriter")
            .field("events", &self.events.len())
            .field("data_offset", &self.data_offset)
            .field("data_size", &self.data_size)
            .field("records", &self.records)
            .finish()
    }
}

fn header_bytes(h: &FileHeader) -> [u8; HEADER_SIZE as usize] {
    let mut b = [0u8; HEADER_SIZE as usize];
    let words = [
        MAGIC,
        HEADER_SIZE,
        h.attr_size,
        h.attrs.0,
        h.attrs.1,
        h.data.0,
        h.data.1,
        h.event_types.0,
        h.event_types.1,
        h.features[0],
        h.features[1],
        h.features[2],
        h.features[3],
    ];
    for (i, w) in words.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&w.to_ne_bytes());
    }
    b
}

/// Feature table (one (offset, size) per section) plus the section bytes,
/// laid out from `start`; returns the bytes and the feature bitmap.
fn feature_block(start: u64, sections: &[(u32, Vec<u8>)]) -> (Vec<u8>, [u64; 4]) {
    let mut table = Vec::with_capacity(sections.len() * 16);
    let mut body = Vec::new();
    let mut bitmap = [0u64; 4];
    let mut at = start + sections.len() as u64 * 16;
    for (bit, bytes) in sections {
        bitmap[(*bit / 64) as usize] |= 1 << (bit % 64);
        table.extend_from_slice(&at.to_ne_bytes());
        table.extend_from_slice(&(bytes.len() as u64).to_ne_bytes());
        at += bytes.len() as u64;
        body.extend_from_slice(bytes);
    }
    table.extend_from_slice(&body);
    (table, bitmap)
}

fn event_desc(events: &[(Vec<u8>, String, Vec<u64>)], attr_size: usize) -> Vec<u8> {
    let desc: Vec<DescEvent<'_>> = events
        .iter()
        .map(|(b, n, ids)| DescEvent {
            attr_bytes: b,
            name: n,
            ids,
        })
        .collect();
    encode_event_desc(&desc, attr_size)
}

impl<W: Write + Seek> PerfDataWriter<W> {
    /// Starts a file: writes the header placeholder, the id arrays and the
    /// attribute section. `events` must not be empty; each event's ids are
    /// the `PERF_EVENT_IOC_ID`s of all its instances.
    ///
    /// Attributes are written with `size` 128 (what perf 6.1 accepts) unless
    /// a later field is set; lwprof's attrs carry the full struct size, which
    /// perf 6.1 would reject.
    pub fn new(out: W, events: &[EventAttr]) -> Result<Self, PerfDataError> {
        Self::with_path(out, events, PathBuf::new())
    }

    /// Like [`new`](Self::new), naming the file in error messages.
    pub fn with_path(out: W, events: &[EventAttr], path: PathBuf) -> Result<Self, PerfDataError> {
        if events.is_empty() {
            return Err(PerfDataError::InvalidInput(
                "a perf.data file needs at least one event".into(),
            ));
        }
        let mut bytes: Vec<Vec<u8>> = events.iter().map(file_attr_bytes).collect();
        // One attr size for the whole file: perf derives the attribute count
        // from it, and EVENT_DESC has a single size too.
        let attr_size = bytes.iter().map(Vec::len).max().unwrap_or(0);
        for b in &mut bytes {
            b.resize(attr_size, 0);
            b[4..8].copy_from_slice(&(attr_size as u32).to_ne_bytes());
        }
        let mut out = BufWriter::with_capacity(BUFFER_SIZE, out);
        let io = |e| PerfDataError::io(&path, "writing the perf.data header and attributes", e);
        out.seek(SeekFrom::Start(0)).map_err(io)?;
        let ids_offset = HEADER_SIZE;
        let total_ids: u64 = events.iter().map(|e| e.ids.len() as u64).sum();
        let attrs_offset = ids_offset + total_ids * 8;
        let file_attr_size = attr_size as u64 + 16;
        let data_offset = attrs_offset + events.len() as u64 * file_attr_size;
        let header = FileHeader {
            attr_size: file_attr_size,
            attrs: (attrs_offset, events.len() as u64 * file_attr_size),
            data: (data_offset, 0),
            event_types: (0, 0),
            features: [0; 4],
        };
        out.write_all(&header_bytes(&header)).map_err(io)?;
        for e in events {
            for id in &e.ids {
                out.write_all(&id.to_ne_bytes()).map_err(io)?;
            }
        }
        let mut id_at = ids_offset;
        for (e, b) in events.iter().zip(&bytes) {
            out.write_all(b).map_err(io)?;
            let n = e.ids.len() as u64 * 8;
            out.write_all(&id_at.to_ne_bytes()).map_err(io)?;
            out.write_all(&n.to_ne_bytes()).map_err(io)?;
            id_at += n;
        }
        Ok(PerfDataWriter {
            out,
            path,
            events: events
                .iter()
                .zip(bytes)
                .map(|(e, b)| (b, e.name.clone(), e.ids.clone()))
                .collect(),
            attr_size,
            attrs_offset,
            data_offset,
            data_size: 0,
            records: 0,
            resolver: AttrResolver::new(events),
            sample_time: None,
            broken: false,
        })
    }

    /// Appends one record exactly as the kernel wrote it (header included).
    pub fn write_record(&mut self, record: &[u8]) -> Result<(), PerfDataError> {
        self.write_raw(RawData::Single(record))
    }

    /// Appends one record that wraps the end of the ring: `first` runs to the
    /// ring's end, `second` continues at its start.
    pub fn write_record_parts(&mut self, first: &[u8], second: &[u8]) -> Result<(), PerfDataError> {
        self.write_raw(RawData::new(first, second))
    }

    /// Appends one record given as [`RawData`] (what the ring reader yields).
    /// The record's header must say exactly its length; nothing is written
    /// otherwise.
    pub fn write_raw(&mut self, record: RawData<'_>) -> Result<(), PerfDataError> {
        if self.broken {
            return Err(PerfDataError::InvalidInput(
                "an earlier write failed; the file needs repair".into(),
            ));
        }
        let len = record.len();
        let (Some(type_), Some(size)) = (
            record.read_u32(0),
            record.read_array::<2>(6).map(u16::from_ne_bytes),
        ) else {
            return Err(PerfDataError::InvalidInput(format!(
                "a record needs an 8-byte header, got {len} bytes"
            )));
        };
        if usize::from(size) != len || len < 8 {
            return Err(PerfDataError::InvalidInput(format!(
                "record of type {type_} says it is {size} bytes but {len} were given"
            )));
        }
        if type_ == RECORD_SAMPLE {
            if let Some(t) = self
                .resolver
                .attr_index(type_, record)
                .and_then(|i| self.resolver.time(type_, record, i))
            {
                let (first, last) = self.sample_time.get_or_insert((t, t));
                *first = (*first).min(t);
                *last = (*last).max(t);
            }
        }
        let res = match record {
            RawData::Single(a) => self.out.write_all(a),
            RawData::Split(a, b) => self.out.write_all(a).and_then(|()| self.out.write_all(b)),
        };
        if let Err(e) = res {
            self.broken = true;
            return Err(PerfDataError::io(
                &self.path,
                "writing a record to the data section",
                e,
            ));
        }
        self.data_size += len as u64;
        self.records += 1;
        Ok(())
    }

    /// Appends a `PERF_RECORD_FINISHED_ROUND`: tells readers that every
    /// record before it is older than every record after it. Write one after
    /// each pass that drained all rings, as perf does.
    pub fn write_finished_round(&mut self) -> Result<(), PerfDataError> {
        let mut rec = [0u8; 8];
        rec[..4].copy_from_slice(&RECORD_FINISHED_ROUND.to_ne_bytes());
        rec[6..].copy_from_slice(&8u16.to_ne_bytes());
        self.write_record(&rec)
    }

    /// Bytes written to the data section so far.
    pub fn data_size(&self) -> u64 {
        self.data_size
    }

    /// Records written so far (FINISHED_ROUND included).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Times of the first and last sample seen (when samples carry TIME).
    pub fn sample_time(&self) -> Option<(u64, u64)> {
        self.sample_time
    }

    /// Pushes buffered records to the output (the header stays unfinished).
    pub fn flush(&mut self) -> Result<(), PerfDataError> {
        self.out
            .flush()
            .map_err(|e| PerfDataError::io(&self.path, "flushing the data section", e))
    }

    /// Writes the feature sections (EVENT_DESC from the attributes, the rest
    /// from `features`; SAMPLE_TIME from the samples seen unless given) and
    /// the final header, and returns the output. Safe to call at any point:
    /// every record written so far is complete, so the file is valid.
    pub fn finish(mut self, features: &Features) -> Result<W, PerfDataError> {
        if self.broken {
            return Err(PerfDataError::InvalidInput(
                "an earlier write failed; the file is left unfinished (`lwprof report` reads the records it holds)".into(),
            ));
        }
        let desc = event_desc(&self.events, self.attr_size);
        let sections = encode(features, desc, self.sample_time)?;
        let feat_offset = self.data_offset + self.data_size;
        let (block, bitmap) = feature_block(feat_offset, &sections);
        let header = FileHeader {
            attr_size: self.attr_size as u64 + 16,
            attrs: (
                self.attrs_offset,
                self.events.len() as u64 * (self.attr_size as u64 + 16),
            ),
            data: (self.data_offset, self.data_size),
            event_types: (0, 0),
            features: bitmap,
        };
        let path = self.path.clone();
        let io = |e| {
            PerfDataError::io(
                &path,
                "writing the feature sections and the final header",
                e,
            )
        };
        self.out.write_all(&block).map_err(io)?;
        self.out.seek(SeekFrom::Start(0)).map_err(io)?;
        self.out.write_all(&header_bytes(&header)).map_err(io)?;
        self.out.flush().map_err(io)?;
        let mut inner = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        inner
            .seek(SeekFrom::Start(feat_offset + block.len() as u64))
            .map_err(io)?;
        Ok(inner)
    }
}

/// What [`repair`] did.
#[derive(Debug)]
pub struct RepairReport {
    /// Whole records kept in the data section.
    pub records: u64,
    /// Bytes of the data section kept.
    pub data_size: u64,
    /// Bytes of a damaged or partial tail that were cut off.
    pub dropped_bytes: u64,
    /// Why the walk stopped early, if it did (the offset of the damage).
    pub damage: Option<PerfDataError>,
}

/// Finalizes a file whose header was never finalized (the recording was
/// killed before [`PerfDataWriter::finish`]): keeps every whole record, cuts
/// a partial last one, writes EVENT_DESC (from the attribute section) plus
/// `features`, and the final header. Errors if the header is already final.
pub fn repair(path: &Path, features: &Features) -> Result<RepairReport, PerfDataError> {
    let file = PerfDataFile::open_unfinished(path)?;
    let header = file.header().clone();
    if header.data.1 != 0 || header.features != [0; 4] {
        return Err(PerfDataError::InvalidInput(format!(
            "{}: the header is already final (data size {}), nothing to repair",
            path.display(),
            header.data.1
        )));
    }
    let mut walk: RecordReader<_> = file.records()?;
    let mut records = 0u64;
    let mut end = header.data.0;
    let mut sample_time: Option<(u64, u64)> = None;
    let damage = loop {
        match walk.next_record() {
            Ok(Some(r)) => {
                records += 1;
                end = r.offset + r.bytes.len() as u64;
                if let (RECORD_SAMPLE, Some(t)) = (r.type_, r.time) {
                    let s = sample_time.get_or_insert((t, t));
                    s.0 = s.0.min(t);
                    s.1 = s.1.max(t);
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let data_size = end - header.data.0;
    let attr_size = (header.attr_size - 16) as usize;
    let events: Vec<(Vec<u8>, String, Vec<u64>)> = file
        .attrs()
        .iter()
        .map(|e| {
            let mut b = e.bytes().to_vec();
            b.resize(attr_size, 0);
            (b, e.name.clone(), e.ids.clone())
        })
        .collect();
    let sections = encode(features, event_desc(&events, attr_size), sample_time)?;
    let (block, bitmap) = feature_block(end, &sections);
    let io = |e| PerfDataError::io(path, "repairing", e);
    let mut f = OpenOptions::new().write(true).open(path).map_err(io)?;
    let file_len = f.seek(SeekFrom::End(0)).map_err(io)?;
    f.set_len(end).map_err(io)?;
    f.seek(SeekFrom::Start(end)).map_err(io)?;
    f.write_all(&block).map_err(io)?;
    let final_header = FileHeader {
        data: (header.data.0, data_size),
        features: bitmap,
        ..header
    };
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    f.write_all(&header_bytes(&final_header)).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(RepairReport {
        records,
        data_size,
        dropped_bytes: file_len - end,
        damage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature;
    use crate::reader::parse_header;
    use lwprof_records::abi::record_type::{
        FINISHED_ROUND as RECORD_FINISHED_ROUND, SAMPLE as RECORD_SAMPLE,
    };

    /// A record of `type_` whose body is `words`.
    fn record(type_: u32, words: &[u64]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&type_.to_ne_bytes());
        v.extend_from_slice(&0u16.to_ne_bytes());
        v.extend_from_slice(&((8 + words.len() * 8) as u16).to_ne_bytes());
        for w in words {
            v.extend_from_slice(&w.to_ne_bytes());
        }
        v
    }

    #[test]
    fn crafted_records_round_trip_with_attr_indexes_and_times() {
        // Two events, IDENTIFIER|IP|TIME, sample_id_all.
        let ev = |name: &str, ids: Vec<u64>| {
            let mut attr = perf_event_open_sys::bindings::perf_event_attr {
                type_: 1,
                sample_type: (1 << 16) | 1 | 4,
                ..Default::default()
            };
            attr.set_sample_id_all(1);
            EventAttr::from_bytes(&lwprof_events::sys::attr_bytes(&attr), name, ids)
        };
        let events = [ev("cpu-clock", vec![7, 8]), ev("task-clock", vec![9])];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crafted.data");
        let mut w = PerfDataWriter::new(std::fs::File::create(&path).unwrap(), &events).unwrap();
        let s1 = record(RECORD_SAMPLE, &[9, 0x1000, 500]);
        let s2 = record(RECORD_SAMPLE, &[8, 0x2000, 300]);
        let comm = record(
            lwprof_records::abi::record_type::COMM,
            &[42, 0x6f6f66, 400, 7],
        ); // pid/tid, "foo", time, identifier
        w.write_record(&s1).unwrap();
        let (a, b) = s2.split_at(11); // wraps the ring
        w.write_record_parts(a, b).unwrap();
        w.write_record(&comm).unwrap();
        w.write_finished_round().unwrap();
        // Lies about its size: refused, nothing written.
        let mut bad = s1.clone();
        bad[6] = 16;
        assert!(matches!(
            w.write_record(&bad),
            Err(PerfDataError::InvalidInput(_))
        ));
        assert!(w.write_record(&[1, 2, 3]).is_err());
        assert_eq!(w.records(), 4);
        assert_eq!(w.sample_time(), Some((300, 500)));
        w.finish(&Features {
            hostname: Some("h".into()),
            ..Features::default()
        })
        .unwrap();

        let f = PerfDataFile::open(&path).unwrap();
        assert!(f.feature_errors().is_empty(), "{:?}", f.feature_errors());
        let names: Vec<&str> = f.attrs().iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["cpu-clock", "task-clock"]);
        assert_eq!(f.attrs()[0].ids, [7, 8]);
        assert_eq!(f.attrs()[0].attr().size, 128);
        assert_eq!(f.features().hostname.as_deref(), Some("h"));
        assert_eq!(f.features().sample_time, Some((300, 500)));
        assert!(f.header().has_feature(feature::EVENT_DESC));
        let mut got = Vec::new();
        let walk =
            f.for_each_record(|r| got.push((r.type_, r.attr_index, r.time, r.bytes.to_vec())));
        assert!(walk.error.is_none());
        assert_eq!(
            got,
            [
                (RECORD_SAMPLE, Some(1), Some(500), s1),
                (RECORD_SAMPLE, Some(0), Some(300), s2),
                (3, Some(0), Some(400), comm),
                (
                    RECORD_FINISHED_ROUND,
                    None,
                    None,
                    record(RECORD_FINISHED_ROUND, &[])
                ),
            ]
        );
    }

    #[test]
    fn header_round_trips() {
        let h = FileHeader {
            attr_size: 144,
            attrs: (120, 144),
            data: (264, 1000),
            event_types: (0, 0),
            features: [1 << 3 | 1 << 12, 0, 0, 1 << 63],
        };
        let b = header_bytes(&h);
        assert_eq!(&b[..8], b"PERFILE2");
        assert_eq!(parse_header(&b, Path::new("x")).unwrap(), h);
    }
}
