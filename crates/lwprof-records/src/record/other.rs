//! Every record type other than SAMPLE.
//!
//! With `sample_id_all`, each of these ends with a fixed-size trailer
//! ([`SampleId`]), so the trailer is read from the end and the fields from the
//! start; strings run up to the trailer and are cut at their first NUL.

use super::cursor::Cursor;
use super::error::{ParseError, RecordType};
use super::info::{sample_type as st, RecordParseInfo};
use super::sample::parse_read;
use super::views::{NamespaceEntries, ReadValues};
use super::*;

/// The `sample_id_all` trailer: who and when, for non-sample records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SampleId {
    /// PERF_SAMPLE_TID: process id.
    pub pid: Option<u32>,
    /// PERF_SAMPLE_TID: thread id.
    pub tid: Option<u32>,
    /// PERF_SAMPLE_TIME.
    pub time: Option<u64>,
    /// PERF_SAMPLE_ID or PERF_SAMPLE_IDENTIFIER.
    pub id: Option<u64>,
    /// PERF_SAMPLE_STREAM_ID.
    pub stream_id: Option<u64>,
    /// PERF_SAMPLE_CPU.
    pub cpu: Option<u32>,
}

impl SampleId {
    fn parse(c: &mut Cursor<'_>, t: u64) -> Result<SampleId, ParseError> {
        let mut s = SampleId::default();
        if t & st::TID != 0 {
            s.pid = Some(c.u32("sample_id.pid")?);
            s.tid = Some(c.u32("sample_id.tid")?);
        }
        if t & st::TIME != 0 {
            s.time = Some(c.u64("sample_id.time")?);
        }
        if t & st::ID != 0 {
            s.id = Some(c.u64("sample_id.id")?);
        }
        if t & st::STREAM_ID != 0 {
            s.stream_id = Some(c.u64("sample_id.stream_id")?);
        }
        if t & st::CPU != 0 {
            s.cpu = Some(c.u32("sample_id.cpu")?);
            c.u32("sample_id.res")?;
        }
        if t & st::IDENTIFIER != 0 {
            s.id = Some(c.u64("sample_id.identifier")?);
        }
        Ok(s)
    }
}

/// Cuts a NUL-padded string at its first NUL.
fn cstr(data: RawData<'_>) -> RawData<'_> {
    let nul = match data {
        RawData::Single(a) => a.iter().position(|&b| b == 0),
        RawData::Split(a, b) => a
            .iter()
            .position(|&x| x == 0)
            .or_else(|| b.iter().position(|&x| x == 0).map(|p| p + a.len())),
    };
    match nul {
        Some(n) => data.slice(0, n).unwrap_or(data),
        None => data,
    }
}

/// PERF_RECORD_MMAP: a new executable (or data) mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmapRecord<'a> {
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// Start address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u64,
    /// File offset of `addr`.
    pub pgoff: u64,
    /// `PERF_RECORD_MISC_MMAP_DATA`: not executable.
    pub is_data: bool,
    /// Where the mapping ran (kernel or user).
    pub cpumode: CpuMode,
    /// Path (or `[vdso]`, `//anon`, ...), without its NUL padding.
    pub filename: RawData<'a>,
    /// Trailer.
    pub sample_id: SampleId,
}

/// How an MMAP2 record names the mapped file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mmap2FileId {
    /// Device and inode (the default form).
    Inode {
        /// Major device number.
        maj: u32,
        /// Minor device number.
        min: u32,
        /// Inode number.
        ino: u64,
        /// Inode generation.
        ino_generation: u64,
    },
    /// Build id (`PERF_RECORD_MISC_MMAP_BUILD_ID`, attr.build_id).
    BuildId {
        /// Number of meaningful bytes in `bytes` (at most 20).
        len: u8,
        /// The build id, zero padded.
        bytes: [u8; 20],
    },
}

impl Mmap2FileId {
    /// The build id bytes, when this is the build-id form.
    pub fn build_id(&self) -> Option<&[u8]> {
        match self {
            Mmap2FileId::BuildId { len, bytes } => Some(&bytes[..usize::from(*len).min(20)]),
            Mmap2FileId::Inode { .. } => None,
        }
    }
}

/// PERF_RECORD_MMAP2: a new mapping, with file identity and protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mmap2Record<'a> {
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// Start address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u64,
    /// File offset of `addr`.
    pub pgoff: u64,
    /// Device and inode, or build id.
    pub file_id: Mmap2FileId,
    /// PROT_* bits.
    pub prot: u32,
    /// MAP_* bits.
    pub flags: u32,
    /// `PERF_RECORD_MISC_MMAP_DATA`: not executable.
    pub is_data: bool,
    /// Where the mapping ran (kernel or user).
    pub cpumode: CpuMode,
    /// Path, without its NUL padding.
    pub filename: RawData<'a>,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_COMM: a thread's name changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommRecord<'a> {
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// `PERF_RECORD_MISC_COMM_EXEC`: the change came from exec.
    pub is_exec: bool,
    /// The new name, without NUL padding.
    pub comm: RawData<'a>,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_FORK and PERF_RECORD_EXIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ForkExitRecord {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Thread id.
    pub tid: u32,
    /// Parent thread id.
    pub ptid: u32,
    /// Timestamp.
    pub time: u64,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_LOST: the ring was full and records were dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LostRecord {
    /// Id of the event that lost them.
    pub id: u64,
    /// How many were lost.
    pub lost: u64,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_LOST_SAMPLES: samples dropped by the PMU driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LostSamplesRecord {
    /// How many.
    pub lost: u64,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_THROTTLE and PERF_RECORD_UNTHROTTLE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThrottleRecord {
    /// Timestamp.
    pub time: u64,
    /// Event id.
    pub id: u64,
    /// Stream id.
    pub stream_id: u64,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_SWITCH: the monitored thread was switched in or out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SwitchRecord {
    /// `PERF_RECORD_MISC_SWITCH_OUT`.
    pub is_out: bool,
    /// `PERF_RECORD_MISC_SWITCH_OUT_PREEMPT`: out while still runnable.
    pub is_preempt: bool,
    /// Trailer (the thread is here).
    pub sample_id: SampleId,
}

/// PERF_RECORD_SWITCH_CPU_WIDE: a switch on a CPU-wide event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SwitchCpuWideRecord {
    /// `PERF_RECORD_MISC_SWITCH_OUT`.
    pub is_out: bool,
    /// `PERF_RECORD_MISC_SWITCH_OUT_PREEMPT`.
    pub is_preempt: bool,
    /// Next (when out) or previous (when in) process id.
    pub next_prev_pid: u32,
    /// Next or previous thread id.
    pub next_prev_tid: u32,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_NAMESPACES.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespacesRecord<'a> {
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// The namespaces.
    pub namespaces: NamespaceEntries<'a>,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_KSYMBOL: a kernel symbol (BPF program, trampoline) appeared
/// or went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KsymbolRecord<'a> {
    /// Start address.
    pub addr: u64,
    /// Length.
    pub len: u32,
    /// PERF_RECORD_KSYMBOL_TYPE_*.
    pub ksym_type: u16,
    /// PERF_RECORD_KSYMBOL_FLAGS_* (1 = unregister).
    pub flags: u16,
    /// Symbol name, without NUL padding.
    pub name: RawData<'a>,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_BPF_EVENT: a BPF program was loaded or unloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BpfEventRecord {
    /// PERF_BPF_EVENT_*.
    pub event_type: u16,
    /// Flags.
    pub flags: u16,
    /// Program id.
    pub id: u32,
    /// Program tag.
    pub tag: [u8; 8],
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_CGROUP: a cgroup id and its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgroupRecord<'a> {
    /// Cgroup id (as in PERF_SAMPLE_CGROUP).
    pub id: u64,
    /// Path, without NUL padding.
    pub path: RawData<'a>,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_TEXT_POKE: kernel text was modified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPokeRecord<'a> {
    /// Address of the change.
    pub addr: u64,
    /// The bytes before.
    pub old_bytes: RawData<'a>,
    /// The bytes after.
    pub new_bytes: RawData<'a>,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_AUX: new data in the AUX area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuxRecord {
    /// Offset in the AUX area.
    pub aux_offset: u64,
    /// Size of the new data.
    pub aux_size: u64,
    /// PERF_AUX_FLAG_* (truncated, overwrite, partial, collision, PMU format).
    pub flags: u64,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_ITRACE_START: instruction tracing started for a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ItraceStartRecord {
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_READ: counter values at thread exit (attr.inherit_stat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadRecord<'a> {
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// The values, laid out by `read_format`.
    pub values: ReadValues<'a>,
    /// Trailer.
    pub sample_id: SampleId,
}

/// PERF_RECORD_AUX_OUTPUT_HW_ID: the hardware id of an AUX output event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuxOutputHwIdRecord {
    /// Hardware id.
    pub hw_id: u64,
    /// Trailer.
    pub sample_id: SampleId,
}

pub(crate) fn parse_non_sample<'a>(
    raw: &RawRecord<'a>,
    info: &RecordParseInfo,
) -> Result<Record<'a>, ParseError> {
    let rt = raw.header.record_type;
    let misc_bits = raw.header.misc;
    let record = RecordType(rt);
    let order = raw.endianness;
    if !matches!(rt, record_type::MMAP..=record_type::AUX_OUTPUT_HW_ID) {
        return Ok(Record::Unknown {
            record_type: rt,
            misc: misc_bits,
            data: raw.body,
        });
    }
    let body_len = raw.body.len();
    let trailer_len = info.sample_id_len();
    let Some(fields_len) = body_len.checked_sub(trailer_len) else {
        return Err(ParseError::Truncated {
            record,
            field: "sample_id",
            offset: RecordHeader::SIZE,
            needed: trailer_len,
            available: body_len,
        });
    };
    let (fields, trailer) = match (
        raw.body.slice(0, fields_len),
        raw.body.slice(fields_len, trailer_len),
    ) {
        (Some(f), Some(t)) => (f, t),
        // Unreachable: both ranges lie within the body.
        _ => {
            return Ok(Record::Unknown {
                record_type: rt,
                misc: misc_bits,
                data: raw.body,
            })
        }
    };
    let sample_id = if info.sample_id_all {
        let mut tc = Cursor::new(trailer, RecordHeader::SIZE + fields_len, order, record);
        SampleId::parse(&mut tc, info.sample_type)?
    } else {
        SampleId::default()
    };
    let c = &mut Cursor::new(fields, RecordHeader::SIZE, order, record);
    let m = misc_bits;
    let id = sample_id;
    Ok(match rt {
        record_type::MMAP => Record::Mmap(MmapRecord::parse(c, m, id)?),
        record_type::MMAP2 => Record::Mmap2(Mmap2Record::parse(c, m, id)?),
        record_type::COMM => Record::Comm(CommRecord::parse(c, m, id)?),
        record_type::FORK => Record::Fork(ForkExitRecord::parse(c, id)?),
        record_type::EXIT => Record::Exit(ForkExitRecord::parse(c, id)?),
        record_type::LOST => Record::Lost(LostRecord::parse(c, id)?),
        record_type::LOST_SAMPLES => Record::LostSamples(LostSamplesRecord::parse(c, id)?),
        record_type::THROTTLE => Record::Throttle(ThrottleRecord::parse(c, id)?),
        record_type::UNTHROTTLE => Record::Unthrottle(ThrottleRecord::parse(c, id)?),
        record_type::SWITCH => Record::Switch(SwitchRecord::parse(m, id)),
        record_type::SWITCH_CPU_WIDE => {
            Record::SwitchCpuWide(SwitchCpuWideRecord::parse(c, m, id)?)
        }
        record_type::NAMESPACES => Record::Namespaces(NamespacesRecord::parse(c, id)?),
        record_type::KSYMBOL => Record::Ksymbol(KsymbolRecord::parse(c, id)?),
        record_type::BPF_EVENT => Record::BpfEvent(BpfEventRecord::parse(c, id)?),
        record_type::CGROUP => Record::Cgroup(CgroupRecord::parse(c, id)?),
        record_type::TEXT_POKE => Record::TextPoke(TextPokeRecord::parse(c, id)?),
        record_type::AUX => Record::Aux(AuxRecord::parse(c, id)?),
        record_type::ITRACE_START => Record::ItraceStart(ItraceStartRecord::parse(c, id)?),
        record_type::READ => Record::Read(ReadRecord::parse(c, info.read_format, id)?),
        record_type::AUX_OUTPUT_HW_ID => Record::AuxOutputHwId(AuxOutputHwIdRecord::parse(c, id)?),
        _ => Record::Unknown {
            record_type: rt,
            misc: misc_bits,
            data: raw.body,
        },
    })
}

// One parse per record type: the fields after the header, in the kernel's
// order (struct literals evaluate their fields in the order written), given
// the header's `misc` where it carries flags and the trailer read already.

impl<'a> MmapRecord<'a> {
    fn parse(c: &mut Cursor<'a>, misc_bits: u16, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(MmapRecord {
            pid: c.u32("pid")?,
            tid: c.u32("tid")?,
            addr: c.u64("addr")?,
            len: c.u64("len")?,
            pgoff: c.u64("pgoff")?,
            is_data: misc_bits & misc::MMAP_DATA != 0,
            cpumode: CpuMode::from_misc(misc_bits),
            filename: cstr(c.rest()),
            sample_id,
        })
    }
}

impl<'a> Mmap2Record<'a> {
    fn parse(c: &mut Cursor<'a>, misc_bits: u16, sample_id: SampleId) -> Result<Self, ParseError> {
        let pid = c.u32("pid")?;
        let tid = c.u32("tid")?;
        let addr = c.u64("addr")?;
        let len = c.u64("len")?;
        let pgoff = c.u64("pgoff")?;
        let file_id = if misc_bits & misc::MMAP_BUILD_ID != 0 {
            let len = c.bytes::<1>("build_id_size")?[0];
            c.bytes::<3>("build_id.reserved")?;
            let bytes = c.bytes::<20>("build_id")?;
            Mmap2FileId::BuildId { len, bytes }
        } else {
            Mmap2FileId::Inode {
                maj: c.u32("maj")?,
                min: c.u32("min")?,
                ino: c.u64("ino")?,
                ino_generation: c.u64("ino_generation")?,
            }
        };
        Ok(Mmap2Record {
            pid,
            tid,
            addr,
            len,
            pgoff,
            file_id,
            prot: c.u32("prot")?,
            flags: c.u32("flags")?,
            is_data: misc_bits & misc::MMAP_DATA != 0,
            cpumode: CpuMode::from_misc(misc_bits),
            filename: cstr(c.rest()),
            sample_id,
        })
    }
}

impl<'a> CommRecord<'a> {
    fn parse(c: &mut Cursor<'a>, misc_bits: u16, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(CommRecord {
            pid: c.u32("pid")?,
            tid: c.u32("tid")?,
            is_exec: misc_bits & misc::COMM_EXEC != 0,
            comm: cstr(c.rest()),
            sample_id,
        })
    }
}

impl ForkExitRecord {
    fn parse(c: &mut Cursor<'_>, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(ForkExitRecord {
            pid: c.u32("pid")?,
            ppid: c.u32("ppid")?,
            tid: c.u32("tid")?,
            ptid: c.u32("ptid")?,
            time: c.u64("time")?,
            sample_id,
        })
    }
}

impl LostRecord {
    fn parse(c: &mut Cursor<'_>, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(LostRecord {
            id: c.u64("id")?,
            lost: c.u64("lost")?,
            sample_id,
        })
    }
}

impl LostSamplesRecord {
    fn parse(c: &mut Cursor<'_>, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(LostSamplesRecord {
            lost: c.u64("lost")?,
            sample_id,
        })
    }
}

impl ThrottleRecord {
    fn parse(c: &mut Cursor<'_>, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(ThrottleRecord {
            time: c.u64("time")?,
            id: c.u64("id")?,
            stream_id: c.u64("stream_id")?,
            sample_id,
        })
    }
}

impl SwitchRecord {
    fn parse(misc_bits: u16, sample_id: SampleId) -> Self {
        SwitchRecord {
            is_out: misc_bits & misc::SWITCH_OUT != 0,
            is_preempt: misc_bits & misc::SWITCH_OUT_PREEMPT != 0,
            sample_id,
        }
    }
}

impl SwitchCpuWideRecord {
    fn parse(c: &mut Cursor<'_>, misc_bits: u16, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(SwitchCpuWideRecord {
            is_out: misc_bits & misc::SWITCH_OUT != 0,
            is_preempt: misc_bits & misc::SWITCH_OUT_PREEMPT != 0,
            next_prev_pid: c.u32("next_prev_pid")?,
            next_prev_tid: c.u32("next_prev_tid")?,
            sample_id,
        })
    }
}

impl<'a> NamespacesRecord<'a> {
    fn parse(c: &mut Cursor<'a>, sample_id: SampleId) -> Result<Self, ParseError> {
        let pid = c.u32("pid")?;
        let tid = c.u32("tid")?;
        let nr = c.u64("nr_namespaces")?;
        let data = c.array_view(nr, 16, "link_info")?;
        Ok(NamespacesRecord {
            pid,
            tid,
            namespaces: NamespaceEntries {
                data,
                order: c.order,
            },
            sample_id,
        })
    }
}

impl<'a> KsymbolRecord<'a> {
    fn parse(c: &mut Cursor<'a>, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(KsymbolRecord {
            addr: c.u64("addr")?,
            len: c.u32("len")?,
            ksym_type: c.u16("ksym_type")?,
            flags: c.u16("flags")?,
            name: cstr(c.rest()),
            sample_id,
        })
    }
}

impl BpfEventRecord {
    fn parse(c: &mut Cursor<'_>, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(BpfEventRecord {
            event_type: c.u16("type")?,
            flags: c.u16("flags")?,
            id: c.u32("id")?,
            tag: c.bytes::<8>("tag")?,
            sample_id,
        })
    }
}

impl<'a> CgroupRecord<'a> {
    fn parse(c: &mut Cursor<'a>, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(CgroupRecord {
            id: c.u64("id")?,
            path: cstr(c.rest()),
            sample_id,
        })
    }
}

impl<'a> TextPokeRecord<'a> {
    fn parse(c: &mut Cursor<'a>, sample_id: SampleId) -> Result<Self, ParseError> {
        let addr = c.u64("addr")?;
        let old_len = c.u16("old_len")?;
        let new_len = c.u16("new_len")?;
        let old_bytes = c.view(usize::from(old_len), "old_bytes")?;
        let new_bytes = c.view(usize::from(new_len), "new_bytes")?;
        Ok(TextPokeRecord {
            addr,
            old_bytes,
            new_bytes,
            sample_id,
        })
    }
}

impl AuxRecord {
    fn parse(c: &mut Cursor<'_>, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(AuxRecord {
            aux_offset: c.u64("aux_offset")?,
            aux_size: c.u64("aux_size")?,
            flags: c.u64("flags")?,
            sample_id,
        })
    }
}

impl ItraceStartRecord {
    fn parse(c: &mut Cursor<'_>, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(ItraceStartRecord {
            pid: c.u32("pid")?,
            tid: c.u32("tid")?,
            sample_id,
        })
    }
}

impl<'a> ReadRecord<'a> {
    fn parse(
        c: &mut Cursor<'a>,
        read_format: u64,
        sample_id: SampleId,
    ) -> Result<Self, ParseError> {
        let pid = c.u32("pid")?;
        let tid = c.u32("tid")?;
        let values = parse_read(c, read_format)?;
        Ok(ReadRecord {
            pid,
            tid,
            values,
            sample_id,
        })
    }
}

impl AuxOutputHwIdRecord {
    fn parse(c: &mut Cursor<'_>, sample_id: SampleId) -> Result<Self, ParseError> {
        Ok(AuxOutputHwIdRecord {
            hw_id: c.u64("hw_id")?,
            sample_id,
        })
    }
}
