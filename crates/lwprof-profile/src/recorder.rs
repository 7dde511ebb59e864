//! Recording: a sampling session on a command, a process or every CPU,
//! streamed into a perf.data file as the kernel writes it.
//!
//! Records go from each ring straight into the file (zero-copy views, one
//! buffered write each), with a FINISHED_ROUND after every pass over the
//! rings, as perf does, so readers can sort with bounded memory. The file is
//! finished (attrs, features, header) however the recording ends: the command
//! exits or dies, Ctrl-C, the duration runs out, or a write fails; what was
//! recorded is never lost. The CLI decides what to print; this module reports
//! progress through a callback and returns a summary.

use crate::import::OFF_CPU_EVENT_NAME;
use crate::perfdata::tracing::{self, TracingData, TracingHost};
use crate::perfdata::{feature, BuildIdEntry, EventAttr, Features, PerfDataError, PerfDataWriter};
use crate::synth;
use crate::unwind::CallGraph;
use lwprof_events::budget::SizePolicy;
use lwprof_events::command::{ExitStatus, PreparedCommand};
use lwprof_events::raw::RawData;
use lwprof_events::record::{sample_type, Endianness, RawRecord, Record};
use lwprof_events::ring::RingOptions;
use lwprof_events::sampling::{Period, SampleConfig, Wakeup};
use lwprof_events::session::{SamplingSession, SessionEvent, SessionOptions, Target};
use lwprof_events::tracefs::{Tracefs, TracepointSource};
use lwprof_events::EventConfig;
use perf_event_open_sys::bindings as abi;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What to record on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordTarget {
    /// Start this command and follow it (and its children with inherit).
    Command(Vec<OsString>),
    /// A running process and all its threads.
    Pid(i32),
    /// Every CPU.
    AllCpus,
}

/// What `lwprof record` will do.
#[derive(Debug, Clone)]
pub struct RecordConfig {
    /// The sampled events (resolved). Empty is an error.
    pub events: Vec<EventConfig>,
    /// Frequency or period.
    pub period: Period,
    /// `period` was asked for (-F or -c). Otherwise tracepoints ignore it and
    /// record every hit (period 1), as in perf.
    pub period_given: bool,
    /// Call stacks: `None` for none, frame pointers, or DWARF.
    pub call_graph: Option<CallGraph>,
    /// Also record where threads block (context switches with stacks).
    pub off_cpu: bool,
    /// Where.
    pub target: RecordTarget,
    /// The perf.data file to write.
    pub output: PathBuf,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Ring data pages per CPU (a power of two); `None` picks a default
    /// that fits the locked-memory limits.
    pub data_pages: Option<usize>,
    /// Follow children and new threads.
    pub inherit: bool,
    /// The command line to store in the file's header.
    pub cmdline: Vec<String>,
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
    /// Ring size notes (e.g. shrunk to fit the locked-memory limit).
    pub warnings: Vec<String>,
    /// Why recording stopped early, if it did (a write error...).
    pub stopped_by: Option<String>,
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
}

const RECORD_SAMPLE: u32 = abi::PERF_RECORD_SAMPLE;
const RECORD_MMAP: u32 = abi::PERF_RECORD_MMAP;
const RECORD_MMAP2: u32 = abi::PERF_RECORD_MMAP2;
const RECORD_THROTTLE: u32 = abi::PERF_RECORD_THROTTLE;

fn base_sample_type(call_graph: Option<&CallGraph>) -> u64 {
    let mut st = sample_type::IP
        | sample_type::TID
        | sample_type::TIME
        | sample_type::PERIOD
        | sample_type::CPU
        | sample_type::IDENTIFIER;
    if let Some(cg) = call_graph {
        st |= cg.sample_type();
    }
    st
}

/// How one event samples. Tracepoints also carry their raw record (the
/// fields perf script prints) and, unless a period was asked for, sample
/// every hit, as perf does.
fn event_sample_config(
    config: &RecordConfig,
    event: &EventConfig,
    first: bool,
    ring_bytes: usize,
) -> SampleConfig {
    let mut sc = sample_config(config, first, ring_bytes);
    if event.type_ == abi::PERF_TYPE_TRACEPOINT {
        sc.sample_type |= sample_type::RAW;
        if !config.period_given {
            sc.period = Period::Count(1);
        }
    }
    sc
}

fn sample_config(config: &RecordConfig, first: bool, ring_bytes: usize) -> SampleConfig {
    let mut sc = SampleConfig {
        sample_type: base_sample_type(config.call_graph.as_ref()),
        period: config.period,
        // Wake the reader when a quarter of the ring is full; the recorder
        // also drains on a timer, so small bursts are not held back long.
        wakeup: Wakeup::Watermark((ring_bytes / 4).max(4096) as u32),
        mmap: first,
        comm: first,
        task: first,
        ..SampleConfig::default()
    };
    if let Some(CallGraph::Dwarf { stack_size }) = config.call_graph {
        sc.sample_regs_user = crate::unwind::DWARF_REGS_MASK_X86_64;
        sc.sample_stack_user = stack_size;
    }
    sc
}

/// Default ring pages per CPU: perf's 512 KiB where the locked-memory
/// allowance has room, else what fits (the budget shrinks it with a note).
fn default_pages(config: &RecordConfig) -> usize {
    match config.call_graph {
        // Each DWARF sample carries a stack copy: give the rings room.
        Some(CallGraph::Dwarf { .. }) => 256,
        _ => 128,
    }
}

/// Records until the command ends, `stop` is set, or the duration runs out.
/// `progress` is called a few times a second from this thread.
pub fn record(
    config: &RecordConfig,
    stop: &AtomicBool,
    mut progress: impl FnMut(&Progress),
) -> Result<RecordSummary, RecordError> {
    if config.events.is_empty() {
        return Err(RecordError::Config("no event to record".into()));
    }
    let pages = config.data_pages.unwrap_or_else(|| default_pages(config));
    let ring_bytes = pages * 4096;
    let mut events: Vec<SessionEvent> = config
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| SessionEvent {
            event: e.clone(),
            sample: event_sample_config(config, e, i == 0, ring_bytes),
        })
        .collect();
    if config.off_cpu {
        let mut ev = EventConfig::software(
            OFF_CPU_EVENT_NAME,
            abi::PERF_COUNT_SW_CONTEXT_SWITCHES as u64,
        );
        ev.name = OFF_CPU_EVENT_NAME.into();
        let mut sc = sample_config(config, false, ring_bytes);
        sc.period = Period::Count(1);
        sc.context_switch = true;
        events.push(SessionEvent {
            event: ev,
            sample: sc,
        });
    }
    let mut child = match &config.target {
        RecordTarget::Command(argv) => Some(PreparedCommand::new(argv)?),
        _ => None,
    };
    let target = match &config.target {
        RecordTarget::Command(_) => Target::Task(child.as_ref().map_or(0, |c| c.pid())),
        RecordTarget::Pid(p) => Target::Process(*p),
        RecordTarget::AllCpus => Target::Cpus(Vec::new()),
    };
    let opts = SessionOptions {
        ring: RingOptions {
            data_pages: pages,
            policy: SizePolicy::Shrink,
            ..RingOptions::default()
        },
        inherit: config.inherit,
        disabled: !matches!(config.target, RecordTarget::Command(_)),
        enable_on_exec: matches!(config.target, RecordTarget::Command(_)),
        ..SessionOptions::default()
    };
    let mut session = SamplingSession::open(&events, &target, &opts)?;
    let mut summary = RecordSummary {
        warnings: session.ring_warnings(),
        ..RecordSummary::default()
    };
    let tracing_blob = tracing_blob(&config.events, &mut summary.warnings);
    let attrs: Vec<EventAttr> = session
        .events()
        .iter()
        .map(|e| EventAttr {
            attr: e.attr,
            name: e.event.name.clone(),
            ids: e.ids.clone(),
        })
        .collect();
    let file = File::create(&config.output).map_err(|e| {
        RecordError::Config(format!("cannot create {}: {e}", config.output.display()))
    })?;
    let mut writer = PerfDataWriter::with_path(
        BufWriter::with_capacity(1 << 16, file),
        &attrs,
        config.output.clone(),
    )?;
    // Synthesized records first: the kernel's text mapping, and for tasks
    // that already exist, their threads and mappings.
    let first = &session.events()[0];
    let info = first.parse_info;
    let id = first.ids.first().copied().unwrap_or(0);
    if let Some(k) = synth::kernel_mmap(&info, id) {
        writer.write_record(&k)?;
    }
    let pids: Vec<u32> = match &config.target {
        RecordTarget::Pid(p) => vec![*p as u32],
        RecordTarget::AllCpus => synth::all_pids(),
        RecordTarget::Command(_) => Vec::new(),
    };
    for pid in pids {
        for rec in synth::synthesize_process(pid, &info, id) {
            writer.write_record(&rec)?;
        }
    }
    let mut paths: BTreeSet<Vec<u8>> = BTreeSet::new();
    let parse_infos: Vec<_> = session.events().iter().map(|e| e.parse_info).collect();

    if !matches!(config.target, RecordTarget::Command(_)) {
        session.enable()?;
    }
    let start = Instant::now();
    if let Some(c) = child.as_mut() {
        c.start()?;
    }
    let mut last_report = start;
    let mut write_error: Option<PerfDataError> = None;
    let mut terminated = false;
    loop {
        let status = session.wait(Some(Duration::from_millis(100)))?;
        let drained = drain(
            &mut session,
            &mut writer,
            &mut summary,
            &mut paths,
            &parse_infos,
            &mut write_error,
        );
        if drained > 0 && write_error.is_none() {
            if let Err(e) = writer.write_finished_round() {
                write_error = Some(e);
            }
        }
        summary.progress.lost = session.stats().lost;
        summary.progress.bytes = writer.data_size();
        summary.progress.elapsed = start.elapsed();
        if last_report.elapsed() >= Duration::from_millis(250) {
            progress(&summary.progress);
            last_report = Instant::now();
        }
        if write_error.is_some() || status.finished {
            break;
        }
        if let Some(c) = child.as_mut() {
            if let Some(s) = c.try_wait()? {
                summary.exit_status = Some(s);
                break;
            }
        }
        let timed_out = config.duration.is_some_and(|d| start.elapsed() >= d);
        if stop.load(Ordering::Relaxed) || timed_out {
            if let Some(c) = child.as_mut() {
                if timed_out && !terminated {
                    // Like perf: the duration is over, ask the command to end.
                    let _ = c.kill(SIGTERM);
                    terminated = true;
                }
                if stop.load(Ordering::Relaxed) && !terminated {
                    // Ctrl-C reached the command through the terminal; if it
                    // came to us alone, pass it on.
                    let _ = c.kill(SIGINT);
                    terminated = true;
                }
                // Keep draining until the command is gone.
                continue;
            }
            break;
        }
    }
    session.disable()?;
    drain(
        &mut session,
        &mut writer,
        &mut summary,
        &mut paths,
        &parse_infos,
        &mut write_error,
    );
    if let Some(c) = child.as_mut() {
        summary.exit_status = Some(c.wait()?);
    }
    summary.progress.lost = session.stats().lost;
    summary.progress.bytes = writer.data_size();
    summary.progress.elapsed = start.elapsed();
    summary.throttles = session.stats().throttles;
    summary.records = writer.records();
    if let Some(e) = &write_error {
        summary.stopped_by = Some(e.to_string());
    }
    let mut features = Features::from_host(
        concat!("lwprof ", env!("CARGO_PKG_VERSION")),
        config.cmdline.clone(),
    );
    features.build_ids = build_ids(&paths);
    if let Some(blob) = tracing_blob {
        match TracingData::parse(blob.clone()) {
            Ok(t) => features.tracing_data = Some(t),
            Err(e) => {
                // Written all the same: perf may read what lwprof cannot.
                summary.warnings.push(format!(
                    "lwprof cannot read the tracepoint formats it wrote: {e}"
                ));
                features.other.insert(feature::TRACING_DATA, blob);
            }
        }
    }
    writer.finish(&features)?;
    progress(&summary.progress);
    match write_error {
        Some(e) => Err(e.into()),
        None => Ok(summary),
    }
}

/// The TRACING_DATA blob for the tracepoint events (their format files
/// from tracefs, laid out as perf does), `None` without tracepoints. When it
/// cannot be made the recording goes on, with a warning: lwprof reads the
/// file without it, perf does not.
fn tracing_blob(events: &[EventConfig], warnings: &mut Vec<String>) -> Option<Vec<u8>> {
    let tracepoints: Vec<&EventConfig> = events
        .iter()
        .filter(|e| e.type_ == abi::PERF_TYPE_TRACEPOINT)
        .collect();
    if tracepoints.is_empty() {
        return None;
    }
    let made = (|| {
        let tfs = Tracefs::find().ok_or_else(|| "tracefs is not mounted".to_string())?;
        let names = tracepoints
            .iter()
            .map(|e| tracepoint_name(&tfs, e))
            .collect::<Result<Vec<_>, _>>()?;
        let pairs: Vec<(&str, &str)> = names
            .iter()
            .map(|(s, n)| (s.as_str(), n.as_str()))
            .collect();
        let files = tfs.tracing_files(&pairs).map_err(|e| e.to_string())?;
        for u in &files.unreadable {
            warnings.push(format!("{u}: left out of the file's tracing data"));
        }
        let page = lwprof_events::budget::Limits::from_system().page_size;
        let host = TracingHost::native(u32::try_from(page).unwrap_or(4096));
        tracing::build(&files, host).map_err(|e| e.to_string())
    })();
    match made {
        Ok(blob) => Some(blob),
        Err(e) => {
            warnings.push(format!(
                "the tracepoint formats cannot be written ({e}): perf will not read this file"
            ));
            None
        }
    }
}

/// (subsystem, name) of a tracepoint event: from its name when that has the
/// event's id, else by a search of tracefs for the id.
fn tracepoint_name(tfs: &Tracefs, e: &EventConfig) -> Result<(String, String), String> {
    let mut parts = e.name.split(':');
    if let (Some(sub), Some(name)) = (parts.next(), parts.next()) {
        if tfs.id(sub, name).ok().flatten() == Some(e.config) {
            return Ok((sub.to_string(), name.to_string()));
        }
    }
    tfs.tracepoint_by_id(e.config)
        .map_err(|err| err.to_string())?
        .ok_or_else(|| {
            format!(
                "no tracepoint in tracefs has the id {} of {}",
                e.config, e.name
            )
        })
}

/// Signal numbers (the same on every Linux architecture lwprof runs on);
/// this crate has no libc dependency for two constants.
const SIGTERM: i32 = 15;
const SIGINT: i32 = 2;

/// Streams every ring's records into the file; returns how many.
fn drain(
    session: &mut SamplingSession,
    writer: &mut PerfDataWriter<BufWriter<File>>,
    summary: &mut RecordSummary,
    paths: &mut BTreeSet<Vec<u8>>,
    infos: &[lwprof_events::record::RecordParseInfo],
    error: &mut Option<PerfDataError>,
) -> usize {
    session.drain_raw(|_cpu, data: RawData<'_>| {
        if error.is_some() {
            return;
        }
        let kind = data.read_u32(0).unwrap_or(0);
        match kind {
            RECORD_SAMPLE => summary.progress.samples += 1,
            RECORD_THROTTLE => summary.throttles += 1,
            RECORD_MMAP | RECORD_MMAP2 => {
                if let Ok(raw) = RawRecord::from_data(data, Endianness::NATIVE) {
                    if let Some(info) = infos.first() {
                        match raw.parse(info) {
                            Ok(Record::Mmap2(m)) if !m.is_data => {
                                paths.insert(m.filename.as_contiguous().into_owned());
                            }
                            Ok(Record::Mmap(m)) if !m.is_data => {
                                paths.insert(m.filename.as_contiguous().into_owned());
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
        if let Err(e) = writer.write_raw(data) {
            *error = Some(e);
        }
    })
}

/// Build ids of the mapped files, for the file's BUILD_ID section.
fn build_ids(paths: &BTreeSet<Vec<u8>>) -> Vec<BuildIdEntry> {
    let mut out = Vec::new();
    for p in paths {
        let Ok(path) = std::str::from_utf8(p) else {
            continue;
        };
        if !path.starts_with('/') {
            continue;
        }
        if let Some(id) = read_build_id(std::path::Path::new(path)) {
            out.push(BuildIdEntry {
                pid: -1,
                misc: abi::PERF_RECORD_MISC_USER as u16,
                build_id: id,
                path: path.to_string(),
            });
        }
    }
    out
}

/// The GNU build id of an ELF file, read from its PT_NOTE segments only (a
/// few hundred bytes, not the whole file: recording stays fast to finish).
pub fn read_build_id(path: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path).ok()?;
    let mut eh = [0u8; 64];
    f.read_exact(&mut eh).ok()?;
    // 64-bit little-endian ELF only (the machines lwprof records on).
    if &eh[..4] != b"\x7fELF" || eh[4] != 2 || eh[5] != 1 {
        return None;
    }
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let phoff = u64_at(&eh, 32);
    let phentsize = u16_at(&eh, 54) as usize;
    let phnum = u16_at(&eh, 56) as usize;
    if phentsize < 56 || phnum > 256 {
        return None;
    }
    let mut ph = vec![0u8; phentsize * phnum];
    f.seek(SeekFrom::Start(phoff)).ok()?;
    f.read_exact(&mut ph).ok()?;
    for i in 0..phnum {
        let e = &ph[i * phentsize..];
        if u32_at(e, 0) != 4 {
            continue; // not PT_NOTE
        }
        let (off, size) = (u64_at(e, 8), u64_at(e, 32).min(1 << 16));
        let mut notes = vec![0u8; size as usize];
        f.seek(SeekFrom::Start(off)).ok()?;
        f.read_exact(&mut notes).ok()?;
        if let Some(mut id) = crate::symbols::build_id_from_notes(&notes) {
            // perf.data's BUILD_ID entries hold at most 20 bytes.
            id.truncate(20);
            return Some(id);
        }
    }
    None
}
