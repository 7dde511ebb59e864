//! PERF_RECORD_SAMPLE.
//!
//! Parsing walks the whole sample once, so a malformed sample is an error at
//! parse time, but keeps it small: the fixed fields before the call chain are
//! decoded into a few words, and every later field is remembered by its
//! offset and decoded when asked for. Variable-length fields (call chain,
//! raw data, branch stack, registers, user stack, AUX snapshot) are views of
//! the record bytes. Nothing is allocated or copied.

use super::cursor::{Cursor, Endianness};
use super::error::{ParseError, RecordType};
use super::info::{
    branch_sample_type as bst, read_format as rf, sample_type as st, RecordParseInfo,
};
use super::views::{BranchStack, ReadGroupMembers, ReadValues, Regs, U64Array, UserStack, Weight};
use super::{CpuMode, RecordHeader};
use crate::abi::record_type;
use crate::raw::RawData;
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

// Slots of the tail offsets.
const T_READ: usize = 0;
const T_RAW: usize = 1;
const T_BRANCH: usize = 2;
const T_REGS_USER: usize = 3;
const T_STACK_USER: usize = 4;
const T_WEIGHT: usize = 5;
const T_DATA_SRC: usize = 6;
const T_TRANSACTION: usize = 7;
const T_REGS_INTR: usize = 8;
const T_PHYS_ADDR: usize = 9;
const T_CGROUP: usize = 10;
const T_DATA_PAGE_SIZE: usize = 11;
const T_CODE_PAGE_SIZE: usize = 12;
const T_AUX: usize = 13;
const T_LEN: usize = 14;
const ABSENT: u16 = u16::MAX;

/// The `sample_type` bit of each tail slot (after READ, in record order) and
/// the field name errors give for the fixed-size ones.
const TAIL_FIELDS: [(u64, &str); T_LEN] = [
    (st::READ, "read"),
    (st::RAW, "raw"),
    (st::BRANCH_STACK, "branch_stack"),
    (st::REGS_USER, "regs_user"),
    (st::STACK_USER, "stack_user"),
    (st::WEIGHT | st::WEIGHT_STRUCT, "weight"),
    (st::DATA_SRC, "data_src"),
    (st::TRANSACTION, "transaction"),
    (st::REGS_INTR, "regs_intr"),
    (st::PHYS_ADDR, "phys_addr"),
    (st::CGROUP, "cgroup"),
    (st::DATA_PAGE_SIZE, "data_page_size"),
    (st::CODE_PAGE_SIZE, "code_page_size"),
    (st::AUX, "aux"),
];

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

#[inline(always)]
fn opt_u64(
    c: &mut Cursor<'_>,
    t: u64,
    bit: u64,
    field: &'static str,
) -> Result<Option<u64>, ParseError> {
    if t & bit != 0 {
        c.u64(field).map(Some)
    } else {
        Ok(None)
    }
}

/// Parses counter values laid out by `read_format`.
pub(crate) fn parse_read<'a>(
    c: &mut Cursor<'a>,
    read_format: u64,
) -> Result<ReadValues<'a>, ParseError> {
    if read_format & rf::GROUP != 0 {
        let nr = c.u64("read.nr")?;
        let time_enabled = opt_u64(c, read_format, rf::TOTAL_TIME_ENABLED, "read.time_enabled")?;
        let time_running = opt_u64(c, read_format, rf::TOTAL_TIME_RUNNING, "read.time_running")?;
        let stride = ReadGroupMembers::stride(read_format);
        let data = c.array_view(nr, stride, "read.values")?;
        Ok(ReadValues::Group {
            time_enabled,
            time_running,
            members: ReadGroupMembers {
                data,
                order: c.order,
                read_format,
            },
        })
    } else {
        let value = c.u64("read.value")?;
        let time_enabled = opt_u64(c, read_format, rf::TOTAL_TIME_ENABLED, "read.time_enabled")?;
        let time_running = opt_u64(c, read_format, rf::TOTAL_TIME_RUNNING, "read.time_running")?;
        let id = opt_u64(c, read_format, rf::ID, "read.id")?;
        let lost = opt_u64(c, read_format, rf::LOST, "read.lost")?;
        Ok(ReadValues::Single {
            value,
            time_enabled,
            time_running,
            id,
            lost,
        })
    }
}

fn parse_regs<'a>(
    c: &mut Cursor<'a>,
    mask: u64,
    field: &'static str,
    values: &'static str,
) -> Result<Regs<'a>, ParseError> {
    let abi = c.u64(field)?;
    let data = if abi == 0 {
        RawData::Single(&[])
    } else {
        c.array_view(u64::from(mask.count_ones()), 8, values)?
    };
    Ok(Regs {
        abi,
        mask,
        values: U64Array::new(data, c.order),
    })
}

fn parse_branch<'a>(
    c: &mut Cursor<'a>,
    branch_sample_type: u64,
) -> Result<BranchStack<'a>, ParseError> {
    let nr = c.u64("branch_stack.nr")?;
    let hw_idx = opt_u64(c, branch_sample_type, bst::HW_INDEX, "branch_stack.hw_idx")?;
    let entries = c.array_view(nr, 24, "branch_stack.entries")?;
    let counters = if branch_sample_type & bst::COUNTERS != 0 {
        Some(U64Array::new(
            c.array_view(nr, 8, "branch_stack.counters")?,
            c.order,
        ))
    } else {
        None
    };
    Ok(BranchStack {
        hw_idx,
        entries,
        counters,
        order: c.order,
    })
}

fn parse_stack<'a>(c: &mut Cursor<'a>) -> Result<UserStack<'a>, ParseError> {
    let size = c.u64("stack_user.size")?;
    let data = c.array_view(size, 1, "stack_user.data")?;
    let dyn_size = if size != 0 {
        c.u64("stack_user.dyn_size")?
    } else {
        0
    };
    Ok(UserStack { data, dyn_size })
}

fn parse_sized<'a>(
    c: &mut Cursor<'a>,
    wide: bool,
    size_field: &'static str,
    data_field: &'static str,
) -> Result<RawData<'a>, ParseError> {
    let size = if wide {
        c.u64(size_field)?
    } else {
        u64::from(c.u32(size_field)?)
    };
    c.array_view(size, 1, data_field)
}

/// Fields that are not part of the fixed-size head, call chain or READ.
const TAIL: u64 = !(st::IDENTIFIER
    | st::IP
    | st::TID
    | st::TIME
    | st::ADDR
    | st::ID
    | st::STREAM_ID
    | st::CPU
    | st::PERIOD
    | st::READ
    | st::CALLCHAIN);

/// A head slot the event did not ask for.
pub(super) const NO_WORD: u8 = u8::MAX;

/// Where the fixed-size fields of one event's samples sit, worked out once
/// from its [`RecordParseInfo`] so that [`SampleLayout::parse_into`] reads them at
/// known offsets instead of walking the bitmask field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SampleLayout {
    info: RecordParseInfo,
    /// Body offset of each head word (by slot), or [`NO_WORD`].
    words: [u8; 8],
    /// Body offset of the READ values, or [`NO_WORD`].
    read: u8,
    /// Bytes of the fixed-size fields: the call chain's `nr` comes next.
    prefix: u16,
    /// False when a variable-size field (a group READ) comes before the call
    /// chain; such samples take the general path.
    fixed: bool,
}

impl SampleLayout {
    pub(crate) const fn new(info: &RecordParseInfo) -> SampleLayout {
        let t = info.sample_type;
        let mut words = [NO_WORD; 8];
        let mut off = 0u16;
        // In record order; ID after IDENTIFIER, so ID's word wins the shared
        // slot as in the general parser (the kernel writes the same value).
        let order = [
            (st::IDENTIFIER, H_ID),
            (st::IP, H_IP),
            (st::TID, H_TID),
            (st::TIME, H_TIME),
            (st::ADDR, H_ADDR),
            (st::ID, H_ID),
            (st::STREAM_ID, H_STREAM_ID),
            (st::CPU, H_CPU),
            (st::PERIOD, H_PERIOD),
        ];
        let mut i = 0;
        while i < order.len() {
            let (bit, slot) = order[i];
            if t & bit != 0 {
                words[slot] = off as u8;
                off += 8;
            }
            i += 1;
        }
        let mut read = NO_WORD;
        let mut fixed = true;
        if t & st::READ != 0 {
            let f = info.read_format;
            if f & rf::GROUP != 0 {
                fixed = false;
            } else {
                read = off as u8;
                let extra = rf::TOTAL_TIME_ENABLED | rf::TOTAL_TIME_RUNNING | rf::ID | rf::LOST;
                off += 8 * (1 + (f & extra).count_ones() as u16);
            }
        }
        SampleLayout {
            info: *info,
            words,
            read,
            prefix: off,
            fixed,
        }
    }

    pub(crate) fn info(&self) -> &RecordParseInfo {
        &self.info
    }

    /// Parses the body of a SAMPLE record: the same result as the general
    /// parser, faster when the body is contiguous and no variable-size field
    /// precedes the call chain (every other case, and every error, is left to
    /// the general parser, so errors are the same too).
    ///
    /// The sample goes to `wrap` where it is made, so that it is built in
    /// the caller's result type (`Record::Sample`, `Some`) rather than built
    /// once and then copied into it.
    #[inline(always)]
    pub(crate) fn parse_into<'a, T>(
        &self,
        body: RawData<'a>,
        order: Endianness,
        misc: u16,
        wrap: impl FnOnce(SampleRecord<'a>) -> T,
    ) -> Result<T, ParseError> {
        if let RawData::Single(b) = body {
            if let Some((callchain, end)) = self.extent(b, order) {
                if self.info.sample_type & TAIL == 0 || self.tail_fits(b, end, order) {
                    return Ok(wrap(self.sample(b, callchain, end, misc, order)));
                }
            }
        }
        self.parse_general(body, order, misc).map(wrap)
    }

    /// The sample of contiguous body `b` whose extent (see
    /// [`SampleLayout::extent`]) was checked, tail included.
    #[inline(always)]
    pub(super) fn sample<'a>(
        &self,
        b: &'a [u8],
        callchain: (u16, u16),
        end: u16,
        misc: u16,
        order: Endianness,
    ) -> SampleRecord<'a> {
        SampleRecord {
            body: RawData::Single(b),
            sample_type: self.info.sample_type,
            regs_user_mask: self.info.sample_regs_user,
            regs_intr_mask: self.info.sample_regs_intr,
            words: self.words,
            callchain,
            tail_start: end,
            misc,
            read_format: read_format_bits(self.info.read_format),
            branch_bits: branch_bits(self.info.branch_sample_type),
            read_at: self.read,
            order,
        }
    }

    /// Whether samples of this layout can take a fast path: no
    /// variable-size field before the call chain.
    #[inline(always)]
    pub(super) fn is_fixed(&self) -> bool {
        self.fixed
    }

    /// Body offset of the head word of each slot (`H_*`), or [`NO_WORD`].
    #[inline(always)]
    pub(super) fn words(&self) -> &[u8; 8] {
        &self.words
    }

    /// Bytes of the fixed-size fields before the call chain.
    #[inline(always)]
    pub(super) fn prefix(&self) -> usize {
        usize::from(self.prefix)
    }

    /// Whether the event has fields after the call chain (which the fast
    /// paths check with [`SampleLayout::tail_fits`]).
    #[inline(always)]
    pub(super) fn has_tail(&self) -> bool {
        self.info.sample_type & TAIL != 0
    }

    #[cold]
    #[inline(never)]
    pub(super) fn parse_general<'a>(
        &self,
        body: RawData<'a>,
        order: Endianness,
        misc: u16,
    ) -> Result<SampleRecord<'a>, ParseError> {
        let mut c = Cursor::new(
            body,
            RecordHeader::SIZE,
            order,
            RecordType(record_type::SAMPLE),
        );
        SampleRecord::parse(&mut c, body, &self.info, misc)
    }

    /// The fast path's checks on a contiguous body: the call chain's offset
    /// and length, and where the fields after it start; `None` when the
    /// general parser must decide (it then finds the same sample, or the
    /// error).
    #[inline(always)]
    fn extent(&self, b: &[u8], order: Endianness) -> Option<((u16, u16), u16)> {
        if !self.fixed || b.len() >= usize::from(ABSENT) {
            return None;
        }
        let prefix = usize::from(self.prefix);
        if self.info.sample_type & st::CALLCHAIN == 0 {
            // One length check for every fixed-size field; they are decoded
            // when asked for.
            return (b.len() >= prefix).then_some(((0, 0), prefix as u16));
        }
        // The same check, with the call chain's count.
        let (_, rest) = b.split_at_checked(prefix)?;
        let (nr, ips) = rest.split_first_chunk::<8>()?;
        let nr = order.u64(*nr);
        // No overflow: the count is compared with what is left, in elements.
        if nr > (ips.len() / 8) as u64 {
            return None;
        }
        let at = prefix + 8;
        let end = at + nr as usize * 8;
        // All fit a u16: the body is shorter than 64 KiB.
        Some(((at as u16, nr as u16), end as u16))
    }

    /// Whether the fields after the call chain, from `end`, fit in `b`.
    #[inline(never)]
    pub(super) fn tail_fits(&self, b: &[u8], end: u16, order: Endianness) -> bool {
        let end = usize::from(end);
        let Some(rest) = b.get(end..) else {
            return false;
        };
        let mut c = Cursor::new(
            RawData::Single(rest),
            RecordHeader::SIZE + end,
            order,
            RecordType(record_type::SAMPLE),
        );
        let i = &self.info;
        walk_tail(
            &mut c,
            i.sample_type,
            i.sample_regs_user,
            i.sample_regs_intr,
            branch_bits(i.branch_sample_type),
            T_LEN,
        )
        .is_ok()
    }
}

/// Walks the fields after the call chain from `c` (at the first of them),
/// checking they fit. Stops at the field of slot `stop` and says whether the
/// event has it; pass [`T_LEN`] to walk them all.
fn walk_tail(
    c: &mut Cursor<'_>,
    t: u64,
    regs_user_mask: u64,
    regs_intr_mask: u64,
    branch: u8,
    stop: usize,
) -> Result<bool, ParseError> {
    // READ comes before the call chain: not walked here.
    for (slot, &(bit, field)) in TAIL_FIELDS.iter().enumerate().skip(T_RAW) {
        let here = t & bit != 0;
        if slot == stop {
            return Ok(here);
        }
        if !here {
            continue;
        }
        match slot {
            T_RAW => drop(parse_sized(c, false, "raw.size", "raw.data")?),
            T_BRANCH => drop(parse_branch(c, branch_sample_type_of(branch))?),
            T_REGS_USER => drop(parse_regs(
                c,
                regs_user_mask,
                "regs_user.abi",
                "regs_user.regs",
            )?),
            T_STACK_USER => drop(parse_stack(c)?),
            T_REGS_INTR => drop(parse_regs(
                c,
                regs_intr_mask,
                "regs_intr.abi",
                "regs_intr.regs",
            )?),
            T_AUX => drop(parse_sized(c, true, "aux.size", "aux.data")?),
            _ => drop(c.u64(field)?),
        }
    }
    Ok(false)
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
