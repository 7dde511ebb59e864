//! Reading a perf.data file (lwprof's or perf's) into a [`Profile`].
//!
//! Records in a perf.data file are in ring order per CPU, not in time order
//! across CPUs, so they go through an [`OrderedQueue`] (time order within
//! FINISHED_ROUND windows, memory bounded by a round) and then to the one
//! [`Converter`] that live recording uses too. A damaged file still gives
//! the profile of every record before the damage, plus the error.

use crate::convert::{ConvertStats, Converter, ConverterEvent, EventRole, RecordLocator};
use crate::model::Profile;
use crate::ordered::{OrderStats, OrderedQueue, DEFAULT_BUDGET};
use lwprof_events::raw::RawData;
use lwprof_events::record::RawRecord;
use lwprof_perfdata::{Features, PerfDataError, PerfDataInput};
use std::path::{Path, PathBuf};

/// `PERF_RECORD_FINISHED_ROUND`.
const FINISHED_ROUND: u32 = lwprof_records::abi::record_type::FINISHED_ROUND;

/// The name lwprof gives its off-CPU (context-switch) event in perf.data.
pub const OFF_CPU_EVENT_NAME: &str = "offcpu-time";

/// A profile read from a file.
#[derive(Debug)]
pub struct ImportedProfile {
    /// The profile (not yet symbolized).
    pub profile: Profile,
    /// What the converter saw.
    pub stats: ConvertStats,
    /// The file's header features (hostname, command line, build ids...).
    pub features: Features,
    /// Event names, in attr order.
    pub event_names: Vec<String>,
    /// Damage that stopped the walk early; everything before it is in the
    /// profile.
    pub damage: Option<PerfDataError>,
    /// Records the import could not use, by type: (record type, count, why).
    pub skipped: Vec<SkippedRecords>,
    /// How the records were put in time order.
    pub order: OrderStats,
}

impl ImportedProfile {
    /// One line when the file had no FINISHED_ROUND records and more
    /// records than the ordering budget, so they were sorted in windows.
    pub fn order_note(&self) -> Option<String> {
        let o = &self.order;
        if o.rounds > 0 || o.budget_flushes == 0 {
            return None;
        }
        Some(format!(
            "the file has no FINISHED_ROUND records: records were put in time order {} MiB at a time ({} arrived late)",
            o.budget >> 20,
            o.out_of_order
        ))
    }
}

/// Records of one type that the import read but could not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRecords {
    /// The record type (`PERF_RECORD_*`).
    pub type_: u32,
    /// Its name, as perf's `--stats` shows it.
    pub name: &'static str,
    /// How many.
    pub count: u64,
    /// Why they are not used.
    pub why: &'static str,
}

/// perf's own record types that carry nothing for a profile (their content
/// is in the header or only orders the stream).
fn is_metadata(type_: u32) -> bool {
    matches!(
        type_,
        // HEADER_ATTR, HEADER_EVENT_TYPE, HEADER_TRACING_DATA (pipe mode:
        // the reader takes the events and tracing data from them),
        // HEADER_BUILD_ID, FINISHED_ROUND, ID_INDEX, THREAD_MAP, CPU_MAP,
        // STAT_CONFIG, STAT, STAT_ROUND, EVENT_UPDATE, TIME_CONV,
        // HEADER_FEATURE, FINISHED_INIT
        64..=69 | 73..=80 | 82
    )
}

/// Why a perf record type is skipped, and its name.
fn skip_reason(type_: u32) -> (&'static str, &'static str) {
    match type_ {
        70 => ("AUXTRACE_INFO", "hardware trace data is not decoded"),
        71 => ("AUXTRACE", "hardware trace data is not decoded"),
        72 => ("AUXTRACE_ERROR", "hardware trace data is not decoded"),
        _ => ("unknown", "record type unknown to lwprof"),
    }
}

/// Options for [`import`].
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Unwind samples that carry a user stack copy with DWARF CFI (they
    /// come from `--call-graph dwarf`); `None` keeps kernel callchains.
    pub dwarf: Option<crate::unwind::UnwinderConfig>,
    /// Record bytes held while waiting for time order; `None` is
    /// [`DEFAULT_BUDGET`].
    pub queue_budget: Option<usize>,
    /// Keep samples that agree on all but their times as one entry
    /// ([`crate::model::ProfileBuilder::aggregate_samples`]): memory then
    /// grows with the distinct stacks, not with the file. For reports that
    /// need no per-sample times.
    pub aggregate_samples: bool,
}

/// Reads `path` into a profile. Fails only when the file cannot be read at
/// all (not a perf.data file, unreadable header); damage in the data section
/// is returned in [`ImportedProfile::damage`]. A `perf record --threads`
/// directory is read as one recording.
pub fn import(path: &Path, options: ImportOptions) -> Result<ImportedProfile, PerfDataError> {
    import_all(&[path.to_path_buf()], options)
}

/// Opens a file, a saved pipe-mode stream, or `-` (standard input).
fn open(path: &Path) -> Result<PerfDataInput, PerfDataError> {
    match PerfDataInput::open(path) {
        Ok(f) => Ok(f),
        Err(PerfDataError::Unfinished { .. }) => PerfDataInput::open_unfinished(path),
        Err(e) => Err(e),
    }
}

/// One input: a perf.data file, plus the `data.N` streams when it is the
/// `data` file of a `--threads` directory.
pub(crate) struct Input {
    pub(crate) file: PerfDataInput,
    pub(crate) streams: Vec<PathBuf>,
}

pub(crate) fn open_input(path: &Path) -> Result<Input, PerfDataError> {
    if path.is_dir() {
        return Ok(Input {
            file: open(&path.join("data"))?,
            streams: crate::streams::thread_streams(path)?,
        });
    }
    Ok(Input {
        file: open(path)?,
        streams: Vec::new(),
    })
}

/// What finds the event and time of the records of `file` and of its
/// `--threads` streams ([`crate::streams::merge_streams`]).
pub fn record_locator(file: PerfDataInput) -> Result<RecordLocator, PerfDataError> {
    let inputs = [Input {
        file,
        streams: Vec::new(),
    }];
    let mut converter = Converter::new(events_of(&inputs)?);
    converter.set_endianness(inputs[0].file.endianness());
    Ok(converter.locator())
}

/// The events of `first`, with the ids every input gives them; fails when
/// an input recorded other events (then it is not part of the same
/// recording).
pub(crate) fn events_of(inputs: &[Input]) -> Result<Vec<ConverterEvent>, PerfDataError> {
    let first = &inputs[0].file;
    let names = |f: &PerfDataInput| f.attrs().iter().map(|a| a.name.clone()).collect::<Vec<_>>();
    let mut events: Vec<ConverterEvent> = first
        .attrs()
        .iter()
        .map(|a| ConverterEvent {
            attr: *a.attr(),
            name: a.name.clone(),
            ids: a.ids.clone(),
            role: if a.name == OFF_CPU_EVENT_NAME {
                EventRole::OffCpu
            } else {
                EventRole::OnCpu
            },
        })
        .collect();
    for input in &inputs[1..] {
        if names(&input.file) != names(first) {
            return Err(PerfDataError::Corrupt {
                path: input.file.path().to_path_buf(),
                what: "event list".into(),
                offset: 0,
                detail: format!(
                    "its events ({}) are not those of {} ({}), so it is not part of the same recording",
                    names(&input.file).join(", "),
                    first.path().display(),
                    names(first).join(", ")
                ),
            });
        }
        for (e, a) in events.iter_mut().zip(input.file.attrs()) {
            for id in &a.ids {
                if !e.ids.contains(id) {
                    e.ids.push(*id);
                }
            }
        }
    }
    Ok(events)
}

/// Reads several inputs as one recording, in time order: a
/// `--switch-output` series (one file after the other), a `--threads`
/// directory (its `data` file and `data.N` streams merged). The first input
/// gives the header features.
pub fn import_all(
    paths: &[PathBuf],
    options: ImportOptions,
) -> Result<ImportedProfile, PerfDataError> {
    let inputs: Vec<Input> = paths
        .iter()
        .map(|p| open_input(p))
        .collect::<Result<_, _>>()?;
    let Some(first) = inputs.first() else {
        return Err(PerfDataError::Corrupt {
            path: PathBuf::new(),
            what: "input".into(),
            offset: 0,
            detail: "no input file".into(),
        });
    };
    let file = &first.file;
    let events = events_of(&inputs)?;
    let event_names = events.iter().map(|e| e.name.clone()).collect();
    let mut converter = Converter::new(events);
    converter.aggregate_samples(options.aggregate_samples);
    // A file of the other byte order: its records are parsed in its order.
    let endianness = file.endianness();
    converter.set_endianness(endianness);
    let locator = converter.locator();
    if let Some(config) = options.dwarf {
        converter.enable_dwarf(config);
    }
    converter.set_build_ids(
        file.features()
            .build_ids
            .iter()
            .map(|e| (e.path.as_bytes().to_vec(), e.build_id.clone())),
    );
    let mut feed = |_time: u64, attr_index: Option<usize>, bytes: &[u8]| {
        // A record that does not parse is counted by the converter and
        // skipped; it does not end the import.
        if let Ok(raw) = RawRecord::from_data(RawData::Single(bytes), endianness) {
            let _ = converter.feed_record(&raw, attr_index);
        }
    };
    let drove = drive(&inputs, &locator, options.queue_budget, &mut feed);
    let (damage, order, skipped, end_time) =
        (drove.damage, drove.order, drove.skipped, drove.end_time);
    let (profile, stats) = converter.finish(end_time);
    Ok(ImportedProfile {
        profile,
        stats,
        features: file.features().clone(),
        event_names,
        damage,
        order,
        skipped,
    })
}

/// What reading the inputs in time order found besides their records.
pub(crate) struct Drove {
    pub(crate) damage: Option<PerfDataError>,
    pub(crate) order: OrderStats,
    pub(crate) skipped: Vec<SkippedRecords>,
    /// The last sample time the header gives, else the last record's.
    pub(crate) end_time: Option<u64>,
}

/// What receives records in time order: (time, event index, bytes).
pub(crate) type RecordSink<'a> = dyn FnMut(u64, Option<usize>, &[u8]) + 'a;

/// Hands every kernel record of `inputs` to `feed` in time order (through
/// an [`OrderedQueue`]), counting perf's own records it cannot use.
pub(crate) fn drive(
    inputs: &[Input],
    locator: &RecordLocator,
    budget: Option<usize>,
    feed: &mut RecordSink<'_>,
) -> Drove {
    let mut skipped: std::collections::BTreeMap<u32, u64> = Default::default();
    let mut end_time = None;
    let mut feed = |time: u64, attr_index: Option<usize>, bytes: &[u8]| {
        end_time = Some(time);
        feed(time, attr_index, bytes);
    };
    let mut queue = OrderedQueue::new(budget.unwrap_or(DEFAULT_BUDGET));
    let mut damage = None;
    for input in inputs {
        let walk = input.file.for_each_record(|r| {
            // perf's own records (build ids, finished rounds, ...) carry no
            // kernel data for the profile.
            if r.type_ >= 64 {
                if r.type_ == FINISHED_ROUND {
                    queue.finished_round(&mut feed);
                } else if !is_metadata(r.type_) {
                    *skipped.entry(r.type_).or_default() += 1;
                }
                return;
            }
            queue.push(r.time, r.attr_index, r.bytes, &mut feed);
        });
        if damage.is_none() {
            damage = walk.error;
        }
        let stream_walk =
            crate::streams::merge_streams(&input.streams, locator, |type_, time, attr, bytes| {
                if type_ >= 64 {
                    if !is_metadata(type_) {
                        *skipped.entry(type_).or_default() += 1;
                    }
                    return;
                }
                queue.push(time, attr, bytes, &mut feed);
            });
        if damage.is_none() {
            damage = stream_walk.damage;
        }
    }
    let order = queue.finish(&mut feed);
    let end_time = inputs
        .iter()
        .filter_map(|i| i.file.features().sample_time.map(|(_, last)| last))
        .max()
        .or(end_time);
    Drove {
        damage,
        order,
        skipped: skipped
            .into_iter()
            .map(|(type_, count)| {
                let (name, why) = skip_reason(type_);
                SkippedRecords {
                    type_,
                    name,
                    count,
                    why,
                }
            })
            .collect(),
        end_time,
    }
}
