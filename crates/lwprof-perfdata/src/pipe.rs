//! Writing pipe mode (`lwprof record -o -`), as `perf record -o -` does:
//! a stream that never seeks. The short header (magic, size 16), then one
//! HEADER_ATTR record per event, one HEADER_FEATURE record per feature
//! section and a HEADER_FEATURE that closes them (HEADER_LAST_FEATURE),
//! HEADER_TRACING_DATA when there are tracepoint events, then the records
//! (a FINISHED_INIT after the synthesized ones), and at the end the build
//! ids as HEADER_BUILD_ID records.
//!
//! What it does not do: SAMPLE_TIME (unknown when the features go out) and
//! the other file-mode sections after the data; reading is the reader's.

use crate::attr::{file_attr_bytes, EventAttr};
use crate::compress::{self, Compression};
use crate::error::PerfDataError;
use crate::features::{encode, BuildIdEntry, Features};
use crate::stage::{DataStage, WriteFailure};
use crate::writer::{check_record, copy_error, event_desc};
use crate::{feature, MAGIC};
use lwprof_records::abi::record_type::{FINISHED_ROUND, SAMPLE};
use lwprof_records::RawData;
use std::io::Write;
use std::path::PathBuf;

/// `PERF_RECORD_HEADER_ATTR`.
const HEADER_ATTR: u32 = 64;
/// `PERF_RECORD_HEADER_TRACING_DATA`.
const HEADER_TRACING_DATA: u32 = 66;
/// `PERF_RECORD_HEADER_BUILD_ID`.
const HEADER_BUILD_ID: u32 = 67;
/// `PERF_RECORD_HEADER_FEATURE`.
const HEADER_FEATURE: u32 = 80;
/// `PERF_RECORD_FINISHED_INIT`.
const FINISHED_INIT: u32 = 82;
/// `HEADER_LAST_FEATURE` of perf 6.1: the feature id that ends the list.
const LAST_FEATURE: u64 = 32;
/// Size of the pipe-mode header (`struct perf_pipe_file_header`).
const PIPE_HEADER_SIZE: u64 = 16;

/// Streams records in pipe mode.
///
/// ```
/// # use lwprof_perfdata::{EventAttr, Features, PipeWriter};
/// let mut attr = [0u8; 128];
/// attr[0..4].copy_from_slice(&1u32.to_ne_bytes());
/// let events = [EventAttr::from_bytes(&attr, "cpu-clock", vec![7])];
/// let mut w = PipeWriter::new(Vec::new(), &events, &Features::default(), None)?;
/// w.write_finished_init()?;
/// let bytes = w.finish(&[])?;
/// assert_eq!(&bytes[..8], b"PERFILE2");
/// assert_eq!(bytes[8], 16); // the pipe header's size
/// # Ok::<(), lwprof_perfdata::PerfDataError>(())
/// ```
pub struct PipeWriter<W: Write> {
    out: W,
    stage: DataStage,
    records: u64,
    head_bytes: u64,
    name: PathBuf,
}

impl<W: Write> std::fmt::Debug for PipeWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipeWriter")
            .field("records", &self.records)
            .field("bytes", &self.stage.output_bytes())
            .finish()
    }
}

/// A record of `type_`: header, then `body`.
fn record(type_: u32, misc: u16, body: &[u8]) -> Result<Vec<u8>, PerfDataError> {
    let size = u16::try_from(8 + body.len()).map_err(|_| {
        PerfDataError::InvalidInput(format!(
            "a pipe-mode record of type {type_} would be {} bytes, more than a record holds",
            8 + body.len()
        ))
    })?;
    let mut r = Vec::with_capacity(usize::from(size));
    r.extend_from_slice(&type_.to_ne_bytes());
    r.extend_from_slice(&misc.to_ne_bytes());
    r.extend_from_slice(&size.to_ne_bytes());
    r.extend_from_slice(body);
    Ok(r)
}

/// The bytes before the data: header, attributes, features, tracing data.
fn head(
    events: &[EventAttr],
    features: &Features,
    compression: Option<Compression>,
) -> Result<Vec<u8>, PerfDataError> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC.to_ne_bytes());
    out.extend_from_slice(&PIPE_HEADER_SIZE.to_ne_bytes());
    let attr_bytes: Vec<Vec<u8>> = events.iter().map(file_attr_bytes).collect();
    let attr_size = attr_bytes.iter().map(Vec::len).max().unwrap_or(0);
    let mut desc_events = Vec::new();
    for (e, b) in events.iter().zip(&attr_bytes) {
        let mut body = b.clone();
        body.resize(attr_size, 0);
        body[4..8].copy_from_slice(&(attr_size as u32).to_ne_bytes());
        desc_events.push((body.clone(), e.name.clone(), e.ids.clone()));
        for id in &e.ids {
            body.extend_from_slice(&id.to_ne_bytes());
        }
        out.extend(record(HEADER_ATTR, 0, &body)?);
    }
    let mut sections = encode(features, event_desc(&desc_events, attr_size), None)?;
    if let Some(c) = compression {
        // The ratio is not known yet.
        sections.push((feature::COMPRESSED, compress::feature_section(c, 0)));
        sections.sort_by_key(|(bit, _)| *bit);
    }
    let mut tracing = None;
    for (bit, bytes) in sections {
        match bit {
            feature::TRACING_DATA => tracing = Some(bytes),
            // Written at the end, when every binary is known.
            feature::BUILD_ID => {}
            _ => {
                let mut body = u64::from(bit).to_ne_bytes().to_vec();
                body.extend_from_slice(&bytes);
                out.extend(record(HEADER_FEATURE, 0, &body)?);
            }
        }
    }
    out.extend(record(HEADER_FEATURE, 0, &LAST_FEATURE.to_ne_bytes())?);
    if let Some(t) = tracing {
        // The size counts the padding to 8 bytes; the data follows the
        // record, outside its header's size.
        let padded = t.len().next_multiple_of(8);
        let size = u32::try_from(padded).map_err(|_| {
            PerfDataError::InvalidInput("the tracing data is larger than 4 GiB".into())
        })?;
        let mut body = size.to_ne_bytes().to_vec();
        body.extend_from_slice(&[0; 4]);
        out.extend(record(HEADER_TRACING_DATA, 0, &body)?);
        out.extend_from_slice(&t);
        out.resize(out.len() + padded - t.len(), 0);
    }
    Ok(out)
}

impl<W: Write> PipeWriter<W> {
    /// Writes the header, the attributes, the features known before the
    /// data (`features`; its build ids are ignored: give them to
    /// [`finish`](Self::finish)) and the tracing data; records written from
    /// then on are compressed with `compression`.
    pub fn new(
        mut out: W,
        events: &[EventAttr],
        features: &Features,
        compression: Option<Compression>,
    ) -> Result<Self, PerfDataError> {
        if events.is_empty() {
            return Err(PerfDataError::InvalidInput(
                "a perf.data stream needs at least one event".into(),
            ));
        }
        let name = PathBuf::from("standard output");
        let head = head(events, features, compression)?;
        let io = |e| PerfDataError::io(&name, "writing the pipe-mode header", e);
        out.write_all(&head).map_err(io)?;
        out.flush().map_err(io)?;
        let stage = DataStage::new(compression)
            .map_err(|e| PerfDataError::io(&name, "starting the zstd compressor", e))?;
        Ok(Self {
            out,
            stage,
            records: 0,
            head_bytes: head.len() as u64,
            name,
        })
    }

    /// Appends one record exactly as the kernel wrote it (header included).
    pub fn write_record(&mut self, record: &[u8]) -> Result<(), PerfDataError> {
        self.write_raw(RawData::Single(record))
    }

    /// Appends one record given as [`RawData`]; its header must say exactly
    /// its length.
    pub fn write_raw(&mut self, record: RawData<'_>) -> Result<(), PerfDataError> {
        if let Some(f) = self.stage.failure() {
            return Err(self.error(f));
        }
        let type_ = check_record(record)?;
        let parts = match record {
            RawData::Single(a) => [a, &[][..]],
            RawData::Split(a, b) => [a, b],
        };
        self.records += 1;
        let res = self.stage.push(&mut self.out, parts, type_ == SAMPLE);
        res.map_err(|_| self.stopped())
    }

    fn error(&self, f: &WriteFailure) -> PerfDataError {
        PerfDataError::io(&self.name, "writing", copy_error(&f.cause))
    }

    fn stopped(&self) -> PerfDataError {
        match self.stage.failure() {
            Some(f) => self.error(f),
            None => PerfDataError::InvalidInput("the stream stopped".into()),
        }
    }

    /// Appends a FINISHED_ROUND and sends what is buffered on, so the
    /// reader is fed each pass and a closed pipe is noticed.
    pub fn write_finished_round(&mut self) -> Result<(), PerfDataError> {
        self.write_record(&record(FINISHED_ROUND, 0, &[])?)?;
        self.flush()
    }

    /// Appends the FINISHED_INIT that ends the synthesized records.
    pub fn write_finished_init(&mut self) -> Result<(), PerfDataError> {
        self.write_record(&record(FINISHED_INIT, 0, &[])?)
    }

    /// Sends the buffered records on.
    pub fn flush(&mut self) -> Result<(), PerfDataError> {
        let res = self.stage.flush(&mut self.out);
        res.map_err(|_| self.stopped())
    }

    /// The write failure that stopped this writer, if one did.
    pub fn failure(&self) -> Option<&WriteFailure> {
        self.stage.failure()
    }

    /// Bytes of records so far (compressed, when they are).
    pub fn data_size(&self) -> u64 {
        self.stage.output_bytes()
    }

    /// Bytes of records so far, before compression.
    pub fn record_bytes(&self) -> u64 {
        self.stage.logical_bytes()
    }

    /// Bytes of the header, attributes, features and tracing data.
    pub fn head_bytes(&self) -> u64 {
        self.head_bytes
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Sends the last records, then the build ids as HEADER_BUILD_ID
    /// records, and returns the output.
    pub fn finish(mut self, build_ids: &[BuildIdEntry]) -> Result<W, PerfDataError> {
        self.flush()?;
        let ids = Features {
            build_ids: build_ids.to_vec(),
            ..Features::default()
        };
        let mut tail = Vec::new();
        for (bit, bytes) in encode(&ids, Vec::new(), None)? {
            if bit != feature::BUILD_ID {
                continue;
            }
            // The section is the records already, with type 0.
            let mut at = 0;
            while at + 8 <= bytes.len() {
                let size = usize::from(u16::from_ne_bytes([bytes[at + 6], bytes[at + 7]]));
                let mut r = bytes[at..(at + size).min(bytes.len())].to_vec();
                r[..4].copy_from_slice(&HEADER_BUILD_ID.to_ne_bytes());
                tail.extend_from_slice(&r);
                at += size.max(8);
            }
        }
        let io = |e| PerfDataError::io(&self.name, "writing the build ids", e);
        self.out.write_all(&tail).map_err(io)?;
        self.out.flush().map_err(io)?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (type, size, first body u64) of each record after the pipe header.
    fn walk(bytes: &[u8]) -> Vec<(u32, usize, u64)> {
        let mut out = Vec::new();
        let mut at = PIPE_HEADER_SIZE as usize;
        while at + 8 <= bytes.len() {
            let type_ = u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap());
            let size = usize::from(u16::from_ne_bytes([bytes[at + 6], bytes[at + 7]]));
            let first = bytes
                .get(at + 8..at + 16)
                .map_or(0, |b| u64::from_ne_bytes(b.try_into().unwrap()));
            out.push((type_, size, first));
            at += size.max(8);
        }
        assert_eq!(at, bytes.len(), "records run to the end");
        out
    }

    #[test]
    fn the_stream_is_attrs_features_data_then_build_ids() {
        let mut attr = [0u8; 128];
        attr[0..4].copy_from_slice(&1u32.to_ne_bytes());
        let events = [
            EventAttr::from_bytes(&attr, "cpu-clock", vec![7, 8]),
            EventAttr::from_bytes(&attr, "task-clock", vec![9]),
        ];
        let features = Features {
            hostname: Some("h".into()),
            ..Features::default()
        };
        let mut w = PipeWriter::new(Vec::new(), &events, &features, None).unwrap();
        w.write_finished_init().unwrap();
        w.write_finished_round().unwrap();
        let id = BuildIdEntry {
            pid: -1,
            misc: 1,
            build_id: vec![0xab; 20],
            path: "/bin/true".into(),
        };
        let bytes = w.finish(&[id]).unwrap();
        assert_eq!(&bytes[..8], b"PERFILE2");
        let recs = walk(&bytes);
        let types: Vec<u32> = recs.iter().map(|r| r.0).collect();
        assert_eq!(
            types,
            [
                HEADER_ATTR,
                HEADER_ATTR,
                HEADER_FEATURE,
                HEADER_FEATURE,
                HEADER_FEATURE,
                FINISHED_INIT,
                FINISHED_ROUND,
                HEADER_BUILD_ID
            ]
        );
        // attr (128 bytes) plus the ids.
        assert_eq!((recs[0].1, recs[1].1), (8 + 128 + 16, 8 + 128 + 8));
        // HOSTNAME, EVENT_DESC in bit order, then the closing feature id.
        assert_eq!(recs[2].2, u64::from(feature::HOSTNAME));
        assert_eq!(recs[3].2, u64::from(feature::EVENT_DESC));
        assert_eq!(recs[4], (HEADER_FEATURE, 16, LAST_FEATURE));
        // pid -1, then the build id; the name padded to 64 bytes.
        assert_eq!(recs[7].1, 36 + 64);
    }
}
