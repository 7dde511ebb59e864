//! The tables a pprof message is made of, each filled once: strings, value
//! columns, sample rows, and the locations, functions and mappings the rows
//! use. [`super::pprof_profile`] assembles them in that order.
//!
//! Nothing here encodes or compresses; ids are 1-based as pprof wants and
//! string index 0 is the empty string.

use std::collections::HashMap;

use super::{proto, to_i64};
use crate::OutputOptions;
use lwprof_profile::model::{
    AddressSpace, DsoId, DsoKind, FrameId, LocationId, Profile, SampleKind, StackId, StrId,
    ThreadId,
};

/// The string table: index 0 is "".
#[derive(Default)]
pub(super) struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    pub(super) fn new() -> Self {
        let mut s = Self::default();
        s.get("");
        s
    }

    /// The index of `s`, added on first use.
    pub(super) fn get(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }

    pub(super) fn into_table(self) -> Vec<String> {
        self.table
    }
}

/// Which value column a sample's weight goes to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Column {
    OnCpu(u32),
    OffCpu,
}

impl Column {
    fn of(kind: SampleKind, event: u32) -> Column {
        match kind {
            SampleKind::OnCpu => Column::OnCpu(event),
            SampleKind::OffCpu => Column::OffCpu,
        }
    }

    /// pprof's (type, unit) for the column.
    fn value_type(self, profile: &Profile) -> (String, &'static str) {
        match self {
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
}

/// The value columns after `samples/count`, in a fixed order: on-CPU events
/// by index, then off-CPU; and the time span of the samples.
pub(super) struct Columns {
    columns: Vec<Column>,
    first_time: u64,
    last_time: u64,
}

impl Columns {
    pub(super) fn of(profile: &Profile, opts: &OutputOptions) -> Self {
        let mut columns: Vec<Column> = Vec::new();
        let (mut first_time, mut last_time) = (u64::MAX, 0u64);
        for s in profile.filtered_samples(&opts.filter) {
            let c = Column::of(s.kind, s.event.0);
            if !columns.contains(&c) {
                columns.push(c);
            }
            first_time = first_time.min(s.time);
            last_time = last_time.max(s.last_time);
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
        Columns {
            columns,
            first_time,
            last_time,
        }
    }

    /// Values per sample: the count and one per column.
    fn width(&self) -> usize {
        self.columns.len() + 1
    }

    /// The value index of a sample's weight (1 = the default column).
    fn index(&self, kind: SampleKind, event: u32) -> usize {
        let c = Column::of(kind, event);
        self.columns
            .iter()
            .position(|x| *x == c)
            .map_or(1, |i| i + 1)
    }

    /// `sample_type`: `samples/count`, then each column.
    pub(super) fn value_types(
        &self,
        profile: &Profile,
        strings: &mut Strings,
    ) -> Vec<proto::ValueType> {
        let mut types = vec![proto::ValueType {
            r#type: strings.get("samples"),
            unit: strings.get("count"),
        }];
        for c in &self.columns {
            let (ty, unit) = c.value_type(profile);
            types.push(proto::ValueType {
                r#type: strings.get(&ty),
                unit: strings.get(unit),
            });
        }
        types
    }

    /// First to last sample, plus the period the first one stands for.
    pub(super) fn duration(&self, period: u64) -> u64 {
        if self.first_time <= self.last_time {
            (self.last_time - self.first_time).saturating_add(period)
        } else {
            0
        }
    }
}

/// What makes two samples one pprof sample.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct RowKey {
    pub(super) stack: Option<StackId>,
    pub(super) thread: ThreadId,
    pub(super) comm: Option<StrId>,
}

/// The sample rows, one per unique (stack, thread, name) in first-seen
/// order, with their summed values.
pub(super) struct Rows {
    keys: Vec<RowKey>,
    values: Vec<i64>,
    width: usize,
    /// How often each weight of the default column occurs.
    period_counts: HashMap<u64, u64>,
}

impl Rows {
    pub(super) fn of(profile: &Profile, opts: &OutputOptions, columns: &Columns) -> Self {
        let width = columns.width();
        let mut rows = Rows {
            keys: Vec::new(),
            values: Vec::new(),
            width,
            period_counts: HashMap::new(),
        };
        let mut index: HashMap<RowKey, usize> = HashMap::new();
        for s in profile.filtered_samples(&opts.filter) {
            let key = RowKey {
                stack: s.stack,
                thread: s.thread,
                comm: s.comm,
            };
            let i = *index.entry(key).or_insert_with(|| {
                rows.keys.push(key);
                rows.values.extend(std::iter::repeat_n(0, width));
                rows.keys.len() - 1
            });
            let col = columns.index(s.kind, s.event.0);
            let v = &mut rows.values[i * width..(i + 1) * width];
            v[0] += i64::from(s.count);
            v[col] = v[col].saturating_add(to_i64(s.weight));
            if col == 1 {
                *rows.period_counts.entry(s.period()).or_default() += u64::from(s.count);
            }
        }
        rows
    }

    /// Each row's key and values.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&RowKey, &[i64])> {
        self.keys.iter().zip(self.values.chunks_exact(self.width))
    }

    /// The period: the most common weight of the default column.
    pub(super) fn period(&self) -> u64 {
        let mut periods: Vec<(u64, u64)> =
            self.period_counts.iter().map(|(w, n)| (*w, *n)).collect();
        periods.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        periods.first().map_or(0, |p| p.0)
    }
}

/// The sample label keys (`pid`, `tid`, `thread_name`).
pub(super) struct LabelKeys {
    pid: i64,
    tid: i64,
    thread: i64,
}

impl LabelKeys {
    pub(super) fn new(strings: &mut Strings) -> Self {
        LabelKeys {
            pid: strings.get("pid"),
            tid: strings.get("tid"),
            thread: strings.get("thread_name"),
        }
    }

    /// A row's labels: pid and tid as numbers, the thread's name if any.
    pub(super) fn labels(
        &self,
        profile: &Profile,
        thread: ThreadId,
        comm: Option<StrId>,
        strings: &mut Strings,
    ) -> Vec<proto::Label> {
        let t = profile.thread(thread);
        let name = comm.map_or_else(|| profile.thread_name(thread), |c| profile.string(c));
        let mut label = vec![
            proto::Label {
                key: self.pid,
                num: i64::from(t.pid),
                ..Default::default()
            },
            proto::Label {
                key: self.tid,
                num: i64::from(t.tid),
                ..Default::default()
            },
        ];
        if !name.is_empty() {
            label.push(proto::Label {
                key: self.thread,
                str: strings.get(name),
                ..Default::default()
            });
        }
        label
    }
}

/// What a mapping's locations say about it.
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

/// Locations, functions and mappings, added as the rows use them.
#[derive(Default)]
pub(super) struct Locations {
    locations: Vec<proto::Location>,
    ids: HashMap<LocationId, u64>,
    functions: Vec<proto::Function>,
    function_ids: HashMap<(StrId, Option<StrId>), u64>,
    /// DSOs in first-use order, and what their locations say.
    dsos: Vec<DsoId>,
    mapping_info: HashMap<DsoId, MappingInfo>,
}

impl Locations {
    /// The id of a location, with one `Line` per inline level (innermost
    /// first, as pprof expects; the outermost alone with `no_inline`).
    pub(super) fn location(
        &mut self,
        profile: &Profile,
        loc: LocationId,
        no_inline: bool,
        strings: &mut Strings,
    ) -> u64 {
        if let Some(&id) = self.ids.get(&loc) {
            return id;
        }
        let id = self.locations.len() as u64 + 1;
        let location = profile.location(loc);
        let frames = profile.location_frames(loc);
        let frames: &[FrameId] = if no_inline {
            &frames[frames.len().saturating_sub(1)..]
        } else {
            frames
        };
        let mut lines = Vec::with_capacity(frames.len());
        let (mut resolved, mut has_file, mut has_line) = (false, false, false);
        for &f in frames {
            let frame = profile.frame(f);
            resolved |= frame.resolved;
            has_file |= frame.file.is_some();
            has_line |= frame.line.is_some();
            lines.push(proto::Line {
                function_id: self.function(profile, frame.function, frame.file, strings),
                line: frame.line.map_or(0, i64::from),
                column: 0,
            });
        }
        if let Some(dso) = location.dso {
            let info = self.mapping_info.entry(dso).or_insert_with(|| {
                self.dsos.push(dso);
                MappingInfo::new(location.space)
            });
            info.min = info.min.min(location.address);
            info.max = info.max.max(location.address);
            info.all_resolved &= resolved;
            info.has_file |= has_file;
            info.has_line |= has_line;
            info.has_inline |= lines.len() > 1;
        }
        self.locations.push(proto::Location {
            id,
            mapping_id: 0,
            address: location.address,
            line: lines,
            is_folded: false,
        });
        self.ids.insert(loc, id);
        id
    }

    /// The id of a function (a name in a file).
    fn function(
        &mut self,
        profile: &Profile,
        name: StrId,
        file: Option<StrId>,
        strings: &mut Strings,
    ) -> u64 {
        if let Some(&id) = self.function_ids.get(&(name, file)) {
            return id;
        }
        let id = self.functions.len() as u64 + 1;
        let name_index = strings.get(profile.string(name));
        self.functions.push(proto::Function {
            id,
            name: name_index,
            system_name: name_index,
            filename: file.map_or(0, |f| strings.get(profile.string(f))),
            start_line: 0,
        });
        self.function_ids.insert((name, file), id);
        id
    }

    /// The location, function and mapping tables. pprof takes the first
    /// mapping as the main binary: files first (in the order they were
    /// mapped), then anonymous and special memory, the kernel last.
    pub(super) fn finish(
        mut self,
        profile: &Profile,
        strings: &mut Strings,
    ) -> (
        Vec<proto::Location>,
        Vec<proto::Function>,
        Vec<proto::Mapping>,
    ) {
        self.dsos.sort_by_key(|&d| {
            let rank = match profile.dso(d).kind {
                DsoKind::File => 0,
                DsoKind::JitDump | DsoKind::Anonymous | DsoKind::Special => 1,
                DsoKind::Kernel => 2,
            };
            (rank, d)
        });
        let mut mapping = Vec::with_capacity(self.dsos.len());
        let mut mapping_id_of: HashMap<DsoId, u64> = HashMap::new();
        for (i, dso_id) in self.dsos.iter().enumerate() {
            let id = i as u64 + 1;
            let info = &self.mapping_info[dso_id];
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
        for (loc, id) in &self.ids {
            if let Some(dso) = profile.location(*loc).dso {
                self.locations[*id as usize - 1].mapping_id = mapping_id_of[&dso];
            }
        }
        (self.locations, self.functions, mapping)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
