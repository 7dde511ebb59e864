//! Parsing of perf records: the bytes a ring buffer or a perf.data file holds.
//!
//! [`RawRecord::from_data`] reads the 8-byte header of one record (possibly
//! split at the ring's seam, see [`RawData`]); [`RawRecord::parse`] turns it
//! into a typed [`Record`], given the layout fields of its event
//! ([`RecordParseInfo`]). Variable-length fields stay views of the input, so
//! parsing copies nothing and allocates nothing. Records may be in either byte
//! order ([`Endianness`]). To parse many records of one event, as a ring
//! drain does, make a [`RecordParser`] once: it works the sample layout out
//! up front and has a samples-only fast path
//! ([`RecordParser::parse_sample`]) with the same results, and a decoder
//! that reads every fixed-size field into a [`SampleHead`] in one pass
//! ([`RecordParser::decode_sample`]).
//!
//! This module does no I/O and holds no state: it neither reads rings nor
//! perf.data headers, nor maps ids to events (see [`IdPosition`] for the one
//! helper that needs). Unknown record types come back as
//! [`Record::Unknown`]; truncated or malformed records are a [`ParseError`],
//! never a panic.
//!
//! Written here rather than taken from `linux-perf-event-reader`: that crate
//! (0.10) parses PERF_SAMPLE_READ with the group and single layouts swapped,
//! skips neither PERF_SAMPLE_CGROUP nor WEIGHT_STRUCT (so every later field is
//! misread), reads the AUX sample before the page sizes, and returns NAMESPACES,
//! KSYMBOL, BPF_EVENT, CGROUP, TEXT_POKE, AUX, ITRACE_START, LOST_SAMPLES and
//! READ records only as raw bytes.

mod cursor;
mod decode;
mod error;
mod info;
mod other;
mod parser;
mod sample;
#[cfg(test)]
mod tests;
mod views;

pub use cursor::Endianness;
pub use decode::{DecodedSample, SampleHead};
pub use error::{ParseError, RecordType};
pub use info::{branch_sample_type, read_format, sample_type, IdPosition, RecordParseInfo};
pub use other::{
    AuxOutputHwIdRecord, AuxRecord, BpfEventRecord, CgroupRecord, CommRecord, ForkExitRecord,
    ItraceStartRecord, KsymbolRecord, LostRecord, LostSamplesRecord, Mmap2FileId, Mmap2Record,
    MmapRecord, NamespacesRecord, ReadRecord, SampleId, SwitchCpuWideRecord, SwitchRecord,
    TextPokeRecord, ThrottleRecord,
};
pub use parser::RecordParser;
pub use sample::SampleRecord;
pub use views::{
    BranchEntry, BranchIter, BranchStack, NamespaceEntries, NamespaceEntry, NamespaceIter,
    ReadGroupIter, ReadGroupMember, ReadGroupMembers, ReadValues, Regs, U64Array, U64Iter,
    UserStack, Weight,
};

pub use crate::abi::misc;
use crate::abi::record_type;
use crate::raw::RawData;
use cursor::Cursor;

/// Where the CPU was when the record was made (`misc & CPUMODE_MASK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CpuMode {
    /// Unknown.
    Unknown,
    /// Kernel.
    Kernel,
    /// User space.
    User,
    /// Hypervisor.
    Hypervisor,
    /// Guest kernel.
    GuestKernel,
    /// Guest user space.
    GuestUser,
    /// A value this parser does not know (6 or 7).
    Other(u8),
}

impl CpuMode {
    /// Decodes the cpumode bits of a header's misc.
    #[inline]
    pub fn from_misc(misc: u16) -> CpuMode {
        match misc & misc::CPUMODE_MASK {
            0 => CpuMode::Unknown,
            1 => CpuMode::Kernel,
            2 => CpuMode::User,
            3 => CpuMode::Hypervisor,
            4 => CpuMode::GuestKernel,
            5 => CpuMode::GuestUser,
            other => CpuMode::Other(other as u8),
        }
    }
}

/// The 8-byte `perf_event_header`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordHeader {
    /// `PERF_RECORD_*`.
    pub record_type: u32,
    /// `PERF_RECORD_MISC_*` bits (see [`misc`]).
    pub misc: u16,
    /// Size of the whole record, header included.
    pub size: u16,
}

impl RecordHeader {
    /// Size of the header in bytes.
    pub const SIZE: usize = 8;

    /// Reads a header from the first 8 bytes of `data`, or `None` when there
    /// are fewer.
    #[inline(always)]
    pub fn parse(data: RawData<'_>, endianness: Endianness) -> Option<RecordHeader> {
        let b = data.read_array::<8>(0)?;
        Some(RecordHeader {
            record_type: endianness.u32([b[0], b[1], b[2], b[3]]),
            misc: endianness.u16([b[4], b[5]]),
            size: endianness.u16([b[6], b[7]]),
        })
    }

    /// The cpumode bits of `misc`.
    pub fn cpumode(&self) -> CpuMode {
        CpuMode::from_misc(self.misc)
    }

    /// `PERF_RECORD_MISC_EXACT_IP` (on SAMPLE records).
    pub fn exact_ip(&self) -> bool {
        self.record_type == record_type::SAMPLE && self.misc & misc::EXACT_IP != 0
    }

    /// `PERF_RECORD_MISC_MMAP_DATA` (on MMAP and MMAP2 records).
    pub fn mmap_data(&self) -> bool {
        matches!(self.record_type, record_type::MMAP | record_type::MMAP2)
            && self.misc & misc::MMAP_DATA != 0
    }

    /// `PERF_RECORD_MISC_MMAP_BUILD_ID` (on MMAP2 records).
    pub fn mmap_build_id(&self) -> bool {
        self.record_type == record_type::MMAP2 && self.misc & misc::MMAP_BUILD_ID != 0
    }

    /// `PERF_RECORD_MISC_COMM_EXEC` (on COMM records).
    pub fn comm_exec(&self) -> bool {
        self.record_type == record_type::COMM && self.misc & misc::COMM_EXEC != 0
    }

    /// `PERF_RECORD_MISC_SWITCH_OUT` (on SWITCH records).
    pub fn switch_out(&self) -> bool {
        matches!(
            self.record_type,
            record_type::SWITCH | record_type::SWITCH_CPU_WIDE
        ) && self.misc & misc::SWITCH_OUT != 0
    }

    /// `PERF_RECORD_MISC_SWITCH_OUT_PREEMPT` (on SWITCH records).
    pub fn switch_out_preempt(&self) -> bool {
        matches!(
            self.record_type,
            record_type::SWITCH | record_type::SWITCH_CPU_WIDE
        ) && self.misc & misc::SWITCH_OUT_PREEMPT != 0
    }
}

/// One record: its header and the bytes after it, not yet parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRecord<'a> {
    /// The header.
    pub header: RecordHeader,
    /// The `header.size - 8` bytes after the header.
    pub body: RawData<'a>,
    /// Byte order of the record.
    pub endianness: Endianness,
}

impl<'a> RawRecord<'a> {
    /// Splits the record at the start of `data` into header and body.
    /// `data` may be longer than the record (the rest is ignored) but not
    /// shorter.
    #[inline(always)]
    pub fn from_data(data: RawData<'a>, endianness: Endianness) -> Result<Self, ParseError> {
        #[cold]
        #[inline(never)]
        fn no_header(available: usize) -> ParseError {
            ParseError::Truncated {
                record: RecordType(0),
                field: "header",
                offset: 0,
                needed: RecordHeader::SIZE,
                available,
            }
        }
        #[cold]
        #[inline(never)]
        fn bad_size(header: RecordHeader, available: usize) -> ParseError {
            ParseError::BadSize {
                record: RecordType(header.record_type),
                size: header.size,
                available,
            }
        }
        let Some(header) = RecordHeader::parse(data, endianness) else {
            return Err(no_header(data.len()));
        };
        let size = usize::from(header.size);
        let body = match size
            .checked_sub(RecordHeader::SIZE)
            .and_then(|n| data.slice(RecordHeader::SIZE, n))
        {
            Some(body) => body,
            None => return Err(bad_size(header, data.len())),
        };
        Ok(RawRecord {
            header,
            body,
            endianness,
        })
    }

    /// The record's type, for error messages and display.
    pub fn record_type(&self) -> RecordType {
        RecordType(self.header.record_type)
    }

    /// Parses the record with the layout of its event. Ignores
    /// `info.endianness` in favour of the record's own.
    #[inline]
    pub fn parse(&self, info: &RecordParseInfo) -> Result<Record<'a>, ParseError> {
        let mut c = Cursor::new(
            self.body,
            RecordHeader::SIZE,
            self.endianness,
            self.record_type(),
        );
        if self.header.record_type == record_type::SAMPLE {
            return SampleRecord::parse(&mut c, self.body, info, self.header.misc)
                .map(Record::Sample);
        }
        other::parse_non_sample(self, info)
    }

    /// The event id, found without parsing the record (see [`IdPosition`]).
    pub fn id(&self, position: &IdPosition) -> Option<u64> {
        position.find_id(self, self.endianness)
    }
}

/// Parses one record from the start of `data` (header included).
#[inline]
pub fn parse_record<'a>(
    data: RawData<'a>,
    info: &RecordParseInfo,
) -> Result<Record<'a>, ParseError> {
    RawRecord::from_data(data, info.endianness)?.parse(info)
}

/// A parsed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    /// PERF_RECORD_SAMPLE.
    Sample(SampleRecord<'a>),
    /// PERF_RECORD_MMAP.
    Mmap(MmapRecord<'a>),
    /// PERF_RECORD_MMAP2.
    Mmap2(Mmap2Record<'a>),
    /// PERF_RECORD_COMM.
    Comm(CommRecord<'a>),
    /// PERF_RECORD_FORK.
    Fork(ForkExitRecord),
    /// PERF_RECORD_EXIT.
    Exit(ForkExitRecord),
    /// PERF_RECORD_LOST.
    Lost(LostRecord),
    /// PERF_RECORD_LOST_SAMPLES.
    LostSamples(LostSamplesRecord),
    /// PERF_RECORD_THROTTLE.
    Throttle(ThrottleRecord),
    /// PERF_RECORD_UNTHROTTLE.
    Unthrottle(ThrottleRecord),
    /// PERF_RECORD_SWITCH.
    Switch(SwitchRecord),
    /// PERF_RECORD_SWITCH_CPU_WIDE.
    SwitchCpuWide(SwitchCpuWideRecord),
    /// PERF_RECORD_NAMESPACES.
    Namespaces(NamespacesRecord<'a>),
    /// PERF_RECORD_KSYMBOL.
    Ksymbol(KsymbolRecord<'a>),
    /// PERF_RECORD_BPF_EVENT.
    BpfEvent(BpfEventRecord),
    /// PERF_RECORD_CGROUP.
    Cgroup(CgroupRecord<'a>),
    /// PERF_RECORD_TEXT_POKE.
    TextPoke(TextPokeRecord<'a>),
    /// PERF_RECORD_AUX.
    Aux(AuxRecord),
    /// PERF_RECORD_ITRACE_START.
    ItraceStart(ItraceStartRecord),
    /// PERF_RECORD_READ.
    Read(ReadRecord<'a>),
    /// PERF_RECORD_AUX_OUTPUT_HW_ID.
    AuxOutputHwId(AuxOutputHwIdRecord),
    /// Any other type (user-space types >= 64 from perf.data, future kernels).
    Unknown {
        /// The header's type.
        record_type: u32,
        /// The header's misc.
        misc: u16,
        /// The bytes after the header.
        data: RawData<'a>,
    },
}

impl Record<'_> {
    /// The `sample_id_all` trailer of a non-sample record (`None` for
    /// samples and unknown types).
    pub fn sample_id(&self) -> Option<&SampleId> {
        Some(match self {
            Record::Sample(_) | Record::Unknown { .. } => return None,
            Record::Mmap(r) => &r.sample_id,
            Record::Mmap2(r) => &r.sample_id,
            Record::Comm(r) => &r.sample_id,
            Record::Fork(r) | Record::Exit(r) => &r.sample_id,
            Record::Lost(r) => &r.sample_id,
            Record::LostSamples(r) => &r.sample_id,
            Record::Throttle(r) | Record::Unthrottle(r) => &r.sample_id,
            Record::Switch(r) => &r.sample_id,
            Record::SwitchCpuWide(r) => &r.sample_id,
            Record::Namespaces(r) => &r.sample_id,
            Record::Ksymbol(r) => &r.sample_id,
            Record::BpfEvent(r) => &r.sample_id,
            Record::Cgroup(r) => &r.sample_id,
            Record::TextPoke(r) => &r.sample_id,
            Record::Aux(r) => &r.sample_id,
            Record::ItraceStart(r) => &r.sample_id,
            Record::Read(r) => &r.sample_id,
            Record::AuxOutputHwId(r) => &r.sample_id,
        })
    }

    /// The record's timestamp: a sample's time, or the trailer's.
    pub fn time(&self) -> Option<u64> {
        match self {
            Record::Sample(s) => s.time(),
            other => other.sample_id().and_then(|s| s.time),
        }
    }
}
