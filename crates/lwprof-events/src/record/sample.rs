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
use super::{CpuMode, RecordHeader, PERF_RECORD_SAMPLE};
use crate::raw::RawData;
use std::fmt;

// Slots of the head words.
const H_ID: usize = 0;
const H_IP: usize = 1;
const H_TID: usize = 2;
const H_TIME: usize = 3;
const H_ADDR: usize = 4;
const H_STREAM_ID: usize = 5;
const H_CPU: usize = 6;
const H_PERIOD: usize = 7;

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

/// A sample: the fields `sample_type` asked for.
///
/// Accessors return `None` for fields the event did not ask for. The record
/// was validated when parsed, so accessors do not fail.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SampleRecord<'a> {
    body: RawData<'a>,
    sample_type: u64,
    head: [u64; 8],
    /// Offset of the first call chain address in `body`, and their number.
    callchain: (u16, u16),
    misc: u16,
    order: Endianness,
    /// Offsets in `body` of the fields after the call chain.
    tail: [u16; T_LEN],
    /// The attr fields the tail's layout depends on.
    read_format: u64,
    regs_user_mask: u64,
    regs_intr_mask: u64,
    branch_sample_type: u64,
}

#[inline(always)]
fn word(
    c: &mut Cursor<'_>,
    head: &mut [u64; 8],
    slot: usize,
    t: u64,
    bit: u64,
    field: &'static str,
) -> Result<(), ParseError> {
    if t & bit != 0 {
        head[slot] = c.u64(field)?;
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
                record: RecordType(PERF_RECORD_SAMPLE),
                size: u16::MAX,
                available: body.len(),
            });
        }
        let t = info.sample_type;
        let mut head = [0u64; 8];
        word(c, &mut head, H_ID, t, st::IDENTIFIER, "identifier")?;
        word(c, &mut head, H_IP, t, st::IP, "ip")?;
        if t & st::TID != 0 {
            let pid = c.u32("pid")?;
            let tid = c.u32("tid")?;
            head[H_TID] = u64::from(pid) | (u64::from(tid) << 32);
        }
        word(c, &mut head, H_TIME, t, st::TIME, "time")?;
        word(c, &mut head, H_ADDR, t, st::ADDR, "addr")?;
        word(c, &mut head, H_ID, t, st::ID, "id")?;
        word(c, &mut head, H_STREAM_ID, t, st::STREAM_ID, "stream_id")?;
        if t & st::CPU != 0 {
            head[H_CPU] = u64::from(c.u32("cpu")?);
            c.u32("cpu.res")?;
        }
        word(c, &mut head, H_PERIOD, t, st::PERIOD, "period")?;
        let mut sample = SampleRecord {
            body,
            sample_type: t,
            head,
            callchain: (0, 0),
            misc,
            order: c.order,
            tail: [ABSENT; T_LEN],
            read_format: info.read_format,
            regs_user_mask: info.sample_regs_user,
            regs_intr_mask: info.sample_regs_intr,
            branch_sample_type: info.branch_sample_type,
        };
        if t & st::READ != 0 {
            sample.tail[T_READ] = sample.here(c);
            parse_read(c, info.read_format)?;
        }
        if t & st::CALLCHAIN != 0 {
            let nr = c.u64("callchain.nr")?;
            let at = sample.here(c);
            c.array_view(nr, 8, "callchain.ips")?;
            // The view fit in a record of at most 64 KiB, so nr fits a u16.
            sample.callchain = (at, nr as u16);
        }
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

    /// Walks the fields after the call chain, checking they fit and noting
    /// where each starts.
    #[inline(never)]
    fn parse_tail(&mut self, c: &mut Cursor<'a>) -> Result<(), ParseError> {
        let t = self.sample_type;
        if t & st::RAW != 0 {
            self.tail[T_RAW] = self.here(c);
            parse_sized(c, false, "raw.size", "raw.data")?;
        }
        if t & st::BRANCH_STACK != 0 {
            self.tail[T_BRANCH] = self.here(c);
            parse_branch(c, self.branch_sample_type)?;
        }
        if t & st::REGS_USER != 0 {
            self.tail[T_REGS_USER] = self.here(c);
            parse_regs(c, self.regs_user_mask, "regs_user.abi", "regs_user.regs")?;
        }
        if t & st::STACK_USER != 0 {
            self.tail[T_STACK_USER] = self.here(c);
            parse_stack(c)?;
        }
        let fixed = [
            (st::WEIGHT | st::WEIGHT_STRUCT, T_WEIGHT, "weight"),
            (st::DATA_SRC, T_DATA_SRC, "data_src"),
            (st::TRANSACTION, T_TRANSACTION, "transaction"),
        ];
        for (bit, slot, field) in fixed {
            if t & bit != 0 {
                self.tail[slot] = self.here(c);
                c.u64(field)?;
            }
        }
        if t & st::REGS_INTR != 0 {
            self.tail[T_REGS_INTR] = self.here(c);
            parse_regs(c, self.regs_intr_mask, "regs_intr.abi", "regs_intr.regs")?;
        }
        let fixed = [
            (st::PHYS_ADDR, T_PHYS_ADDR, "phys_addr"),
            (st::CGROUP, T_CGROUP, "cgroup"),
            (st::DATA_PAGE_SIZE, T_DATA_PAGE_SIZE, "data_page_size"),
            (st::CODE_PAGE_SIZE, T_CODE_PAGE_SIZE, "code_page_size"),
        ];
        for (bit, slot, field) in fixed {
            if t & bit != 0 {
                self.tail[slot] = self.here(c);
                c.u64(field)?;
            }
        }
        if t & st::AUX != 0 {
            self.tail[T_AUX] = self.here(c);
            parse_sized(c, true, "aux.size", "aux.data")?;
        }
        Ok(())
    }

    #[inline(always)]
    fn head(&self, bit: u64, slot: usize) -> Option<u64> {
        (self.sample_type & bit != 0).then_some(self.head[slot])
    }

    /// A cursor at a tail field, or `None` when the event has no such field.
    #[inline]
    fn at(&self, slot: usize) -> Option<Cursor<'a>> {
        let off = self.tail[slot];
        if off == ABSENT {
            return None;
        }
        let off = usize::from(off);
        let rest = self.body.slice(off, self.body.len().checked_sub(off)?)?;
        Some(Cursor::new(
            rest,
            RecordHeader::SIZE + off,
            self.order,
            RecordType(PERF_RECORD_SAMPLE),
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
        self.head(st::IDENTIFIER | st::ID, H_ID)
    }
    /// PERF_SAMPLE_IP.
    #[inline]
    pub fn ip(&self) -> Option<u64> {
        self.head(st::IP, H_IP)
    }
    /// PERF_SAMPLE_TID: process id.
    #[inline]
    pub fn pid(&self) -> Option<u32> {
        self.head(st::TID, H_TID).map(|w| w as u32)
    }
    /// PERF_SAMPLE_TID: thread id.
    #[inline]
    pub fn tid(&self) -> Option<u32> {
        self.head(st::TID, H_TID).map(|w| (w >> 32) as u32)
    }
    /// PERF_SAMPLE_TIME.
    #[inline]
    pub fn time(&self) -> Option<u64> {
        self.head(st::TIME, H_TIME)
    }
    /// PERF_SAMPLE_ADDR.
    #[inline]
    pub fn addr(&self) -> Option<u64> {
        self.head(st::ADDR, H_ADDR)
    }
    /// PERF_SAMPLE_STREAM_ID.
    #[inline]
    pub fn stream_id(&self) -> Option<u64> {
        self.head(st::STREAM_ID, H_STREAM_ID)
    }
    /// PERF_SAMPLE_CPU.
    #[inline]
    pub fn cpu(&self) -> Option<u32> {
        self.head(st::CPU, H_CPU).map(|w| w as u32)
    }
    /// PERF_SAMPLE_PERIOD.
    #[inline]
    pub fn period(&self) -> Option<u64> {
        self.head(st::PERIOD, H_PERIOD)
    }
    /// PERF_SAMPLE_READ: counter values laid out by `read_format`.
    pub fn read(&self) -> Option<ReadValues<'a>> {
        parse_read(&mut self.at(T_READ)?, self.read_format).ok()
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
        parse_branch(&mut self.at(T_BRANCH)?, self.branch_sample_type).ok()
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
