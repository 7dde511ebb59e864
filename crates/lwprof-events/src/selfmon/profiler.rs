//! An application sampling itself: every thread it has and every thread it
//! starts later, read from its own rings in place by a background thread,
//! with no signal handler.
//!
//! [`SelfProfiler::start`] spawns a reader thread, which opens a sampling
//! session ([`crate::session`]) on its own process: `cpu-clock` in frequency
//! mode, `IP | TID | TIME | CALLCHAIN`, user space only. Why this shape:
//!
//! - `inherit` only reaches threads created *after* the event is opened, and
//!   only from the thread the event monitors, so every thread that already
//!   exists needs its own event: the session attaches to each thread of
//!   `/proc/self/task`, rescanning until no new thread appears. A thread
//!   started later is created by a thread that has events, and inherits them.
//! - An inherited event must be opened per CPU (the kernel refuses to mmap
//!   an inherited `cpu = -1` event), so there is one event per (thread, CPU),
//!   all redirected into one ring per CPU.
//! - The reader thread is started before any event exists and skipped by the
//!   attach, so it neither inherits events nor samples itself.
//! - User space only (`exclude_kernel`): the profile is of the application's
//!   code, and it works whatever `perf_event_paranoid` says for the kernel.
//!
//! Records are read in place (no copy): each sample's call chain is looked up
//! in a map keyed by the chain, and only a chain seen for the first time is
//! allocated. Call chains come from frame pointers; code built without them
//! (Rust release builds by default) yields short chains, but the first entry,
//! the sampled instruction pointer, is always exact: [`SelfProfile::leaf_counts`]
//! (self time) needs no unwinding.
//!
//! Symbolization is not done here (this crate reads no ELF files).

use crate::attr::EventConfig;
use crate::error::{Error, Result};
use crate::raw::RawData;
use crate::record::{sample_type, Endianness, RawRecord, Record, RecordParseInfo};
use crate::sampling::{Period, SampleConfig, Wakeup};
use crate::session::{SamplingSession, SessionEvent, SessionOptions, Target};
use perf_event_open_sys::bindings as pb;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

/// Call-chain entries at or above this are context markers
/// (`PERF_CONTEXT_USER`, `PERF_CONTEXT_KERNEL`, ...), not addresses.
const CONTEXT_MAX: u64 = lwprof_records::abi::context::MAX;

/// How a [`SelfProfiler`] samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfProfilerConfig {
    /// Samples per second per running thread.
    pub freq_hz: u64,
    /// Record call chains (frame pointers); without, each chain is just the IP.
    pub callchain: bool,
    /// Sample the kernel too (needs privilege or `perf_event_paranoid` <= 1).
    pub include_kernel: bool,
    /// Data pages of each CPU's ring (0: the default size).
    pub ring_pages: usize,
    /// How often the reader drains the rings when no wakeup came.
    pub poll_interval: Duration,
}

impl Default for SelfProfilerConfig {
    fn default() -> Self {
        SelfProfilerConfig {
            freq_hz: 1000,
            callchain: true,
            include_kernel: false,
            ring_pages: 0,
            poll_interval: Duration::from_millis(50),
        }
    }
}

/// What a self-profiling run saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelfProfile {
    /// Samples per call chain (innermost first, context markers removed;
    /// the first entry is the sampled instruction pointer).
    pub stacks: HashMap<Vec<u64>, u64>,
    /// Samples read.
    pub samples: u64,
    /// Records the kernel reported lost (`PERF_RECORD_LOST`).
    pub lost: u64,
    /// Samples dropped before reaching a ring (`PERF_RECORD_LOST_SAMPLES`).
    pub lost_samples: u64,
    /// Times sampling was throttled.
    pub throttles: u64,
    /// Samples per thread id.
    pub threads: BTreeMap<u32, u64>,
    /// Event instances opened (threads at start x CPUs).
    pub instances: usize,
    /// Records that could not be parsed (zero unless something is broken).
    pub unparsed: u64,
}

impl SelfProfile {
    /// Samples per sampled instruction pointer (self time).
    pub fn leaf_counts(&self) -> HashMap<u64, u64> {
        let mut out = HashMap::new();
        for (chain, n) in &self.stacks {
            if let Some(&ip) = chain.first() {
                *out.entry(ip).or_insert(0) += n;
            }
        }
        out
    }

    /// Threads that were sampled at least once.
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }
}

/// A running self-profiler; [`SelfProfiler::stop`] returns the profile.
#[derive(Debug)]
pub struct SelfProfiler {
    stop: Arc<AtomicBool>,
    /// The eventfd that wakes the reader (a `File` for its safe write).
    wake: Arc<File>,
    reader: Option<JoinHandle<Result<SelfProfile>>>,
    instances: usize,
}

fn eventfd() -> Result<OwnedFd> {
    // SAFETY: eventfd takes an initial value and flags and returns a new fd or -1.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(Error::io("eventfd", std::io::Error::last_os_error()));
    }
    // SAFETY: the kernel just returned this descriptor; it is ours alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl SelfProfiler {
    /// Starts sampling every thread of this process at `freq_hz`, with the
    /// defaults of [`SelfProfilerConfig`]. Returns once every thread is
    /// being sampled.
    pub fn start(freq_hz: u64) -> Result<SelfProfiler> {
        Self::start_with(SelfProfilerConfig {
            freq_hz,
            ..SelfProfilerConfig::default()
        })
    }

    /// Starts sampling with `config`.
    pub fn start_with(config: SelfProfilerConfig) -> Result<SelfProfiler> {
        let stop = Arc::new(AtomicBool::new(false));
        let wake = Arc::new(File::from(eventfd()?));
        let (tx, rx) = mpsc::channel::<Result<usize>>();
        let reader = {
            let stop = Arc::clone(&stop);
            let wake = Arc::clone(&wake);
            std::thread::Builder::new()
                .name("lwprof-selfprof".into())
                .spawn(move || reader_main(config, &stop, &wake, tx))
                .map_err(|e| Error::io("spawning the self-profiler's reader thread", e))?
        };
        match rx.recv() {
            Ok(Ok(instances)) => Ok(SelfProfiler {
                stop,
                wake,
                reader: Some(reader),
                instances,
            }),
            Ok(Err(e)) => {
                let _ = reader.join();
                Err(e)
            }
            Err(_) => Err(join_error(reader)),
        }
    }

    /// Event instances opened (threads at start x CPUs).
    pub fn instances(&self) -> usize {
        self.instances
    }

    /// Stops sampling, drains the rings one last time and returns the profile.
    pub fn stop(mut self) -> Result<SelfProfile> {
        self.signal_stop();
        match self.reader.take() {
            Some(h) => match h.join() {
                Ok(r) => r,
                Err(_) => Err(panicked()),
            },
            None => Err(panicked()),
        }
    }

    fn signal_stop(&self) {
        // Relaxed: the flag is re-read after the eventfd wakes the reader;
        // the eventfd write/read pair orders them.
        self.stop.store(true, Ordering::Relaxed);
        // An eventfd write fails only when the counter would overflow, and
        // then the reader is already woken.
        let _ = (&*self.wake).write(&1u64.to_ne_bytes());
    }
}

impl Drop for SelfProfiler {
    fn drop(&mut self) {
        if let Some(h) = self.reader.take() {
            self.signal_stop();
            let _ = h.join();
        }
    }
}

fn panicked() -> Error {
    Error::Panicked {
        thread: "self-profiler's reader",
    }
}

fn join_error(h: JoinHandle<Result<SelfProfile>>) -> Error {
    match h.join() {
        Ok(Err(e)) => e,
        _ => panicked(),
    }
}

fn reader_main(
    config: SelfProfilerConfig,
    stop: &AtomicBool,
    wake: &File,
    started: mpsc::Sender<Result<usize>>,
) -> Result<SelfProfile> {
    let opened = open_session(&config).and_then(|s| s.watch_fd(wake.as_fd()).map(|()| s));
    let mut session = match opened {
        Ok(s) => s,
        Err(e) => {
            // The error itself goes to `start_with`, which returns it; what
            // this thread returns then is never looked at.
            let _ = started.send(Err(e));
            return Ok(SelfProfile::default());
        }
    };
    let info = session.events()[0].parse_info;
    let mut profile = SelfProfile {
        instances: session.instances(),
        ..SelfProfile::default()
    };
    let _ = started.send(Ok(profile.instances));
    let mut chain = Vec::with_capacity(128);
    // Relaxed: see SelfProfiler::signal_stop.
    while !stop.load(Ordering::Relaxed) {
        session.wait(Some(config.poll_interval))?;
        session.drain_raw(|_, data| add_sample(&mut profile, &info, data, &mut chain));
    }
    session.disable()?;
    session.drain_raw(|_, data| add_sample(&mut profile, &info, data, &mut chain));
    let stats = session.stats();
    profile.lost = stats.lost;
    profile.lost_samples = stats.lost_samples;
    profile.throttles = stats.throttles;
    Ok(profile)
}

fn open_session(config: &SelfProfilerConfig) -> Result<SamplingSession> {
    let mut event = EventConfig::software("cpu-clock", pb::PERF_COUNT_SW_CPU_CLOCK as u64);
    event.modifiers.exclude_kernel = !config.include_kernel;
    event.modifiers.exclude_hv = !config.include_kernel;
    let mut st = sample_type::IP | sample_type::TID | sample_type::TIME;
    if config.callchain {
        st |= sample_type::CALLCHAIN;
    }
    let sample = SampleConfig {
        sample_type: st,
        period: Period::Frequency(config.freq_hz),
        wakeup: Wakeup::Watermark(64 * 1024),
        ..SampleConfig::default()
    };
    let mut opts = SessionOptions {
        inherit: true,
        poll_interval: config.poll_interval,
        // SAFETY: gettid has no preconditions.
        skip_tids: vec![unsafe { libc::gettid() }],
        ..SessionOptions::default()
    };
    if config.ring_pages > 0 {
        opts.ring.data_pages = config.ring_pages;
    }
    SamplingSession::open(
        &[SessionEvent { event, sample }],
        &Target::Process(std::process::id() as i32),
        &opts,
    )
}

/// Adds one record read in place to the profile (samples only).
fn add_sample(
    profile: &mut SelfProfile,
    info: &RecordParseInfo,
    data: RawData<'_>,
    chain: &mut Vec<u64>,
) {
    let Ok(raw) = RawRecord::from_data(data, Endianness::NATIVE) else {
        profile.unparsed += 1;
        return;
    };
    if raw.header.record_type != lwprof_records::abi::record_type::SAMPLE {
        return;
    }
    let Ok(Record::Sample(s)) = raw.parse(info) else {
        profile.unparsed += 1;
        return;
    };
    profile.samples += 1;
    if let Some(tid) = s.tid() {
        *profile.threads.entry(tid).or_insert(0) += 1;
    }
    chain.clear();
    match s.callchain() {
        Some(cc) => chain.extend(cc.iter().filter(|&a| a < CONTEXT_MAX)),
        None => chain.extend(s.ip()),
    }
    if chain.is_empty() {
        chain.extend(s.ip());
    }
    // Look up by slice: a chain seen before costs no allocation.
    match profile.stacks.get_mut(chain.as_slice()) {
        Some(n) => *n += 1,
        None => {
            profile.stacks.insert(chain.clone(), 1);
        }
    }
}
