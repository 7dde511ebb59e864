//! Text laid out like `perf report --stdio`: per event, the header lines
//! (`# Samples: N  of event 'cpu-clock'`, `# Event count (approx.): N`), the
//! column titles (`Children  Self  Command  Shared Object  Symbol`) and one
//! row per (command, DSO, symbol), by children (or self) weight. Under each
//! row, optionally, a caller-order call graph as perf's default
//! `-g graph,0.5,caller` draws it: the full chains of the samples where the
//! row's function was the leaf, and the callees below it for the samples
//! where it was on the stack; percentages are of the event total; branches
//! under the threshold are dropped.
//!
//! Differences from perf: trailing blanks are trimmed, and off-CPU samples
//! get their own section (`'<event> (off-cpu)'`).

use std::io::Write;

use rustc_hash::FxHashMap;

use super::{
    dso_name, frames_root_first, mode_marker, note_for, section_name, Format, OutputError,
    OutputNote, OutputOptions, ProfileWriter,
};
use crate::model::{
    CpuMode, DsoId, EventIndex, Profile, SampleFilter, SampleKind, SortKey, StrId, TopOptions,
    TopOrder, TopRow,
};

/// Writes `perf report --stdio`-like text ([`Format::Text`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct TextWriter;

impl ProfileWriter for TextWriter {
    fn format(&self) -> Format {
        Format::Text
    }

    fn write(
        &self,
        profile: &Profile,
        opts: &OutputOptions,
        out: &mut dyn Write,
    ) -> Result<Option<OutputNote>, OutputError> {
        let mut buf = String::new();
        render(profile, opts, &mut buf);
        out.write_all(buf.as_bytes())
            .and_then(|()| out.flush())
            .map_err(OutputError::io(Format::Text))?;
        Ok(note_for(profile, opts, Format::Text))
    }
}

/// The (event, kind) sections of the filtered samples, in a fixed order.
fn sections(profile: &Profile, filter: &SampleFilter) -> Vec<(EventIndex, SampleKind)> {
    let mut v: Vec<(EventIndex, SampleKind)> = Vec::new();
    for s in profile.filtered_samples(filter) {
        if !v.contains(&(s.event, s.kind)) {
            v.push((s.event, s.kind));
        }
    }
    v.sort_by_key(|&(e, k)| (k == SampleKind::OffCpu, e));
    v
}

fn render(profile: &Profile, opts: &OutputOptions, out: &mut String) {
    use std::fmt::Write as _;
    let mut secs = sections(profile, &opts.filter);
    if secs.is_empty() {
        secs = (0..profile.events().len())
            .map(|i| (EventIndex(i as u32), SampleKind::OnCpu))
            .collect();
    }
    let _ = writeln!(out, "# Total Lost Samples: {}", profile.lost_samples());
    let _ = writeln!(out, "#");
    if secs.is_empty() {
        let _ = writeln!(out, "# Samples: 0");
        let _ = writeln!(out, "#");
        return;
    }
    for (i, &(event, kind)) in secs.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(out);
            let _ = writeln!(out, "#");
        }
        let mut filter = opts.filter.clone();
        filter.event = Some(event);
        filter.kind = Some(kind);
        render_section(profile, opts, &filter, event, kind, out);
    }
}

fn render_section(
    profile: &Profile,
    opts: &OutputOptions,
    filter: &SampleFilter,
    event: EventIndex,
    kind: SampleKind,
    out: &mut String,
) {
    use std::fmt::Write as _;
    let t = &opts.text;
    let keys = if t.keys.is_empty() {
        vec![SortKey::Comm, SortKey::Dso, SortKey::Symbol]
    } else {
        t.keys.clone()
    };
    let by_symbol = keys.contains(&SortKey::Symbol);
    let top = profile.top(&TopOptions {
        filter: filter.clone(),
        keys: keys.clone(),
        // Entries are real functions, as in perf report: inlined code counts
        // for the function it was inlined into; inline frames show in the
        // call graphs below the entries (unless --no-inline).
        no_inline: true,
        order: if t.children {
            TopOrder::TotalWeight
        } else {
            TopOrder::SelfWeight
        },
        limit: None,
    });
    let mut top = top;
    if !t.children {
        // Without children, only functions that were a leaf are entries.
        top.rows.retain(|r| r.self_weight > 0);
    }
    if let Some(limit) = t.limit {
        top.rows.truncate(limit);
    }
    let name = section_name(profile, event.index(), kind);
    let _ = writeln!(out, "# Samples: {}  of event '{name}'", top.total_samples);
    let _ = writeln!(out, "# Event count (approx.): {}", top.total_weight);
    let _ = writeln!(out, "#");
    let cell = |k: SortKey, r: &TopRow| -> String {
        match k {
            SortKey::Comm => r.comm.clone().unwrap_or_else(|| "[unknown]".to_string()),
            SortKey::Pid => r.pid.map_or("-".into(), |p| p.to_string()),
            SortKey::Tid => r.tid.map_or("-".into(), |p| p.to_string()),
            SortKey::Dso => r.dso.clone().unwrap_or_else(|| "[unknown]".to_string()),
            SortKey::Symbol => format!(
                "{} {}",
                mode_marker(r.mode.unwrap_or(CpuMode::User)),
                r.symbol.as_deref().unwrap_or("[unknown]")
            ),
        }
    };
    let header = |k: SortKey| match k {
        SortKey::Comm => "Command",
        SortKey::Pid => "Pid",
        SortKey::Tid => "Tid",
        SortKey::Dso => "Shared Object",
        SortKey::Symbol => "Symbol",
    };
    let widths: Vec<usize> = keys
        .iter()
        .map(|&k| {
            top.rows
                .iter()
                .map(|r| cell(k, r).len())
                .max()
                .unwrap_or(0)
                .max(header(k).len())
        })
        .collect();
    let (title, dots) = if t.children {
        ("# Children      Self", "# ........  ........")
    } else {
        ("# Overhead", "# ........")
    };
    let mut head = title.to_string();
    let mut dotl = dots.to_string();
    for (i, &k) in keys.iter().enumerate() {
        let _ = write!(head, "  {:<w$}", header(k), w = widths[i]);
        let _ = write!(dotl, "  {}", ".".repeat(widths[i]));
    }
    let _ = writeln!(out, "{}", head.trim_end());
    let _ = writeln!(out, "{}", dotl.trim_end());
    let _ = writeln!(out, "#");
    let graphs = if t.call_graph && by_symbol && !top.rows.is_empty() {
        Some(EntryGraphs::build(
            profile, opts, filter, &top.rows, t.children, &keys,
        ))
    } else {
        None
    };
    let min = t.threshold_percent.max(0.0) * top.total_weight as f64 / 100.0;
    for (i, r) in top.rows.iter().enumerate() {
        let mut line = String::new();
        if t.children {
            let _ = write!(line, "{:>9.2}%", r.total_percent);
        }
        let _ = write!(line, "{:>9.2}%", r.self_percent);
        for (j, &k) in keys.iter().enumerate() {
            let _ = write!(line, "  {:<w$}", cell(k, r), w = widths[j]);
        }
        let _ = writeln!(out, "{}", line.trim_end());
        if let Some(g) = &graphs {
            let mut lines = Vec::new();
            g.print(profile, i, min, top.total_weight, &mut lines);
            if !lines.is_empty() {
                for l in lines {
                    let _ = writeln!(out, "{}", l.trim_end());
                }
                let _ = writeln!(out);
            }
        }
    }
}

/// A call-graph node's identity: function, DSO, mode.
type NodeKey = (StrId, Option<DsoId>, CpuMode);

#[derive(Default)]
struct Node {
    key: Option<NodeKey>,
    total: u64,
    children: Vec<usize>,
}

#[derive(Default)]
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

    fn insert(&mut self, path: &[NodeKey], weight: u64) {
        let mut node = 0;
        self.nodes[0].total += weight;
        for key in path {
            node = match self.index.get(&(node, *key)) {
                Some(&n) => n,
                None => {
                    self.nodes.push(Node {
                        key: Some(*key),
                        ..Node::default()
                    });
                    let n = self.nodes.len() - 1;
                    self.nodes[node].children.push(n);
                    self.index.insert((node, *key), n);
                    n
                }
            };
            self.nodes[node].total += weight;
        }
    }
}

/// One call-graph tree per printed row: the full chains of the samples where
/// the row was the leaf and, with children, the callees below it for the
/// samples where it was on the stack.
struct EntryGraphs {
    trees: Vec<Tree>,
}

impl EntryGraphs {
    fn build(
        profile: &Profile,
        opts: &OutputOptions,
        filter: &SampleFilter,
        rows: &[TopRow],
        children: bool,
        keys: &[SortKey],
    ) -> Self {
        // A row is keyed by the strings it shows: only the columns of
        // `keys` (the others are empty on both sides).
        let by_comm = keys.contains(&SortKey::Comm);
        let by_dso = keys.contains(&SortKey::Dso);
        let mut row_of: FxHashMap<(String, String, String, CpuMode), usize> = FxHashMap::default();
        for (i, r) in rows.iter().enumerate() {
            row_of
                .entry((
                    r.comm.clone().unwrap_or_default(),
                    r.dso.clone().unwrap_or_default(),
                    r.symbol.clone().unwrap_or_default(),
                    r.mode.unwrap_or(CpuMode::User),
                ))
                .or_insert(i);
        }
        let mut trees: Vec<Tree> = rows.iter().map(|_| Tree::new()).collect();
        let mut per_stack: FxHashMap<_, u64> = FxHashMap::default();
        let mut order = Vec::new();
        for s in profile.filtered_samples(filter) {
            let e = per_stack.entry((s.stack, s.comm)).or_insert_with(|| {
                order.push((s.stack, s.comm));
                0
            });
            *e += s.weight;
        }
        // Row of each (thread name, frame key), looked up once.
        let mut row_cache: FxHashMap<(Option<StrId>, NodeKey), Option<usize>> =
            FxHashMap::default();
        for key in order {
            let weight = per_stack[&key];
            let (stack, comm) = key;
            let frames = frames_root_first(profile, stack, opts.no_inline);
            let path: Vec<NodeKey> = frames
                .iter()
                .map(|sf| {
                    let f = profile.frame(sf.frame);
                    (f.function, f.dso, f.mode)
                })
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
            let mut done: Vec<usize> = Vec::new();
            for (i, k) in path.iter().enumerate() {
                let row = *row_cache.entry((comm, *k)).or_insert_with(|| {
                    let row_key = (
                        if by_comm {
                            comm.map(|c| profile.string(c).to_string())
                                .unwrap_or_default()
                        } else {
                            String::new()
                        },
                        if by_dso {
                            dso_name(profile, k.1).to_string()
                        } else {
                            String::new()
                        },
                        profile.string(k.0).to_string(),
                        k.2,
                    );
                    row_of.get(&row_key).copied()
                });
                let Some(row) = row else {
                    continue;
                };
                if done.contains(&row) {
                    continue;
                }
                done.push(row);
                if i == leaf_at {
                    trees[row].insert(&path, weight);
                } else if children {
                    trees[row].insert(&path[i..], weight);
                }
            }
        }
        Self { trees }
    }

    fn print(&self, profile: &Profile, row: usize, min: f64, total: u64, out: &mut Vec<String>) {
        let tree = &self.trees[row];
        let kids = visible(tree, 0, min);
        if kids.is_empty() {
            return;
        }
        let pad = " ".repeat(12);
        if kids.len() == 1 && tree.nodes[kids[0]].total == tree.nodes[0].total {
            out.push(format!("{pad}|"));
            out.push(format!("{pad}---{}", name(profile, tree, kids[0])));
            print_children(profile, tree, kids[0], &" ".repeat(15), min, total, out);
        } else {
            print_branches(profile, tree, &kids, &pad, min, total, out);
        }
    }
}

fn name<'a>(profile: &'a Profile, tree: &Tree, node: usize) -> &'a str {
    tree.nodes[node]
        .key
        .map_or("[unknown]", |k| profile.string(k.0))
}

/// Children over the threshold, heaviest first (then by name).
fn visible(tree: &Tree, node: usize, min: f64) -> Vec<usize> {
    let mut v: Vec<usize> = tree.nodes[node]
        .children
        .iter()
        .copied()
        .filter(|&c| tree.nodes[c].total > 0 && tree.nodes[c].total as f64 >= min)
        .collect();
    v.sort_by(|&a, &b| {
        tree.nodes[b]
            .total
            .cmp(&tree.nodes[a].total)
            .then_with(|| tree.nodes[a].key.cmp(&tree.nodes[b].key))
    });
    v
}

fn print_children(
    profile: &Profile,
    tree: &Tree,
    node: usize,
    prefix: &str,
    min: f64,
    total: u64,
    out: &mut Vec<String>,
) {
    let kids = visible(tree, node, min);
    if kids.len() == 1 && tree.nodes[kids[0]].total == tree.nodes[node].total {
        // A straight chain: no branch, no percentage.
        out.push(format!("{prefix}{}", name(profile, tree, kids[0])));
        print_children(profile, tree, kids[0], prefix, min, total, out);
    } else if !kids.is_empty() {
        print_branches(profile, tree, &kids, prefix, min, total, out);
    }
}

fn print_branches(
    profile: &Profile,
    tree: &Tree,
    kids: &[usize],
    prefix: &str,
    min: f64,
    total: u64,
    out: &mut Vec<String>,
) {
    for (i, &k) in kids.iter().enumerate() {
        let last = i + 1 == kids.len();
        let pct = if total == 0 {
            0.0
        } else {
            tree.nodes[k].total as f64 * 100.0 / total as f64
        };
        out.push(format!("{prefix}|"));
        let (head, child_prefix) = if last {
            (" --", format!("{prefix}{}", " ".repeat(11)))
        } else {
            ("|--", format!("{prefix}|{}", " ".repeat(10)))
        };
        out.push(format!(
            "{prefix}{head}{pct:.2}%--{}",
            name(profile, tree, k)
        ));
        print_children(profile, tree, k, &child_prefix, min, total, out);
    }
}
