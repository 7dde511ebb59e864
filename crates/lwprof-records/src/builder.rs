//! The one way this project writes record bytes: synthesized records for a
//! perf.data file (COMM, MMAP2, the kernel's MMAP, LOST_SAMPLES), the fake
//! kernel of the ring tests and benchmarks, and crafted inputs for parser
//! tests, in either byte order.
//!
//! A [`RecordBuilder`] collects a body field by field, in the kernel's
//! layout (8-byte padding of strings, the `sample_id_all` trailer in its
//! kernel order), and [`RecordBuilder::finish`] puts the header in front.
//! It knows layouts, not meanings: which fields a record type has is the
//! caller's business.

use crate::abi::sample_type as st;
use crate::record::{Endianness, SampleId};

/// Record bytes being built (the body; the header comes at the end).
#[derive(Debug, Clone)]
pub struct RecordBuilder {
    order: Endianness,
    out: Vec<u8>,
}

impl Default for RecordBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordBuilder {
    /// An empty body in native byte order.
    pub fn new() -> Self {
        Self::with_order(Endianness::NATIVE)
    }

    /// An empty body in `order`.
    pub fn with_order(order: Endianness) -> Self {
        Self {
            order,
            out: Vec::new(),
        }
    }

    /// Appends a u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        let b = match self.order {
            Endianness::Little => v.to_le_bytes(),
            Endianness::Big => v.to_be_bytes(),
        };
        self.out.extend_from_slice(&b);
        self
    }

    /// Appends a u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        let b = match self.order {
            Endianness::Little => v.to_le_bytes(),
            Endianness::Big => v.to_be_bytes(),
        };
        self.out.extend_from_slice(&b);
        self
    }

    /// Appends a u16.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        let b = match self.order {
            Endianness::Little => v.to_le_bytes(),
            Endianness::Big => v.to_be_bytes(),
        };
        self.out.extend_from_slice(&b);
        self
    }

    /// Appends bytes as they are.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.out.extend_from_slice(b);
        self
    }

    /// Appends a NUL-terminated string padded to 8 bytes, as the kernel
    /// writes file names and thread names.
    pub fn cstr(&mut self, s: &[u8]) -> &mut Self {
        self.out.extend_from_slice(s);
        self.out.push(0);
        self.pad8()
    }

    /// Pads the body with zeros to a multiple of 8 bytes.
    pub fn pad8(&mut self) -> &mut Self {
        while !self.out.len().is_multiple_of(8) {
            self.out.push(0);
        }
        self
    }

    /// Appends the `sample_id_all` trailer of an event whose sample type is
    /// `sample_type`, in the kernel's order (TID, TIME, ID, STREAM_ID, CPU,
    /// IDENTIFIER); a field `id` leaves out is written as 0.
    pub fn sample_id(&mut self, sample_type: u64, id: &SampleId) -> &mut Self {
        if sample_type & st::TID != 0 {
            self.u32(id.pid.unwrap_or(0)).u32(id.tid.unwrap_or(0));
        }
        if sample_type & st::TIME != 0 {
            self.u64(id.time.unwrap_or(0));
        }
        if sample_type & st::ID != 0 {
            self.u64(id.id.unwrap_or(0));
        }
        if sample_type & st::STREAM_ID != 0 {
            self.u64(id.stream_id.unwrap_or(0));
        }
        if sample_type & st::CPU != 0 {
            self.u32(id.cpu.unwrap_or(0)).u32(0);
        }
        if sample_type & st::IDENTIFIER != 0 {
            self.u64(id.id.unwrap_or(0));
        }
        self
    }

    /// The body so far (no header): for fields built on their own, such as
    /// a raw sample payload or a crafted headerless buffer.
    pub fn body(&self) -> &[u8] {
        &self.out
    }

    /// Bytes of body so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// True when nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The record: a header of `record_type` and `misc` in front of the
    /// body. `None` when the record would be larger than a header's u16
    /// size allows (65535 bytes).
    pub fn finish(&self, record_type: u32, misc: u16) -> Option<Vec<u8>> {
        let size = u16::try_from(self.out.len() + 8).ok()?;
        let mut b = RecordBuilder::with_order(self.order);
        b.out.reserve(size as usize);
        b.u32(record_type).u16(misc).u16(size).bytes(&self.out);
        Some(b.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::record_type;
    use crate::raw::RawData;
    use crate::record::{parse_record, Record, RecordParseInfo};

    #[test]
    fn built_records_parse_back_in_both_orders() {
        for order in [Endianness::Little, Endianness::Big] {
            let t = st::TID | st::TIME | st::IDENTIFIER;
            let id = SampleId {
                pid: Some(7),
                tid: Some(8),
                time: Some(99),
                id: Some(5),
                ..SampleId::default()
            };
            let rec = RecordBuilder::with_order(order)
                .u32(7)
                .u32(8)
                .cstr(b"worker")
                .sample_id(t, &id)
                .finish(record_type::COMM, 0)
                .expect("fits");
            assert_eq!(rec.len() % 8, 0);
            let info = RecordParseInfo::new(t)
                .with_sample_id_all(true)
                .with_endianness(order);
            match parse_record(RawData::Single(&rec), &info).expect("parses") {
                Record::Comm(c) => {
                    assert_eq!((c.pid, c.tid), (7, 8));
                    assert_eq!(c.comm.as_contiguous().as_ref(), b"worker");
                    assert_eq!(c.sample_id, id);
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(RecordBuilder::new()
            .bytes(&[0; 70_000])
            .finish(1, 0)
            .is_none());
    }
}
