//! The record streams of a `perf record --threads` directory (`data.N`:
//! records with no file header, one file per writer thread), read together
//! in time order: each next record is taken from the stream whose next
//! record is the oldest.
//!
//! A stream of `perf record --threads -z` holds COMPRESSED records: each
//! stream is its own zstd stream (one decoder per file), and the records
//! they unpack are handed out in place of them.
//!
//! It deliberately neither parses records (the converter's
//! [`RecordLocator`] finds their event and time) nor orders beyond the
//! heads of the streams: what it hands out still goes through the
//! [`crate::ordered::OrderedQueue`].

use crate::convert::RecordLocator;
use lwprof_events::raw::RawData;
use lwprof_events::record::{Endianness, RawRecord};
use lwprof_perfdata::compressed::{
    compressed_payload, Decompressor, RECORD_COMPRESSED, RECORD_COMPRESSED2,
};
use lwprof_perfdata::PerfDataError;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, ErrorKind, Read};
use std::path::{Path, PathBuf};

fn io_error(path: &Path, action: &str, source: std::io::Error) -> PerfDataError {
    PerfDataError::Io {
        path: path.to_path_buf(),
        action: action.into(),
        source,
    }
}

/// The `data.N` files of a `--threads` directory, by N.
pub fn thread_streams(dir: &Path) -> Result<Vec<PathBuf>, PerfDataError> {
    let io = |e| io_error(dir, "listing the directory", e);
    let mut found: Vec<(u32, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let n = name
            .to_str()
            .and_then(|n| n.strip_prefix("data."))
            .and_then(|n| n.parse::<u32>().ok());
        if let Some(n) = n {
            found.push((n, entry.path()));
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

struct Stream {
    path: PathBuf,
    reader: BufReader<File>,
    offset: u64,
    record: Vec<u8>,
    time: u64,
    attr_index: Option<usize>,
    /// The stream's zstd decoder, from its first COMPRESSED record on.
    decompressor: Option<Decompressor>,
    /// Records unpacked from COMPRESSED records, not yet handed out.
    unpacked: VecDeque<Vec<u8>>,
    /// COMPRESSED records read.
    compressed: u64,
}

impl Stream {
    /// Moves to the next record (unpacking compressed ones) and finds its
    /// event and time; `Ok(false)` at the end of the file.
    fn advance(&mut self, locator: &RecordLocator) -> Result<bool, PerfDataError> {
        loop {
            if let Some(next) = self.unpacked.pop_front() {
                self.record = next;
                break;
            }
            if !self.read_record()? {
                return Ok(false);
            }
            let type_ = u32::from_ne_bytes([
                self.record[0],
                self.record[1],
                self.record[2],
                self.record[3],
            ]);
            if type_ != RECORD_COMPRESSED && type_ != RECORD_COMPRESSED2 {
                break;
            }
            self.unpack(type_)?;
        }
        let (event, time) =
            match RawRecord::from_data(RawData::Single(&self.record), Endianness::NATIVE) {
                Ok(raw) if raw.header.record_type < 64 => locator.locate(&raw),
                _ => (None, None),
            };
        self.attr_index = event;
        if let Some(t) = time {
            self.time = t;
        }
        Ok(true)
    }

    /// Decompresses the COMPRESSED record in `record` into `unpacked`.
    fn unpack(&mut self, type_: u32) -> Result<(), PerfDataError> {
        let bad = |s: &Self, e: lwprof_perfdata::compressed::DecompressError| {
            s.corrupt(&format!("a compressed record cannot be unpacked: {e}"))
        };
        self.compressed += 1;
        if self.decompressor.is_none() {
            self.decompressor = Some(Decompressor::new().map_err(|e| bad(self, e))?);
        }
        let record = std::mem::take(&mut self.record);
        let result = match (
            compressed_payload(type_, &record[8..]),
            &mut self.decompressor,
        ) {
            (Ok(payload), Some(d)) => {
                let unpacked = &mut self.unpacked;
                d.feed(payload, |r| unpacked.push_back(r.to_vec()))
            }
            (Err(e), _) => Err(e),
            (Ok(_), None) => Ok(()),
        };
        self.record = record;
        result.map_err(|e| bad(self, e))
    }

    /// Reads the next record of the file into `record`; `Ok(false)` at its
    /// end.
    fn read_record(&mut self) -> Result<bool, PerfDataError> {
        let mut header = [0u8; 8];
        let got = read_full(&mut self.reader, &mut header)
            .map_err(|e| io_error(&self.path, "reading a record", e))?;
        if got == 0 {
            return Ok(false);
        }
        let size = u16::from_ne_bytes([header[6], header[7]]) as usize;
        if got < 8 || size < 8 {
            return Err(self.corrupt(
                "the file ends inside a record header or a record is shorter than its header",
            ));
        }
        self.record.clear();
        self.record.extend_from_slice(&header);
        self.record.resize(size, 0);
        let body = read_full(&mut self.reader, &mut self.record[8..])
            .map_err(|e| io_error(&self.path, "reading a record", e))?;
        if body < size - 8 {
            return Err(self.corrupt("the file ends inside a record"));
        }
        self.offset += size as u64;
        Ok(true)
    }

    fn corrupt(&self, detail: &str) -> PerfDataError {
        PerfDataError::Corrupt {
            path: self.path.clone(),
            what: "record".into(),
            offset: self.offset,
            detail: detail.into(),
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// What [`merge_streams`] met besides the records it handed out.
#[derive(Debug, Default)]
pub struct StreamsWalk {
    /// Damage that ended a stream early (the first, when several did).
    pub damage: Option<PerfDataError>,
    /// COMPRESSED records, whose unpacked records were handed out instead.
    pub compressed: u64,
}

/// Calls `f(record type, time, attr index, bytes)` for every record of
/// `paths`, oldest stream head first. Damage in a stream ends that stream
/// (its records before it are handed out) and is returned.
pub fn merge_streams(
    paths: &[PathBuf],
    locator: &RecordLocator,
    mut f: impl FnMut(u32, Option<u64>, Option<usize>, &[u8]),
) -> StreamsWalk {
    let mut damage = None;
    let mut compressed = 0;
    let mut streams = Vec::new();
    for path in paths {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) => {
                damage.get_or_insert(io_error(path, "opening", e));
                continue;
            }
        };
        let mut s = Stream {
            path: path.clone(),
            reader: BufReader::with_capacity(256 * 1024, file),
            offset: 0,
            record: Vec::new(),
            time: 0,
            attr_index: None,
            decompressor: None,
            unpacked: VecDeque::new(),
            compressed: 0,
        };
        match s.advance(locator) {
            Ok(true) => streams.push(s),
            Ok(false) => compressed += s.compressed,
            Err(e) => {
                compressed += s.compressed;
                damage.get_or_insert(e);
            }
        }
    }
    while !streams.is_empty() {
        let (i, _) = streams
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| s.time)
            .expect("not empty");
        let s = &mut streams[i];
        let type_ = u32::from_ne_bytes([s.record[0], s.record[1], s.record[2], s.record[3]]);
        f(type_, Some(s.time), s.attr_index, &s.record);
        match s.advance(locator) {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => {
                damage.get_or_insert(e);
            }
        }
        compressed += streams.swap_remove(i).compressed;
    }
    StreamsWalk { damage, compressed }
}
