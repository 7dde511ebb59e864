//! The call graph under each entry of a text report, drawn as perf's `-g`
//! asks: a tree with absolute (`graph`) or parent-relative (`fractal`)
//! percentages, every chain in full (`flat`), or one line per chain
//! (`folded`); in caller order (from the outermost caller down) or callee
//! order (from the entry up through its callers); numbers as percentages,
//! periods or sample counts; nodes told apart by function, address or
//! source line.
//!
//! Which chains belong to an entry: without the Children column, the full
//! chains of the samples where the entry was the leaf; with it, in caller
//! order the full chains of its own samples plus the callees below it for
//! the samples where it was on the stack, and in callee order the chains
//! from it up to the root. It prints lines; it does not choose the entries.

use rustc_hash::FxHashMap;

use crate::{dso_name, GraphKey, GraphMode, GraphValue, OutputOptions, TextOptions};
use lwprof_profile::model::{
    CallGraphOrder, DsoId, FrameMode, Profile, SampleFilter, SortKey, StrId, TopRow,
};

/// A call-graph node's identity: function, DSO, mode, and the source
/// location that tells nodes apart with the address or srcline key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct NodeKey {
    function: StrId,
    dso: Option<DsoId>,
    mode: FrameMode,
    /// `file:line` (an interned display string) for the address and
    /// srcline keys; the location index breaks ties between addresses.
    src: Option<(StrId, u32)>,
    at: Option<u32>,
}

#[derive(Default)]
struct Node {
    key: Option<NodeKey>,
    total: u64,
    count: u64,
    children: Vec<usize>,
}

struct Tree {
    nodes: Vec<Node>,
    index: FxHashMap<(usize, NodeKey), usize>,
}

impl Tree {
    fn new() -> Self {
        Self {
            nodes: vec![Node::default()],
            index: FxHashMap::default(),
        }
    }

    fn insert(&mut self, path: impl Iterator<Item = NodeKey>, weight: u64, count: u64) {
        let mut node = 0;
        self.add(0, weight, count);
        for key in path {
            node = match self.index.get(&(node, key)) {
                Some(&n) => n,
                None => {
                    self.nodes.push(Node {
                        key: Some(key),
                        ..Node::default()
                    });
                    let n = self.nodes.len() - 1;
                    self.nodes[node].children.push(n);
                    self.index.insert((node, key), n);
                    n
                }
            };
            self.add(node, weight, count);
        }
    }

    fn add(&mut self, node: usize, weight: u64, count: u64) {
        let n = &mut self.nodes[node];
        n.total = n.total.saturating_add(weight);
        n.count += count;
    }
}

/// One call-graph tree per printed row.
pub(super) struct EntryGraphs {
    trees: Vec<Tree>,
    /// Display strings of the source locations in node keys.
    srcs: FxHashMap<(StrId, u32), String>,
}

/// A row is found by what it shows: only the columns of the sort keys are
/// filled, the others are empty on both sides.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RowKey {
    comm: Option<String>,
    tid: Option<u32>,
    cpu: Option<u32>,
    dso: Option<String>,
    symbol: Option<(String, FrameMode, String)>,
}

/// Which columns key the rows.
#[derive(Clone, Copy)]
struct Keyed {
    comm: bool,
    /// `pid` names a thread by its latest comm, not the sample's.
    latest_comm: bool,
    tid: bool,
    cpu: bool,
    dso: bool,
    symbol: bool,
}

impl Keyed {
    fn new(keys: &[SortKey]) -> Self {
        let has = |k| keys.contains(&k);
        Self {
            comm: has(SortKey::Comm) || has(SortKey::Pid),
            latest_comm: !has(SortKey::Comm) && has(SortKey::Pid),
            tid: has(SortKey::Tid) || has(SortKey::Pid),
            cpu: has(SortKey::Cpu),
            dso: has(SortKey::Dso),
            symbol: has(SortKey::Symbol),
        }
    }

    /// Rows keyed by frames (one per frame on the stack with Children), or
    /// by the sample alone.
    fn by_frame(self) -> bool {
        self.dso || self.symbol
    }

    /// The row key of a sample context and (for by-frame keys) a frame.
    fn row_key(
        self,
        profile: &Profile,
        ctx: Context,
        frame: Option<(&lwprof_profile::model::StackFrame, &NodeKey)>,
    ) -> RowKey {
        RowKey {
            comm: self.comm.then(|| {
                ctx.0
                    .map(|c| profile.string(c).to_string())
                    .unwrap_or_default()
            }),
            tid: ctx.1,
            cpu: ctx.2,
            dso: self.dso.then(|| {
                frame
                    .map_or("[unknown]", |(_, k)| dso_name(profile, k.dso))
                    .to_string()
            }),
            symbol: self.symbol.then(|| match frame {
                Some((sf, k)) => (
                    entry_symbol(profile, sf),
                    k.mode,
                    dso_name(profile, k.dso).to_string(),
                ),
                None => (
                    "[unknown]".to_string(),
                    FrameMode::User,
                    "[unknown]".to_string(),
                ),
            }),
        }
    }

    fn of_row(self, r: &TopRow) -> RowKey {
        RowKey {
            comm: self.comm.then(|| r.comm.clone().unwrap_or_default()),
            tid: if self.tid { r.tid } else { None },
            cpu: if self.cpu { r.cpu } else { None },
            dso: self.dso.then(|| r.dso.clone().unwrap_or_default()),
            symbol: self.symbol.then(|| {
                (
                    r.symbol.clone().unwrap_or_default(),
                    r.mode.unwrap_or(FrameMode::User),
                    r.symbol_dso.clone().unwrap_or_default(),
                )
            }),
        }
    }
}

/// The sample context a row key needs: thread name, tid, CPU.
type Context = (Option<StrId>, Option<u32>, Option<u32>);

/// True when the rows of these sort keys get call graphs in the text
/// report (perf draws them for its other keys too; those rows print
/// without one here).
pub fn graphs_apply(keys: &[SortKey]) -> bool {
    keys.iter().all(|k| {
        matches!(
            k,
            SortKey::Comm
                | SortKey::Pid
                | SortKey::Tid
                | SortKey::Cpu
                | SortKey::Dso
                | SortKey::Symbol
        )
    })
}

impl EntryGraphs {
    pub(super) fn build(
        profile: &Profile,
        opts: &OutputOptions,
        filter: &SampleFilter,
        rows: &[TopRow],
        keys: &[SortKey],
        order: CallGraphOrder,
    ) -> Self {
        let t = &opts.text;
        let keyed = Keyed::new(keys);
        let mut row_of: FxHashMap<RowKey, usize> = FxHashMap::default();
        for (i, r) in rows.iter().enumerate() {
            row_of.entry(keyed.of_row(r)).or_insert(i);
        }
        let mut trees: Vec<Tree> = rows.iter().map(|_| Tree::new()).collect();
        let mut per_stack: FxHashMap<
            (Option<lwprof_profile::model::StackId>, Context),
            (u64, u64),
        > = FxHashMap::default();
        let mut arrival = Vec::new();
        for s in profile.filtered_samples(filter) {
            let ctx: Context = (
                if keyed.latest_comm {
                    let t = profile.thread(s.thread);
                    t.comms.last().map(|c| c.name).or(s.comm)
                } else if keyed.comm {
                    s.comm
                } else {
                    None
                },
                keyed.tid.then(|| profile.thread(s.thread).tid),
                keyed.cpu.then_some(s.cpu),
            );
            let e = per_stack.entry((s.stack, ctx)).or_insert_with(|| {
                arrival.push((s.stack, ctx));
                (0, 0)
            });
            e.0 = e.0.saturating_add(s.weight);
            e.1 += u64::from(s.count);
        }
        let mut srcs = FxHashMap::default();
        // Row of each (context, frame key), looked up once.
        let mut row_cache: FxHashMap<(Context, Option<NodeKey>), Option<usize>> =
            FxHashMap::default();
        for key in arrival {
            let (weight, count) = per_stack[&key];
            let (stack, ctx) = key;
            let mut frames: Vec<_> = profile
                .report_frames(stack, opts.no_inline, t.max_stack)
                .collect();
            frames.reverse();
            let path: Vec<NodeKey> = frames
                .iter()
                .map(|sf| node_key(profile, sf, t.graph_key, &mut srcs))
                .collect();
            // Entries are real functions: the entry that owns this sample's
            // self time is the innermost frame that was not inlined.
            let Some(leaf_at) = frames
                .iter()
                .rposition(|sf| !profile.frame(sf.frame).inlined)
                .or(path.len().checked_sub(1))
            else {
                continue;
            };
            if !keyed.by_frame() {
                // One row per sample context: it owns the whole chain.
                let row = *row_cache
                    .entry((ctx, None))
                    .or_insert_with(|| row_of.get(&keyed.row_key(profile, ctx, None)).copied());
                if let Some(row) = row {
                    insert(
                        &mut trees[row],
                        &path,
                        path.len() - 1,
                        path.len() - 1,
                        order,
                        weight,
                        count,
                    );
                }
                continue;
            }
            let mut done: Vec<usize> = Vec::new();
            for (i, k) in path.iter().enumerate() {
                let row = *row_cache.entry((ctx, Some(*k))).or_insert_with(|| {
                    row_of
                        .get(&keyed.row_key(profile, ctx, Some((&frames[i], k))))
                        .copied()
                });
                let Some(row) = row else { continue };
                if done.contains(&row) || (!t.children && i != leaf_at) {
                    continue;
                }
                done.push(row);
                insert(&mut trees[row], &path, i, leaf_at, order, weight, count);
            }
        }
        Self { trees, srcs }
    }

    /// The graph lines of a row; `total` is what absolute percentages are
    /// relative to.
    pub(super) fn print(
        &self,
        profile: &Profile,
        t: &TextOptions,
        row: usize,
        total: u64,
        out: &mut Vec<String>,
    ) {
        let p = Printer {
            profile,
            t,
            tree: &self.trees[row],
            srcs: &self.srcs,
            total,
        };
        match t.graph_mode {
            GraphMode::Graph | GraphMode::Fractal => p.tree_root(out),
            GraphMode::Flat | GraphMode::Folded => p.chains(out),
        }
    }
}

/// Adds one chain to a row's tree: the chain of the frame at `i` (the whole
/// chain when it is the sample's leaf entry), in `order`.
fn insert(
    tree: &mut Tree,
    path: &[NodeKey],
    i: usize,
    leaf_at: usize,
    order: CallGraphOrder,
    weight: u64,
    count: u64,
) {
    match (order, i == leaf_at) {
        (CallGraphOrder::Caller, true) => tree.insert(path.iter().copied(), weight, count),
        (CallGraphOrder::Caller, false) => tree.insert(path[i..].iter().copied(), weight, count),
        (CallGraphOrder::Callee, true) => tree.insert(path.iter().rev().copied(), weight, count),
        (CallGraphOrder::Callee, false) => {
            tree.insert(path[..=i].iter().rev().copied(), weight, count)
        }
    }
}

/// The symbol an entry row shows for a frame: its function, or for an
/// unresolved frame the relative address (as [`Profile::top`] names it).
fn entry_symbol(profile: &Profile, sf: &lwprof_profile::model::StackFrame) -> String {
    let f = profile.frame(sf.frame);
    if f.resolved {
        profile.string(f.function).to_string()
    } else {
        lwprof_profile::model::unresolved_name(profile.location_relative_address(sf.location))
    }
}

fn node_key(
    profile: &Profile,
    sf: &lwprof_profile::model::StackFrame,
    key: GraphKey,
    srcs: &mut FxHashMap<(StrId, u32), String>,
) -> NodeKey {
    let f = profile.frame(sf.frame);
    let mut k = NodeKey {
        function: f.function,
        dso: f.dso,
        mode: f.mode,
        src: None,
        at: None,
    };
    if key != GraphKey::Function {
        if let (Some(file), Some(line)) = (f.file, f.line) {
            k.src = Some((file, line));
            srcs.entry((file, line)).or_insert_with(|| {
                let name = profile.string(file);
                format!("{}:{line}", name.rsplit('/').next().unwrap_or(name))
            });
        }
        if key == GraphKey::Address {
            k.at = Some(sf.location.0);
        }
    }
    k
}

struct Printer<'a> {
    profile: &'a Profile,
    t: &'a TextOptions,
    tree: &'a Tree,
    srcs: &'a FxHashMap<(StrId, u32), String>,
    total: u64,
}

impl Printer<'_> {
    fn name(&self, node: usize) -> String {
        match self.tree.nodes[node].key {
            None => "[unknown]".to_string(),
            Some(k) => {
                let f = self.profile.string(k.function);
                match k.src.and_then(|s| self.srcs.get(&s)) {
                    Some(src) => format!("{f} {src}"),
                    None => f.to_string(),
                }
            }
        }
    }

    /// The weight a node's share is taken of: the event total, or its
    /// parent's total for fractal graphs.
    fn base(&self, parent: usize) -> u64 {
        if self.t.graph_mode == GraphMode::Fractal {
            self.tree.nodes[parent].total
        } else {
            self.total
        }
    }

    fn value(&self, node: usize, base: u64) -> String {
        let n = &self.tree.nodes[node];
        self.number(n.total, n.count, base)
    }

    fn number(&self, weight: u64, count: u64, base: u64) -> String {
        match self.t.graph_value {
            GraphValue::Percent => format!(
                "{:.2}%",
                lwprof_profile::model::report_percent(weight, base)
            ),
            GraphValue::Period => weight.to_string(),
            GraphValue::Count => count.to_string(),
        }
    }

    /// Children over the threshold, heaviest first (then by name), at most
    /// the print limit.
    fn visible(&self, node: usize) -> Vec<usize> {
        let min = self.t.threshold_percent.max(0.0) * self.base(node) as f64 / 100.0;
        let nodes = &self.tree.nodes;
        let mut v: Vec<usize> = nodes[node]
            .children
            .iter()
            .copied()
            .filter(|&c| nodes[c].total > 0 && nodes[c].total as f64 >= min)
            .collect();
        v.sort_by(|&a, &b| {
            nodes[b]
                .total
                .cmp(&nodes[a].total)
                .then_with(|| nodes[a].key.cmp(&nodes[b].key))
        });
        if let Some(limit) = self.t.print_limit {
            v.truncate(limit);
        }
        v
    }

    fn tree_root(&self, out: &mut Vec<String>) {
        self.tree_from(0, self.t.skip_entry_in_graph, out);
    }

    /// A tree whose root is `node`: one chain drawn as `---a / b / ...`,
    /// else branches. With `skip_first`, a lone first node is not drawn
    /// (it is the entry itself: perf's rule when `--sort` starts with sym).
    fn tree_from(&self, node: usize, skip_first: bool, out: &mut Vec<String>) {
        let kids = self.visible(node);
        if kids.is_empty() {
            return;
        }
        let pad = " ".repeat(12);
        let nodes = &self.tree.nodes;
        if kids.len() == 1 && nodes[kids[0]].total == nodes[node].total {
            if skip_first {
                return self.tree_from(kids[0], false, out);
            }
            out.push(format!("{pad}|"));
            out.push(format!("{pad}---{}", self.name(kids[0])));
            self.children(kids[0], &" ".repeat(15), out);
        } else {
            self.branches(node, &kids, &pad, out);
        }
    }

    fn children(&self, node: usize, prefix: &str, out: &mut Vec<String>) {
        let kids = self.visible(node);
        let nodes = &self.tree.nodes;
        if kids.len() == 1 && nodes[kids[0]].total == nodes[node].total {
            // A straight chain: no branch, no number.
            out.push(format!("{prefix}{}", self.name(kids[0])));
            self.children(kids[0], prefix, out);
        } else if !kids.is_empty() {
            self.branches(node, &kids, prefix, out);
        }
    }

    fn branches(&self, parent: usize, kids: &[usize], prefix: &str, out: &mut Vec<String>) {
        let base = self.base(parent);
        for (i, &k) in kids.iter().enumerate() {
            let last = i + 1 == kids.len();
            out.push(format!("{prefix}|"));
            let (head, child_prefix) = if last {
                (" --", format!("{prefix}{}", " ".repeat(11)))
            } else {
                ("|--", format!("{prefix}|{}", " ".repeat(10)))
            };
            out.push(format!(
                "{prefix}{head}{}--{}",
                self.value(k, base),
                self.name(k)
            ));
            self.children(k, &child_prefix, out);
        }
    }

    /// Flat and folded: every chain (path to a node where samples end or
    /// the threshold cuts), heaviest first.
    fn chains(&self, out: &mut Vec<String>) {
        let mut chains: Vec<Chain> = Vec::new();
        let mut path = Vec::new();
        self.collect(0, &mut path, &mut chains);
        chains.sort_by_key(|c| std::cmp::Reverse(c.weight));
        if let Some(limit) = self.t.print_limit {
            chains.truncate(limit);
        }
        for c in chains {
            let value = self.number(c.weight, c.count, self.total);
            if self.t.graph_mode == GraphMode::Folded {
                let names: Vec<String> = c.nodes.iter().map(|&n| self.name(n)).collect();
                out.push(format!("{value} {}", names.join(";")));
            } else {
                out.push(format!("{}{value}", " ".repeat(11)));
                for n in c.nodes {
                    out.push(format!("{}{}", " ".repeat(16), self.name(n)));
                }
            }
        }
    }

    /// Chains end where samples end: a node whose children hold less than
    /// it does ends a chain with the remainder.
    fn collect(&self, node: usize, path: &mut Vec<usize>, out: &mut Vec<Chain>) {
        let kids = self.visible(node);
        let nodes = &self.tree.nodes;
        let (below, below_count) = kids.iter().fold((0u64, 0u64), |(w, c), &k| {
            (w.saturating_add(nodes[k].total), c + nodes[k].count)
        });
        if node != 0 && below < nodes[node].total {
            out.push(Chain {
                weight: nodes[node].total - below,
                count: nodes[node].count.saturating_sub(below_count),
                nodes: path.clone(),
            });
        }
        for k in kids {
            path.push(k);
            self.collect(k, path, out);
            path.pop();
        }
    }
}

/// One chain of a flat or folded graph and what ends at its last node.
struct Chain {
    weight: u64,
    count: u64,
    nodes: Vec<usize>,
}
