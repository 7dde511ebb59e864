//! The flight recorder (`--overwrite`): the sampling rings are written
//! backward and the kernel overwrites their oldest records, so they always
//! hold the latest ones; nothing is written until an output switch
//! (SIGUSR2, a time, or the end of the recording) dumps a snapshot of every
//! ring into a numbered perf.data file.
//!
//! Better than perf's: the MMAP, COMM and task records do not share the
//! overwritten rings (where the oldest, the ones that name the binaries,
//! are the first to go). A separate `dummy` event with a forward ring
//! carries them, they are kept in memory, and every dump starts with the
//! records of every live process, so each file symbolizes on its own.
//!
//! This module does not choose events or sampling fields
//! ([`super::recording`] does).

use super::recording::{
    cache_hit_binaries, default_pages, event_attrs, finish_file, new_file, prepare_command,
    session_events, session_target, CurrentFile, SIGINT, SIGTERM,
};
use super::tracker::Tracker;
use super::{RecordConfig, RecordError, RecordSummary, RecordTarget, SwitchOutput, Update};
use crate::synth;
use lwprof_events::budget::SizePolicy;
use lwprof_events::command::PreparedCommand;
use lwprof_events::raw::RawData;
use lwprof_events::ring::RingOptions;
use lwprof_events::sampling::{Period, SampleConfig};
use lwprof_events::session::{SamplingSession, SessionEvent};
use lwprof_events::EventConfig;
use lwprof_perfdata::{EventAttr, Features};
use perf_event_open_sys::bindings as abi;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Pages of the tracking ring (MMAP/COMM/task records only).
const TRACKING_PAGES: usize = 16;

struct Flight<'c> {
    config: &'c RecordConfig,
    samples: SamplingSession,
    tracking: SamplingSession,
    child: Option<PreparedCommand>,
    attrs: Vec<EventAttr>,
    tracker: Tracker,
    summary: RecordSummary,
    start: Instant,
    last_dump: Instant,
    tracing: Option<Vec<u8>>,
}

/// Records with flight-recorder rings until the command ends, `stop` is
/// set or the duration runs out; dumps a numbered file on each switch and
/// at the end.
pub(super) fn record(
    config: &RecordConfig,
    stop: &AtomicBool,
    switch: &AtomicBool,
    mut progress: impl FnMut(Update<'_>),
) -> Result<RecordSummary, RecordError> {
    if config.events.is_empty() {
        return Err(RecordError::Config("no event to record".into()));
    }
    let mut f = Flight::open(config)?;
    f.run(stop, switch, &mut progress)?;
    f.finish()
}

impl<'c> Flight<'c> {
    fn open(config: &'c RecordConfig) -> Result<Self, RecordError> {
        let pages = config.data_pages.unwrap_or_else(|| default_pages(config));
        let mut events = session_events(config, pages * 4096, true);
        for e in &mut events {
            e.sample.write_backward = true;
        }
        let child = prepare_command(config)?;
        let ring = RingOptions {
            data_pages: pages,
            overwrite: true,
            policy: SizePolicy::Shrink,
            ..RingOptions::default()
        };
        let (target, opts) = session_target(config, child.as_ref(), ring);
        let samples = SamplingSession::open(&events, &target, &opts)?;
        let tracking_event = SessionEvent {
            event: EventConfig::software("dummy", abi::PERF_COUNT_SW_DUMMY as u64),
            sample: SampleConfig {
                sample_type: events[0].sample.sample_type,
                period: Period::Count(1),
                mmap: true,
                mmap_data: events[0].sample.sample_stack_user > 0,
                comm: true,
                task: true,
                ..SampleConfig::default()
            },
        };
        let mut topts = opts.clone();
        topts.ring = RingOptions {
            data_pages: TRACKING_PAGES,
            policy: SizePolicy::Shrink,
            ..RingOptions::default()
        };
        let tracking = SamplingSession::open(&[tracking_event], &target, &topts)?;
        let mut attrs = event_attrs(&samples);
        attrs.extend(event_attrs(&tracking));
        let info = tracking.events()[0].parse_info;
        let mut summary = RecordSummary {
            warnings: samples.ring_warnings(),
            ..RecordSummary::default()
        };
        let tracing = super::tracing::tracing_blob(&config.events, &mut summary.warnings);
        summary.warnings.extend(tracking.ring_warnings());
        let mut me = Self {
            config,
            samples,
            tracking,
            child,
            attrs,
            tracker: Tracker::new(info, true),
            summary,
            start: Instant::now(),
            last_dump: Instant::now(),
            tracing,
        };
        me.synthesize();
        Ok(me)
    }

    /// The kernel's mapping and the processes that already exist, into the
    /// tracker (they are written with each dump).
    fn synthesize(&mut self) {
        let first = &self.tracking.events()[0];
        let (info, id) = (first.parse_info, first.ids.first().copied().unwrap_or(0));
        if let Some(k) = synth::kernel_mmap(&info, id) {
            self.tracker.record(RawData::Single(&k));
        }
        let data = matches!(
            self.config.call_graph,
            Some(crate::unwind::CallGraph::Dwarf { .. })
        );
        for pid in super::recording::existing_pids(&self.config.target) {
            for rec in synth::synthesize_process_with(pid, &info, id, data) {
                self.tracker.record(RawData::Single(&rec));
            }
        }
    }

    fn run(
        &mut self,
        stop: &AtomicBool,
        switch: &AtomicBool,
        progress: &mut impl FnMut(Update<'_>),
    ) -> Result<(), RecordError> {
        if self.config.target != RecordTarget::Command {
            self.samples.enable()?;
            self.tracking.enable()?;
        }
        self.start = Instant::now();
        self.last_dump = self.start;
        if let Some(c) = self.child.as_mut() {
            c.start()?;
        }
        let mut terminated = false;
        loop {
            // Only the forward tracking ring is waited on: an overwrite ring
            // is always "full".
            let status = self.tracking.wait(Some(Duration::from_millis(100)))?;
            let tracker = &mut self.tracker;
            self.tracking.drain_raw(|_, data| tracker.record(data));
            self.summary.progress.elapsed = self.start.elapsed();
            progress(Update::Progress(&self.summary.progress));
            if self.switch_due(switch) {
                self.dump()?;
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
                    let _ = c.kill(if stopping { SIGINT } else { SIGTERM });
                    terminated = true;
                }
                if status.finished && self.config.target == RecordTarget::Command {
                    break;
                }
            }
        }
        Ok(())
    }

    fn switch_due(&mut self, switch: &AtomicBool) -> bool {
        match self.config.switch_output {
            Some(SwitchOutput::Signal) | None => switch.swap(false, Ordering::Relaxed),
            Some(SwitchOutput::Time(t)) => self.last_dump.elapsed() >= t,
            // A size means nothing for rings that never grow: dump on signal.
            Some(SwitchOutput::Size(_)) => switch.swap(false, Ordering::Relaxed),
        }
    }

    /// Writes the live processes' records and a snapshot of every ring into
    /// the next numbered file.
    fn dump(&mut self) -> Result<(), RecordError> {
        self.last_dump = Instant::now();
        let mut cur: CurrentFile =
            new_file(self.config, &self.attrs, Vec::new(), &Features::default())?;
        let mut error = None;
        self.tracker.replay(|r| {
            if error.is_none() {
                error = cur.writer.write_record(r).err();
            }
        });
        if let Some(e) = error {
            return Err(e.into());
        }
        let mut samples = 0u64;
        let mut error = None;
        let tracker = &mut self.tracker;
        self.samples.snapshot_raw(true, |_, data| {
            if data.read_u32(0) == Some(lwprof_records::abi::record_type::SAMPLE) {
                samples += 1;
                tracker.record(data);
            }
            if error.is_none() {
                error = cur.writer.write_raw(data).err();
            }
        })?;
        if let Some(e) = error {
            return Err(e.into());
        }
        cur.samples = samples;
        self.summary.progress.samples += samples;
        let mut features = Features::from_host(
            concat!("lwprof ", env!("CARGO_PKG_VERSION")),
            self.config.cmdline.clone(),
        );
        if self.config.build_ids {
            features.build_ids = super::recording::build_ids(&self.tracker);
        }
        super::tracing::add_to_features(
            self.tracing.as_ref(),
            &mut features,
            &mut self.summary.warnings,
        );
        let (written, _) = finish_file(self.config, cur, &self.attrs, &[], &features)?;
        self.summary.progress.bytes += written.bytes;
        self.summary.files.push(written);
        self.tracker.forget_exited();
        Ok(())
    }

    fn finish(mut self) -> Result<RecordSummary, RecordError> {
        self.samples.disable()?;
        self.tracking.disable()?;
        let tracker = &mut self.tracker;
        self.tracking.drain_raw(|_, data| tracker.record(data));
        if let Some(c) = self.child.as_mut() {
            self.summary.exit_status = Some(c.wait()?);
        }
        self.dump()?;
        self.summary.progress.elapsed = self.start.elapsed();
        if self.config.build_ids {
            if let Some(root) = &self.config.build_id_cache {
                self.summary.cached_binaries = cache_hit_binaries(&self.tracker, root);
            }
        }
        Ok(self.summary)
    }
}
