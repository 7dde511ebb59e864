//! What a streaming [`crate::convert::Converter`] hands out instead of
//! keeping it in the profile: samples with what their record carried, and
//! (for `lwprof script --show-mmap-events --show-switch-events`) mapping and
//! context-switch records. It does not format them.

use crate::model::FrameAddress;
use lwprof_events::record::{Record, SampleId};

pub use lwprof_events::record::Mmap2FileId;

/// A mapping or context-switch record handed out by a streaming converter
/// ([`crate::convert::Converter::stream_side_records`]), for `perf script
/// --show-mmap-events --show-switch-events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideEvent {
    /// The pid of the sample id (else of the record).
    pub pid: u32,
    /// The tid of the sample id (else of the record).
    pub tid: u32,
    /// Its time.
    pub time: u64,
    /// Its CPU, when the sample id has it.
    pub cpu: Option<u32>,
    /// What it says.
    pub record: SideRecord,
}

/// The content of a [`SideEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SideRecord {
    /// `PERF_RECORD_MMAP` or `MMAP2`.
    Mmap {
        /// The record's pid and tid.
        pid: u32,
        /// The record's tid.
        tid: u32,
        /// First address.
        start: u64,
        /// Length.
        len: u64,
        /// File offset.
        pgoff: u64,
        /// Not a data mapping.
        exec: bool,
        /// The path.
        filename: Vec<u8>,
        /// MMAP2's (maj, min, ino, generation, prot, flags), or its build id.
        mmap2: Option<(Mmap2FileId, u32, u32)>,
    },
    /// `PERF_RECORD_SWITCH` or `SWITCH_CPU_WIDE` (with the other task's
    /// pid and tid).
    Switch {
        /// Switched out.
        out: bool,
        /// Preempted (while runnable).
        preempt: bool,
        /// The next (out) or previous (in) task, for CPU-wide records.
        other: Option<(u32, u32)>,
    },
}

/// A sample handed out by a streaming converter
/// ([`crate::convert::Converter::stream_samples`]) instead of being kept in the profile.
#[derive(Debug, Clone)]
pub struct StreamedSample {
    /// The sample (its stack is in [`crate::convert::Converter::profile`]).
    pub sample: crate::model::Sample,
    /// The event index (attr order of the file).
    pub event: usize,
    /// The frames as recorded, leaf first, one per location of the stack.
    pub frames: Vec<FrameAddress>,
    /// The sample's ip (`PERF_SAMPLE_IP`).
    pub ip: Option<u64>,
    /// The sample's data address (`PERF_SAMPLE_ADDR`).
    pub addr: Option<u64>,
    /// The pid of the sample.
    pub pid: u32,
    /// The tracepoint's raw data (`PERF_SAMPLE_RAW`).
    pub raw: Option<Vec<u8>>,
    /// The user frames were unwound with DWARF CFI (from a stack copy).
    pub dwarf_unwound: bool,
}

/// The side event of a MMAP/MMAP2 or SWITCH record; `None` for others.
pub(crate) fn side_event(record: &Record<'_>) -> Option<SideEvent> {
    let (id, pid, tid, record): (&SampleId, u32, u32, SideRecord) = match record {
        Record::Mmap(m) => (
            &m.sample_id,
            m.pid,
            m.tid,
            SideRecord::Mmap {
                pid: m.pid,
                tid: m.tid,
                start: m.addr,
                len: m.len,
                pgoff: m.pgoff,
                exec: !m.is_data,
                filename: m.filename.as_contiguous().into_owned(),
                mmap2: None,
            },
        ),
        Record::Mmap2(m) => (
            &m.sample_id,
            m.pid,
            m.tid,
            SideRecord::Mmap {
                pid: m.pid,
                tid: m.tid,
                start: m.addr,
                len: m.len,
                pgoff: m.pgoff,
                exec: !m.is_data,
                filename: m.filename.as_contiguous().into_owned(),
                mmap2: Some((m.file_id, m.prot, m.flags)),
            },
        ),
        Record::Switch(s) => (
            &s.sample_id,
            0,
            0,
            SideRecord::Switch {
                out: s.is_out,
                preempt: s.is_preempt,
                other: None,
            },
        ),
        Record::SwitchCpuWide(s) => (
            &s.sample_id,
            0,
            0,
            SideRecord::Switch {
                out: s.is_out,
                preempt: s.is_preempt,
                other: Some((s.next_prev_pid, s.next_prev_tid)),
            },
        ),
        _ => return None,
    };
    Some(SideEvent {
        pid: id.pid.unwrap_or(pid),
        tid: id.tid.unwrap_or(tid),
        time: id.time.unwrap_or(0),
        cpu: id.cpu,
        record,
    })
}
