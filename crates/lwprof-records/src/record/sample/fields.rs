//! The sample fields of variable size (READ values, registers, branch
//! stack, user stack, raw and AUX data) and the walk over every field after
//! the call chain, shared by the parse, the accessors and the fast path.
//!
//! This module keeps no offsets: [`super::SampleRecord`] and
//! [`super::SampleLayout`] do.
use super::super::cursor::Cursor;
use super::super::error::ParseError;
use super::super::info::{branch_sample_type as bst, read_format as rf, sample_type as st};
use super::super::views::{BranchStack, ReadGroupMembers, ReadValues, Regs, U64Array, UserStack};
use super::branch_sample_type_of;
use crate::raw::RawData;
// Slots of the tail offsets.
pub(super) const T_READ: usize = 0;
pub(super) const T_RAW: usize = 1;
pub(super) const T_BRANCH: usize = 2;
pub(super) const T_REGS_USER: usize = 3;
pub(super) const T_STACK_USER: usize = 4;
pub(super) const T_WEIGHT: usize = 5;
pub(super) const T_DATA_SRC: usize = 6;
pub(super) const T_TRANSACTION: usize = 7;
pub(super) const T_REGS_INTR: usize = 8;
pub(super) const T_PHYS_ADDR: usize = 9;
pub(super) const T_CGROUP: usize = 10;
pub(super) const T_DATA_PAGE_SIZE: usize = 11;
pub(super) const T_CODE_PAGE_SIZE: usize = 12;
pub(super) const T_AUX: usize = 13;
pub(super) const T_LEN: usize = 14;
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

#[inline(always)]
pub(super) fn opt_u64(
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

pub(super) fn parse_regs<'a>(
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

pub(super) fn parse_branch<'a>(
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

pub(super) fn parse_stack<'a>(c: &mut Cursor<'a>) -> Result<UserStack<'a>, ParseError> {
    let size = c.u64("stack_user.size")?;
    let data = c.array_view(size, 1, "stack_user.data")?;
    let dyn_size = if size != 0 {
        c.u64("stack_user.dyn_size")?
    } else {
        0
    };
    Ok(UserStack { data, dyn_size })
}

pub(super) fn parse_sized<'a>(
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
pub(super) const TAIL: u64 = !(st::IDENTIFIER
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

/// Walks the fields after the call chain from `c` (at the first of them),
/// checking they fit. Stops at the field of slot `stop` and says whether the
/// event has it; pass [`T_LEN`] to walk them all.
pub(super) fn walk_tail(
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
