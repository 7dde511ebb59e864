//! lwprof's JSON schema of the aggregated profile, for scripts. Stable:
//! fields are only ever added; a breaking change bumps
//! `lwprof_profile_version`. Also documented in `docs/json-schema.md`.
//!
//! ```text
//! {
//!   "lwprof_profile_version": 1,
//!   "events": [            // one per (event, on/off-CPU) found
//!     { "name": "cpu-clock", "kind": "on_cpu" | "off_cpu",
//!       "unit": "nanoseconds" | "count", "samples": 120, "weight": 30000000 }
//!   ],
//!   "totals": { "samples": 120, "weight": 30000000, "lost_samples": 0,
//!               "duration_ns": 29750000 },
//!   "threads": [            // threads with samples, in first-seen order
//!     { "pid": 10, "tid": 10, "name": "app", "samples": 100, "weight": 25000000 }
//!   ],
//!   "functions": [          // by self weight, heaviest first
//!     { "name": "foo", "dso": "app", "mode": "user" | "kernel",
//!       "file": "src/foo.c" | null,
//!       "self_weight": 1, "total_weight": 2, "self_samples": 1,
//!       "self_percent": 12.5, "total_percent": 25.0 }
//!   ],
//!   "stacks": [             // one per unique (stack, thread, event)
//!     { "thread": 0,        // index into "threads"
//!       "event": 0,         // index into "events"
//!       "frames": [3, 1, 0],// indexes into "functions", root first
//!       "samples": 4, "weight": 1000000 }
//!   ]
//! }
//! ```
//!
//! Weights are in the event's unit; `totals.weight` and the function weights
//! add up every event that passed the filter, so a script that compares
//! functions should filter to one event when the profile has several.
//! Inline frames are functions of their own unless `no_inline` is set.

use std::io::Write;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::{
    dso_name, frames_root_first, note_for, Format, OutputError, OutputNote, OutputOptions,
    ProfileWriter,
};
use lwprof_profile::model::{
    EventIndex, FrameMode, Profile, Sample, SampleKind, SortKey, StackId, ThreadId, TopOptions,
    TopOrder,
};

/// The schema version written in `lwprof_profile_version`.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Writes lwprof's JSON schema ([`Format::Json`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonWriter;

/// The document (see the module documentation for the schema).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct JsonProfile {
    /// Always [`JSON_SCHEMA_VERSION`].
    pub lwprof_profile_version: u32,
    /// One entry per (event, kind) found.
    pub events: Vec<JsonEvent>,
    /// Totals over the written samples.
    pub totals: JsonTotals,
    /// Threads with samples.
    pub threads: Vec<JsonThread>,
    /// Functions, heaviest self weight first.
    pub functions: Vec<JsonFunction>,
    /// Unique stacks.
    pub stacks: Vec<JsonStack>,
}

/// An event section.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct JsonEvent {
    /// Event name (`cpu-clock`).
    pub name: String,
    /// `on_cpu` or `off_cpu`.
    pub kind: &'static str,
    /// `nanoseconds` or `count`.
    pub unit: &'static str,
    /// Number of samples.
    pub samples: u64,
    /// Sum of weights.
    pub weight: u64,
}

/// Totals.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct JsonTotals {
    /// Number of samples written.
    pub samples: u64,
    /// Sum of their weights.
    pub weight: u64,
    /// Samples the kernel reported lost (whole profile).
    pub lost_samples: u64,
    /// Last sample time minus first sample time.
    pub duration_ns: u64,
}

/// A thread.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct JsonThread {
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// Latest name.
    pub name: String,
    /// Number of samples.
    pub samples: u64,
    /// Sum of weights.
    pub weight: u64,
}

/// A function (name, DSO, mode), with self and total weights.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct JsonFunction {
    /// Function name.
    pub name: String,
    /// DSO short name.
    pub dso: String,
    /// `user` or `kernel`.
    pub mode: &'static str,
    /// Source file of the first frame seen, if known.
    pub file: Option<String>,
    /// Weight of samples where it was the leaf.
    pub self_weight: u64,
    /// Weight of samples where it was on the stack.
    pub total_weight: u64,
    /// Samples where it was the leaf.
    pub self_samples: u64,
    /// `self_weight` in percent of `totals.weight`.
    pub self_percent: f64,
    /// `total_weight` in percent of `totals.weight`.
    pub total_percent: f64,
}

/// A unique stack.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct JsonStack {
    /// Index into `threads`.
    pub thread: usize,
    /// Index into `events`.
    pub event: usize,
    /// Indexes into `functions`, root first.
    pub frames: Vec<usize>,
    /// Number of samples.
    pub samples: u64,
    /// Sum of weights.
    pub weight: u64,
}

impl ProfileWriter for JsonWriter {
    fn format(&self) -> Format {
        Format::Json
    }

    fn write(
        &self,
        profile: &Profile,
        opts: &OutputOptions,
        out: &mut dyn Write,
    ) -> Result<Option<OutputNote>, OutputError> {
        let doc = json_profile(profile, opts);
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(OutputError::json(Format::Json))?;
        out.write_all(b"\n")
            .and_then(|()| out.flush())
            .map_err(OutputError::io(Format::Json))?;
        Ok(note_for(profile, opts, Format::Json))
    }
}

fn mode_name(mode: FrameMode) -> &'static str {
    match mode {
        FrameMode::User => "user",
        FrameMode::Kernel => "kernel",
    }
}

fn unit_of(name: &str, kind: SampleKind) -> &'static str {
    match (kind, name) {
        (SampleKind::OffCpu, _) | (_, "cpu-clock" | "task-clock") => "nanoseconds",
        _ => "count",
    }
}

/// The JSON document for a profile: one pass over the samples tallies
/// events, threads and stacks; the function table comes from the report's
/// top list; each table is then built on its own.
pub fn json_profile(profile: &Profile, opts: &OutputOptions) -> JsonProfile {
    let tally = Tally::of(profile, opts);
    let (mut functions, function_of) = function_table(profile, opts);
    let stacks = stack_table(profile, opts, &tally, &mut functions, &function_of);
    JsonProfile {
        lwprof_profile_version: JSON_SCHEMA_VERSION,
        events: event_table(profile, &tally),
        totals: JsonTotals {
            samples: tally.samples,
            weight: tally.weight,
            lost_samples: profile.lost_samples(),
            duration_ns: tally.last.saturating_sub(tally.first.min(tally.last)),
        },
        threads: thread_table(profile, &tally),
        functions,
        stacks,
    }
}

/// A stack of a thread in one event section.
type StackKey = (Option<StackId>, ThreadId, usize);

/// Samples and weight of one table entry.
#[derive(Clone, Copy, Default)]
struct Count {
    samples: u64,
    weight: u64,
}

impl Count {
    fn add(&mut self, s: &Sample) {
        self.samples += u64::from(s.count);
        self.weight = self.weight.saturating_add(s.weight);
    }
}

/// One pass over the written samples: events, threads and stacks in
/// first-seen order, with their counts, and the totals.
struct Tally {
    events: Vec<((EventIndex, SampleKind), Count)>,
    threads: Vec<(ThreadId, Count)>,
    thread_index: FxHashMap<ThreadId, usize>,
    stacks: Vec<(StackKey, Count)>,
    samples: u64,
    weight: u64,
    first: u64,
    last: u64,
}

impl Tally {
    fn of(profile: &Profile, opts: &OutputOptions) -> Self {
        let mut t = Tally {
            events: Vec::new(),
            threads: Vec::new(),
            thread_index: FxHashMap::default(),
            stacks: Vec::new(),
            samples: 0,
            weight: 0,
            first: u64::MAX,
            last: 0,
        };
        let mut stack_index: FxHashMap<StackKey, usize> = FxHashMap::default();
        for s in profile.filtered_samples(&opts.filter) {
            t.samples += u64::from(s.count);
            t.weight = t.weight.saturating_add(s.weight);
            t.first = t.first.min(s.time);
            t.last = t.last.max(s.last_time);
            let e = match t.events.iter().position(|e| e.0 == (s.event, s.kind)) {
                Some(e) => e,
                None => {
                    t.events.push(((s.event, s.kind), Count::default()));
                    t.events.len() - 1
                }
            };
            t.events[e].1.add(s);
            let th = *t.thread_index.entry(s.thread).or_insert_with(|| {
                t.threads.push((s.thread, Count::default()));
                t.threads.len() - 1
            });
            t.threads[th].1.add(s);
            let key = (s.stack, s.thread, e);
            let i = *stack_index.entry(key).or_insert_with(|| {
                t.stacks.push((key, Count::default()));
                t.stacks.len() - 1
            });
            t.stacks[i].1.add(s);
        }
        t
    }
}

/// A function's identity across stacks: name, DSO, mode.
type FunctionKey = (String, String, &'static str);

/// Functions, heaviest self weight first (the report's top list by DSO and
/// symbol), and where each is in the list.
fn function_table(
    profile: &Profile,
    opts: &OutputOptions,
) -> (Vec<JsonFunction>, FxHashMap<FunctionKey, usize>) {
    let top = profile.top(&TopOptions {
        filter: opts.filter.clone(),
        keys: vec![SortKey::Dso, SortKey::Symbol],
        no_inline: opts.no_inline,
        order: TopOrder::SelfWeight,
        limit: None,
        ..TopOptions::default()
    });
    let functions: Vec<JsonFunction> = top
        .rows
        .iter()
        .map(|r| JsonFunction {
            name: r.symbol.clone().unwrap_or_default(),
            dso: r.dso.clone().unwrap_or_default(),
            mode: mode_name(r.mode.unwrap_or(FrameMode::User)),
            file: None,
            self_weight: r.self_weight,
            total_weight: r.total_weight,
            self_samples: r.self_samples,
            self_percent: r.self_percent,
            total_percent: r.total_percent,
        })
        .collect();
    let mut function_of: FxHashMap<FunctionKey, usize> = FxHashMap::default();
    for (i, f) in functions.iter().enumerate() {
        function_of
            .entry((f.name.clone(), f.dso.clone(), f.mode))
            .or_insert(i);
    }
    (functions, function_of)
}

/// The unique stacks as function indexes, root first; fills each
/// function's source file from the first frame seen with one.
fn stack_table(
    profile: &Profile,
    opts: &OutputOptions,
    tally: &Tally,
    functions: &mut [JsonFunction],
    function_of: &FxHashMap<FunctionKey, usize>,
) -> Vec<JsonStack> {
    tally
        .stacks
        .iter()
        .map(|&((stack, thread, event), count)| {
            let frames = frames_root_first(profile, stack, opts.no_inline)
                .iter()
                .filter_map(|sf| {
                    let f = profile.frame(sf.frame);
                    let key = (
                        profile.string(f.function).to_string(),
                        dso_name(profile, f.dso).to_string(),
                        mode_name(f.mode),
                    );
                    let i = *function_of.get(&key)?;
                    if functions[i].file.is_none() {
                        functions[i].file = f.file.map(|s| profile.string(s).to_string());
                    }
                    Some(i)
                })
                .collect();
            JsonStack {
                thread: tally.thread_index[&thread],
                event,
                frames,
                samples: count.samples,
                weight: count.weight,
            }
        })
        .collect()
}

/// The event sections; with no samples, every event of the profile with
/// zero counts, so the document still says what was measured.
fn event_table(profile: &Profile, tally: &Tally) -> Vec<JsonEvent> {
    if tally.events.is_empty() {
        return profile
            .events()
            .iter()
            .map(|name| JsonEvent {
                name: name.clone(),
                kind: "on_cpu",
                unit: unit_of(name, SampleKind::OnCpu),
                samples: 0,
                weight: 0,
            })
            .collect();
    }
    tally
        .events
        .iter()
        .map(|&((e, kind), count)| {
            let name = profile.events().get(e.index()).cloned().unwrap_or_default();
            JsonEvent {
                unit: unit_of(&name, kind),
                name,
                kind: match kind {
                    SampleKind::OnCpu => "on_cpu",
                    SampleKind::OffCpu => "off_cpu",
                },
                samples: count.samples,
                weight: count.weight,
            }
        })
        .collect()
}

/// The threads with samples, by their latest names.
fn thread_table(profile: &Profile, tally: &Tally) -> Vec<JsonThread> {
    tally
        .threads
        .iter()
        .map(|&(t, count)| {
            let th = profile.thread(t);
            JsonThread {
                pid: th.pid,
                tid: th.tid,
                name: profile.thread_name(t).to_string(),
                samples: count.samples,
                weight: count.weight,
            }
        })
        .collect()
}
