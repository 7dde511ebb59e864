//! A caller/callee call-graph tree over the filtered samples, with a
//! percentage threshold: plain data with names resolved, for writers that
//! print a tree (JSON). It does not print.

use rustc_hash::FxHashMap;

use super::super::{DsoId, FrameMode, Profile, StrId};
use super::top::{aggregate, percent};
use super::SampleFilter;

impl Profile {
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
                arena[node].total = arena[node].total.saturating_add(weight);
            }
            if node != 0 {
                arena[node].self_weight = arena[node].self_weight.saturating_add(weight);
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
                let (function, dso, mode) = raw.key.unwrap_or((StrId(0), None, FrameMode::User));
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
}

/// A call-graph node's identity: function, DSO, mode.
type NodeKey = (StrId, Option<DsoId>, FrameMode);

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
    pub mode: FrameMode,
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
