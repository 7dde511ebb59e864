//! One recording into perf.data files: [`Recording::open`],
//! [`Recording::synthesize`], [`Recording::run`], [`Recording::finish`].
//!
//! This file decides which events are opened with which sampling fields and
//! moves records from the rings into the file; the output's names are
//! [`super::output`]'s, what must be remembered across files is
//! [`super::tracker`]'s, and the flight recorder is [`super::flight`].

use super::foreign::{with_build_id, ForeignBinaries};
pub(super) use super::sink::{finish_file, new_file, CurrentFile};
use super::tracker::{Tracker, MISC_KERNEL, MISC_USER};
use super::{RecordConfig, RecordError, RecordSummary, RecordTarget, SwitchOutput, Update};
use crate::import::OFF_CPU_EVENT_NAME;
use crate::synth;
use crate::unwind::CallGraph;
use lwprof_events::budget::SizePolicy;
use lwprof_events::command::PreparedCommand;
use lwprof_events::raw::RawData;
use lwprof_events::record::{
    read_format, sample_type, Endianness, RawRecord, Record, RecordParseInfo,
};
use lwprof_events::ring::RingOptions;
use lwprof_events::sampling::{Period, SampleConfig, Wakeup};
use lwprof_events::session::{SamplingSession, SessionEvent, SessionOptions, Target};
use lwprof_events::EventConfig;
use lwprof_perfdata::{BuildIdEntry, EventAttr, Features, PerfDataError};
use lwprof_symbols::vdso::{self, VDSO_NAME};
use lwprof_symbols::{read_build_id, BuildIdCache};
use perf_event_open_sys::bindings as abi;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const RECORD_SAMPLE: u32 = lwprof_records::abi::record_type::SAMPLE;
const RECORD_MMAP: u32 = lwprof_records::abi::record_type::MMAP;
const RECORD_MMAP2: u32 = lwprof_records::abi::record_type::MMAP2;
const RECORD_COMM: u32 = lwprof_records::abi::record_type::COMM;
const RECORD_FORK: u32 = lwprof_records::abi::record_type::FORK;
const RECORD_EXIT: u32 = lwprof_records::abi::record_type::EXIT;
const RECORD_THROTTLE: u32 = lwprof_records::abi::record_type::THROTTLE;

/// Signal numbers (the same on every Linux architecture lwprof runs on);
/// this crate has no libc dependency for two constants.
pub(super) const SIGTERM: i32 = 15;
pub(super) const SIGINT: i32 = 2;

/// A recording in progress (see the module docs for its four steps).
pub struct Recording<'c> {
    config: &'c RecordConfig,
    session: SamplingSession,
    child: Option<PreparedCommand>,
    attrs: Vec<EventAttr>,
    first_info: RecordParseInfo,
    first_id: u64,
    current: Option<CurrentFile>,
    tracker: Tracker,
    /// Binaries of processes in other mount namespaces, held open.
    foreign: ForeignBinaries,
    summary: RecordSummary,
    write_error: Option<PerfDataError>,
    start: Instant,
    ran: bool,
    /// The TRACING_DATA section, when there are tracepoint events.
    tracing: Option<Vec<u8>>,
}

impl std::fmt::Debug for Recording<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("output", &self.config.output)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// The sample fields every lwprof event carries.
pub(super) fn base_sample_type(config: &RecordConfig) -> u64 {
    let mut st = sample_type::IP
        | sample_type::TID
        | sample_type::TIME
        | sample_type::PERIOD
        | sample_type::CPU
        | sample_type::IDENTIFIER;
    if let Some(cg) = &config.call_graph {
        st |= cg.sample_type();
    }
    if config.branch_sample_type != 0 {
        st |= u64::from(abi::PERF_SAMPLE_BRANCH_STACK);
    }
    st
}

/// The sampling fields of one event; `tracking` events also ask for the
/// MMAP, COMM and task records (one event per session does).
pub(super) fn sample_config(
    config: &RecordConfig,
    tracking: bool,
    ring_bytes: usize,
) -> SampleConfig {
    let mut sc = SampleConfig {
        sample_type: base_sample_type(config),
        period: config.period,
        // Wake the reader when a quarter of the ring is full; the recorder
        // also drains on a timer, so small bursts are not held back long.
        wakeup: Wakeup::Watermark((ring_bytes / 4).max(4096) as u32),
        mmap: tracking,
        comm: tracking,
        task: tracking,
        context_switch: tracking && config.switch_events && !config.off_cpu,
        branch_sample_type: config.branch_sample_type,
        inherit_stat: config.inherit_stat,
        ..SampleConfig::default()
    };
    if config.inherit_stat {
        sc.read_format |=
            read_format::TOTAL_TIME_ENABLED | read_format::TOTAL_TIME_RUNNING | read_format::ID;
    }
    if let Some(CallGraph::Dwarf { stack_size }) = config.call_graph {
        sc.sample_regs_user = crate::unwind::DWARF_REGS_MASK_X86_64;
        sc.sample_stack_user = stack_size;
        // As perf: the user frames come from the stack copy, and a DWARF
        // unwinder reading `.eh_frame_hdr` needs the read-only mappings too.
        sc.exclude_callchain_user = true;
        sc.mmap_data = tracking;
    }
    sc
}

/// Every event of the session: the configured ones (the first tracks MMAP,
/// COMM and tasks unless `tracking_elsewhere`), plus the off-CPU event.
pub(super) fn session_events(
    config: &RecordConfig,
    ring_bytes: usize,
    tracking_elsewhere: bool,
) -> Vec<SessionEvent> {
    let mut events: Vec<SessionEvent> = config
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut sample = sample_config(config, i == 0 && !tracking_elsewhere, ring_bytes);
            if e.type_ == abi::PERF_TYPE_TRACEPOINT {
                // The raw record holds the fields perf script prints; and
                // unless a period was asked for, every hit, as perf records.
                sample.sample_type |= sample_type::RAW;
                if !config.period_given {
                    sample.period = Period::Count(1);
                }
            }
            SessionEvent {
                event: e.clone(),
                sample,
            }
        })
        .collect();
    if config.off_cpu {
        let ev = EventConfig::software(
            OFF_CPU_EVENT_NAME,
            abi::PERF_COUNT_SW_CONTEXT_SWITCHES as u64,
        );
        let mut sc = sample_config(config, false, ring_bytes);
        sc.period = Period::Count(1);
        sc.context_switch = true;
        events.push(SessionEvent {
            event: ev,
            sample: sc,
        });
    }
    events
}

/// Default ring pages per CPU: perf's 512 KiB where the locked-memory
/// allowance has room, else what fits (the budget shrinks it with a note).
pub(super) fn default_pages(config: &RecordConfig) -> usize {
    match config.call_graph {
        // Each DWARF sample carries a stack copy: give the rings room.
        Some(CallGraph::Dwarf { .. }) => 256,
        _ => 128,
    }
}

/// The session's target, and how its events are opened.
pub(super) fn session_target(
    config: &RecordConfig,
    child: Option<&PreparedCommand>,
    ring: RingOptions,
) -> (Target, SessionOptions) {
    let target = match &config.target {
        RecordTarget::Command => Target::Task(child.map_or(0, |c| c.pid())),
        RecordTarget::Pid(p) => Target::Process(*p),
        RecordTarget::Tid(t) => Target::Task(*t),
        RecordTarget::AllCpus => Target::Cpus(config.cpus.clone()),
    };
    let is_command = config.target == RecordTarget::Command;
    let opts = SessionOptions {
        ring,
        inherit: config.inherit && !matches!(config.target, RecordTarget::Tid(_)),
        disabled: !is_command,
        enable_on_exec: is_command,
        cpus: config.cpus.clone(),
        ..SessionOptions::default()
    };
    (target, opts)
}

/// The command, forked and waiting to exec, when the recording has one.
pub(super) fn prepare_command(
    config: &RecordConfig,
) -> Result<Option<PreparedCommand>, RecordError> {
    if config.command.is_empty() {
        if config.target == RecordTarget::Command {
            return Err(RecordError::Config(
                "nothing to record: give a command, or -p PID, -t TID or -a".into(),
            ));
        }
        return Ok(None);
    }
    if super::sink::is_pipe(config) {
        // Standard output is the data stream.
        return Ok(Some(PreparedCommand::with_stdout_on_stderr(
            &config.command,
        )?));
    }
    Ok(Some(PreparedCommand::new(&config.command)?))
}

/// The pids whose existing threads and mappings must be synthesized.
pub(super) fn existing_pids(target: &RecordTarget) -> Vec<u32> {
    match target {
        RecordTarget::Pid(p) => vec![*p as u32],
        RecordTarget::Tid(t) => vec![thread_group(*t).unwrap_or(*t as u32)],
        RecordTarget::AllCpus => synth::all_pids(),
        RecordTarget::Command => Vec::new(),
    }
}

/// The process a thread belongs to (`Tgid` in /proc/TID/status).
fn thread_group(tid: i32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}

impl<'c> Recording<'c> {
    /// Opens the events and their rings, forks the command (not started
    /// yet) and creates the output under a temporary name. Nothing that
    /// exists is touched: the output replaces an older file only in
    /// [`Recording::finish`].
    pub fn open(config: &'c RecordConfig) -> Result<Self, RecordError> {
        if config.events.is_empty() {
            return Err(RecordError::Config("no event to record".into()));
        }
        let pages = config.data_pages.unwrap_or_else(|| default_pages(config));
        let events = session_events(config, pages * 4096, false);
        let child = prepare_command(config)?;
        let ring = RingOptions {
            data_pages: pages,
            policy: SizePolicy::Shrink,
            ..RingOptions::default()
        };
        let (target, opts) = session_target(config, child.as_ref(), ring);
        let session = SamplingSession::open(&events, &target, &opts)?;
        let attrs = event_attrs(&session);
        let first = &session.events()[0];
        let (first_info, first_id) = (first.parse_info, first.ids.first().copied().unwrap_or(0));
        let keep = config.switch_output.is_some();
        let mut warnings = session.ring_warnings();
        let tracing = super::tracing::tracing_blob(&config.events, &mut warnings);
        let mut me = Self {
            config,
            summary: RecordSummary {
                warnings,
                ..RecordSummary::default()
            },
            session,
            child,
            attrs,
            first_info,
            first_id,
            current: None,
            tracker: Tracker::new(first_info, keep),
            foreign: ForeignBinaries::default(),
            write_error: None,
            start: Instant::now(),
            ran: false,
            tracing,
        };
        me.current = Some(me.new_file()?);
        Ok(me)
    }

    fn new_file(&mut self) -> Result<CurrentFile, RecordError> {
        // Pipe mode sends the features before the data.
        let mut head = Features::default();
        if super::sink::is_pipe(self.config) {
            head = self.features();
            super::tracing::add_to_features(
                self.tracing.as_ref(),
                &mut head,
                &mut self.summary.warnings,
            );
        }
        new_file(self.config, &self.attrs, self.lost_per_event(), &head)
    }

    fn lost_per_event(&self) -> Vec<u64> {
        (0..self.attrs.len())
            .map(|i| self.session.lost_for_event(i))
            .collect()
    }

    /// Writes the records of what existed before the recording: the
    /// kernel's text mapping, and for `-p`, `-t` and `-a` the threads and
    /// mappings of the processes already running.
    pub fn synthesize(&mut self) -> Result<(), RecordError> {
        if let Some(k) = synth::kernel_mmap(&self.first_info, self.first_id) {
            self.write_tracked(&k);
        }
        let data = matches!(self.config.call_graph, Some(CallGraph::Dwarf { .. }));
        for pid in existing_pids(&self.config.target) {
            for rec in synth::synthesize_process_with(pid, &self.first_info, self.first_id, data) {
                self.write_tracked(&rec);
            }
        }
        if let Some(cur) = &mut self.current {
            if let Err(e) = cur.writer.write_finished_init() {
                self.write_error.get_or_insert(e);
            }
        }
        match self.write_error.take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    fn write_tracked(&mut self, record: &[u8]) {
        let rewritten = foreign_mmap2(&mut self.foreign, &self.first_info, RawData::Single(record));
        let record = rewritten.as_deref().unwrap_or(record);
        self.tracker.record(RawData::Single(record));
        if let Some(cur) = &mut self.current {
            if let Err(e) = cur.writer.write_record(record) {
                self.write_error.get_or_insert(e);
            }
        }
    }

    /// Starts the command (or enables the events on the existing target)
    /// and streams records until the command ends, every target task has
    /// exited, `stop` is set, or the duration runs out. `switch` asks for
    /// the next `--switch-output` file.
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        switch: &AtomicBool,
        mut progress: impl FnMut(Update<'_>),
    ) -> Result<(), RecordError> {
        if self.config.target != RecordTarget::Command {
            self.session.enable()?;
        }
        self.start = Instant::now();
        if let Some(c) = self.child.as_mut() {
            c.start()?;
        }
        self.ran = true;
        let mut last_report = self.start;
        let mut terminated = false;
        loop {
            let status = self.session.wait(Some(Duration::from_millis(100)))?;
            if self.drain() > 0 && self.write_error.is_none() {
                if let Some(cur) = &mut self.current {
                    if let Err(e) = cur.writer.write_finished_round() {
                        self.write_error = Some(e);
                    }
                }
            }
            self.update_progress();
            if last_report.elapsed() >= Duration::from_millis(250) {
                progress(Update::Progress(&self.summary.progress));
                last_report = Instant::now();
            }
            if self.write_error.is_some() {
                // The output is gone (a full disk, a closed pipe): end the
                // command as the end of a duration does.
                if let Some(c) = self.child.as_mut() {
                    let _ = c.kill(SIGTERM);
                }
                break;
            }
            if self.switch_due(switch) {
                self.rotate()?;
                if let Some(f) = self.summary.files.last() {
                    progress(Update::FileWritten(f));
                }
            }
            if let Some(c) = self.child.as_mut() {
                if let Some(s) = c.try_wait()? {
                    self.summary.exit_status = Some(s);
                    break;
                }
            }
            let timed_out = self
                .config
                .duration
                .is_some_and(|d| self.start.elapsed() >= d);
            let stopping = stop.load(Ordering::Relaxed);
            if status.finished || stopping || timed_out {
                let Some(c) = self.child.as_mut() else { break };
                if !terminated {
                    // Like perf: the duration is over or the target is gone,
                    // ask the command to end; Ctrl-C reached it through the
                    // terminal, but if it came to us alone, pass it on.
                    let _ = c.kill(if stopping { SIGINT } else { SIGTERM });
                    terminated = true;
                }
                if status.finished && self.config.target == RecordTarget::Command {
                    break;
                }
                // Keep draining until the command is gone.
            }
        }
        Ok(())
    }

    fn switch_due(&self, switch: &AtomicBool) -> bool {
        let Some(cur) = &self.current else {
            return false;
        };
        match self.config.switch_output {
            None => false,
            Some(SwitchOutput::Signal) => switch.swap(false, Ordering::Relaxed),
            Some(SwitchOutput::Size(n)) => cur.writer.data_size() >= n,
            Some(SwitchOutput::Time(t)) => cur.started.elapsed() >= t,
        }
    }

    fn update_progress(&mut self) {
        let p = &mut self.summary.progress;
        p.lost = self.session.stats().lost;
        p.elapsed = self.start.elapsed();
        p.bytes = self.summary.files.iter().map(|f| f.bytes).sum::<u64>()
            + self.current.as_ref().map_or(0, |c| c.writer.data_size());
    }

    /// Streams every ring's records into the file; returns how many.
    fn drain(&mut self) -> usize {
        let Self {
            session,
            current,
            tracker,
            foreign,
            first_info,
            summary,
            write_error,
            ..
        } = self;
        let Some(cur) = current.as_mut() else {
            return 0;
        };
        session.drain_raw(|_cpu, data: RawData<'_>| {
            if write_error.is_some() {
                return;
            }
            match data.read_u32(0).unwrap_or(0) {
                RECORD_SAMPLE => {
                    summary.progress.samples += 1;
                    cur.samples += 1;
                    tracker.record(data);
                }
                RECORD_THROTTLE => summary.throttles += 1,
                RECORD_MMAP2 => {
                    if let Some(rec) = foreign_mmap2(foreign, first_info, data) {
                        tracker.record(RawData::Single(&rec));
                        if let Err(e) = cur.writer.write_record(&rec) {
                            *write_error = Some(e);
                        }
                        return;
                    }
                    tracker.record(data)
                }
                RECORD_MMAP | RECORD_COMM | RECORD_FORK | RECORD_EXIT => tracker.record(data),
                _ => {}
            }
            if let Err(e) = cur.writer.write_raw(data) {
                *write_error = Some(e);
            }
        })
    }

    /// Ends the current file under its numbered name and starts the next,
    /// which begins with the records of every live process.
    fn rotate(&mut self) -> Result<(), RecordError> {
        self.finish_current()?;
        let mut next = self.new_file()?;
        let mut error = None;
        if let Some(k) = synth::kernel_mmap(&self.first_info, self.first_id) {
            error = next.writer.write_record(&k).err();
        }
        self.tracker.replay(|r| {
            if error.is_none() {
                error = next.writer.write_record(r).err();
            }
        });
        self.tracker.forget_exited();
        self.current = Some(next);
        match error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Finishes the current file and puts it in place: the output name, or
    /// a numbered name with `--switch-output`.
    fn finish_current(&mut self) -> Result<(), RecordError> {
        let Some(cur) = self.current.take() else {
            return Ok(());
        };
        let lost_now = self.lost_per_event();
        let mut features = self.features();
        super::tracing::add_to_features(
            self.tracing.as_ref(),
            &mut features,
            &mut self.summary.warnings,
        );
        let written = finish_file(self.config, cur, &self.attrs, &lost_now, &features)?;
        if let Some(old) = written.1 {
            self.summary.old_file = Some(old);
        }
        self.summary.files.push(written.0);
        Ok(())
    }

    fn features(&self) -> Features {
        let mut features = Features::from_host(
            concat!("lwprof ", env!("CARGO_PKG_VERSION")),
            self.config.cmdline.clone(),
        );
        if self.config.build_ids {
            features.build_ids = build_ids(&self.tracker);
            add_foreign_build_ids(&mut features.build_ids, &self.foreign);
        }
        features
    }

    /// Disables the events, drains the last records, waits for the command,
    /// writes the lost counts, the features and the header, puts the file in
    /// place and fills the build-id cache. A write error is returned after
    /// the file was finished up to its last whole record.
    pub fn finish(mut self) -> Result<RecordSummary, RecordError> {
        self.session.disable()?;
        self.drain();
        if let Some(c) = self.child.as_mut() {
            if self.ran {
                self.summary.exit_status = Some(c.wait()?);
            }
        }
        self.update_progress();
        self.summary.throttles = self.session.stats().throttles;
        self.summary.records = self.current.as_ref().map_or(0, |c| c.writer.records());
        if let Some(e) = &self.write_error {
            self.summary.stopped_by = Some(e.to_string());
        }
        self.finish_current()?;
        if self.config.build_ids {
            if let Some(root) = &self.config.build_id_cache {
                self.summary.cached_binaries = cache_hit_binaries(&self.tracker, root);
                let tracker = &self.tracker;
                self.summary.cached_binaries += self
                    .foreign
                    .cache(root, |p| tracker.paths().any(|(q, hit)| hit && q == p));
            }
        }
        match self.write_error.take() {
            Some(e) => Err(e.into()),
            None => Ok(self.summary),
        }
    }
}

/// The MMAP2 record `data` with a build id instead of device and inode,
/// when it maps a binary of another mount namespace ([`ForeignBinaries`]).
fn foreign_mmap2(
    foreign: &mut ForeignBinaries,
    info: &RecordParseInfo,
    data: RawData<'_>,
) -> Option<Vec<u8>> {
    let raw = RawRecord::from_data(data, Endianness::NATIVE).ok()?;
    let Ok(Record::Mmap2(m)) = raw.parse(info) else {
        return None;
    };
    let id = foreign.mmap2(&m)?;
    with_build_id(&data.as_contiguous(), &id)
}

/// BUILD_ID entries for the foreign binaries whose path lwprof cannot see
/// (a path it sees has its own entry; the MMAP2 records tell them apart).
fn add_foreign_build_ids(entries: &mut Vec<BuildIdEntry>, foreign: &ForeignBinaries) {
    for (path, id) in foreign.build_ids() {
        let Ok(path) = std::str::from_utf8(path) else {
            continue;
        };
        if entries.iter().any(|e| e.path == path) {
            continue;
        }
        entries.push(BuildIdEntry {
            pid: -1,
            misc: MISC_USER,
            build_id: id.to_vec(),
            path: path.to_string(),
        });
    }
}

/// The attributes of the session's events, for the file.
pub(super) fn event_attrs(session: &SamplingSession) -> Vec<EventAttr> {
    session
        .events()
        .iter()
        .map(|e| {
            EventAttr::from_bytes(
                &lwprof_events::sys::attr_bytes(&e.attr),
                e.event.name.clone(),
                e.ids.clone(),
            )
        })
        .collect()
}

/// Build ids of the kernel and of the mapped files, for the file's BUILD_ID
/// section.
pub(super) fn build_ids(tracker: &Tracker) -> Vec<BuildIdEntry> {
    let mut out = Vec::new();
    if let Some(id) = kernel_build_id() {
        out.push(BuildIdEntry {
            pid: -1,
            misc: MISC_KERNEL,
            build_id: id,
            path: crate::model::KERNEL_DSO_NAME.to_string(),
        });
    }
    for (path, _) in tracker.paths() {
        let Ok(path) = std::str::from_utf8(path) else {
            continue;
        };
        if path == VDSO_NAME {
            // As perf: the image is named by its build id, kept in the cache.
            if let Some(id) =
                vdso::read_running(None).and_then(|v| v.build_id().map(<[u8]>::to_vec))
            {
                out.push(BuildIdEntry {
                    pid: -1,
                    misc: MISC_USER,
                    build_id: id,
                    path: path.to_string(),
                });
            }
            continue;
        }
        if !path.starts_with('/') {
            continue;
        }
        if let Some(id) = read_build_id(Path::new(path)) {
            out.push(BuildIdEntry {
                pid: -1,
                misc: MISC_USER,
                build_id: id,
                path: path.to_string(),
            });
        }
    }
    out
}

/// The running kernel's build id, from `/sys/kernel/notes`.
pub(super) fn kernel_build_id() -> Option<Vec<u8>> {
    let notes = std::fs::read("/sys/kernel/notes").ok()?;
    let mut id = lwprof_symbols::build_id_from_notes(&notes)?;
    id.truncate(20);
    Some(id)
}

/// Copies the binaries that had samples into the build-id cache (as perf
/// record does); returns how many were added. Failures only cost a later
/// report of a rebuilt binary its names, so they are not errors.
pub(super) fn cache_hit_binaries(tracker: &Tracker, root: &Path) -> usize {
    let cache = BuildIdCache::new(root);
    let mut added = 0;
    for (path, hit) in tracker.paths() {
        let Ok(path) = std::str::from_utf8(path) else {
            continue;
        };
        if hit && path == VDSO_NAME {
            added += usize::from(cache_vdso(&cache));
            continue;
        }
        let path = Path::new(path);
        if !hit || !path.is_absolute() || path.starts_with(root) || !path.is_file() {
            continue;
        }
        let Some(id) = read_build_id(path) else {
            continue;
        };
        use lwprof_symbols::buildid_cache::Added;
        match cache.add(path, &id) {
            Ok(Added::Linked | Added::Copied) => {
                added += 1;
                cache_debug_file(&cache, path, &id);
            }
            Ok(Added::AlreadyThere) => cache_debug_file(&cache, path, &id),
            Err(_) => {}
        }
    }
    added
}

/// Keeps the running vDSO image as perf does (`ROOT/[vdso]/ID/vdso`);
/// true when it was added.
fn cache_vdso(cache: &BuildIdCache) -> bool {
    use lwprof_symbols::buildid_cache::Added;
    let Some(image) = vdso::read_running(None) else {
        return false;
    };
    let Some(id) = image.build_id() else {
        return false;
    };
    let added = cache.add_from(
        Path::new(VDSO_NAME),
        vdso::VDSO_CACHE_FILE,
        &mut image.bytes(),
        id,
    );
    matches!(added, Ok(Added::Copied | Added::Linked))
}

/// Keeps the separate debug file of a cached binary that has no DWARF of
/// its own (found as the report would find it), so a report after the
/// binary was rebuilt and its debug file deleted still has names and lines.
fn cache_debug_file(cache: &BuildIdCache, path: &Path, id: &[u8]) {
    if cache.find_debug(id).is_some() {
        return;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let Ok(elf) = lwprof_symbols::ElfSymbols::parse(&bytes) else {
        return;
    };
    if elf.has_debug_info {
        return;
    }
    let link = elf.debuglink.as_ref().map(|l| l.file_name.as_str());
    let roots = [std::path::PathBuf::from("/usr/lib/debug")];
    for (candidate, _) in lwprof_symbols::debug_file_candidates(path, Some(id), link, &roots) {
        let matches = lwprof_symbols::read_build_id(&candidate).as_deref() == Some(id);
        if candidate.is_file() && matches {
            let _ = cache.add_debug(id, &candidate);
            return;
        }
    }
}
