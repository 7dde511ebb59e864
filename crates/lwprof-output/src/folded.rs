//! Folded stacks: one line per unique stack, root first,
//! `comm;main;foo;leaf 42`, sorted, as `inferno-collapse-perf` and
//! `stackcollapse-perf.pl` produce and `inferno-flamegraph`,
//! `flamegraph.pl` and speedscope read.
//!
//! Frame names are made safe for the format: `;` (the separator) becomes `:`
//! and line breaks become spaces. Samples with no frames are written as one
//! `[unknown]` frame so that their weight is not lost.

use std::collections::BTreeMap;
use std::io::Write;

use super::{
    dso_name, frames_root_first, note_for, FoldedCount, Format, OutputError, OutputNote,
    OutputOptions, ProfileWriter, ThreadPrefix,
};
use lwprof_profile::model::Profile;

/// Writes folded stacks ([`Format::Folded`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct FoldedWriter;

impl ProfileWriter for FoldedWriter {
    fn format(&self) -> Format {
        Format::Folded
    }

    fn write(
        &self,
        profile: &Profile,
        opts: &OutputOptions,
        out: &mut dyn Write,
    ) -> Result<Option<OutputNote>, OutputError> {
        let lines = folded_lines(profile, opts);
        for (stack, count) in &lines.lines {
            writeln!(out, "{stack} {count}").map_err(OutputError::io(Format::Folded))?;
        }
        out.flush().map_err(OutputError::io(Format::Folded))?;
        Ok(note_for(profile, opts, Format::Folded))
    }
}

/// Folded lines and, for coloring, the DSO of each frame name.
pub(crate) struct FoldedLines {
    /// `(stack, count)`, sorted by stack.
    pub lines: BTreeMap<String, u64>,
    /// Frame name -> (DSO short name, kernel frame), first seen wins.
    pub frame_dsos: BTreeMap<String, (String, bool)>,
}

/// Make a name safe for a folded line.
pub(crate) fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            ';' => ':',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect()
}

pub(crate) fn folded_lines(profile: &Profile, opts: &OutputOptions) -> FoldedLines {
    let mut per_stack: rustc_hash::FxHashMap<_, (u64, u64)> = Default::default();
    let mut order = Vec::new();
    for s in profile.filtered_samples(&opts.filter) {
        let key = (s.stack, s.thread, s.comm);
        let e = per_stack.entry(key).or_insert_with(|| {
            order.push(key);
            (0, 0)
        });
        e.0 += u64::from(s.count);
        e.1 = e.1.saturating_add(s.weight);
    }
    let mut lines: BTreeMap<String, u64> = BTreeMap::new();
    let mut frame_dsos = BTreeMap::new();
    let mut line = String::new();
    for key in order {
        let (samples, weight) = per_stack[&key];
        let (stack, thread, comm) = key;
        line.clear();
        let comm = comm.map_or("[unknown]", |c| profile.string(c));
        match opts.folded.thread_prefix {
            ThreadPrefix::None => {}
            ThreadPrefix::Comm => line.push_str(&sanitize(comm)),
            ThreadPrefix::CommTid => {
                let t = profile.thread(thread);
                line.push_str(&format!("{}-{}/{}", sanitize(comm), t.pid, t.tid));
            }
        }
        let frames = frames_root_first(profile, stack, opts.no_inline);
        let push = |name: String, line: &mut String| {
            if !line.is_empty() {
                line.push(';');
            }
            line.push_str(&name);
        };
        if frames.is_empty() {
            push("[unknown]".to_string(), &mut line);
        }
        for sf in frames {
            let f = profile.frame(sf.frame);
            let dso = dso_name(profile, f.dso);
            let mut name = sanitize(profile.string(f.function));
            if opts.folded.include_dso {
                name = if dso.starts_with('[') {
                    format!("{name} {}", sanitize(dso))
                } else {
                    format!("{name} [{}]", sanitize(dso))
                };
            }
            frame_dsos.entry(name.clone()).or_insert_with(|| {
                (
                    dso.to_string(),
                    f.mode == lwprof_profile::model::FrameMode::Kernel,
                )
            });
            push(name, &mut line);
        }
        let count = match opts.folded.count {
            FoldedCount::Samples => samples,
            FoldedCount::Weight => weight,
        };
        if count > 0 {
            *lines.entry(line.clone()).or_default() += count;
        }
    }
    FoldedLines { lines, frame_dsos }
}
