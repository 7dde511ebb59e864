//! `PERF_RECORD_COMPRESSED` (and `COMPRESSED2`): records that `perf record
//! -z` wrote through one zstd stream, flushed once per record.
//!
//! The stream runs across records (perf flushes it, never ends a frame), so
//! one decoder lives for the whole data section, and a record whose bytes
//! are split between two compressed records is carried over to the next.
//! This module only turns compressed bytes into whole records; it does not
//! read files or know what the records mean.

use lwprof_records::Endianness;
use std::io;
use zstd::stream::raw::{Decoder, InBuffer, Operation, OutBuffer};

/// `PERF_RECORD_COMPRESSED`: the body is zstd data.
pub const RECORD_COMPRESSED: u32 = 81;
/// `PERF_RECORD_COMPRESSED2`: the body is a u64 size, then that much zstd
/// data (then padding to 8 bytes).
pub const RECORD_COMPRESSED2: u32 = 83;

/// Bytes decompressed per decoder step.
const CHUNK: usize = 64 * 1024;

/// Why compressed records could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecompressError {
    /// zstd refused the data.
    #[error("zstd: {0}")]
    Zstd(#[source] io::Error),
    /// A COMPRESSED2 record's size field is larger than the record.
    #[error("the compressed size {size} is larger than the record's {available} bytes")]
    BadSize {
        /// What the record claims.
        size: u64,
        /// What it has.
        available: usize,
    },
    /// A decompressed record claims fewer than 8 bytes.
    #[error("a decompressed record claims {0} bytes, less than its own header")]
    BadRecord(u16),
}

/// One zstd stream over a data section's compressed records.
pub struct Decompressor {
    decoder: Decoder<'static>,
    /// Decompressed bytes not yet handed out (at most one partial record
    /// between calls).
    pending: Vec<u8>,
    /// Whole records handed out.
    records: u64,
}

impl std::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decompressor")
            .field("pending", &self.pending.len())
            .field("records", &self.records)
            .finish()
    }
}

/// The zstd bytes of a compressed record's body (after its 8-byte header).
pub fn compressed_payload(type_: u32, body: &[u8]) -> Result<&[u8], DecompressError> {
    compressed_payload_in(Endianness::NATIVE, type_, body)
}

/// [`compressed_payload`] of a file in byte order `e`.
pub fn compressed_payload_in(
    e: Endianness,
    type_: u32,
    body: &[u8],
) -> Result<&[u8], DecompressError> {
    if type_ != RECORD_COMPRESSED2 {
        return Ok(body);
    }
    let size = body
        .get(..8)
        .map(|b| e.u64(b.try_into().unwrap_or([0; 8])))
        .unwrap_or(u64::MAX);
    let available = body.len().saturating_sub(8);
    match usize::try_from(size) {
        Ok(n) if n <= available => Ok(&body[8..8 + n]),
        _ => Err(DecompressError::BadSize { size, available }),
    }
}

impl Decompressor {
    /// A decoder at the start of a stream.
    pub fn new() -> Result<Self, DecompressError> {
        Ok(Self {
            decoder: Decoder::new().map_err(DecompressError::Zstd)?,
            pending: Vec::new(),
            records: 0,
        })
    }

    /// Whole records handed out so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes of an incomplete record left at the end of the stream so far.
    pub fn leftover(&self) -> usize {
        self.pending.len()
    }

    /// Decompresses `payload` and calls `f` with every record it completes,
    /// header included, in stream order.
    pub fn feed(&mut self, payload: &[u8], f: impl FnMut(&[u8])) -> Result<(), DecompressError> {
        self.feed_in(Endianness::NATIVE, payload, f)
    }

    /// [`feed`](Self::feed) for records in byte order `e`.
    pub fn feed_in(
        &mut self,
        e: Endianness,
        payload: &[u8],
        mut f: impl FnMut(&[u8]),
    ) -> Result<(), DecompressError> {
        let mut input = InBuffer::around(payload);
        let mut chunk = vec![0u8; CHUNK];
        loop {
            let mut output = OutBuffer::around(&mut chunk[..]);
            self.decoder
                .run(&mut input, &mut output)
                .map_err(DecompressError::Zstd)?;
            let produced = output.pos();
            self.pending.extend_from_slice(&chunk[..produced]);
            // Done once the input is used up and the decoder had no more
            // output to give (a full chunk may mean more is buffered).
            if input.pos() == payload.len() && produced < CHUNK {
                break;
            }
        }
        self.emit(e, &mut f)
    }

    fn emit(&mut self, e: Endianness, f: &mut impl FnMut(&[u8])) -> Result<(), DecompressError> {
        let mut at = 0;
        while self.pending.len() - at >= 8 {
            let size = e.u16([self.pending[at + 6], self.pending[at + 7]]);
            if size < 8 {
                return Err(DecompressError::BadRecord(size));
            }
            let end = at + usize::from(size);
            if end > self.pending.len() {
                break;
            }
            f(&self.pending[at..end]);
            self.records += 1;
            at = end;
        }
        self.pending.drain(..at);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(type_: u32, fill: u8, len: u16) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&type_.to_ne_bytes());
        v.extend_from_slice(&0u16.to_ne_bytes());
        v.extend_from_slice(&len.to_ne_bytes());
        v.resize(usize::from(len), fill);
        v
    }

    /// One zstd stream, flushed (not ended) after each chunk, as perf does.
    fn compress_in_chunks(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut enc = zstd::stream::raw::Encoder::new(1).expect("encoder");
        let mut out = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
            let mut buf = vec![0u8; 1 << 16];
            let mut input = InBuffer::around(&data[start..cut]);
            let mut output = OutBuffer::around(&mut buf[..]);
            enc.run(&mut input, &mut output).expect("compress");
            enc.flush(&mut output).expect("flush");
            let n = output.pos();
            out.push(buf[..n].to_vec());
            start = cut;
        }
        out
    }

    #[test]
    fn records_split_across_compressed_chunks_come_out_whole() {
        let mut data = record(9, 0xaa, 40);
        data.extend(record(3, 0xbb, 24));
        data.extend(record(9, 0xcc, 4096));
        // Cut inside the second record's header and inside the third's body.
        let chunks = compress_in_chunks(&data, &[44, 100]);
        let mut d = Decompressor::new().expect("decoder");
        let mut got: Vec<Vec<u8>> = Vec::new();
        for c in &chunks {
            d.feed(c, |r| got.push(r.to_vec())).expect("decompress");
        }
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], record(9, 0xaa, 40));
        assert_eq!(got[1], record(3, 0xbb, 24));
        assert_eq!(got[2], record(9, 0xcc, 4096));
        assert_eq!(d.leftover(), 0);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut d = Decompressor::new().expect("decoder");
        assert!(d.feed(b"not a zstd stream", |_| {}).is_err());
        assert!(compressed_payload(RECORD_COMPRESSED2, &[0xff; 12]).is_err());
    }
}
