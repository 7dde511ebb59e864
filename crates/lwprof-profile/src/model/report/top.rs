//! Top entries by self and total ("children") weight, grouped by any of
//! perf's sort keys: comm, pid, tid, cpu, dso, symbol, srcline, srcfile and
//! parent.
//!
//! Rows are plain data with names already resolved to strings. Sums
//! saturate: a hostile file's periods cannot wrap a total. Printing is not
//! done here.

use regex::Regex;
use rustc_hash::FxHashMap;

use super::super::{
    DsoId, Frame, FrameMode, Pid, Profile, Sample, StackFrame, StackId, StrId, Tid,
};
use super::filter::{CompiledFilter, SampleFilter};

/// A column that groups the rows of a top report (perf's `--sort`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// The thread name at sample time.
    Comm,
    /// perf's `pid`: the thread (its id and name), shown as `tid:comm`.
    Pid,
    /// The thread id alone.
    Tid,
    /// The CPU the sample was taken on.
    Cpu,
    /// The DSO of the function.
    Dso,
    /// The function (symbol).
    Symbol,
    /// Source file and line of the sampled address (`file.c:42`), or
    /// `symbol+offset` without line information.
    SrcLine,
    /// Source file of the sampled address.
    SrcFile,
    /// The first caller that matches the parent pattern (`[other]` when
    /// none does).
    Parent,
}

impl SortKey {
    /// True for keys of the sample (thread, CPU, parent) rather than of a
    /// frame.
    fn is_context(self) -> bool {
        matches!(
            self,
            SortKey::Comm | SortKey::Pid | SortKey::Tid | SortKey::Cpu | SortKey::Parent
        )
    }
}

/// Which weight orders the rows of a top report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TopOrder {
    /// By self weight (the function was the leaf).
    #[default]
    SelfWeight,
    /// By total weight (the function was anywhere on the stack: "children").
    TotalWeight,
}

/// What the percentages of a top report are relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Percentage {
    /// The samples that pass the whole filter.
    #[default]
    Relative,
    /// The samples in the filter's scope (time, event), selected or not:
    /// perf's default, so hiding samples does not inflate the rest.
    Absolute,
}

/// perf's default parent pattern (`--parent`).
pub const DEFAULT_PARENT_PATTERN: &str = "^sys_|^do_page_fault";

/// What a top report groups, filters and orders by.
#[derive(Clone, Debug)]
pub struct TopOptions {
    /// Which samples.
    pub filter: SampleFilter,
    /// Grouping columns; default comm, dso, symbol (as perf report).
    pub keys: Vec<SortKey>,
    /// Charge inlined code to the function it was inlined into.
    pub no_inline: bool,
    /// Which weight orders the rows.
    pub order: TopOrder,
    /// Keep at most this many rows.
    pub limit: Option<usize>,
    /// Use at most this many frames of each stack, from the leaf (perf's
    /// `--max-stack`).
    pub max_stack: Option<usize>,
    /// What percentages are relative to.
    pub percentage: Percentage,
    /// The pattern of [`SortKey::Parent`].
    pub parent: Regex,
}

impl Default for TopOptions {
    fn default() -> Self {
        Self {
            filter: SampleFilter::default(),
            keys: vec![SortKey::Comm, SortKey::Dso, SortKey::Symbol],
            no_inline: false,
            order: TopOrder::default(),
            limit: None,
            max_stack: None,
            percentage: Percentage::default(),
            parent: default_parent(),
        }
    }
}

impl PartialEq for TopOptions {
    fn eq(&self, o: &Self) -> bool {
        self.filter == o.filter
            && self.keys == o.keys
            && self.no_inline == o.no_inline
            && self.order == o.order
            && self.limit == o.limit
            && self.max_stack == o.max_stack
            && self.percentage == o.percentage
            && self.parent.as_str() == o.parent.as_str()
    }
}

/// The compiled [`DEFAULT_PARENT_PATTERN`].
pub fn default_parent() -> Regex {
    // A constant pattern that compiles.
    Regex::new(DEFAULT_PARENT_PATTERN).unwrap_or_else(|_| Regex::new("$^").expect("trivial"))
}

/// One row of a top report; a column not in the keys is `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct TopRow {
    /// Thread name.
    pub comm: Option<String>,
    /// Process id.
    pub pid: Option<Pid>,
    /// Thread id.
    pub tid: Option<Tid>,
    /// CPU.
    pub cpu: Option<u32>,
    /// DSO short name (`libc.so.6`, `[kernel.kallsyms]`).
    pub dso: Option<String>,
    /// Function name (`[unknown]` for samples without a callchain).
    pub symbol: Option<String>,
    /// User or kernel, when grouped by symbol (perf's `[.]` / `[k]`).
    pub mode: Option<FrameMode>,
    /// The DSO of the symbol, when grouped by symbol (two `main`s of two
    /// binaries are two rows even without the dso key).
    pub symbol_dso: Option<String>,
    /// `file:line` (or `symbol+offset`).
    pub srcline: Option<String>,
    /// Source file name.
    pub srcfile: Option<String>,
    /// The parent symbol, `[other]` when none matched.
    pub parent: Option<String>,
    /// Weight of samples where this row was the leaf.
    pub self_weight: u64,
    /// Part of `self_weight` from samples taken in the kernel.
    pub self_kernel_weight: u64,
    /// Weight of samples where this row was anywhere on the stack.
    pub total_weight: u64,
    /// `self_weight` as a percentage (see [`TopOptions::percentage`]).
    pub self_percent: f64,
    /// `total_weight` as a percentage.
    pub total_percent: f64,
    /// Number of samples where this row was the leaf.
    pub self_samples: u64,
}

/// A top report.
#[derive(Clone, Debug, PartialEq)]
pub struct TopReport {
    /// Total weight of the samples that passed the filter.
    pub total_weight: u64,
    /// Number of samples that passed the filter.
    pub total_samples: u64,
    /// Total weight of the samples in the filter's scope.
    pub scope_weight: u64,
    /// Number of samples in the filter's scope.
    pub scope_samples: u64,
    /// The total percentages are relative to.
    pub percent_base: u64,
    /// Rows, heaviest first.
    pub rows: Vec<TopRow>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct ContextKey {
    comm: Option<StrId>,
    pid: Option<Pid>,
    tid: Option<Tid>,
    cpu: Option<u32>,
    parent: Option<Option<StrId>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FrameKey {
    dso: Option<Option<DsoId>>,
    /// Function name and its DSO (two `main`s in two binaries differ).
    symbol: Option<(Option<StrId>, Option<DsoId>, FrameMode)>,
    /// Source location: file and line of the location's outermost frame,
    /// or the location itself when it has none (shown as `sym+offset`).
    srcline: Option<SrcKey>,
    srcfile: Option<Option<StrId>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum SrcKey {
    Line(StrId, u32),
    /// `symbol+offset`, for code without line information.
    SymOffset(StrId, Option<u64>),
    Unknown,
}

#[derive(Default, Clone, Copy)]
struct Acc {
    /// A location of an unresolved symbol row: the row shows its relative
    /// address, as perf does (`0x00000000000fc7c6`).
    unresolved: Option<super::super::LocationId>,
    self_weight: u64,
    self_kernel: u64,
    total_weight: u64,
    self_samples: u64,
}

/// `part` as a percentage of `total` (0 when `total` is 0), as every
/// report column computes it.
pub fn percent(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 * 100.0 / total as f64
    }
}

/// (weight, samples) per (stack, context key).
pub(crate) type PerStack<K> = FxHashMap<(Option<StackId>, K), (u64, u64)>;

/// Sum weights per (stack, context), so each unique stack is walked once.
pub(crate) fn aggregate<K: std::hash::Hash + Eq + Copy>(
    profile: &Profile,
    filter: &SampleFilter,
    key: impl FnMut(&Sample) -> K,
) -> (PerStack<K>, u64, u64) {
    let mut key = key;
    let compiled = CompiledFilter::new(profile, filter);
    let mut map: PerStack<K> = FxHashMap::default();
    let (mut total, mut count) = (0u64, 0u64);
    for s in profile
        .samples
        .iter()
        .filter(|s| compiled.accepts(profile, s))
    {
        let e = map.entry((s.stack, key(s))).or_default();
        e.0 = e.0.saturating_add(s.weight);
        e.1 += u64::from(s.count);
        total = total.saturating_add(s.weight);
        count += u64::from(s.count);
    }
    (map, total, count)
}

/// The weight and number of the samples in `filter`.
fn totals(profile: &Profile, filter: &SampleFilter) -> (u64, u64) {
    let compiled = CompiledFilter::new(profile, filter);
    profile
        .samples
        .iter()
        .filter(|s| compiled.accepts(profile, s))
        .fold((0u64, 0u64), |(w, n), s| {
            (w.saturating_add(s.weight), n + u64::from(s.count))
        })
}

impl Profile {
    /// The frames of a stack a report uses: leaf to root, each location's
    /// inline frames (or only its outermost), at most `max_stack` of them.
    pub fn report_frames(
        &self,
        stack: Option<StackId>,
        no_inline: bool,
        max_stack: Option<usize>,
    ) -> impl Iterator<Item = StackFrame> + '_ {
        self.stack_frames(stack, !no_inline)
            .take(max_stack.unwrap_or(usize::MAX))
    }

    /// The first caller whose function matches `parent`, leaf first.
    fn parent_of(&self, stack: Option<StackId>, parent: &Regex) -> Option<StrId> {
        self.stack_frames(stack, false)
            .map(|sf| self.frame(sf.frame).function)
            .find(|&f| parent.is_match(self.string(f)))
    }

    fn src_key(&self, sf: &StackFrame) -> (SrcKey, Option<StrId>) {
        // The line in the function the code belongs to (perf's srcline of
        // an address inside inlined code is its caller's line).
        let frames = self.location_frames(sf.location);
        let outermost = frames[frames.len() - 1];
        match self.frame(outermost) {
            Frame {
                file: Some(file),
                line: Some(line),
                ..
            } => (SrcKey::Line(*file, *line), Some(*file)),
            f if f.resolved => (
                SrcKey::SymOffset(f.function, self.location_symbol_offset(sf.location)),
                f.file,
            ),
            _ => (SrcKey::Unknown, None),
        }
    }

    /// Top functions (or any grouping of [`SortKey`]s) by self and total
    /// weight.
    pub fn top(&self, opts: &TopOptions) -> TopReport {
        let has = |k: SortKey| opts.keys.contains(&k);
        let by_parent = has(SortKey::Parent);
        let mut parents: FxHashMap<Option<StackId>, Option<StrId>> = FxHashMap::default();
        let (per_stack, total, count) = aggregate(self, &opts.filter, |s| {
            let t = self.thread(s.thread);
            ContextKey {
                // perf keys `pid` on the thread alone and names it by its
                // latest comm; `comm` is the name at the sample's time.
                comm: if has(SortKey::Comm) {
                    s.comm
                } else if has(SortKey::Pid) {
                    t.comms.last().map(|c| c.name).or(s.comm)
                } else {
                    None
                },
                pid: has(SortKey::Pid).then_some(t.pid),
                tid: (has(SortKey::Tid) || has(SortKey::Pid)).then_some(t.tid),
                cpu: has(SortKey::Cpu).then_some(s.cpu),
                parent: by_parent.then(|| {
                    *parents
                        .entry(s.stack)
                        .or_insert_with(|| self.parent_of(s.stack, &opts.parent))
                }),
            }
        });
        let (scope_weight, scope_samples) = if opts.filter.selects() {
            totals(self, &opts.filter.scope())
        } else {
            (total, count)
        };
        let percent_base = match opts.percentage {
            Percentage::Relative => total,
            Percentage::Absolute => scope_weight,
        };
        let frame_keys = opts.keys.iter().any(|k| !k.is_context());
        let mut rows: FxHashMap<(ContextKey, FrameKey), Acc> = FxHashMap::default();
        let mut seen: Vec<(FrameKey, Option<super::super::LocationId>)> = Vec::new();
        for (&(stack, ctx), &(weight, samples)) in &per_stack {
            seen.clear();
            let kernel = self
                .stack_locations(stack)
                .next()
                .map(|l| self.location(l).mode())
                == Some(FrameMode::Kernel);
            let mut frames = self
                .report_frames(stack, opts.no_inline, opts.max_stack)
                .peekable();
            if frames.peek().is_none() || !frame_keys {
                seen.push((self.frame_key(opts, None), None));
            } else {
                for sf in frames {
                    let k = self.frame_key(opts, Some(&sf));
                    if !seen.iter().any(|(s, _)| *s == k) {
                        let unresolved = (!self.frame(sf.frame).resolved).then_some(sf.location);
                        seen.push((k, unresolved));
                    }
                }
            }
            for (i, (k, unresolved)) in seen.iter().enumerate() {
                let acc = rows.entry((ctx, *k)).or_default();
                acc.unresolved = acc.unresolved.or(*unresolved);
                acc.total_weight = acc.total_weight.saturating_add(weight);
                if i == 0 {
                    acc.self_weight = acc.self_weight.saturating_add(weight);
                    acc.self_samples += samples;
                    if kernel {
                        acc.self_kernel = acc.self_kernel.saturating_add(weight);
                    }
                }
            }
        }
        let mut out: Vec<TopRow> = rows
            .into_iter()
            .map(|((ctx, fk), acc)| self.top_row(ctx, fk, acc, percent_base))
            .collect();
        sort_rows(&mut out, opts.order, &opts.keys);
        if let Some(limit) = opts.limit {
            out.truncate(limit);
        }
        TopReport {
            total_weight: total,
            total_samples: count,
            scope_weight,
            scope_samples,
            percent_base,
            rows: out,
        }
    }

    fn frame_key(&self, opts: &TopOptions, sf: Option<&StackFrame>) -> FrameKey {
        let has = |k: SortKey| opts.keys.contains(&k);
        let frame = sf.map(|sf| self.frame(sf.frame));
        let src = sf.map(|sf| self.src_key(sf));
        FrameKey {
            dso: has(SortKey::Dso).then(|| frame.and_then(|f| f.dso)),
            symbol: has(SortKey::Symbol).then(|| {
                (
                    frame.map(|f| f.function),
                    frame.and_then(|f| f.dso),
                    frame.map_or(FrameMode::User, |f| f.mode),
                )
            }),
            srcline: has(SortKey::SrcLine).then(|| src.map_or(SrcKey::Unknown, |s| s.0)),
            srcfile: has(SortKey::SrcFile).then(|| src.and_then(|s| s.1)),
        }
    }

    fn top_row(&self, ctx: ContextKey, fk: FrameKey, acc: Acc, base: u64) -> TopRow {
        TopRow {
            comm: ctx.comm.map(|c| self.string(c).to_string()),
            pid: ctx.pid,
            tid: ctx.tid,
            cpu: ctx.cpu,
            dso: fk.dso.map(|d| self.dso_display(d)),
            symbol: fk.symbol.map(|(name, _, _)| match acc.unresolved {
                Some(loc) => unresolved_name(self.location_relative_address(loc)),
                None => {
                    name.map_or_else(|| "[unknown]".to_string(), |n| self.string(n).to_string())
                }
            }),
            mode: fk.symbol.map(|(_, _, mode)| mode),
            symbol_dso: fk.symbol.map(|(_, dso, _)| self.dso_display(dso)),
            srcline: fk.srcline.map(|s| self.srcline_text(s)),
            srcfile: fk
                .srcfile
                .map(|f| f.map_or_else(String::new, |f| basename(self.string(f)).to_string())),
            parent: ctx
                .parent
                .map(|p| p.map_or_else(|| "[other]".to_string(), |p| self.string(p).to_string())),
            self_weight: acc.self_weight,
            self_kernel_weight: acc.self_kernel,
            total_weight: acc.total_weight,
            self_percent: percent(acc.self_weight, base),
            total_percent: percent(acc.total_weight, base),
            self_samples: acc.self_samples,
        }
    }

    fn srcline_text(&self, key: SrcKey) -> String {
        match key {
            SrcKey::Line(file, line) => format!("{}:{line}", basename(self.string(file))),
            SrcKey::SymOffset(function, offset) => match offset {
                Some(off) => format!("{}+{off}", self.string(function)),
                None => self.string(function).to_string(),
            },
            SrcKey::Unknown => "[unknown]".to_string(),
        }
    }

    pub(crate) fn dso_display(&self, dso: Option<DsoId>) -> String {
        dso.map_or_else(
            || "[unknown]".to_string(),
            |d| self.dso(d).short_name().to_string(),
        )
    }
}

/// An unresolved entry's name as perf prints it (`%-#.*llx`, 16 digits:
/// `0x00000000000fc7c6`, and for 0, which `#` gives no prefix,
/// `0000000000000000`).
pub fn unresolved_name(address: u64) -> String {
    if address == 0 {
        format!("{:016x}", 0)
    } else {
        format!("{address:#018x}")
    }
}

/// The last path component.
fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Heaviest first; ties in the order of the sort keys, as perf breaks them.
fn sort_rows(out: &mut [TopRow], order: TopOrder, keys: &[SortKey]) {
    out.sort_by(|a, b| {
        let (ka, kb) = match order {
            TopOrder::SelfWeight => (
                (a.self_weight, a.total_weight),
                (b.self_weight, b.total_weight),
            ),
            TopOrder::TotalWeight => (
                (a.total_weight, a.self_weight),
                (b.total_weight, b.self_weight),
            ),
        };
        let mut ord = kb.cmp(&ka);
        for k in keys {
            if ord.is_ne() {
                break;
            }
            ord = match k {
                SortKey::Comm => a.comm.cmp(&b.comm),
                SortKey::Pid | SortKey::Tid => a.tid.cmp(&b.tid).then_with(|| a.comm.cmp(&b.comm)),
                SortKey::Cpu => a.cpu.cmp(&b.cpu),
                SortKey::Dso => a.dso.cmp(&b.dso),
                SortKey::Symbol => a.symbol.cmp(&b.symbol),
                SortKey::SrcLine => a.srcline.cmp(&b.srcline),
                SortKey::SrcFile => a.srcfile.cmp(&b.srcfile),
                SortKey::Parent => a.parent.cmp(&b.parent),
            };
        }
        ord.then_with(|| a.dso.cmp(&b.dso))
            .then_with(|| a.symbol.cmp(&b.symbol))
    });
}
