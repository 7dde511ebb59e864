//! Writing zstd-compressed records (`lwprof record -z`), as `perf record -z`
//! does: one zstd stream for the whole data section, flushed (never ended)
//! after each batch of records, each flush wrapped in
//! `PERF_RECORD_COMPRESSED` records; and the COMPRESSED feature section
//! that tells readers the codec, level, ratio and decompression buffer.
//!
//! Batches are small enough that a batch's compressed bytes fit one record
//! (zstd's worst case included), so every compressed record decompresses to
//! whole records and a file cut after any record is still readable.
//! Decompressing is [`crate::compressed`]'s job, not this module's.

use crate::compressed::RECORD_COMPRESSED;
use std::io;
use zstd::stream::raw::{Encoder, InBuffer, Operation, OutBuffer};

/// Uncompressed bytes per batch. zstd's bound for this is a few hundred
/// bytes more, well under the 65,527 a record's body can hold.
pub(crate) const BATCH_BYTES: usize = 60 * 1024;

/// The most compressed bytes one record holds (its size is a u16).
const MAX_BODY: usize = u16::MAX as usize - 8;

/// `PERF_COMP_ZSTD`, the COMPRESSED feature's codec number.
const COMP_ZSTD: u32 = 1;

/// What to compress with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// zstd level, 1 (fastest, perf's default) to 22.
    pub level: i32,
    /// The decompression buffer a reader needs (perf: the ring's mmap
    /// size). Raised to at least one batch.
    pub mmap_len: u32,
}

impl Compression {
    /// perf's default: level 1, 512 KiB rings.
    pub const DEFAULT_LEVEL: i32 = 1;
    /// zstd's highest level.
    pub const MAX_LEVEL: i32 = 22;
}

/// The zstd stream of one data section.
pub(crate) struct Compressor {
    encoder: Encoder<'static>,
    config: Compression,
    bytes_in: u64,
    bytes_out: u64,
    scratch: Vec<u8>,
}

impl Compressor {
    pub(crate) fn new(config: Compression) -> io::Result<Self> {
        Ok(Self {
            encoder: Encoder::new(config.level)?,
            config,
            bytes_in: 0,
            bytes_out: 0,
            scratch: vec![0u8; MAX_BODY],
        })
    }

    /// Compresses `input` (whole records) and flushes the stream, appending
    /// COMPRESSED records to `out`; pushes where each record ends in `out`.
    pub(crate) fn compress(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        ends: &mut Vec<usize>,
    ) -> io::Result<()> {
        let mut inb = InBuffer::around(input);
        let mut compressed = Vec::with_capacity(input.len() / 2 + 64);
        loop {
            let mut outb = OutBuffer::around(&mut self.scratch[..]);
            let done = if inb.pos() < input.len() {
                self.encoder.run(&mut inb, &mut outb)?;
                false
            } else {
                self.encoder.flush(&mut outb)? == 0
            };
            let n = outb.pos();
            compressed.extend_from_slice(&self.scratch[..n]);
            if done {
                break;
            }
        }
        // One record per batch, unless zstd's output outgrew a record.
        for body in compressed.chunks(MAX_BODY) {
            push_record(out, body);
            ends.push(out.len());
            self.bytes_out += body.len() as u64 + 8;
        }
        self.bytes_in += input.len() as u64;
        Ok(())
    }

    /// The COMPRESSED feature section: version 0, codec, level, ratio
    /// (rounded, at least 1 once anything was compressed), mmap_len.
    pub(crate) fn feature_section(&self) -> Vec<u8> {
        feature_section(self.config, self.ratio())
    }

    /// Uncompressed over compressed bytes, rounded (0 before any output).
    pub(crate) fn ratio(&self) -> u32 {
        if self.bytes_out == 0 {
            return 0;
        }
        (self.bytes_in as f64 / self.bytes_out as f64)
            .round()
            .max(1.0) as u32
    }
}

/// The COMPRESSED feature section for `config` and `ratio`.
pub(crate) fn feature_section(config: Compression, ratio: u32) -> Vec<u8> {
    let mmap_len = config.mmap_len.max((BATCH_BYTES + 4096) as u32);
    let mut v = Vec::with_capacity(20);
    for w in [0, COMP_ZSTD, config.level as u32, ratio, mmap_len] {
        v.extend_from_slice(&w.to_ne_bytes());
    }
    v
}

fn push_record(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&RECORD_COMPRESSED.to_ne_bytes());
    out.extend_from_slice(&0u16.to_ne_bytes());
    out.extend_from_slice(&((body.len() + 8) as u16).to_ne_bytes());
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of 64 bytes (type 9), `n` of them, with varied bodies.
    fn records(n: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..n {
            v.extend_from_slice(&9u32.to_ne_bytes());
            v.extend_from_slice(&0u16.to_ne_bytes());
            v.extend_from_slice(&64u16.to_ne_bytes());
            v.extend((0..56).map(|j| ((i * 7 + j) % 13) as u8));
        }
        v
    }

    #[test]
    fn each_compressed_record_decompresses_to_whole_records() {
        let mut c = Compressor::new(Compression {
            level: 3,
            mmap_len: 0,
        })
        .expect("encoder");
        let (mut out, mut ends) = (Vec::new(), Vec::new());
        c.compress(&records(BATCH_BYTES / 64), &mut out, &mut ends)
            .expect("compress");
        c.compress(&records(10), &mut out, &mut ends)
            .expect("compress");
        assert_eq!(ends.last(), Some(&out.len()));
        let mut d = crate::compressed::Decompressor::new().expect("decoder");
        let mut got = 0;
        let mut at = 0;
        for end in ends {
            let type_ = u32::from_ne_bytes(out[at..at + 4].try_into().expect("4"));
            assert_eq!(type_, RECORD_COMPRESSED);
            d.feed(&out[at + 8..end], |r| got += r.len())
                .expect("decompress");
            assert_eq!(d.leftover(), 0, "a record spans two compressed records");
            at = end;
        }
        assert_eq!(got, (BATCH_BYTES / 64 + 10) * 64);
        assert!(c.ratio() > 1);
        assert_eq!(c.feature_section().len(), 20);
    }
}
