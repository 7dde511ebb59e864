//! PERF_RECORD_SAMPLE.
//!
//! Fixed-size fields are decoded in one pass; variable-length ones (call
//! chain, raw data, branch stack, registers, user stack, AUX snapshot) are
//! kept as views of the record bytes. Nothing is allocated.

use super::cursor::Cursor;
use super::error::ParseError;
use super::info::{
    branch_sample_type as bst, read_format as rf, sample_type as st, RecordParseInfo,
};
use super::views::{BranchStack, ReadGroupMembers, ReadValues, Regs, U64Array, UserStack, Weight};
use super::CpuMode;
use crate::raw::RawData;

/// A sample: the fields `sample_type` asked for, in kernel order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleRecord<'a> {
    /// Where the sample was taken (from the header's misc bits).
    pub cpumode: CpuMode,
    /// `PERF_RECORD_MISC_EXACT_IP`: `ip` is the exact instruction.
    pub exact_ip: bool,
    /// PERF_SAMPLE_IDENTIFIER, or PERF_SAMPLE_ID (they hold the same id).
    pub id: Option<u64>,
    /// PERF_SAMPLE_IP.
    pub ip: Option<u64>,
    /// PERF_SAMPLE_TID: process id.
    pub pid: Option<u32>,
    /// PERF_SAMPLE_TID: thread id.
    pub tid: Option<u32>,
    /// PERF_SAMPLE_TIME.
    pub time: Option<u64>,
    /// PERF_SAMPLE_ADDR.
    pub addr: Option<u64>,
    /// PERF_SAMPLE_STREAM_ID.
    pub stream_id: Option<u64>,
    /// PERF_SAMPLE_CPU.
    pub cpu: Option<u32>,
    /// PERF_SAMPLE_PERIOD.
    pub period: Option<u64>,
    /// PERF_SAMPLE_READ.
    pub read: Option<ReadValues<'a>>,
    /// PERF_SAMPLE_CALLCHAIN: addresses, innermost first, with
    /// `PERF_CONTEXT_*` markers (values >= `PERF_CONTEXT_MAX`) between parts.
    pub callchain: Option<U64Array<'a>>,
    /// PERF_SAMPLE_RAW: the raw bytes (tracepoint format, including padding).
    pub raw: Option<RawData<'a>>,
    /// PERF_SAMPLE_BRANCH_STACK.
    pub branch_stack: Option<BranchStack<'a>>,
    /// PERF_SAMPLE_REGS_USER.
    pub regs_user: Option<Regs<'a>>,
    /// PERF_SAMPLE_STACK_USER.
    pub stack_user: Option<UserStack<'a>>,
    /// PERF_SAMPLE_WEIGHT or PERF_SAMPLE_WEIGHT_STRUCT.
    pub weight: Option<Weight>,
    /// PERF_SAMPLE_DATA_SRC (`perf_mem_data_src`).
    pub data_src: Option<u64>,
    /// PERF_SAMPLE_TRANSACTION.
    pub transaction: Option<u64>,
    /// PERF_SAMPLE_REGS_INTR.
    pub regs_intr: Option<Regs<'a>>,
    /// PERF_SAMPLE_PHYS_ADDR.
    pub phys_addr: Option<u64>,
    /// PERF_SAMPLE_CGROUP: cgroup id (see CGROUP records for the path).
    pub cgroup: Option<u64>,
    /// PERF_SAMPLE_DATA_PAGE_SIZE.
    pub data_page_size: Option<u64>,
    /// PERF_SAMPLE_CODE_PAGE_SIZE.
    pub code_page_size: Option<u64>,
    /// PERF_SAMPLE_AUX: a snapshot of the AUX area.
    pub aux: Option<RawData<'a>>,
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

impl<'a> SampleRecord<'a> {
    /// Parses the body of a SAMPLE record (the bytes after the header).
    #[inline]
    pub(crate) fn parse(
        c: &mut Cursor<'a>,
        info: &RecordParseInfo,
        misc: u16,
    ) -> Result<Self, ParseError> {
        let t = info.sample_type;
        let mut id = opt_u64(c, t, st::IDENTIFIER, "identifier")?;
        let ip = opt_u64(c, t, st::IP, "ip")?;
        let (pid, tid) = if t & st::TID != 0 {
            (Some(c.u32("pid")?), Some(c.u32("tid")?))
        } else {
            (None, None)
        };
        let time = opt_u64(c, t, st::TIME, "time")?;
        let addr = opt_u64(c, t, st::ADDR, "addr")?;
        if t & st::ID != 0 {
            id = Some(c.u64("id")?);
        }
        let stream_id = opt_u64(c, t, st::STREAM_ID, "stream_id")?;
        let cpu = if t & st::CPU != 0 {
            let cpu = c.u32("cpu")?;
            c.u32("cpu.res")?;
            Some(cpu)
        } else {
            None
        };
        let period = opt_u64(c, t, st::PERIOD, "period")?;
        let read = if t & st::READ != 0 {
            Some(parse_read(c, info.read_format)?)
        } else {
            None
        };
        let callchain = if t & st::CALLCHAIN != 0 {
            let nr = c.u64("callchain.nr")?;
            Some(U64Array::new(
                c.array_view(nr, 8, "callchain.ips")?,
                c.order,
            ))
        } else {
            None
        };
        // Everything below is rare in CPU profiles: keep it out of line.
        let mut sample = SampleRecord {
            cpumode: CpuMode::from_misc(misc),
            exact_ip: misc & super::misc::EXACT_IP != 0,
            id,
            ip,
            pid,
            tid,
            time,
            addr,
            stream_id,
            cpu,
            period,
            read,
            callchain,
            raw: None,
            branch_stack: None,
            regs_user: None,
            stack_user: None,
            weight: None,
            data_src: None,
            transaction: None,
            regs_intr: None,
            phys_addr: None,
            cgroup: None,
            data_page_size: None,
            code_page_size: None,
            aux: None,
        };
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
            sample.parse_tail(c, info)?;
        }
        Ok(sample)
    }

    #[inline(never)]
    fn parse_tail(&mut self, c: &mut Cursor<'a>, info: &RecordParseInfo) -> Result<(), ParseError> {
        let t = info.sample_type;
        if t & st::RAW != 0 {
            let size = c.u32("raw.size")?;
            self.raw = Some(c.view(size as usize, "raw.data")?);
        }
        if t & st::BRANCH_STACK != 0 {
            let nr = c.u64("branch_stack.nr")?;
            let hw_idx = opt_u64(
                c,
                info.branch_sample_type,
                bst::HW_INDEX,
                "branch_stack.hw_idx",
            )?;
            let entries = c.array_view(nr, 24, "branch_stack.entries")?;
            let counters = if info.branch_sample_type & bst::COUNTERS != 0 {
                Some(U64Array::new(
                    c.array_view(nr, 8, "branch_stack.counters")?,
                    c.order,
                ))
            } else {
                None
            };
            self.branch_stack = Some(BranchStack {
                hw_idx,
                entries,
                counters,
                order: c.order,
            });
        }
        if t & st::REGS_USER != 0 {
            self.regs_user = Some(parse_regs(
                c,
                info.sample_regs_user,
                "regs_user.abi",
                "regs_user.regs",
            )?);
        }
        if t & st::STACK_USER != 0 {
            let size = c.u64("stack_user.size")?;
            let data = c.array_view(size, 1, "stack_user.data")?;
            let dyn_size = if size != 0 {
                c.u64("stack_user.dyn_size")?
            } else {
                0
            };
            self.stack_user = Some(UserStack { data, dyn_size });
        }
        if t & (st::WEIGHT | st::WEIGHT_STRUCT) != 0 {
            let full = c.u64("weight")?;
            self.weight = Some(Weight {
                full,
                is_struct: t & st::WEIGHT_STRUCT != 0,
            });
        }
        self.data_src = opt_u64(c, t, st::DATA_SRC, "data_src")?;
        self.transaction = opt_u64(c, t, st::TRANSACTION, "transaction")?;
        if t & st::REGS_INTR != 0 {
            self.regs_intr = Some(parse_regs(
                c,
                info.sample_regs_intr,
                "regs_intr.abi",
                "regs_intr.regs",
            )?);
        }
        self.phys_addr = opt_u64(c, t, st::PHYS_ADDR, "phys_addr")?;
        self.cgroup = opt_u64(c, t, st::CGROUP, "cgroup")?;
        self.data_page_size = opt_u64(c, t, st::DATA_PAGE_SIZE, "data_page_size")?;
        self.code_page_size = opt_u64(c, t, st::CODE_PAGE_SIZE, "code_page_size")?;
        if t & st::AUX != 0 {
            let size = c.u64("aux.size")?;
            self.aux = Some(c.array_view(size, 1, "aux.data")?);
        }
        Ok(())
    }
}
