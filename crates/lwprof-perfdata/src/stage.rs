//! The data path shared by the file and the pipe writer: whole records are
//! staged in a buffer (zstd-compressed into `PERF_RECORD_COMPRESSED` records
//! first when asked), and written out with plain `write(2)` calls whose
//! progress is counted, so that when a write fails (disk full, a closed
//! pipe) the writer knows exactly how many bytes of whole records reached
//! the output and how many samples they hold.
//!
//! This module does not know about headers, attributes or features, and it
//! never seeks: it only appends.

use crate::compress::{Compression, Compressor};
use std::io::{self, Write};

/// Buffer in front of the output: the records of one pass over the rings
/// coalesce into few write(2) calls.
const BUFFER_SIZE: usize = 256 * 1024;

/// Where a failed write left the output.
#[derive(Debug)]
pub struct WriteFailure {
    /// The OS error.
    pub cause: io::Error,
    /// Bytes of whole records that reached the output (from the data start).
    pub complete_bytes: u64,
    /// Samples in those records.
    pub samples: u64,
}

/// A write failed; [`DataStage::failure`] says how.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stopped;

/// Staged records and what reached the output.
pub(crate) struct DataStage {
    /// Bytes not yet written: whole output records.
    buf: Vec<u8>,
    /// For each output record in `buf`: where it ends in `buf`, and the
    /// samples written once it is out.
    marks: Vec<(usize, u64)>,
    /// Records not yet compressed (with compression only).
    pending: Vec<u8>,
    pending_samples: u64,
    compressor: Option<Compressor>,
    /// Samples in `buf` and before it.
    samples_staged: u64,
    /// Bytes of output records written out, and their samples.
    written: u64,
    samples_written: u64,
    /// Bytes of records given (before compression).
    logical: u64,
    failure: Option<WriteFailure>,
    /// Where the last output records written out end (from the start of
    /// the data), with the samples up to each: the places a full disk can
    /// fall back to, to make room for the feature sections a reader needs.
    history: std::collections::VecDeque<(u64, u64)>,
}

/// How many record ends [`DataStage`] remembers.
const HISTORY: usize = 512;

impl DataStage {
    pub(crate) fn new(compression: Option<Compression>) -> io::Result<Self> {
        Ok(Self {
            buf: Vec::with_capacity(BUFFER_SIZE),
            marks: Vec::new(),
            pending: Vec::new(),
            pending_samples: 0,
            compressor: compression.map(Compressor::new).transpose()?,
            samples_staged: 0,
            written: 0,
            samples_written: 0,
            logical: 0,
            failure: None,
            history: std::collections::VecDeque::with_capacity(HISTORY),
        })
    }

    /// Stages one whole record (`parts` concatenated); writes out the buffer
    /// when it is full.
    pub(crate) fn push(
        &mut self,
        out: &mut impl Write,
        parts: [&[u8]; 2],
        is_sample: bool,
    ) -> Result<(), Stopped> {
        if self.failure.is_some() {
            return Err(Stopped);
        }
        let len = parts[0].len() + parts[1].len();
        self.logical += len as u64;
        if self.compressor.is_some() {
            if self.pending.len() + len > crate::compress::BATCH_BYTES {
                self.compress_pending()?;
            }
            self.pending.extend_from_slice(parts[0]);
            self.pending.extend_from_slice(parts[1]);
            self.pending_samples += u64::from(is_sample);
        } else {
            self.buf.extend_from_slice(parts[0]);
            self.buf.extend_from_slice(parts[1]);
            self.samples_staged += u64::from(is_sample);
            self.marks.push((self.buf.len(), self.samples_staged));
        }
        if self.buf.len() >= BUFFER_SIZE {
            self.write_out(out)?;
        }
        Ok(())
    }

    /// Compresses the pending records into output records in `buf`.
    fn compress_pending(&mut self) -> Result<(), Stopped> {
        let Some(c) = self.compressor.as_mut() else {
            return Ok(());
        };
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut ends = Vec::new();
        if let Err(e) = c.compress(&self.pending, &mut self.buf, &mut ends) {
            self.failure = Some(WriteFailure {
                cause: e,
                complete_bytes: self.written,
                samples: self.samples_written,
            });
            return Err(Stopped);
        }
        // The samples count once the last chunk of the batch is out.
        let last = ends.len().saturating_sub(1);
        for (i, end) in ends.into_iter().enumerate() {
            if i == last {
                self.samples_staged += self.pending_samples;
            }
            self.marks.push((end, self.samples_staged));
        }
        self.pending.clear();
        self.pending_samples = 0;
        Ok(())
    }

    /// Compresses what is pending and writes out the whole buffer.
    pub(crate) fn flush(&mut self, out: &mut impl Write) -> Result<(), Stopped> {
        if self.failure.is_some() {
            return Err(Stopped);
        }
        self.compress_pending()?;
        self.write_out(out)?;
        if let Err(e) = out.flush() {
            self.fail(e, 0);
            return Err(Stopped);
        }
        Ok(())
    }

    fn write_out(&mut self, out: &mut impl Write) -> Result<(), Stopped> {
        let mut pos = 0;
        while pos < self.buf.len() {
            match out.write(&self.buf[pos..]) {
                Ok(0) => {
                    let e = io::Error::new(io::ErrorKind::WriteZero, "the output took no bytes");
                    self.fail(e, pos);
                    return Err(Stopped);
                }
                Ok(n) => pos += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.fail(e, pos);
                    return Err(Stopped);
                }
            }
        }
        self.remember(self.buf.len());
        self.written += self.buf.len() as u64;
        self.samples_written = self.samples_staged;
        self.buf.clear();
        self.marks.clear();
        Ok(())
    }

    /// Records the failure: `pos` bytes of `buf` reached the output, so
    /// every record that ends at or before it is complete there.
    fn fail(&mut self, cause: io::Error, pos: usize) {
        self.remember(pos);
        let (end, samples) = self
            .marks
            .iter()
            .take_while(|(end, _)| *end <= pos)
            .last()
            .copied()
            .unwrap_or((0, self.samples_written));
        self.failure = Some(WriteFailure {
            cause,
            complete_bytes: self.written + end as u64,
            samples,
        });
    }

    /// Keeps the ends of the staged records that lie within the first
    /// `upto` bytes of `buf` (those are out).
    fn remember(&mut self, upto: usize) {
        for &(end, samples) in self.marks.iter().take_while(|(end, _)| *end <= upto) {
            if self.history.len() == HISTORY {
                self.history.pop_front();
            }
            self.history.push_back((self.written + end as u64, samples));
        }
    }

    /// The last remembered record end before `before` (bytes from the start
    /// of the data), with the samples up to it.
    pub(crate) fn end_before(&self, before: u64) -> Option<(u64, u64)> {
        self.history
            .iter()
            .rev()
            .find(|(end, _)| *end < before)
            .copied()
    }

    /// The failure that stopped writing, if one did.
    pub(crate) fn failure(&self) -> Option<&WriteFailure> {
        self.failure.as_ref()
    }

    /// Bytes of records given so far (uncompressed).
    pub(crate) fn logical_bytes(&self) -> u64 {
        self.logical
    }

    /// Bytes of output records staged or written (compressed, when it is).
    pub(crate) fn output_bytes(&self) -> u64 {
        self.written + self.buf.len() as u64
    }

    /// Samples written out.
    pub(crate) fn written_samples(&self) -> u64 {
        self.samples_written
    }

    /// Bytes written out (all whole records).
    pub(crate) fn written_bytes(&self) -> u64 {
        self.written
    }

    /// The COMPRESSED feature's figures, with compression.
    pub(crate) fn compression(&self) -> Option<&Compressor> {
        self.compressor.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `room` bytes, then fails as a full disk does.
    struct Full {
        got: Vec<u8>,
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let n = b.len().min(self.room - self.got.len());
            if n == 0 {
                return Err(io::Error::from_raw_os_error(28));
            }
            self.got.extend_from_slice(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn rec(n: u16) -> Vec<u8> {
        let mut v = vec![0u8; n as usize];
        v[..4].copy_from_slice(&9u32.to_ne_bytes());
        v[6..8].copy_from_slice(&n.to_ne_bytes());
        v
    }

    #[test]
    fn a_full_output_keeps_count_of_its_whole_records() {
        let mut out = Full {
            got: Vec::new(),
            room: 100,
        };
        let mut s = DataStage::new(None).expect("stage");
        for _ in 0..5 {
            s.push(&mut out, [&rec(24), &[]], true).expect("staged");
        }
        assert!(s.flush(&mut out).is_err());
        let f = s.failure().expect("failure");
        // 100 bytes reached it: four whole 24-byte records, a partial fifth.
        assert_eq!((f.complete_bytes, f.samples), (96, 4));
        assert_eq!(f.cause.raw_os_error(), Some(28));
        assert!(s.push(&mut out, [&rec(24), &[]], true).is_err());
    }
}
