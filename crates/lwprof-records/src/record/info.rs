//! What the parser must know about an event to lay out its records.
//!
//! The layout of a SAMPLE record, and of the `sample_id_all` trailer of every
//! other record, follows from fields of the event's `perf_event_attr`.
//! [`RecordParseInfo`] holds exactly those fields; [`IdPosition`] finds the
//! sample id in a record before its event is known, as perf does when one
//! ring carries events with different sample types.

use super::cursor::Endianness;
use super::{RawRecord, PERF_RECORD_SAMPLE};
use perf_event_open_sys::bindings as b;

/// `PERF_SAMPLE_*` bits of `sample_type`.
pub mod sample_type {
    use perf_event_open_sys::bindings as b;
    /// Instruction pointer.
    pub const IP: u64 = b::PERF_SAMPLE_IP as u64;
    /// Process and thread id.
    pub const TID: u64 = b::PERF_SAMPLE_TID as u64;
    /// Timestamp.
    pub const TIME: u64 = b::PERF_SAMPLE_TIME as u64;
    /// Data address.
    pub const ADDR: u64 = b::PERF_SAMPLE_ADDR as u64;
    /// Counter values (`read_format`).
    pub const READ: u64 = b::PERF_SAMPLE_READ as u64;
    /// Call chain.
    pub const CALLCHAIN: u64 = b::PERF_SAMPLE_CALLCHAIN as u64;
    /// Event id (position depends on the fields before it).
    pub const ID: u64 = b::PERF_SAMPLE_ID as u64;
    /// CPU number.
    pub const CPU: u64 = b::PERF_SAMPLE_CPU as u64;
    /// Sample period.
    pub const PERIOD: u64 = b::PERF_SAMPLE_PERIOD as u64;
    /// Id of the group leader's stream.
    pub const STREAM_ID: u64 = b::PERF_SAMPLE_STREAM_ID as u64;
    /// Raw tracepoint or PMU data.
    pub const RAW: u64 = b::PERF_SAMPLE_RAW as u64;
    /// Last branch records.
    pub const BRANCH_STACK: u64 = b::PERF_SAMPLE_BRANCH_STACK as u64;
    /// User registers.
    pub const REGS_USER: u64 = b::PERF_SAMPLE_REGS_USER as u64;
    /// A copy of the user stack.
    pub const STACK_USER: u64 = b::PERF_SAMPLE_STACK_USER as u64;
    /// Weight (e.g. memory access latency).
    pub const WEIGHT: u64 = b::PERF_SAMPLE_WEIGHT as u64;
    /// Memory data source.
    pub const DATA_SRC: u64 = b::PERF_SAMPLE_DATA_SRC as u64;
    /// Event id at a fixed position (first in samples, last in trailers).
    pub const IDENTIFIER: u64 = b::PERF_SAMPLE_IDENTIFIER as u64;
    /// Transaction flags.
    pub const TRANSACTION: u64 = b::PERF_SAMPLE_TRANSACTION as u64;
    /// Registers at the interrupt.
    pub const REGS_INTR: u64 = b::PERF_SAMPLE_REGS_INTR as u64;
    /// Physical data address.
    pub const PHYS_ADDR: u64 = b::PERF_SAMPLE_PHYS_ADDR as u64;
    /// AUX area snapshot.
    pub const AUX: u64 = b::PERF_SAMPLE_AUX as u64;
    /// Cgroup id.
    pub const CGROUP: u64 = b::PERF_SAMPLE_CGROUP as u64;
    /// Page size of the data address.
    pub const DATA_PAGE_SIZE: u64 = b::PERF_SAMPLE_DATA_PAGE_SIZE as u64;
    /// Page size of the code address.
    pub const CODE_PAGE_SIZE: u64 = b::PERF_SAMPLE_CODE_PAGE_SIZE as u64;
    /// Weight as three fields (same 8 bytes as WEIGHT).
    pub const WEIGHT_STRUCT: u64 = b::PERF_SAMPLE_WEIGHT_STRUCT as u64;
}

/// `PERF_FORMAT_*` bits of `read_format`.
pub mod read_format {
    use perf_event_open_sys::bindings as b;
    /// Time the event was enabled.
    pub const TOTAL_TIME_ENABLED: u64 = b::PERF_FORMAT_TOTAL_TIME_ENABLED as u64;
    /// Time the event was running.
    pub const TOTAL_TIME_RUNNING: u64 = b::PERF_FORMAT_TOTAL_TIME_RUNNING as u64;
    /// Event id per value.
    pub const ID: u64 = b::PERF_FORMAT_ID as u64;
    /// Every member of the group.
    pub const GROUP: u64 = b::PERF_FORMAT_GROUP as u64;
    /// Lost samples per value.
    pub const LOST: u64 = b::PERF_FORMAT_LOST as u64;
}

/// `PERF_SAMPLE_BRANCH_*` bits of `branch_sample_type` that change the layout.
pub mod branch_sample_type {
    use perf_event_open_sys::bindings as b;
    /// A `hw_idx` u64 precedes the entries.
    pub const HW_INDEX: u64 = b::PERF_SAMPLE_BRANCH_HW_INDEX as u64;
    /// A counters u64 per entry follows the entries.
    pub const COUNTERS: u64 = b::PERF_SAMPLE_BRANCH_COUNTERS as u64;
}

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

    /// The layout fields of an attr, in native byte order.
    pub fn from_attr(attr: &b::perf_event_attr) -> Self {
        RecordParseInfo {
            sample_type: attr.sample_type,
            read_format: attr.read_format,
            sample_id_all: attr.sample_id_all() != 0,
            sample_regs_user: attr.sample_regs_user,
            sample_regs_intr: attr.sample_regs_intr,
            branch_sample_type: attr.branch_sample_type,
            endianness: Endianness::NATIVE,
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
        let at = if record.header.record_type == PERF_RECORD_SAMPLE {
            usize::from(self.in_sample?) * 8
        } else {
            let back = usize::from(self.from_end?) * 8;
            record.body.len().checked_sub(back)?
        };
        let bytes = record.body.read_array::<8>(at)?;
        Some(endianness.u64(bytes))
    }
}
