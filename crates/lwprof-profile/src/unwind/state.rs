//! The call-graph mode of a recording, and [`UnwindState`]: the glue between
//! parsed records and [`crate::ProfileBuilder`].

use std::borrow::Cow;

use lwprof_events::record::{CpuMode as RecordCpuMode, SampleRecord};
use perf_event_open_sys::bindings as abi;

use super::dwarf::{
    DwarfUnwinder, StackCopy, UnwindEnd, UnwindReport, UnwindWarning, UnwinderConfig, UserRegs,
};
use super::{
    DEFAULT_STACK_DUMP_SIZE, DWARF_REGS_MASK_X86_64, MAX_STACK_DUMP_SIZE, PERF_REG_X86_BP,
    PERF_REG_X86_IP, PERF_REG_X86_SP, REGS_ABI_64,
};
use crate::model::{FrameAddress, MappingInput, Pid, Tid};

#[allow(clippy::unnecessary_cast)]
const CONTEXT_KERNEL: u64 = lwprof_records::abi::context::KERNEL;
#[allow(clippy::unnecessary_cast)]
const CONTEXT_USER: u64 = lwprof_records::abi::context::USER;

/// How samples get their call stacks (`--call-graph`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallGraph {
    /// The kernel's frame-pointer walk (`fp`, `-g`).
    FramePointer,
    /// DWARF unwinding of a copy of the user stack (`dwarf[,SIZE]`).
    Dwarf {
        /// Bytes of user stack copied per sample (`attr.sample_stack_user`):
        /// a multiple of 8, at most [`MAX_STACK_DUMP_SIZE`].
        stack_size: u32,
    },
}

/// A `--call-graph` value that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallGraphError {
    /// Not `fp` or `dwarf[,SIZE]`.
    #[error("unknown call-graph mode '{0}': use fp or dwarf[,SIZE]")]
    UnknownMode(String),
    /// The stack dump size is not a number in range.
    #[error(
        "bad stack dump size '{given}' in --call-graph dwarf,SIZE: give bytes, 8 to {max} \
         (default {default})",
        max = MAX_STACK_DUMP_SIZE,
        default = DEFAULT_STACK_DUMP_SIZE
    )]
    BadStackSize {
        /// What was given.
        given: String,
    },
}

impl CallGraph {
    /// Parses perf's syntax: `fp`, `dwarf` or `dwarf,SIZE` (SIZE in bytes,
    /// rounded up to a multiple of 8 as perf does).
    pub fn parse(s: &str) -> Result<Self, CallGraphError> {
        let (mode, size) = match s.split_once(',') {
            Some((m, size)) => (m, Some(size)),
            None => (s, None),
        };
        match (mode.trim(), size) {
            ("fp", None) => Ok(CallGraph::FramePointer),
            ("dwarf", None) => Ok(CallGraph::Dwarf {
                stack_size: DEFAULT_STACK_DUMP_SIZE,
            }),
            ("dwarf", Some(size)) => {
                let bad = || CallGraphError::BadStackSize {
                    given: size.to_string(),
                };
                let n: u64 = size.trim().parse().map_err(|_| bad())?;
                let rounded = n.checked_add(7).ok_or_else(bad)? & !7;
                if n == 0 || rounded > u64::from(MAX_STACK_DUMP_SIZE) {
                    return Err(bad());
                }
                Ok(CallGraph::Dwarf {
                    stack_size: rounded as u32,
                })
            }
            _ => Err(CallGraphError::UnknownMode(s.to_string())),
        }
    }

    /// The `PERF_SAMPLE_*` bits this mode needs.
    pub fn sample_type(&self) -> u64 {
        let chain = u64::from(abi::PERF_SAMPLE_CALLCHAIN);
        match self {
            CallGraph::FramePointer => chain,
            CallGraph::Dwarf { .. } => {
                chain
                    | u64::from(abi::PERF_SAMPLE_REGS_USER)
                    | u64::from(abi::PERF_SAMPLE_STACK_USER)
            }
        }
    }

    /// Sets the attr fields for this mode: the sample bits, and for DWARF
    /// `sample_regs_user` = [`DWARF_REGS_MASK_X86_64`] and
    /// `sample_stack_user` = the dump size and, as perf sets it,
    /// `exclude_callchain_user`: the user frames come from the stack copy,
    /// and a frame-pointer walk of code built without frame pointers is
    /// garbage that perf would show as `[unknown]` frames.
    pub fn apply(&self, attr: &mut abi::perf_event_attr) {
        attr.sample_type |= self.sample_type();
        attr.set_exclude_callchain_user(0);
        if let CallGraph::Dwarf { stack_size } = *self {
            attr.sample_regs_user = DWARF_REGS_MASK_X86_64;
            attr.sample_stack_user = stack_size;
            attr.set_exclude_callchain_user(1);
        }
    }
}

/// How the samples given to an [`UnwindState`] were unwound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnwindStats {
    /// Samples seen.
    pub samples: u64,
    /// DWARF reached the outermost frame.
    pub dwarf_complete: u64,
    /// DWARF ran off the end of the stack copy.
    pub stack_truncated: u64,
    /// ... and frame-pointer frames were appended.
    pub fp_spliced: u64,
    /// DWARF stopped early for another reason.
    pub dwarf_stopped: u64,
    /// No user registers or stack: the kernel's callchain alone.
    pub fp_only: u64,
}

/// The unwinding side of a converter: fed the same events as
/// [`crate::ProfileBuilder`] (same arguments, same order), it turns each
/// parsed sample into the frames for [`crate::ProfileBuilder::sample`].
///
/// Samples with 64-bit user registers and a stack copy are DWARF-unwound
/// (kernel frames from the callchain, user frames from DWARF, frame-pointer
/// frames past the end of the copy); the others use the kernel's callchain
/// as it is, so a frame-pointer recording costs nothing here (files are read
/// only when a DWARF sample of their process arrives).
#[derive(Debug, Default)]
pub struct UnwindState {
    unwinder: DwarfUnwinder,
    stats: UnwindStats,
    chain: Vec<u64>,
}

impl UnwindState {
    /// A state that knows no process yet.
    pub fn new(config: UnwinderConfig) -> Self {
        UnwindState {
            unwinder: DwarfUnwinder::new(config),
            stats: UnwindStats::default(),
            chain: Vec::new(),
        }
    }

    /// `PERF_RECORD_COMM`: with `exec` the process's mappings are dropped.
    pub fn comm(&mut self, pid: Pid, _tid: Tid, _time: u64, _name: &[u8], exec: bool) {
        if exec {
            self.unwinder.exec(pid);
        }
    }

    /// `PERF_RECORD_FORK`: a new process inherits its parent's mappings.
    pub fn fork(&mut self, pid: Pid, ppid: Pid, _tid: Tid, _ptid: Tid, _time: u64) {
        self.unwinder.fork(pid, ppid);
    }

    /// `PERF_RECORD_EXIT`.
    pub fn exit(&mut self, pid: Pid, tid: Tid, _time: u64) {
        self.unwinder.exit(pid, tid);
    }

    /// `PERF_RECORD_MMAP` / `MMAP2`.
    pub fn mmap(&mut self, m: &MappingInput<'_>) {
        self.unwinder.mmap(m);
    }

    /// The frames of one sample, leaf first, into `out` (cleared first).
    pub fn sample_frames(
        &mut self,
        sample: &SampleRecord<'_>,
        out: &mut Vec<FrameAddress>,
    ) -> UnwindReport {
        let mut chain = std::mem::take(&mut self.chain);
        chain.clear();
        match sample.callchain() {
            Some(c) => chain.extend(c.iter()),
            None => {
                // No callchain: the sampled ip alone, in its mode.
                if let Some(ip) = sample.ip() {
                    chain.push(match sample.cpumode() {
                        RecordCpuMode::Kernel => CONTEXT_KERNEL,
                        _ => CONTEXT_USER,
                    });
                    chain.push(ip);
                }
            }
        }
        let user = user_regs(sample);
        let stack_bytes: Option<Cow<'_, [u8]>> = user
            .and(sample.stack_user())
            .map(|s| s.valid().as_contiguous());
        let user = match (user, &stack_bytes) {
            (Some(regs), Some(bytes)) => Some((
                regs,
                StackCopy {
                    data: bytes,
                    dyn_size: bytes.len() as u64,
                },
            )),
            _ => None,
        };
        let pid = sample.pid().unwrap_or(u32::MAX);
        let report = self.unwinder.unwind_into(pid, user, &chain, out);
        self.chain = chain;
        self.stats.samples += 1;
        match report.end {
            UnwindEnd::Root => self.stats.dwarf_complete += 1,
            UnwindEnd::StackTruncated { .. } => {
                self.stats.stack_truncated += 1;
                if report.fp_frames > 0 {
                    self.stats.fp_spliced += 1;
                }
            }
            UnwindEnd::Stopped => self.stats.dwarf_stopped += 1,
            UnwindEnd::FramePointerOnly => self.stats.fp_only += 1,
        }
        report
    }

    /// The counts so far.
    pub fn stats(&self) -> &UnwindStats {
        &self.stats
    }

    /// The unwinder's warnings (files without usable CFI), once per cause.
    pub fn warnings(&self) -> &[UnwindWarning] {
        self.unwinder.warnings()
    }

    /// The DWARF unwinder itself.
    pub fn unwinder(&mut self) -> &mut DwarfUnwinder {
        &mut self.unwinder
    }
}

/// The IP, SP and BP of a sample's 64-bit user registers, if it has them.
pub(crate) fn user_regs(sample: &SampleRecord<'_>) -> Option<UserRegs> {
    let regs = sample.regs_user()?;
    if regs.abi != REGS_ABI_64 {
        return None;
    }
    Some(UserRegs {
        ip: regs.get(PERF_REG_X86_IP)?,
        sp: regs.get(PERF_REG_X86_SP)?,
        bp: regs.get(PERF_REG_X86_BP)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_graph_values_parse_like_perf() {
        assert_eq!(CallGraph::parse("fp"), Ok(CallGraph::FramePointer));
        assert_eq!(
            CallGraph::parse("dwarf"),
            Ok(CallGraph::Dwarf { stack_size: 8192 })
        );
        assert_eq!(
            CallGraph::parse("dwarf,16384"),
            Ok(CallGraph::Dwarf { stack_size: 16384 })
        );
        assert_eq!(
            CallGraph::parse("dwarf,1001"),
            Ok(CallGraph::Dwarf { stack_size: 1008 })
        );
        assert!(matches!(
            CallGraph::parse("dwarf,0"),
            Err(CallGraphError::BadStackSize { .. })
        ));
        assert!(matches!(
            CallGraph::parse("dwarf,65536"),
            Err(CallGraphError::BadStackSize { .. })
        ));
        assert!(matches!(
            CallGraph::parse("dwarf,lots"),
            Err(CallGraphError::BadStackSize { .. })
        ));
        assert!(matches!(
            CallGraph::parse("lbr"),
            Err(CallGraphError::UnknownMode(_))
        ));
    }

    #[test]
    fn dwarf_mode_sets_regs_stack_and_excludes_the_user_chain_as_perf_does() {
        let mut attr = abi::perf_event_attr::default();
        CallGraph::Dwarf { stack_size: 4096 }.apply(&mut attr);
        let want = u64::from(
            abi::PERF_SAMPLE_CALLCHAIN | abi::PERF_SAMPLE_REGS_USER | abi::PERF_SAMPLE_STACK_USER,
        );
        assert_eq!(attr.sample_type & want, want);
        assert_eq!(attr.sample_regs_user, DWARF_REGS_MASK_X86_64);
        assert_eq!(attr.sample_stack_user, 4096);
        assert_eq!(attr.exclude_callchain_user(), 1);

        let mut fp = abi::perf_event_attr::default();
        fp.set_exclude_callchain_user(1);
        CallGraph::FramePointer.apply(&mut fp);
        assert_eq!(fp.exclude_callchain_user(), 0);
        assert_eq!(fp.sample_type, u64::from(abi::PERF_SAMPLE_CALLCHAIN));
        assert_eq!(fp.sample_stack_user, 0);
    }
}
