//! The walk over a data section's records, shared by perf.data files and
//! pipe-mode streams: records are handed out in stream order, and those in
//! `PERF_RECORD_COMPRESSED`/`COMPRESSED2` are decompressed and handed out in
//! their place. It does not read headers or know what records mean.

use super::compressed::{
    compressed_payload_in, Decompressor, RECORD_COMPRESSED, RECORD_COMPRESSED2,
};
use super::error::PerfDataError;
use super::layout::AttrResolver;
use super::reader::{FileRecord, RecordReader, RecordWalk};
use lwprof_records::RawData;
use std::io::Read;
use std::path::Path;

/// A record that came out of a compressed record at `offset` (or was read
/// earlier and kept): its event and time resolved by `resolver`.
pub(crate) fn resolved_record<'a>(
    resolver: &AttrResolver,
    offset: u64,
    bytes: &'a [u8],
) -> FileRecord<'a> {
    let e = resolver.endianness();
    let type_ = e.u32([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let misc = e.u16([bytes[4], bytes[5]]);
    let raw = RawData::Single(bytes);
    let attr_index = resolver.attr_index(type_, raw);
    let time = attr_index.and_then(|i| resolver.time(type_, raw, i));
    FileRecord {
        offset,
        type_,
        misc,
        bytes,
        attr_index,
        time,
    }
}

/// One walk's state: counts and the zstd stream, which runs across the
/// compressed records of the whole walk.
pub(crate) struct Walker<'a> {
    path: &'a Path,
    resolver: &'a AttrResolver,
    decompressor: Option<Decompressor>,
    walk: RecordWalk,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(path: &'a Path, resolver: &'a AttrResolver) -> Self {
        Walker {
            path,
            resolver,
            decompressor: None,
            walk: RecordWalk {
                records: 0,
                compressed: 0,
                error: None,
            },
        }
    }

    /// Hands `r` (or the records inside it) to `f`.
    pub(crate) fn record(
        &mut self,
        r: &FileRecord<'_>,
        f: &mut impl FnMut(&FileRecord<'_>),
    ) -> Result<(), PerfDataError> {
        if !matches!(r.type_, RECORD_COMPRESSED | RECORD_COMPRESSED2) {
            self.walk.records += 1;
            f(r);
            return Ok(());
        }
        self.walk.compressed += 1;
        let offset = r.offset;
        let resolver = self.resolver;
        let mut inner = 0u64;
        let decompressor = &mut self.decompressor;
        let fed =
            compressed_payload_in(resolver.endianness(), r.type_, r.body()).and_then(|payload| {
                let d = match decompressor {
                    Some(d) => d,
                    None => decompressor.insert(Decompressor::new()?),
                };
                d.feed_in(resolver.endianness(), payload, |bytes| {
                    inner += 1;
                    f(&resolved_record(resolver, offset, bytes));
                })
            });
        self.walk.records += inner;
        fed.map_err(|e| PerfDataError::Corrupt {
            path: self.path.to_path_buf(),
            what: "compressed record".into(),
            offset,
            detail: e.to_string(),
        })
    }

    /// Walks the rest of `reader`, then ends the walk.
    pub(crate) fn run<R: Read>(
        mut self,
        reader: &mut RecordReader<R>,
        mut f: impl FnMut(&FileRecord<'_>),
    ) -> RecordWalk {
        loop {
            let step = match reader.next_record() {
                Ok(Some(r)) => self.record(&r, &mut f),
                Ok(None) => return self.finish(reader.pos),
                Err(e) => Err(e),
            };
            if let Err(e) = step {
                self.walk.error = Some(e);
                return self.walk;
            }
        }
    }

    /// The outcome, with an error if the zstd stream ended inside a record.
    pub(crate) fn finish(mut self, end: u64) -> RecordWalk {
        if let Some(d) = self.decompressor.filter(|d| d.leftover() > 0) {
            self.walk.error = Some(PerfDataError::Corrupt {
                path: self.path.to_path_buf(),
                what: "compressed data".into(),
                offset: end,
                detail: format!(
                    "the zstd stream ends inside a record ({} bytes of it); the records before it are read",
                    d.leftover()
                ),
            });
        }
        self.walk
    }
}
