//! The Firefox Profiler's processed-profile JSON, built with
//! `fxprof-processed-profile`: one process per pid, one thread per tid with
//! its name, every sample with its timestamp (relative to the first sample)
//! and CPU delta (its cpu-clock/task-clock period), stacks of named frames
//! in which each inline level is a frame of its own, user and kernel frames
//! in two categories, and an instant marker on the first thread that says how
//! many samples the kernel reported lost. A profile with no samples gets one
//! empty thread named `no samples`, so that the profiler has something to
//! show.
//!
//! Frames are written as labels (already symbolized names), so the profiler
//! does not try to symbolize. Off-CPU samples and samples of counting events
//! are written with a CPU delta of zero.

use std::io::Write;

use fxprof_processed_profile::{
    CategoryColor, CategoryHandle, CpuDelta, Frame, FrameFlags, FrameInfo, MarkerFieldFlags,
    MarkerFieldFormat, Profile as FxProfile, ReferenceTimestamp, SamplingInterval, StackHandle,
    StaticSchemaMarker, StaticSchemaMarkerField, StringHandle, ThreadHandle, Timestamp,
};
use rustc_hash::FxHashMap;

use super::{
    default_title, frames_root_first, note_for, Format, OutputError, OutputNote, OutputOptions,
    ProfileWriter,
};
use lwprof_profile::model::{FrameMode, Profile, SampleKind, StackId, ThreadId};

/// Writes Firefox Profiler JSON ([`Format::Firefox`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct FirefoxWriter;

impl ProfileWriter for FirefoxWriter {
    fn format(&self) -> Format {
        Format::Firefox
    }

    fn write(
        &self,
        profile: &Profile,
        opts: &OutputOptions,
        out: &mut dyn Write,
    ) -> Result<Option<OutputNote>, OutputError> {
        let fx = firefox_profile(profile, opts);
        serde_json::to_writer(&mut *out, &fx).map_err(OutputError::json(Format::Firefox))?;
        out.write_all(b"\n")
            .and_then(|()| out.flush())
            .map_err(OutputError::io(Format::Firefox))?;
        Ok(note_for(profile, opts, Format::Firefox))
    }
}

/// The marker for samples the kernel reported lost.
#[derive(Clone, Debug)]
struct LostSamplesMarker {
    name: StringHandle,
    count: u64,
}

impl StaticSchemaMarker for LostSamplesMarker {
    const UNIQUE_MARKER_TYPE_NAME: &'static str = "LostSamples";
    const DESCRIPTION: Option<&'static str> =
        Some("Samples the kernel dropped because the ring buffer was full");
    const CHART_LABEL: Option<&'static str> = Some("{marker.data.count} lost");
    const TABLE_LABEL: Option<&'static str> = Some("{marker.name}: {marker.data.count}");
    const FIELDS: &'static [StaticSchemaMarkerField] = &[StaticSchemaMarkerField {
        key: "count",
        label: "Lost samples",
        format: MarkerFieldFormat::Integer,
        flags: MarkerFieldFlags::SEARCHABLE,
    }];

    fn name(&self, _profile: &mut FxProfile) -> StringHandle {
        self.name
    }

    fn category(&self, _profile: &mut FxProfile) -> CategoryHandle {
        CategoryHandle::OTHER
    }

    fn string_field_value(&self, _field_index: u32) -> StringHandle {
        // No string fields; the schema has one number field.
        self.name
    }

    fn number_field_value(&self, _field_index: u32) -> f64 {
        self.count as f64
    }
}

/// The sampling interval: the most common cpu-clock (or task-clock) period,
/// 1 ms when there is none.
fn sampling_interval(profile: &Profile, samples: &[&lwprof_profile::model::Sample]) -> u64 {
    let mut periods: FxHashMap<u64, u64> = FxHashMap::default();
    for s in samples {
        if s.kind == SampleKind::OnCpu && is_time_event(profile, s.event.index()) {
            *periods.entry(s.period()).or_default() += u64::from(s.count);
        }
    }
    let mut periods: Vec<(u64, u64)> = periods.into_iter().collect();
    periods.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    periods.first().map_or(1_000_000, |p| p.0).max(1)
}

/// The Firefox Profiler profile for a profile.
pub(crate) fn firefox_profile(profile: &Profile, opts: &OutputOptions) -> FxProfile {
    let samples: Vec<_> = profile.filtered_samples(&opts.filter).collect();
    let t0 = samples.iter().map(|s| s.time).min().unwrap_or(0);
    let interval = sampling_interval(profile, &samples);
    let reference = ReferenceTimestamp::from_millis_since_unix_epoch(
        opts.start_time_unix_ns.unwrap_or(0) as f64 / 1e6,
    );
    let mut fx = FxProfile::new(
        &default_title(profile, opts),
        reference,
        SamplingInterval::from_nanos(interval),
    );
    fx.set_symbolicated(true);
    let user = fx.add_category("User", CategoryColor::Yellow);
    let kernel = fx.add_category("Kernel", CategoryColor::Orange);
    let ts = |t: u64| Timestamp::from_nanos_since_reference(t.saturating_sub(t0));

    // Processes and threads with samples, in id order.
    let mut used: Vec<ThreadId> = samples.iter().map(|s| s.thread).collect();
    used.sort();
    used.dedup();
    let mut process_handles = FxHashMap::default();
    let mut thread_handles: FxHashMap<ThreadId, ThreadHandle> = FxHashMap::default();
    for &t in &used {
        let th = profile.thread(t);
        let process = *process_handles.entry(th.process).or_insert_with(|| {
            let p = profile.process(th.process);
            let name = p
                .threads
                .first()
                .map_or("", |&main| profile.thread_name(main));
            let name = if name.is_empty() {
                format!("pid {}", p.pid)
            } else {
                name.to_string()
            };
            let handle = fx.add_process(&name, p.pid, ts(p.start_time));
            if let Some(end) = p.end_time {
                fx.set_process_end_time(handle, ts(end));
            }
            handle
        });
        let handle = fx.add_thread(process, th.tid, ts(th.start_time), th.tid == th.pid);
        let name = profile.thread_name(t);
        if !name.is_empty() {
            fx.set_thread_name(handle, name);
        }
        if let Some(end) = th.end_time {
            fx.set_thread_end_time(handle, ts(end));
        }
        thread_handles.insert(t, handle);
    }

    if used.is_empty() {
        // The profiler wants at least one thread to show; say why it is
        // empty.
        let process = fx.add_process("no samples", 0, ts(t0));
        let thread = fx.add_thread(process, 0, ts(t0), true);
        fx.set_thread_name(thread, "no samples");
    }

    let mut stacks: FxHashMap<(ThreadId, Option<StackId>), Option<StackHandle>> =
        FxHashMap::default();
    for s in &samples {
        let thread = thread_handles[&s.thread];
        let stack = match stacks.get(&(s.thread, s.stack)) {
            Some(&h) => h,
            None => {
                let frames: Vec<FrameInfo> = frames_root_first(profile, s.stack, opts.no_inline)
                    .iter()
                    .map(|sf| {
                        let f = profile.frame(sf.frame);
                        let category = match f.mode {
                            FrameMode::User => user,
                            FrameMode::Kernel => kernel,
                        };
                        FrameInfo {
                            frame: Frame::Label(fx.intern_string(profile.string(f.function))),
                            category_pair: category.into(),
                            flags: FrameFlags::empty(),
                        }
                    })
                    .collect();
                let h = fx.intern_stack_frames(thread, frames.into_iter());
                stacks.insert((s.thread, s.stack), h);
                h
            }
        };
        let cpu = if s.kind == SampleKind::OnCpu && is_time_event(profile, s.event.index()) {
            CpuDelta::from_nanos(s.weight)
        } else {
            CpuDelta::ZERO
        };
        // An aggregated entry (not made for timelines) is one sample of
        // its count's weight at its first time.
        fx.add_sample(
            thread,
            ts(s.time),
            stack,
            cpu,
            s.count.try_into().unwrap_or(i32::MAX),
        );
    }

    if profile.lost_samples() > 0 {
        if let Some(&first) = used.first() {
            let thread = thread_handles[&first];
            let name = fx.intern_string("Lost samples");
            let end = samples.iter().map(|s| s.last_time).max().unwrap_or(t0);
            fx.add_marker(
                thread,
                fxprof_processed_profile::MarkerTiming::Instant(ts(end)),
                LostSamplesMarker {
                    name,
                    count: profile.lost_samples(),
                },
            );
        }
    }
    fx
}

fn is_time_event(profile: &Profile, event: usize) -> bool {
    matches!(
        profile.events().get(event).map(String::as_str),
        Some("cpu-clock" | "task-clock")
    )
}
