//! Text laid out like `perf report --stdio`: per event, the header lines
//! (`# Samples: N  of event 'cpu-clock'`, `# Event count (approx.): N`), the
//! column titles (`Children  Self  Command  Shared Object  Symbol`, or the
//! `-F` fields) and one row per entry, by children (or self) weight. Under
//! each row, optionally, a call graph drawn the way perf's `-g` asks
//! ([`graph`]): graph, fractal, flat or folded, caller or callee order.
//!
//! Percentages are perf's "absolute" ones by default: of every sample in the
//! scope (event, time range), so `--comm` or `--pid` hide entries without
//! inflating the others.
//!
//! Differences from perf: sample counts are exact (perf rounds to `2K`),
//! trailing blanks are trimmed, and off-CPU samples get their own section
//! (`'<event> (off-cpu)'`).

mod columns;
mod graph;

pub use graph::graphs_apply;

use std::io::Write;

use super::{
    note_for, section_name, Format, OutputError, OutputNote, OutputOptions, ProfileWriter,
};
use columns::Columns;
use graph::EntryGraphs;
use lwprof_profile::model::{
    CallGraphOrder, EventIndex, Profile, SampleFilter, SampleKind, SortKey, TopOptions, TopOrder,
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

/// The (event, kind) sections of the samples in scope, in a fixed order.
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

/// The heading of an elided column, as perf writes it (`# comm: NAME`).
fn elided_name(k: SortKey) -> &'static str {
    match k {
        SortKey::Comm => "comm",
        SortKey::Dso => "dso",
        SortKey::Symbol => "symbol",
        SortKey::Pid => "pid",
        SortKey::Tid => "tid",
        SortKey::Cpu => "cpu",
        SortKey::SrcLine => "srcline",
        SortKey::SrcFile => "srcfile",
        SortKey::Parent => "parent",
    }
}

fn render(profile: &Profile, opts: &OutputOptions, out: &mut String) {
    use std::fmt::Write as _;
    let t = &opts.text;
    let scope = opts.filter.scope();
    let mut secs = sections(profile, &scope);
    if secs.is_empty() {
        secs = (0..profile.events().len())
            .map(|i| (EventIndex(i as u32), SampleKind::OnCpu))
            .collect();
    }
    if !t.quiet {
        for (k, v) in &t.elided {
            let _ = writeln!(out, "# {}: {v}", elided_name(*k));
            let _ = writeln!(out, "#");
        }
        let _ = writeln!(out, "# Total Lost Samples: {}", profile.lost_samples());
        let _ = writeln!(out, "#");
    }
    if secs.is_empty() {
        if !t.quiet {
            let _ = writeln!(out, "# Samples: 0");
            let _ = writeln!(out, "#");
        }
        return;
    }
    for (i, &(event, kind)) in secs.iter().enumerate() {
        if i > 0 && !t.quiet {
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
    let mut top = profile.top(&TopOptions {
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
        max_stack: t.max_stack,
        percentage: t.percentage,
        parent: lwprof_profile::model::Regex::new(&t.parent_pattern)
            .unwrap_or_else(|_| lwprof_profile::model::default_parent()),
    });
    if !t.children {
        // Without children, only functions that were a leaf are entries.
        top.rows.retain(|r| r.self_weight > 0);
    }
    // Columns are as wide as every entry needs, shown or not (as perf's).
    let columns = Columns::new(t, &keys, &top.rows);
    if t.percent_limit > 0.0 {
        let shown = |r: &lwprof_profile::model::TopRow| {
            if t.children {
                r.total_percent
            } else {
                r.self_percent
            }
        };
        top.rows.retain(|r| shown(r) >= t.percent_limit);
    }
    if let Some(limit) = t.limit {
        top.rows.truncate(limit);
    }
    let (samples, weight) = match t.percentage {
        lwprof_profile::model::Percentage::Absolute => (top.scope_samples, top.scope_weight),
        lwprof_profile::model::Percentage::Relative => (top.total_samples, top.total_weight),
    };
    if !t.quiet {
        let name = section_name(profile, event.index(), kind);
        let _ = writeln!(out, "# Samples: {samples}  of event '{name}'");
        let _ = writeln!(out, "# Event count (approx.): {weight}");
        let _ = writeln!(out, "#");
        columns.write_titles(out);
        let _ = writeln!(out, "#");
    }
    let graphs = (t.call_graph && graph::graphs_apply(&keys) && !top.rows.is_empty()).then(|| {
        let order = t.graph_order.unwrap_or(if t.children {
            CallGraphOrder::Caller
        } else {
            CallGraphOrder::Callee
        });
        EntryGraphs::build(profile, opts, filter, &top.rows, &keys, order)
    });
    for (i, r) in top.rows.iter().enumerate() {
        let _ = writeln!(out, "{}", columns.row(r, top.percent_base).trim_end());
        if let Some(g) = &graphs {
            let mut lines = Vec::new();
            g.print(profile, t, i, top.percent_base, &mut lines);
            if !lines.is_empty() {
                for l in lines {
                    let _ = writeln!(out, "{}", l.trim_end());
                }
                if t.graph_mode != super::GraphMode::Folded {
                    let _ = writeln!(out);
                }
            }
        }
    }
}
