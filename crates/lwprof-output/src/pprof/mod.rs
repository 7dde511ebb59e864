//! pprof: the `profile.proto` message, gzip-compressed, as `go tool pprof`,
//! Grafana Pyroscope and Parca read it.
//!
//! Value types: `samples/count` first, then one column per kind of weight
//! found: `cpu/nanoseconds` for cpu-clock, `<event>/nanoseconds` for
//! task-clock, `<event>/count` for other events, and `off_cpu/nanoseconds`
//! for off-CPU samples. The first weight column is the default sample type
//! and the period type; `duration_nanos` spans the first sample's period
//! to the last sample. One pprof sample per unique (stack, thread, name),
//! labelled `pid`, `tid` (numbers) and `thread_name`.
//!
//! Locations: one per code address, with one `Line` per inline level,
//! innermost first as pprof expects. Mappings: one per DSO, spanning the
//! addresses seen in it; for file-backed DSOs the address is the file offset
//! and `file_offset == memory_start`, so `address - memory_start +
//! file_offset` is the file offset either way. gzip uses mtime 0, so the
//! same profile gives the same bytes.

pub mod proto;

use std::collections::HashMap;
use std::io::Write;

use flate2::{Compression, GzBuilder};
use prost::Message;

use super::{note_for, Format, OutputError, OutputNote, OutputOptions, ProfileWriter};
use lwprof_profile::model::{
    AddressSpace, DsoId, DsoKind, FrameId, LocationId, Profile, SampleKind, StrId, ThreadId,
};

/// Writes gzip-compressed pprof ([`Format::Pprof`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct PprofWriter;

impl ProfileWriter for PprofWriter {
    fn format(&self) -> Format {
        Format::Pprof
    }

    fn write(
        &self,
        profile: &Profile,
        opts: &OutputOptions,
        out: &mut dyn Write,
    ) -> Result<Option<OutputNote>, OutputError> {
        let message = pprof_profile(profile, opts);
        let bytes = message.encode_to_vec();
        let io = OutputError::io(Format::Pprof);
        let mut gz = GzBuilder::new()
            .mtime(0)
            .write(&mut *out, Compression::default());
        gz.write_all(&bytes)
            .map_err(OutputError::io(Format::Pprof))?;
        gz.finish().map_err(OutputError::io(Format::Pprof))?;
        out.flush().map_err(io)?;
        Ok(note_for(profile, opts, Format::Pprof))
    }
}

#[derive(Default)]
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Self {
        let mut s = Self::default();
        s.get("");
        s
    }

    fn get(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

/// Which value column a sample's weight goes to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Column {
    OnCpu(u32),
    OffCpu,
}

/// The uncompressed pprof message for a profile (what
/// [`PprofWriter`] gzips): for tests and tools that want to inspect it.
pub fn pprof_profile(profile: &Profile, opts: &OutputOptions) -> proto::Profile {
    let mut strings = Strings::new();

    // Value columns, in a fixed order: on-CPU events by index, then off-CPU.
    let mut columns: Vec<Column> = Vec::new();
    let (mut first_time, mut last_time) = (u64::MAX, 0u64);
    for s in profile.filtered_samples(&opts.filter) {
        let c = column_of(s.kind, s.event.0);
        if !columns.contains(&c) {
            columns.push(c);
        }
        first_time = first_time.min(s.time);
        last_time = last_time.max(s.time);
    }
    columns.sort();
    if columns.is_empty() {
        // An empty profile still says what it would have measured.
        let event = profile
            .events()
            .iter()
            .position(|e| e == "cpu-clock")
            .unwrap_or(0);
        columns.push(Column::OnCpu(event as u32));
    }
    let column_index = |c: Column| columns.iter().position(|x| *x == c).map_or(1, |i| i + 1);
    let mut sample_type = vec![proto::ValueType {
        r#type: strings.get("samples"),
        unit: strings.get("count"),
    }];
    for c in &columns {
        let (ty, unit) = column_type(profile, *c);
        sample_type.push(proto::ValueType {
            r#type: strings.get(&ty),
            unit: strings.get(unit),
        });
    }

    // Samples, one per unique (stack, thread, name), in first-seen order.
    let width = columns.len() + 1;
    let mut rows: Vec<(
        Option<lwprof_profile::model::StackId>,
        ThreadId,
        Option<StrId>,
    )> = Vec::new();
    let mut row_index: HashMap<
        (
            Option<lwprof_profile::model::StackId>,
            ThreadId,
            Option<StrId>,
        ),
        usize,
    > = HashMap::new();
    let mut values: Vec<i64> = Vec::new();
    let mut period_counts: HashMap<u64, u64> = HashMap::new();
    for s in profile.filtered_samples(&opts.filter) {
        let key = (s.stack, s.thread, s.comm);
        let i = *row_index.entry(key).or_insert_with(|| {
            rows.push(key);
            values.extend(std::iter::repeat_n(0, width));
            rows.len() - 1
        });
        let col = column_index(column_of(s.kind, s.event.0));
        values[i * width] += 1;
        values[i * width + col] = values[i * width + col].saturating_add(to_i64(s.weight));
        if col == 1 {
            *period_counts.entry(s.weight).or_default() += 1;
        }
    }

    // Locations, functions and mappings, for the locations the rows use.
    let mut locations: Vec<proto::Location> = Vec::new();
    let mut location_ids: HashMap<LocationId, u64> = HashMap::new();
    let mut functions: Vec<proto::Function> = Vec::new();
    let mut function_ids: HashMap<(StrId, Option<StrId>), u64> = HashMap::new();
    let mut mapping_of: Vec<DsoId> = Vec::new();
    let mut mapping_info: HashMap<DsoId, MappingInfo> = HashMap::new();
    let mut samples = Vec::with_capacity(rows.len());
    let key_pid = strings.get("pid");
    let key_tid = strings.get("tid");
    let key_thread = strings.get("thread_name");
    for (i, &(stack, thread, comm)) in rows.iter().enumerate() {
        let mut location_id = Vec::new();
        for loc in profile.stack_locations(stack) {
            let id = match location_ids.get(&loc) {
                Some(&id) => id,
                None => {
                    let id = locations.len() as u64 + 1;
                    let location = profile.location(loc);
                    let frames = profile.location_frames(loc);
                    let frames: &[FrameId] = if opts.no_inline {
                        &frames[frames.len().saturating_sub(1)..]
                    } else {
                        frames
                    };
                    let mut lines = Vec::with_capacity(frames.len());
                    let mut resolved = false;
                    let mut has_file = false;
                    let mut has_line = false;
                    for &f in frames {
                        let frame = profile.frame(f);
                        resolved |= frame.resolved;
                        has_file |= frame.file.is_some();
                        has_line |= frame.line.is_some();
                        let key = (frame.function, frame.file);
                        let function_id = match function_ids.get(&key) {
                            Some(&id) => id,
                            None => {
                                let id = functions.len() as u64 + 1;
                                let name = strings.get(profile.string(frame.function));
                                functions.push(proto::Function {
                                    id,
                                    name,
                                    system_name: name,
                                    filename: frame
                                        .file
                                        .map_or(0, |f| strings.get(profile.string(f))),
                                    start_line: 0,
                                });
                                function_ids.insert(key, id);
                                id
                            }
                        };
                        lines.push(proto::Line {
                            function_id,
                            line: frame.line.map_or(0, i64::from),
                            column: 0,
                        });
                    }
                    if let Some(dso) = location.dso {
                        let info = mapping_info.entry(dso).or_insert_with(|| {
                            mapping_of.push(dso);
                            MappingInfo::new(location.space)
                        });
                        info.min = info.min.min(location.address);
                        info.max = info.max.max(location.address);
                        info.all_resolved &= resolved;
                        info.has_file |= has_file;
                        info.has_line |= has_line;
                        info.has_inline |= lines.len() > 1;
                    }
                    locations.push(proto::Location {
                        id,
                        mapping_id: 0,
                        address: location.address,
                        line: lines,
                        is_folded: false,
                    });
                    location_ids.insert(loc, id);
                    id
                }
            };
            location_id.push(id);
        }
        let t = profile.thread(thread);
        let name = comm.map_or_else(|| profile.thread_name(thread), |c| profile.string(c));
        let mut label = vec![
            proto::Label {
                key: key_pid,
                num: i64::from(t.pid),
                ..Default::default()
            },
            proto::Label {
                key: key_tid,
                num: i64::from(t.tid),
                ..Default::default()
            },
        ];
        if !name.is_empty() {
            label.push(proto::Label {
                key: key_thread,
                str: strings.get(name),
                ..Default::default()
            });
        }
        samples.push(proto::Sample {
            location_id,
            value: values[i * width..(i + 1) * width].to_vec(),
            label,
        });
    }

    // pprof takes the first mapping as the main binary: files first (in the
    // order they were mapped), then anonymous and special memory, the kernel
    // last.
    mapping_of.sort_by_key(|&d| {
        let rank = match profile.dso(d).kind {
            DsoKind::File => 0,
            DsoKind::JitDump | DsoKind::Anonymous | DsoKind::Special => 1,
            DsoKind::Kernel => 2,
        };
        (rank, d)
    });
    let mut mapping = Vec::with_capacity(mapping_of.len());
    let mut mapping_id_of: HashMap<DsoId, u64> = HashMap::new();
    for (i, dso_id) in mapping_of.iter().enumerate() {
        let id = i as u64 + 1;
        let info = &mapping_info[dso_id];
        let dso = profile.dso(*dso_id);
        let start = info.min & !0xfff;
        mapping.push(proto::Mapping {
            id,
            memory_start: start,
            memory_limit: info.max.saturating_add(1),
            file_offset: if info.file_offsets { start } else { 0 },
            filename: strings.get(&dso.path),
            build_id: dso.build_id.as_ref().map_or(0, |b| strings.get(&hex(b))),
            has_functions: info.all_resolved,
            has_filenames: info.has_file,
            has_line_numbers: info.has_line,
            has_inline_frames: info.has_inline,
        });
        mapping_id_of.insert(*dso_id, id);
    }
    for (loc, id) in &location_ids {
        if let Some(dso) = profile.location(*loc).dso {
            locations[*id as usize - 1].mapping_id = mapping_id_of[&dso];
        }
    }

    // The period: the most common weight of the default column.
    let mut periods: Vec<(u64, u64)> = period_counts.into_iter().collect();
    periods.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let period = periods.first().map_or(0, |p| to_i64(p.0));
    let mut comment = Vec::new();
    if profile.lost_samples() > 0 {
        comment.push(strings.get(&format!("lost samples: {}", profile.lost_samples())));
    }
    // The first sample stands for the period before it.
    let duration = if first_time <= last_time {
        (last_time - first_time).saturating_add(u64::try_from(period).unwrap_or(0))
    } else {
        0
    };
    proto::Profile {
        period_type: sample_type.get(1).copied(),
        default_sample_type: sample_type.get(1).map_or(0, |t| t.r#type),
        sample_type,
        sample: samples,
        mapping,
        location: locations,
        function: functions,
        string_table: strings.table,
        drop_frames: 0,
        keep_frames: 0,
        time_nanos: opts.start_time_unix_ns.map_or(0, to_i64),
        duration_nanos: to_i64(duration),
        period,
        comment,
        doc_url: 0,
    }
}

struct MappingInfo {
    min: u64,
    max: u64,
    /// Addresses in this mapping are file offsets.
    file_offsets: bool,
    all_resolved: bool,
    has_file: bool,
    has_line: bool,
    has_inline: bool,
}

impl MappingInfo {
    fn new(space: AddressSpace) -> Self {
        Self {
            min: u64::MAX,
            max: 0,
            file_offsets: matches!(space, AddressSpace::File(_)),
            all_resolved: true,
            has_file: false,
            has_line: false,
            has_inline: false,
        }
    }
}

fn column_of(kind: SampleKind, event: u32) -> Column {
    match kind {
        SampleKind::OnCpu => Column::OnCpu(event),
        SampleKind::OffCpu => Column::OffCpu,
    }
}

fn column_type(profile: &Profile, c: Column) -> (String, &'static str) {
    match c {
        Column::OffCpu => ("off_cpu".to_string(), "nanoseconds"),
        Column::OnCpu(e) => {
            let name = profile
                .events()
                .get(e as usize)
                .map_or("events", String::as_str);
            match name {
                "cpu-clock" => ("cpu".to_string(), "nanoseconds"),
                "task-clock" => (name.to_string(), "nanoseconds"),
                _ => (name.to_string(), "count"),
            }
        }
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
