//! PERF_RECORD_SAMPLE.
//!
//! Parsing walks the whole sample once, so a malformed sample is an error at
//! parse time, but keeps it small: the fixed fields before the call chain are
//! decoded into a few words, and every later field is remembered by its
//! offset and decoded when asked for. Variable-length fields (call chain,
//! raw data, branch stack, registers, user stack, AUX snapshot) are views of
//! the record bytes. Nothing is allocated or copied.

mod fields;
mod layout;

pub(crate) use fields::parse_read;
pub(crate) use layout::SampleLayout;

use super::cursor::{Cursor, Endianness};
use super::error::{ParseError, RecordType};
use super::info::{branch_sample_type as bst, sample_type as st, RecordParseInfo};
use super::views::{BranchStack, ReadValues, Regs, U64Array, UserStack, Weight};
use super::{CpuMode, RecordHeader};
use crate::abi::record_type;
use crate::raw::RawData;
use fields::*;
use std::fmt;
// Slots of the head words.
pub(super) const H_ID: usize = 0;
pub(super) const H_IP: usize = 1;
pub(super) const H_TID: usize = 2;
pub(super) const H_TIME: usize = 3;
pub(super) const H_ADDR: usize = 4;
pub(super) const H_STREAM_ID: usize = 5;
pub(super) const H_CPU: usize = 6;
pub(super) const H_PERIOD: usize = 7;

/// A head slot the event did not ask for.
pub(super) const NO_WORD: u8 = u8::MAX;

const ABSENT: u16 = u16::MAX;

/// A sample: the fields `sample_type` asked for.
///
/// Accessors return `None` for fields the event did not ask for. The record
/// was validated when parsed, so accessors do not fail.
///
/// It is small (80 bytes on 64-bit targets, see the size test) so that a drain loop
/// moves it cheaply: fixed fields are decoded from the record bytes when
/// asked for, at offsets found when parsing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SampleRecord<'a> {
    body: RawData<'a>,
    sample_type: u64,
    /// The attr's register masks (the tail's layout depends on them).
    regs_user_mask: u64,
    regs_intr_mask: u64,
    /// Offsets in `body` of the head words, by slot, or [`NO_WORD`].
    words: [u8; 8],
    /// Offset of the first call chain address in `body`, and their number.
    callchain: (u16, u16),
    /// Offset in `body` of the first field after the call chain (and READ).
    tail_start: u16,
    misc: u16,
    /// The attr's `read_format` (every PERF_FORMAT_* bit fits a byte).
    read_format: u8,
    /// The layout bits of the attr's `branch_sample_type` (see [`branch_bits`]).
    branch_bits: u8,
    /// Offset in `body` of the READ values, or [`NO_WORD`].
    read_at: u8,
    order: Endianness,
}

/// `branch_sample_type` packed into the two bits that change the layout.
#[inline(always)]
const fn branch_bits(branch_sample_type: u64) -> u8 {
    (branch_sample_type & bst::HW_INDEX != 0) as u8
        | (((branch_sample_type & bst::COUNTERS != 0) as u8) << 1)
}

/// The inverse of [`branch_bits`], keeping only the layout bits.
#[inline(always)]
const fn branch_sample_type_of(bits: u8) -> u64 {
    (if bits & 1 != 0 { bst::HW_INDEX } else { 0 })
        | (if bits & 2 != 0 { bst::COUNTERS } else { 0 })
}

/// `read_format` as stored in a sample (the bits above PERF_FORMAT_LOST are
/// unknown to this parser and ignored by it).
#[inline(always)]
const fn read_format_bits(read_format: u64) -> u8 {
    (read_format & 0xff) as u8
}

/// Notes where the head word of `slot` sits and steps over it.
#[inline(always)]
fn word(
    c: &mut Cursor<'_>,
    words: &mut [u8; 8],
    slot: usize,
    t: u64,
    bit: u64,
    field: &'static str,
) -> Result<(), ParseError> {
    if t & bit != 0 {
        // At most 9 words precede it: the offset fits a byte.
        words[slot] = (c.offset() - RecordHeader::SIZE) as u8;
        c.u64(field)?;
    }
    Ok(())
}

impl<'a> SampleRecord<'a> {
    /// Parses the body of a SAMPLE record (the bytes after the header).
    #[inline]
    pub(crate) fn parse(
        c: &mut Cursor<'a>,
        body: RawData<'a>,
        info: &RecordParseInfo,
        misc: u16,
    ) -> Result<Self, ParseError> {
        if body.len() >= usize::from(ABSENT) {
            // Only a hand-made RawRecord can be this long: the header's size
            // is a u16. Offsets below are u16.
            return Err(ParseError::BadSize {
                record: RecordType(record_type::SAMPLE),
                size: u16::MAX,
                available: body.len(),
            });
        }
        let t = info.sample_type;
        let mut words = [NO_WORD; 8];
        word(c, &mut words, H_ID, t, st::IDENTIFIER, "identifier")?;
        word(c, &mut words, H_IP, t, st::IP, "ip")?;
        if t & st::TID != 0 {
            words[H_TID] = (c.offset() - RecordHeader::SIZE) as u8;
            c.u32("pid")?;
            c.u32("tid")?;
        }
        word(c, &mut words, H_TIME, t, st::TIME, "time")?;
        word(c, &mut words, H_ADDR, t, st::ADDR, "addr")?;
        word(c, &mut words, H_ID, t, st::ID, "id")?;
        word(c, &mut words, H_STREAM_ID, t, st::STREAM_ID, "stream_id")?;
        if t & st::CPU != 0 {
            words[H_CPU] = (c.offset() - RecordHeader::SIZE) as u8;
            c.u32("cpu")?;
            c.u32("cpu.res")?;
        }
        word(c, &mut words, H_PERIOD, t, st::PERIOD, "period")?;
        let mut sample = SampleRecord {
            body,
            sample_type: t,
            regs_user_mask: info.sample_regs_user,
            regs_intr_mask: info.sample_regs_intr,
            words,
            callchain: (0, 0),
            tail_start: 0,
            misc,
            read_format: read_format_bits(info.read_format),
            branch_bits: branch_bits(info.branch_sample_type),
            read_at: NO_WORD,
            order: c.order,
        };
        if t & st::READ != 0 {
            // At most 9 head words come first: the offset fits a byte.
            sample.read_at = sample.here(c) as u8;
            parse_read(c, u64::from(sample.read_format))?;
        }
        if t & st::CALLCHAIN != 0 {
            let nr = c.u64("callchain.nr")?;
            let at = sample.here(c);
            c.array_view(nr, 8, "callchain.ips")?;
            // The view fit in a record of at most 64 KiB, so nr fits a u16.
            sample.callchain = (at, nr as u16);
        }
        sample.tail_start = sample.here(c);
        if t & TAIL != 0 {
            sample.parse_tail(c)?;
        }
        Ok(sample)
    }

    /// Offset of the cursor in `body` (records are at most 64 KiB).
    #[inline(always)]
    fn here(&self, c: &Cursor<'_>) -> u16 {
        (c.offset() - RecordHeader::SIZE) as u16
    }

    /// [`walk_tail`] with this sample's layout.
    fn walk_tail(&self, c: &mut Cursor<'a>, stop: usize) -> Result<bool, ParseError> {
        walk_tail(
            c,
            self.sample_type,
            self.regs_user_mask,
            self.regs_intr_mask,
            self.branch_bits,
            stop,
        )
    }

    /// Checks that the fields after the call chain fit.
    #[inline(never)]
    fn parse_tail(&self, c: &mut Cursor<'a>) -> Result<(), ParseError> {
        self.walk_tail(c, T_LEN).map(drop)
    }

    /// The `N` bytes at the head word of `slot`, or `None` when the event
    /// has no such field. The parse checked that they are there.
    #[inline(always)]
    fn head_bytes<const N: usize>(&self, slot: usize, skip: usize) -> Option<[u8; N]> {
        let at = self.words[slot];
        if at == NO_WORD {
            return None;
        }
        let at = usize::from(at) + skip;
        match self.body {
            RawData::Single(b) => b.get(at..at + N)?.try_into().ok(),
            split => split.read_array::<N>(at),
        }
    }

    #[inline(always)]
    fn head_word(&self, slot: usize) -> Option<u64> {
        self.head_bytes::<8>(slot, 0).map(|b| self.order.u64(b))
    }

    #[inline(always)]
    fn head_u32(&self, slot: usize, skip: usize) -> Option<u32> {
        self.head_bytes::<4>(slot, skip).map(|b| self.order.u32(b))
    }

    /// A cursor at a field after the head words, or `None` when the event
    /// has no such field. Fields after the call chain are found by walking
    /// them again (the parse checked that they fit).
    fn at(&self, slot: usize) -> Option<Cursor<'a>> {
        if slot == T_READ {
            if self.read_at == NO_WORD {
                return None;
            }
            return self.cursor_at(usize::from(self.read_at));
        }
        let mut c = self.cursor_at(usize::from(self.tail_start))?;
        self.walk_tail(&mut c, slot).ok()?.then_some(c)
    }

    /// A cursor at offset `off` of the body.
    fn cursor_at(&self, off: usize) -> Option<Cursor<'a>> {
        let rest = self.body.slice(off, self.body.len().checked_sub(off)?)?;
        Some(Cursor::new(
            rest,
            RecordHeader::SIZE + off,
            self.order,
            RecordType(record_type::SAMPLE),
        ))
    }

    fn tail_u64(&self, slot: usize) -> Option<u64> {
        self.at(slot)?.u64("").ok()
    }

    /// The event's `sample_type` this sample was parsed with.
    pub fn sample_type(&self) -> u64 {
        self.sample_type
    }

    /// The bytes after the header.
    pub fn body(&self) -> RawData<'a> {
        self.body
    }

    /// Where the sample was taken (the header's cpumode bits).
    pub fn cpumode(&self) -> CpuMode {
        CpuMode::from_misc(self.misc)
    }

    /// `PERF_RECORD_MISC_EXACT_IP`: `ip` is the exact instruction.
    pub fn exact_ip(&self) -> bool {
        self.misc & super::misc::EXACT_IP != 0
    }

    /// PERF_SAMPLE_IDENTIFIER or PERF_SAMPLE_ID (the same id).
    #[inline]
    pub fn id(&self) -> Option<u64> {
        self.head_word(H_ID)
    }
    /// PERF_SAMPLE_IP.
    #[inline]
    pub fn ip(&self) -> Option<u64> {
        self.head_word(H_IP)
    }
    /// PERF_SAMPLE_TID: process id.
    #[inline]
    pub fn pid(&self) -> Option<u32> {
        self.head_u32(H_TID, 0)
    }
    /// PERF_SAMPLE_TID: thread id.
    #[inline]
    pub fn tid(&self) -> Option<u32> {
        self.head_u32(H_TID, 4)
    }
    /// PERF_SAMPLE_TIME.
    #[inline]
    pub fn time(&self) -> Option<u64> {
        self.head_word(H_TIME)
    }
    /// PERF_SAMPLE_ADDR.
    #[inline]
    pub fn addr(&self) -> Option<u64> {
        self.head_word(H_ADDR)
    }
    /// PERF_SAMPLE_STREAM_ID.
    #[inline]
    pub fn stream_id(&self) -> Option<u64> {
        self.head_word(H_STREAM_ID)
    }
    /// PERF_SAMPLE_CPU.
    #[inline]
    pub fn cpu(&self) -> Option<u32> {
        self.head_u32(H_CPU, 0)
    }
    /// PERF_SAMPLE_PERIOD.
    #[inline]
    pub fn period(&self) -> Option<u64> {
        self.head_word(H_PERIOD)
    }
    /// PERF_SAMPLE_READ: counter values laid out by `read_format`.
    pub fn read(&self) -> Option<ReadValues<'a>> {
        parse_read(&mut self.at(T_READ)?, u64::from(self.read_format)).ok()
    }
    /// PERF_SAMPLE_CALLCHAIN: addresses, innermost first, with
    /// `PERF_CONTEXT_*` markers (values >= `PERF_CONTEXT_MAX`) between the
    /// kernel and user parts.
    #[inline]
    pub fn callchain(&self) -> Option<U64Array<'a>> {
        if self.sample_type & st::CALLCHAIN == 0 {
            return None;
        }
        let (off, nr) = self.callchain;
        let data = self.body.slice(usize::from(off), usize::from(nr) * 8)?;
        Some(U64Array::new(data, self.order))
    }
    /// PERF_SAMPLE_RAW: the raw bytes (tracepoint format, with padding).
    pub fn raw(&self) -> Option<RawData<'a>> {
        parse_sized(&mut self.at(T_RAW)?, false, "", "").ok()
    }
    /// PERF_SAMPLE_BRANCH_STACK.
    pub fn branch_stack(&self) -> Option<BranchStack<'a>> {
        parse_branch(
            &mut self.at(T_BRANCH)?,
            branch_sample_type_of(self.branch_bits),
        )
        .ok()
    }
    /// PERF_SAMPLE_REGS_USER.
    pub fn regs_user(&self) -> Option<Regs<'a>> {
        parse_regs(&mut self.at(T_REGS_USER)?, self.regs_user_mask, "", "").ok()
    }
    /// PERF_SAMPLE_STACK_USER.
    pub fn stack_user(&self) -> Option<UserStack<'a>> {
        parse_stack(&mut self.at(T_STACK_USER)?).ok()
    }
    /// PERF_SAMPLE_WEIGHT or PERF_SAMPLE_WEIGHT_STRUCT.
    pub fn weight(&self) -> Option<Weight> {
        let full = self.tail_u64(T_WEIGHT)?;
        Some(Weight {
            full,
            is_struct: self.sample_type & st::WEIGHT_STRUCT != 0,
        })
    }
    /// PERF_SAMPLE_DATA_SRC (`perf_mem_data_src`).
    pub fn data_src(&self) -> Option<u64> {
        self.tail_u64(T_DATA_SRC)
    }
    /// PERF_SAMPLE_TRANSACTION.
    pub fn transaction(&self) -> Option<u64> {
        self.tail_u64(T_TRANSACTION)
    }
    /// PERF_SAMPLE_REGS_INTR.
    pub fn regs_intr(&self) -> Option<Regs<'a>> {
        parse_regs(&mut self.at(T_REGS_INTR)?, self.regs_intr_mask, "", "").ok()
    }
    /// PERF_SAMPLE_PHYS_ADDR.
    pub fn phys_addr(&self) -> Option<u64> {
        self.tail_u64(T_PHYS_ADDR)
    }
    /// PERF_SAMPLE_CGROUP: cgroup id (CGROUP records give its path).
    pub fn cgroup(&self) -> Option<u64> {
        self.tail_u64(T_CGROUP)
    }
    /// PERF_SAMPLE_DATA_PAGE_SIZE.
    pub fn data_page_size(&self) -> Option<u64> {
        self.tail_u64(T_DATA_PAGE_SIZE)
    }
    /// PERF_SAMPLE_CODE_PAGE_SIZE.
    pub fn code_page_size(&self) -> Option<u64> {
        self.tail_u64(T_CODE_PAGE_SIZE)
    }
    /// PERF_SAMPLE_AUX: a snapshot of the AUX area.
    pub fn aux(&self) -> Option<RawData<'a>> {
        parse_sized(&mut self.at(T_AUX)?, true, "", "").ok()
    }
}

impl fmt::Debug for SampleRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SampleRecord")
            .field("cpumode", &self.cpumode())
            .field("exact_ip", &self.exact_ip())
            .field("id", &self.id())
            .field("ip", &self.ip())
            .field("pid", &self.pid())
            .field("tid", &self.tid())
            .field("time", &self.time())
            .field("addr", &self.addr())
            .field("stream_id", &self.stream_id())
            .field("cpu", &self.cpu())
            .field("period", &self.period())
            .field("read", &self.read())
            .field("callchain", &self.callchain())
            .field("raw", &self.raw())
            .field("branch_stack", &self.branch_stack())
            .field("regs_user", &self.regs_user())
            .field("stack_user", &self.stack_user())
            .field("weight", &self.weight())
            .field("data_src", &self.data_src())
            .field("transaction", &self.transaction())
            .field("regs_intr", &self.regs_intr())
            .field("phys_addr", &self.phys_addr())
            .field("cgroup", &self.cgroup())
            .field("data_page_size", &self.data_page_size())
            .field("code_page_size", &self.code_page_size())
            .field("aux", &self.aux())
            .finish()
    }
}
