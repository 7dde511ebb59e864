//! Writing perf.data while recording: header placeholder and attributes
//! first, then ring records streamed through a buffer (zstd-compressed with
//! [`PerfDataWriter::with_compression`]), then the feature sections and the
//! final header on [`PerfDataWriter::finish`].
//!
//! The attributes go in before the data, so a writer that never finishes
//! (killed) leaves a file with everything but the data size and the
//! features; [`repair`] finalizes such a file. A writer whose write failed
//! (out of disk) knows where its last whole record ends, and
//! [`PerfDataWriter::finish_what_fits`] finalizes the file there without
//! needing new space. Pipe mode is [`crate::pipe`]'s.

use super::attr::{file_attr_bytes, EventAttr};
use super::compress::Compression;
use super::error::PerfDataError;
use super::features::{encode, encode_event_desc, DescEvent, Features};
use super::layout::AttrResolver;
use super::reader::{FileHeader, PerfDataFile, RecordReader};
use super::stage::{DataStage, WriteFailure};
use super::{HEADER_SIZE, MAGIC};
use lwprof_records::abi::record_type::{
    FINISHED_ROUND as RECORD_FINISHED_ROUND, SAMPLE as RECORD_SAMPLE,
};
use lwprof_records::RawData;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

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
    /// `None` only once finishing took it.
    out: Option<W>,
    path: PathBuf,
    events: Vec<(Vec<u8>, String, Vec<u64>)>,
    attr_size: usize,
    attrs_offset: u64,
    data_offset: u64,
    stage: DataStage,
    records: u64,
    resolver: AttrResolver,
    sample_time: Option<(u64, u64)>,
}

/// How [`PerfDataWriter::finish_what_fits`] left the file.
#[derive(Debug)]
pub struct PartialFile {
    /// The write error that stopped the recording or cost feature
    /// sections, if one did.
    pub cause: Option<io::Error>,
    /// Samples in the file (the whole records before the failure).
    pub samples: u64,
    /// Bytes of its data section.
    pub data_size: u64,
    /// Which feature sections it got: all, the minimum readers need
    /// (EVENT_DESC, COMPRESSED), or none (there was no space).
    pub features: PartialFeatures,
}

/// The feature sections a partial file got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialFeatures {
    /// Every one.
    All,
    /// EVENT_DESC (and COMPRESSED, when compressed) only.
    Minimal,
    /// None.
    None,
}

impl<W: Write + Seek> Drop for PerfDataWriter<W> {
    /// A writer dropped unfinished (an error elsewhere ended the recording)
    /// still writes every record it was given: the file reads as
    /// unfinished, and [`repair`] finalizes it.
    fn drop(&mut self) {
        if let Some(out) = self.out.as_mut() {
            let _ = self.stage.flush(out);
        }
    }
}

/// The type of a record whose header says exactly its length.
pub(crate) fn check_record(record: RawData<'_>) -> Result<u32, PerfDataError> {
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
    Ok(type_)
}

/// A copy of an I/O error (they are not `Clone`), keeping the OS error.
pub(crate) fn copy_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}

impl<W: Write + Seek> std::fmt::Debug for PerfDataWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerfDataWriter")
            .field("events", &self.events.len())
            .field("data_offset", &self.data_offset)
            .field("data_size", &self.stage.output_bytes())
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

pub(crate) fn event_desc(events: &[(Vec<u8>, String, Vec<u64>)], attr_size: usize) -> Vec<u8> {
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
        let mut out = out;
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
        let mut ids = header_bytes(&header).to_vec();
        for e in events {
            for id in &e.ids {
                ids.extend_from_slice(&id.to_ne_bytes());
            }
        }
        out.write_all(&ids).map_err(io)?;
        let mut id_at = ids_offset;
        let mut head = Vec::new();
        for (e, b) in events.iter().zip(&bytes) {
            head.extend_from_slice(b);
            let n = e.ids.len() as u64 * 8;
            head.extend_from_slice(&id_at.to_ne_bytes());
            head.extend_from_slice(&n.to_ne_bytes());
            id_at += n;
        }
        out.write_all(&head).map_err(io)?;
        let stage = DataStage::new(None).map_err(io)?;
        Ok(PerfDataWriter {
            out: Some(out),
            path,
            events: events
                .iter()
                .zip(bytes)
                .map(|(e, b)| (b, e.name.clone(), e.ids.clone()))
                .collect(),
            attr_size,
            attrs_offset,
            data_offset,
            stage,
            records: 0,
            resolver: AttrResolver::new(events),
            sample_time: None,
        })
    }

    /// Compresses the records written from now on (call it before the
    /// first one): `PERF_RECORD_COMPRESSED` records and the COMPRESSED
    /// feature, as `perf record -z` writes them.
    pub fn with_compression(mut self, compression: Compression) -> Result<Self, PerfDataError> {
        self.stage = DataStage::new(Some(compression))
            .map_err(|e| PerfDataError::io(&self.path, "starting the zstd compressor", e))?;
        Ok(self)
    }

    /// The write failure that stopped this writer, if one did.
    pub fn failure(&self) -> Option<&WriteFailure> {
        self.stage.failure()
    }

    fn failure_error(&self, f: &WriteFailure) -> PerfDataError {
        PerfDataError::io(&self.path, "writing the data section", copy_error(&f.cause))
    }

    fn take_output(&mut self) -> Result<W, PerfDataError> {
        self.out
            .take()
            .ok_or_else(|| PerfDataError::InvalidInput("the file was finished already".into()))
    }

    fn stopped(&self) -> PerfDataError {
        match self.stage.failure() {
            Some(f) => self.failure_error(f),
            None => PerfDataError::InvalidInput("the data section stopped".into()),
        }
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
        if let Some(f) = self.stage.failure() {
            return Err(self.failure_error(f));
        }
        let type_ = check_record(record)?;
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
        let parts = match record {
            RawData::Single(a) => [a, &[][..]],
            RawData::Split(a, b) => [a, b],
        };
        self.records += 1;
        let Some(out) = self.out.as_mut() else {
            return Err(self.stopped());
        };
        match self.stage.push(out, parts, type_ == RECORD_SAMPLE) {
            Ok(()) => Ok(()),
            Err(_) => Err(self.stopped()),
        }
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

    /// Bytes of the data section so far (compressed, when it is).
    pub fn data_size(&self) -> u64 {
        self.stage.output_bytes()
    }

    /// Bytes of records written so far, before compression.
    pub fn record_bytes(&self) -> u64 {
        self.stage.logical_bytes()
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
        let Some(out) = self.out.as_mut() else {
            return Err(self.stopped());
        };
        match self.stage.flush(out) {
            Ok(()) => Ok(()),
            Err(_) => Err(self.stopped()),
        }
    }

    /// Writes the feature sections (EVENT_DESC from the attributes, the rest
    /// from `features`; SAMPLE_TIME from the samples seen unless given) and
    /// the final header, and returns the output. Safe to call at any point:
    /// every record written so far is complete, so the file is valid.
    pub fn finish(mut self, features: &Features) -> Result<W, PerfDataError> {
        self.flush()?;
        let sections = self.sections(features, self.sample_time)?;
        let data_size = self.stage.written_bytes();
        let feat_offset = self.data_offset + data_size;
        let (block, bitmap) = feature_block(feat_offset, &sections);
        let header = self.final_header(data_size, bitmap);
        let path = self.path.clone();
        let mut out = self.take_output()?;
        let io = |e| {
            PerfDataError::io(
                &path,
                "writing the feature sections and the final header",
                e,
            )
        };
        out.write_all(&block).map_err(io)?;
        out.seek(SeekFrom::Start(0)).map_err(io)?;
        out.write_all(&header_bytes(&header)).map_err(io)?;
        out.flush().map_err(io)?;
        out.seek(SeekFrom::Start(feat_offset + block.len() as u64))
            .map_err(io)?;
        Ok(out)
    }

    /// The feature sections: EVENT_DESC, `features`, and COMPRESSED when the
    /// records are compressed, in bit order.
    fn sections(
        &self,
        features: &Features,
        sample_time: Option<(u64, u64)>,
    ) -> Result<Vec<(u32, Vec<u8>)>, PerfDataError> {
        let desc = event_desc(&self.events, self.attr_size);
        let mut sections = encode(features, desc, sample_time)?;
        if let Some(c) = self.stage.compression() {
            sections.push((crate::feature::COMPRESSED, c.feature_section()));
            sections.sort_by_key(|(bit, _)| *bit);
        }
        Ok(sections)
    }

    /// The minimum a reader needs: EVENT_DESC, and COMPRESSED when the
    /// records are compressed.
    fn minimal_sections(&self) -> Vec<(u32, Vec<u8>)> {
        let mut sections = vec![(
            crate::feature::EVENT_DESC,
            event_desc(&self.events, self.attr_size),
        )];
        if let Some(c) = self.stage.compression() {
            sections.push((crate::feature::COMPRESSED, c.feature_section()));
        }
        sections
    }

    fn final_header(&self, data_size: u64, features: [u64; 4]) -> FileHeader {
        let file_attr_size = self.attr_size as u64 + 16;
        FileHeader {
            attr_size: file_attr_size,
            attrs: (self.attrs_offset, self.events.len() as u64 * file_attr_size),
            data: (self.data_offset, data_size),
            event_types: (0, 0),
            features,
        }
    }
}

impl PerfDataWriter<File> {
    /// Finishes the file with what fits: like [`finish`](Self::finish) when
    /// every write succeeds; after a failed write (out of disk) it cuts the
    /// file after its last whole record, writes the feature sections that
    /// fit there (all, else the minimum readers need, else none) and
    /// rewrites the header in place, which takes no new space. perf and
    /// lwprof read the result. Errors only if even the header cannot be
    /// rewritten.
    pub fn finish_what_fits(mut self, features: &Features) -> Result<PartialFile, PerfDataError> {
        let _ = self.flush();
        let mut out = self.take_output()?;
        let (mut cause, mut complete, mut samples, time) = match self.stage.failure() {
            Some(f) => (
                Some(copy_error(&f.cause)),
                f.complete_bytes,
                f.samples,
                None,
            ),
            None => (
                None,
                self.stage.written_bytes(),
                self.stage.written_samples(),
                self.sample_time,
            ),
        };
        let mut end = self.data_offset + complete;
        let path = self.path.clone();
        let io = |e| PerfDataError::io(&path, "finishing the file", e);
        if cause.is_some() {
            out.set_len(end).map_err(io)?;
        }
        let full = self.sections(features, time)?;
        let mut outcome = PartialFeatures::None;
        let mut bitmap = [0u64; 4];
        let mut file_end = end;
        for (kind, sections) in [
            (PartialFeatures::All, full),
            (PartialFeatures::Minimal, self.minimal_sections()),
        ] {
            let (block, bits) = feature_block(end, &sections);
            let wrote = out
                .seek(SeekFrom::Start(end))
                .and_then(|_| out.write_all(&block));
            match wrote {
                Ok(()) => {
                    (outcome, bitmap) = (kind, bits);
                    file_end = end + block.len() as u64;
                    break;
                }
                Err(e) => {
                    cause.get_or_insert(e);
                    out.set_len(end).map_err(io)?;
                }
            }
        }
        // Nothing fit: give back the last records, one at a time, until the
        // minimal sections do (a compressed file is unreadable without its
        // COMPRESSED section, which says how large a chunk unpacks).
        while outcome == PartialFeatures::None && cause.is_some() {
            let Some((at, safe)) = self.stage.end_before(complete) else {
                break;
            };
            (complete, samples, end) = (at, safe, self.data_offset + at);
            out.set_len(end).map_err(io)?;
            let sections = self.minimal_sections();
            let (block, bits) = feature_block(end, &sections);
            let wrote = out
                .seek(SeekFrom::Start(end))
                .and_then(|_| out.write_all(&block))
                .and_then(|()| out.flush());
            if wrote.is_ok() {
                (outcome, bitmap) = (PartialFeatures::Minimal, bits);
                file_end = end + block.len() as u64;
            } else {
                file_end = end;
            }
        }
        let header = self.final_header(complete, bitmap);
        out.seek(SeekFrom::Start(0)).map_err(io)?;
        out.write_all(&header_bytes(&header)).map_err(io)?;
        out.set_len(file_end).map_err(io)?;
        if let Err(e) = out.sync_all() {
            cause.get_or_insert(e);
        }
        Ok(PartialFile {
            cause,
            samples,
            data_size: complete,
            features: outcome,
        })
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
