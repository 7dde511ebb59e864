//! Recording: a sampling session on a command, a process, a thread or every
//! CPU, streamed into a perf.data file as the kernel writes it.
//!
//! A [`Recording`] goes through four steps, each its own method:
//! [`Recording::open`] (events, rings, the command forked but not yet
//! started, the output file), [`Recording::synthesize`] (the records of
//! tasks that already exist), [`Recording::run`] (drain the rings until the
//! command ends, Ctrl-C or the duration) and [`Recording::finish`] (lost
//! counts, features, build ids, the build-id cache, the file put in place).
//! [`record`] does all four.
//!
//! Records go from each ring straight into the file (zero-copy views, one
//! buffered write each), with a FINISHED_ROUND after every pass over the
//! rings, as perf does, so readers can sort with bounded memory. The file is
//! written under a temporary name and renamed over the output only once the
//! recording ran, so a command that cannot start never destroys the last
//! recording; an older file of the same name is kept as `NAME.old`, as perf
//! keeps `perf.data.old`. The file is finished however the recording ends:
//! the command exits or dies, Ctrl-C, the duration runs out, or a write
//! fails; what was recorded is never lost. A failed write (a full disk)
//! finishes the file at its last whole record and names the cause, the
//! file and the samples it holds ([`RecordError::WriteFailed`]).
//!
//! `-o -` streams pipe mode to standard output (the command's own output
//! goes to stderr, as perf does), and `-z` compresses the records with
//! zstd; both are the `sink` module's.
//!
//! `--switch-output` writes a numbered file (`NAME.<timestamp>`) on SIGUSR2,
//! per size or per time; with `--overwrite` the rings are flight recorders
//! (the kernel overwrites the oldest records) and each dump is a snapshot of
//! the latest ones ([`flight`]).
//!
//! The CLI decides what to print; this module reports progress through a
//! callback and returns a summary.

mod flight;
mod foreign;
mod output;
mod recording;
mod sink;
mod tracing;
mod tracker;

pub use output::{switch_output_name, OutputFile};
pub use recording::Recording;

use crate::unwind::CallGraph;
use lwprof_events::command::ExitStatus;
use lwprof_events::sampling::Period;
use lwprof_events::EventConfig;
use lwprof_perfdata::{PartialFeatures, PerfDataError};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// What to record on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordTarget {
    /// Start [`RecordConfig::command`] and follow it (and its children with
    /// inherit).
    Command,
    /// A running process and all its threads.
    Pid(i32),
    /// One running thread.
    Tid(i32),
    /// Every CPU, or the CPUs of [`RecordConfig::cpus`].
    AllCpus,
}

/// When `--switch-output` starts the next numbered file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchOutput {
    /// On SIGUSR2 (see [`RecordConfig::switch_signal`]).
    Signal,
    /// When the current file has this many bytes of records.
    Size(u64),
    /// After this long.
    Time(Duration),
}

/// What `lwprof record` will do.
#[derive(Debug, Clone)]
pub struct RecordConfig {
    /// The sampled events (resolved). Empty is an error.
    pub events: Vec<EventConfig>,
    /// Frequency or period.
    pub period: Period,
    /// `period` was asked for (-F or -c). Otherwise tracepoints ignore it
    /// and record every hit (period 1), as in perf.
    pub period_given: bool,
    /// Call stacks: `None` for none, frame pointers, or DWARF.
    pub call_graph: Option<CallGraph>,
    /// Also record where threads block (context switches with stacks).
    pub off_cpu: bool,
    /// Where.
    pub target: RecordTarget,
    /// The command to run: recorded with [`RecordTarget::Command`]; with
    /// the other targets it only sets how long the recording lasts (it ends
    /// when the command ends, as `perf record -p PID -- sleep 5` does).
    pub command: Vec<OsString>,
    /// CPUs to record on (`-C`); empty means every online CPU.
    pub cpus: Vec<i32>,
    /// The perf.data file to write; `-` writes pipe mode to standard
    /// output.
    pub output: PathBuf,
    /// zstd-compress the records at this level (`-z`).
    pub compression_level: Option<i32>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Ring data pages per CPU (a power of two); `None` picks a default
    /// that fits the locked-memory limits.
    pub data_pages: Option<usize>,
    /// Follow children and new threads.
    pub inherit: bool,
    /// The command line to store in the file's header.
    pub cmdline: Vec<String>,
    /// Record every context switch (`PERF_RECORD_SWITCH`), as
    /// `--switch-events` does.
    pub switch_events: bool,
    /// `PERF_SAMPLE_BRANCH_*` bits of a branch stack per sample (`-b`);
    /// 0 records none.
    pub branch_sample_type: u64,
    /// Per-thread counts (`-s`): `inherit_stat`, and a READ record per task
    /// when it exits.
    pub inherit_stat: bool,
    /// Write the build ids of the mapped files (the BUILD_ID feature).
    pub build_ids: bool,
    /// Copy the sampled binaries into this build-id cache when the
    /// recording ends (`None`: `--no-buildid-cache`).
    pub build_id_cache: Option<PathBuf>,
    /// Flight-recorder rings (`--overwrite`): only the latest records are
    /// kept, and written when an output switch (or the end) comes.
    pub overwrite: bool,
    /// Numbered output files (`--switch-output`).
    pub switch_output: Option<SwitchOutput>,
}

impl RecordConfig {
    /// A config with perf's defaults for everything but the events, the
    /// target and the output.
    pub fn new(events: Vec<EventConfig>, target: RecordTarget, output: PathBuf) -> Self {
        Self {
            events,
            period: Period::Frequency(4000),
            period_given: false,
            call_graph: Some(CallGraph::FramePointer),
            off_cpu: false,
            target,
            command: Vec::new(),
            cpus: Vec::new(),
            output,
            compression_level: None,
            duration: None,
            data_pages: None,
            inherit: true,
            cmdline: Vec::new(),
            switch_events: false,
            branch_sample_type: 0,
            inherit_stat: false,
            build_ids: true,
            build_id_cache: lwprof_symbols::BuildIdCache::default_root(),
            overwrite: false,
            switch_output: None,
        }
    }
}

/// Progress, reported a few times a second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Since recording started.
    pub elapsed: Duration,
    /// Samples written.
    pub samples: u64,
    /// Samples the kernel reported lost.
    pub lost: u64,
    /// Bytes written to the data section.
    pub bytes: u64,
}

/// What a recording reports while it runs.
#[derive(Debug, Clone, Copy)]
pub enum Update<'a> {
    /// The figures so far (a few times a second).
    Progress(&'a Progress),
    /// A `--switch-output` file was written and put in place.
    FileWritten(&'a WrittenFile),
}

/// One file a recording wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// Where it is.
    pub path: PathBuf,
    /// Bytes of records in it (compressed, with `-z`).
    pub bytes: u64,
    /// Bytes of those records before compression (`bytes` without it).
    pub record_bytes: u64,
    /// Samples in it.
    pub samples: u64,
}

/// How a recording ended.
#[derive(Debug, Clone, Default)]
pub struct RecordSummary {
    /// The final progress figures.
    pub progress: Progress,
    /// Records written (all types).
    pub records: u64,
    /// THROTTLE records: the kernel slowed sampling down.
    pub throttles: u64,
    /// The command's exit status, when there was a command.
    pub exit_status: Option<ExitStatus>,
    /// Ring size notes (e.g. shrunk to fit the locked-memory limit) and
    /// other things the user should know.
    pub warnings: Vec<String>,
    /// Why recording stopped early, if it did (a write error...).
    pub stopped_by: Option<String>,
    /// Every file written, in order (one, or one per `--switch-output`).
    pub files: Vec<WrittenFile>,
    /// The earlier file of the output's name, kept as `NAME.old`.
    pub old_file: Option<PathBuf>,
    /// Binaries added to the build-id cache.
    pub cached_binaries: usize,
}

/// Why a recording could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The kernel interface failed (open, mmap, permissions, limits).
    #[error(transparent)]
    Events(#[from] lwprof_events::Error),
    /// Writing the perf.data file failed.
    #[error(transparent)]
    File(#[from] PerfDataError),
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
    /// A write failed (the disk is full, the pipe was closed); a file was
    /// finished up to its last whole record.
    #[error("{}", write_failed(target, cause, *samples, *features))]
    WriteFailed {
        /// Where the records went.
        target: WriteTarget,
        /// The OS error.
        cause: std::io::Error,
        /// Samples in the output (whole records before the failure).
        samples: u64,
        /// The feature sections the file got.
        features: PartialFeatures,
    },
}

/// Where a recording's records went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteTarget {
    /// A perf.data file.
    File(PathBuf),
    /// Standard output (pipe mode).
    Stdout,
}

fn write_failed(
    target: &WriteTarget,
    cause: &std::io::Error,
    samples: u64,
    features: PartialFeatures,
) -> String {
    let path = match target {
        WriteTarget::Stdout => {
            return format!(
            "cannot write to standard output: {cause}; stopped recording after {samples} samples"
        )
        }
        WriteTarget::File(p) => p.display(),
    };
    let left_out = match features {
        PartialFeatures::All => "",
        PartialFeatures::Minimal => {
            " (without its host, command-line and build-id sections, for lack of space)"
        }
        PartialFeatures::None => " (without its feature sections, for lack of space)",
    };
    format!(
        "cannot write {path}: {cause}; it keeps the {samples} samples written before, up to its \
         last complete record{left_out}: `lwprof report -i {path}` and `perf report -i {path}` \
         read them"
    )
}

/// Records until the command ends, `stop` is set, or the duration runs out.
/// `switch` (SIGUSR2 for `--switch-output=signal`) asks for the next file.
/// `progress` is called a few times a second from this thread, and once per
/// `--switch-output` file.
pub fn record(
    config: &RecordConfig,
    stop: &AtomicBool,
    switch: &AtomicBool,
    progress: impl FnMut(Update<'_>),
) -> Result<RecordSummary, RecordError> {
    if config.overwrite {
        return flight::record(config, stop, switch, progress);
    }
    let mut recording = Recording::open(config)?;
    recording.synthesize()?;
    recording.run(stop, switch, progress)?;
    recording.finish()
}
