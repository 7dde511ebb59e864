//! The aggregate API that `lwprof report` reads: top functions by self and
//! total (children) weight, grouped by any of comm, pid, tid, dso and symbol;
//! sample filters; a caller/callee call-graph tree with a percentage
//! threshold.
//!
//! Results are plain data with names already resolved to strings, so a
//! printer needs nothing else. Percentages are relative to the total weight
//! of the samples that pass the filter. Printing is not done here.

use rustc_hash::FxHashMap;

use super::{CpuMode, DsoId, EventIndex, Pid, Profile, Sample, SampleKind, StackId, StrId, Tid};

/// Which samples a report looks at. Empty lists and `None` do not filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampleFilter {
    /// Keep samples of these processes.
    pub pids: Vec<Pid>,
    /// Keep samples of these threads.
    pub tids: Vec<Tid>,
    /// Keep samples whose thread had one of these names when sampled.
    pub comms: Vec<String>,
    /// Keep samples whose leaf frame is in one of these DSOs (full path or
    /// last component, e.g. `libc.so.6`, `[kernel.kallsyms]`).
    pub dsos: Vec<String>,
    /// Keep samples at or after this time (ns).
    pub time_start: Option<u64>,
    /// Keep samples before this time (ns).
    pub time_end: Option<u64>,
    /// Keep samples of this event only.
    pub event: Option<EventIndex>,
    /// Keep on-CPU or off-CPU samples only.
    pub kind: Option<SampleKind>,
}

/// A filter with names turned into ids.
#[derive(Clone, Debug)]
pub(crate) struct CompiledFilter<'a> {
    filter: &'a SampleFilter,
    comms: Vec<StrId>,
    dsos: Vec<DsoId>,
}

impl<'a> CompiledFilter<'a> {
    pub(crate) fn new(profile: &Profile, filter: &'a SampleFilter) -> Self {
        let comms = filter
            .comms
            .iter()
            .filter_map(|c| profile.strings.find(c))
            .collect();
        let dsos = profile
            .dsos
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                filter
                    .dsos
                    .iter()
                    .any(|name| *name == d.path || name == d.short_name())
            })
            .map(|(i, _)| DsoId(i as u32))
            .collect();
        Self {
            filter,
            comms,
            dsos,
        }
    }

    pub(crate) fn accepts(&self, profile: &Profile, s: &Sample) -> bool {
        let f = self.filter;
        if f.time_start.is_some_and(|t| s.time < t) || f.time_end.is_some_and(|t| s.time >= t) {
            return false;
        }
        if f.event.is_some_and(|e| e != s.event) || f.kind.is_some_and(|k| k != s.kind) {
            return false;
        }
        if !f.pids.is_empty() || !f.tids.is_empty() {
            let t = profile.thread(s.thread);
            if !f.pids.is_empty() && !f.pids.contains(&t.pid) {
                return false;
            }
            if !f.tids.is_empty() && !f.tids.contains(&t.tid) {
                return false;
            }
        }
        if !f.comms.is_empty() && !s.comm.is_some_and(|c| self.comms.contains(&c)) {
            return false;
        }
        if !f.dsos.is_empty() {
            let leaf_dso = profile
                .stack_frames(s.stack, true)
                .next()
                .and_then(|sf| profile.frame(sf.frame).dso);
            if !leaf_dso.is_some_and(|d| self.dsos.contains(&d)) {
                return false;
            }
        }
        true
    }
}

/// A column that groups the rows of a top report (perf's `--sort`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// The thread name at sample time.
    Comm,
    /// The process id.
    Pid,
    /// The thread id.
    Tid,
    /// The DSO of the function.
    Dso,
    /// The function (symbol).
    Symbol,
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

/// What a top report groups, filters and orders by.
#[derive(Clone, Debug, PartialEq)]
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
}

impl Default for TopOptions {
    fn default() -> Self {
        Self {
            filter: SampleFilter::default(),
            keys: vec![SortKey::Comm, SortKey::Dso, SortKey::Symbol],
            no_inline: false,
            order: TopOrder::default(),
            limit: None,
        }
    }
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
    /// DSO short name (`libc.so.6`, `[kernel.kallsyms]`).
    pub dso: Option<String>,
    /// Function name (`[unknown]` for samples without a callchain).
    pub symbol: Option<String>,
    /// User or kernel, when grouped by symbol (perf's `[.]` / `[k]`).
    pub mode: Option<CpuMode>,
    /// Weight of samples where this row was the leaf.
    pub self_weight: u64,
    /// Weight of samples where this row was anywhere on the stack.
    pub total_weight: u64,
    /// `self_weight` as a percentage of the filtered total.
    pub self_percent: f64,
    /// `total_weight` as a percentage of the filtered total.
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
    /// Rows, heaviest first.
    pub rows: Vec<TopRow>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct ContextKey {
    comm: Option<StrId>,
    pid: Option<Pid>,
    tid: Option<Tid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FrameKey {
    dso: Option<Option<DsoId>>,
    /// Function name and its DSO (two `main`s in two binaries differ).
    symbol: Option<(Option<StrId>, Option<DsoId>, CpuMode)>,
}

#[derive(Default, Clone, Copy)]
struct Acc {
    self_weight: u64,
    total_weight: u64,
    self_samples: u64,
}

fn percent(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 * 100.0 / total as f64
    }
}

/// (weight, samples) per (stack, context key).
type PerStack<K> = FxHashMap<(Option<StackId>, K), (u64, u64)>;

/// Sum weights per (stack, context), so each unique stack is walked once.
fn aggregate<K: std::hash::Hash + Eq + Copy>(
    profile: &Profile,
    filter: &SampleFilter,
    key: impl Fn(&Sample) -> K,
) -> (PerStack<K>, u64, u64) {
    let compiled = CompiledFilter::new(profile, filter);
    let mut map: PerStack<K> = FxHashMap::default();
    let (mut total, mut count) = (0u64, 0u64);
    for s in profile
        .samples
        .iter()
        .filter(|s| compiled.accepts(profile, s))
    {
        let e = map.entry((s.stack, key(s))).or_default();
        e.0 += s.weight;
        e.1 += 1;
        total += s.weight;
        count += 1;
    }
    (map, total, count)
}

impl Profile {
    /// Top functions (or any grouping of [`SortKey`]s) by self and total
    /// weight.
    pub fn top(&self, opts: &TopOptions) -> TopReport {
        let has = |k: SortKey| opts.keys.contains(&k);
        let (by_comm, by_pid, by_tid) = (has(SortKey::Comm), has(SortKey::Pid), has(SortKey::Tid));
        let (by_dso, by_symbol) = (has(SortKey::Dso), has(SortKey::Symbol));
        let (per_stack, total, count) = aggregate(self, &opts.filter, |s| {
            let t = self.thread(s.thread);
            ContextKey {
                comm: if by_comm { s.comm } else { None },
                pid: by_pid.then_some(t.pid),
                tid: by_tid.then_some(t.tid),
            }
        });
        let frame_key = |frame: Option<&super::Frame>| FrameKey {
            dso: by_dso.then(|| frame.and_then(|f| f.dso)),
            symbol: by_symbol.then(|| {
                (
                    frame.map(|f| f.function),
                    frame.and_then(|f| f.dso),
                    frame.map_or(CpuMode::User, |f| f.mode),
                )
            }),
        };
        let mut rows: FxHashMap<(ContextKey, FrameKey), Acc> = FxHashMap::default();
        let mut seen: Vec<FrameKey> = Vec::new();
        for (&(stack, ctx), &(weight, samples)) in &per_stack {
            seen.clear();
            let mut frames = self.stack_frames(stack, !opts.no_inline).peekable();
            if frames.peek().is_none() {
                seen.push(frame_key(None));
            }
            for sf in frames {
                let k = frame_key(Some(self.frame(sf.frame)));
                if !seen.contains(&k) {
                    seen.push(k);
                }
            }
            for (i, k) in seen.iter().enumerate() {
                let acc = rows.entry((ctx, *k)).or_default();
                acc.total_weight += weight;
                if i == 0 {
                    acc.self_weight += weight;
                    acc.self_samples += samples;
                }
            }
        }
        let mut out: Vec<TopRow> = rows
            .into_iter()
            .map(|((ctx, fk), acc)| TopRow {
                comm: ctx.comm.map(|c| self.string(c).to_string()),
                pid: ctx.pid,
                tid: ctx.tid,
                dso: fk.dso.map(|d| self.dso_display(d)),
                symbol: fk.symbol.map(|(name, _, _)| {
                    name.map_or_else(|| "[unknown]".to_string(), |n| self.string(n).to_string())
                }),
                mode: fk.symbol.map(|(_, _, mode)| mode),
                self_weight: acc.self_weight,
                total_weight: acc.total_weight,
                self_percent: percent(acc.self_weight, total),
                total_percent: percent(acc.total_weight, total),
                self_samples: acc.self_samples,
            })
            .collect();
        out.sort_by(|a, b| {
            let (ka, kb) = match opts.order {
                TopOrder::SelfWeight => (
                    (a.self_weight, a.total_weight),
                    (b.self_weight, b.total_weight),
                ),
                TopOrder::TotalWeight => (
                    (a.total_weight, a.self_weight),
                    (b.total_weight, b.self_weight),
                ),
            };
            kb.cmp(&ka)
                .then_with(|| a.symbol.cmp(&b.symbol))
                .then_with(|| a.dso.cmp(&b.dso))
                .then_with(|| a.comm.cmp(&b.comm))
                .then_with(|| a.pid.cmp(&b.pid))
                .then_with(|| a.tid.cmp(&b.tid))
        });
        if let Some(limit) = opts.limit {
            out.truncate(limit);
        }
        TopReport {
            total_weight: total,
            total_samples: count,
            rows: out,
        }
    }

    /// A call-graph tree over the filtered samples.
    pub fn call_graph(&self, opts: &CallGraphOptions) -> CallTree {
        let (per_stack, total, _) = aggregate(self, &opts.filter, |_| ());
        let mut arena: Vec<RawNode> = vec![RawNode::default()];
        let mut child_index: FxHashMap<(usize, NodeKey), usize> = FxHashMap::default();
        let mut path: Vec<NodeKey> = Vec::new();
        for (&(stack, ()), &(weight, _)) in &per_stack {
            path.clear();
            path.extend(self.stack_frames(stack, !opts.no_inline).map(|sf| {
                let f = self.frame(sf.frame);
                (f.function, f.dso, f.mode)
            }));
            if opts.order == CallGraphOrder::Caller {
                path.reverse();
            }
            let mut node = 0usize;
            for key in &path {
                node = *child_index.entry((node, *key)).or_insert_with(|| {
                    arena.push(RawNode {
                        key: Some(*key),
                        ..RawNode::default()
                    });
                    let child = arena.len() - 1;
                    arena[node].children.push(child);
                    child
                });
                arena[node].total += weight;
            }
            if node != 0 {
                arena[node].self_weight += weight;
            }
        }
        let min = opts.threshold_percent.max(0.0) * total as f64 / 100.0;
        let roots = self.emit_children(&arena, 0, total, min);
        CallTree {
            total_weight: total,
            roots,
        }
    }

    fn emit_children(&self, arena: &[RawNode], node: usize, total: u64, min: f64) -> Vec<CallNode> {
        let mut out: Vec<CallNode> = arena[node]
            .children
            .iter()
            .filter(|&&i| arena[i].total as f64 >= min && arena[i].total > 0)
            .map(|&i| {
                let raw = &arena[i];
                let (function, dso, mode) = raw.key.unwrap_or((StrId(0), None, CpuMode::User));
                CallNode {
                    symbol: self.string(function).to_string(),
                    dso: dso.map(|d| self.dso(d).short_name().to_string()),
                    mode,
                    total_weight: raw.total,
                    self_weight: raw.self_weight,
                    percent: percent(raw.total, total),
                    children: self.emit_children(arena, i, total, min),
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.total_weight
                .cmp(&a.total_weight)
                .then_with(|| a.symbol.cmp(&b.symbol))
                .then_with(|| a.dso.cmp(&b.dso))
        });
        out
    }

    fn dso_display(&self, dso: Option<DsoId>) -> String {
        dso.map_or_else(
            || "[unknown]".to_string(),
            |d| self.dso(d).short_name().to_string(),
        )
    }
}

/// A call-graph node's identity: function, DSO, mode.
type NodeKey = (StrId, Option<DsoId>, CpuMode);

#[derive(Default)]
struct RawNode {
    key: Option<NodeKey>,
    total: u64,
    self_weight: u64,
    children: Vec<usize>,
}

/// Which way a call-graph tree grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CallGraphOrder {
    /// Roots are outermost callers (`main`); children are callees.
    #[default]
    Caller,
    /// Roots are leaf functions; children are their callers.
    Callee,
}

/// What a call graph covers.
#[derive(Clone, Debug, PartialEq)]
pub struct CallGraphOptions {
    /// Which samples.
    pub filter: SampleFilter,
    /// Charge inlined code to the function it was inlined into.
    pub no_inline: bool,
    /// Caller-first or callee-first.
    pub order: CallGraphOrder,
    /// Drop nodes below this percentage of the total (perf's default 0.5).
    pub threshold_percent: f64,
}

impl Default for CallGraphOptions {
    fn default() -> Self {
        Self {
            filter: SampleFilter::default(),
            no_inline: false,
            order: CallGraphOrder::default(),
            threshold_percent: 0.5,
        }
    }
}

/// A call-graph tree.
#[derive(Clone, Debug, PartialEq)]
pub struct CallTree {
    /// Total weight of the filtered samples (the 100% of `percent`).
    pub total_weight: u64,
    /// Top-level nodes, heaviest first.
    pub roots: Vec<CallNode>,
}

/// A node of a call-graph tree: one function on one path.
#[derive(Clone, Debug, PartialEq)]
pub struct CallNode {
    /// Function name.
    pub symbol: String,
    /// DSO short name.
    pub dso: Option<String>,
    /// User or kernel.
    pub mode: CpuMode,
    /// Weight of every sample whose path goes through this node.
    pub total_weight: u64,
    /// Weight of the samples whose path ends at this node.
    pub self_weight: u64,
    /// `total_weight` as a percentage of the tree total.
    pub percent: f64,
    /// Next nodes (callees in caller order, callers in callee order),
    /// heaviest first, those under the threshold dropped.
    pub children: Vec<CallNode>,
}
