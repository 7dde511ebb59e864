//! What the parser must know about an event to lay out its records.
//!
//! The layout of a SAMPLE record, and of the `sample_id_all` trailer of every
//! other record, follows from fields of the event's `perf_event_attr`.
//! [`RecordParseInfo`] holds exactly those fields; [`IdPosition`] finds the
//! sample id in a record before its event is known, as perf does when one
//! ring carries events with different sample types.

use super::cursor::Endianness;
use super::RawRecord;
use crate::abi::record_type;

pub use crate::abi::{branch_sample_type, read_format, sample_type};

/// The attr fields that decide the layout of an event's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordParseInfo {
    /// `attr.sample_type` (`PERF_SAMPLE_*` bits, see [`sample_type`]).
    pub sample_type: u64,
    /// `attr.read_format` (`PERF_FORMAT_*` bits, see [`read_format`]).
    pub read_format: u64,
    /// `attr.sample_id_all`: non-sample records end with a sample id trailer.
    pub sample_id_all: bool,
    /// `attr.sample_regs_user`: which user registers a sample carries.
    pub sample_regs_user: u64,
    /// `attr.sample_regs_intr`: which interrupt registers a sample carries.
    pub sample_regs_intr: u64,
    /// `attr.branch_sample_type` (only HW_INDEX and COUNTERS change the layout).
    pub branch_sample_type: u64,
    /// Byte order of the records (native for a live ring).
    pub endianness: Endianness,
}

impl Default for RecordParseInfo {
    fn default() -> Self {
        RecordParseInfo::new(0)
    }
}

impl RecordParseInfo {
    /// Info for `sample_type` alone: no read values, no registers, no
    /// trailer, native byte order.
    pub const fn new(sample_type: u64) -> Self {
        RecordParseInfo {
            sample_type,
            read_format: 0,
            sample_id_all: false,
            sample_regs_user: 0,
            sample_regs_intr: 0,
            branch_sample_type: 0,
            endianness: Endianness::NATIVE,
        }
    }

    /// The layout fields of a `perf_event_attr` given as bytes in the
    /// kernel's ABI layout (any ABI size, shorter ones zero-extended), in
    /// `endianness`: what a perf.data reader has, and what a live attr is
    /// after a byte copy. The one place these offsets are known.
    ///
    /// The flags word of a file of the other byte order also has its bit
    /// fields in the other order (perf swaps them in `bswap_field`); this
    /// reads `sample_id_all` from the word as `endianness` gives it.
    pub fn from_attr_bytes(bytes: &[u8], endianness: Endianness) -> Self {
        let u64_at = |off: usize| {
            let mut b = [0u8; 8];
            if let Some(s) = bytes.get(off..off + 8) {
                b.copy_from_slice(s);
            }
            endianness.u64(b)
        };
        /// `sample_id_all` is bit 18 of the flags word at byte 40.
        const SAMPLE_ID_ALL_BIT: u32 = 18;
        RecordParseInfo {
            sample_type: u64_at(24),
            read_format: u64_at(32),
            sample_id_all: u64_at(40) >> SAMPLE_ID_ALL_BIT & 1 == 1,
            sample_regs_user: u64_at(80),
            sample_regs_intr: u64_at(96),
            branch_sample_type: u64_at(72),
            endianness,
        }
    }

    /// The same info for records in `endianness`.
    pub const fn with_endianness(mut self, endianness: Endianness) -> Self {
        self.endianness = endianness;
        self
    }

    /// The same info with `sample_id_all` set as given.
    pub const fn with_sample_id_all(mut self, on: bool) -> Self {
        self.sample_id_all = on;
        self
    }

    /// The same info with this `read_format`.
    pub const fn with_read_format(mut self, read_format: u64) -> Self {
        self.read_format = read_format;
        self
    }

    /// The same info with these register masks.
    pub const fn with_regs(mut self, user: u64, intr: u64) -> Self {
        self.sample_regs_user = user;
        self.sample_regs_intr = intr;
        self
    }

    /// The same info with this `branch_sample_type`.
    pub const fn with_branch_sample_type(mut self, branch_sample_type: u64) -> Self {
        self.branch_sample_type = branch_sample_type;
        self
    }

    /// Length in bytes of the `sample_id_all` trailer (0 when it is off).
    pub const fn sample_id_len(&self) -> usize {
        if !self.sample_id_all {
            return 0;
        }
        let t = self.sample_type;
        let bits = sample_type::TID
            | sample_type::TIME
            | sample_type::ID
            | sample_type::STREAM_ID
            | sample_type::CPU
            | sample_type::IDENTIFIER;
        (t & bits).count_ones() as usize * 8
    }

    /// Where the event id sits in this event's records.
    pub const fn id_position(&self) -> IdPosition {
        let t = self.sample_type;
        let in_sample = if t & sample_type::IDENTIFIER != 0 {
            Some(0)
        } else if t & sample_type::ID != 0 {
            let before = sample_type::IP | sample_type::TID | sample_type::TIME | sample_type::ADDR;
            Some((t & before).count_ones() as u8)
        } else {
            None
        };
        let from_end = if !self.sample_id_all {
            None
        } else if t & sample_type::IDENTIFIER != 0 {
            Some(1)
        } else if t & sample_type::ID != 0 {
            let after = sample_type::CPU | sample_type::STREAM_ID;
            Some((t & after).count_ones() as u8 + 1)
        } else {
            None
        };
        IdPosition {
            in_sample,
            from_end,
        }
    }
}

/// Where the event id sits, in u64 words: from the start of a SAMPLE body,
/// and from the end of any other record. `None` when there is no id.
///
/// With several events in one ring, parse the id first, map it to the event
/// and its [`RecordParseInfo`], then parse the record. This only works when
/// every event puts the id at the same place; [`IdPosition::common`] checks
/// that (set `PERF_SAMPLE_IDENTIFIER` on every event to be safe, as perf does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdPosition {
    /// Index of the id among the u64 words after the SAMPLE header.
    pub in_sample: Option<u8>,
    /// Index of the id counting back from the last u64 word of a non-sample
    /// record (1 = last word).
    pub from_end: Option<u8>,
}

impl IdPosition {
    /// The position shared by all `infos`, or `None` when they disagree
    /// (then records cannot be attributed to their event).
    pub fn common<'i>(infos: impl IntoIterator<Item = &'i RecordParseInfo>) -> Option<IdPosition> {
        let mut iter = infos.into_iter();
        let first = iter.next()?.id_position();
        iter.all(|i| i.id_position() == first).then_some(first)
    }

    /// The event id of `record`, without parsing the rest of it; `None` when
    /// the record has no id (or is too short to hold one).
    pub fn find_id(&self, record: &RawRecord<'_>, endianness: Endianness) -> Option<u64> {
        let at = if record.header.record_type == record_type::SAMPLE {
            usize::from(self.in_sample?) * 8
        } else {
            let back = usize::from(self.from_end?) * 8;
            record.body.len().checked_sub(back)?
        };
        let bytes = record.body.read_array::<8>(at)?;
        Some(endianness.u64(bytes))
    }
}
