//! The columns of a text report: which ones (perf's default set, `-n`, or
//! the `-F` fields), their titles, widths and cells, laid out as perf lays
//! them out: `# ` then the titles, each column two spaces from the next,
//! shares as `%7.2f%%` in 8 characters, counts right-aligned in 12, keys
//! left-aligned as wide as their widest cell.
//!
//! It formats one row at a time; it does not choose or order the rows.

use crate::{mode_marker, TextField, TextOptions};
use lwprof_profile::model::{FrameMode, SortKey, TopRow};
use std::fmt::Write as _;

/// The columns of one report section, with their widths.
pub(super) struct Columns {
    fields: Vec<TextField>,
    widths: Vec<usize>,
    children: bool,
}

fn title(field: TextField, children: bool) -> &'static str {
    match field {
        TextField::Overhead if children => "Self",
        TextField::Overhead => "Overhead",
        TextField::Children => "Children",
        TextField::OverheadSys => "sys",
        TextField::OverheadUs => "usr",
        TextField::Samples => "Samples",
        TextField::Period => "Period",
        TextField::Key(k) => key_title(k),
    }
}

fn key_title(k: SortKey) -> &'static str {
    match k {
        SortKey::Comm => "Command",
        // perf's title, with its four leading blanks.
        SortKey::Pid => "    Pid:Command",
        SortKey::Tid => "Tid",
        SortKey::Cpu => "CPU",
        SortKey::Dso => "Shared Object",
        SortKey::Symbol => "Symbol",
        SortKey::SrcLine => "Source:Line",
        SortKey::SrcFile => "Source File",
        SortKey::Parent => "Parent symbol",
    }
}

/// Minimum width of a field (shares 8, counts 12), before its title.
fn fixed_width(field: TextField) -> Option<usize> {
    match field {
        TextField::Overhead
        | TextField::Children
        | TextField::OverheadSys
        | TextField::OverheadUs => Some(8),
        TextField::Samples | TextField::Period => Some(12),
        TextField::Key(_) => None,
    }
}

fn key_cell(k: SortKey, r: &TopRow) -> String {
    let unknown = || "[unknown]".to_string();
    match k {
        SortKey::Comm => r.comm.clone().unwrap_or_else(unknown),
        SortKey::Pid => format!(
            "{:>7}:{}",
            r.tid.map_or("-".into(), |t| t.to_string()),
            r.comm.as_deref().unwrap_or("[unknown]")
        ),
        SortKey::Tid => r.tid.map_or("-".into(), |p| p.to_string()),
        // perf's `%*.*d` of -1 (no CPU sampled) is `-001`.
        SortKey::Cpu => match r.cpu {
            None | Some(u32::MAX) => "-001".into(),
            Some(c) => format!("{c:03}"),
        },
        SortKey::Dso => r.dso.clone().unwrap_or_else(unknown),
        SortKey::Symbol => format!(
            "{} {}",
            mode_marker(r.mode.unwrap_or(FrameMode::User)),
            r.symbol.as_deref().unwrap_or("[unknown]")
        ),
        SortKey::SrcLine => r.srcline.clone().unwrap_or_else(unknown),
        SortKey::SrcFile => r.srcfile.clone().unwrap_or_default(),
        SortKey::Parent => r.parent.clone().unwrap_or_else(|| "[other]".into()),
    }
}

fn share(part: u64, base: u64) -> String {
    format!("{:.2}%", lwprof_profile::model::report_percent(part, base))
}

impl Columns {
    /// The columns for `rows`: the `-F` fields, or perf's default set
    /// (Children and Self, or Overhead; Samples with `-n`; the sort keys),
    /// without the elided keys.
    pub(super) fn new(t: &TextOptions, keys: &[SortKey], rows: &[TopRow]) -> Self {
        let elided = |k: &SortKey| t.elided.iter().any(|(e, _)| e == k);
        let fields: Vec<TextField> = if t.fields.is_empty() {
            let mut f = Vec::new();
            if t.children {
                f.push(TextField::Children);
            }
            f.push(TextField::Overhead);
            if t.show_nr_samples {
                f.push(TextField::Samples);
            }
            f.extend(
                keys.iter()
                    .filter(|k| !elided(k))
                    .map(|&k| TextField::Key(k)),
            );
            f
        } else {
            t.fields
                .iter()
                .copied()
                .filter(|f| !matches!(f, TextField::Key(k) if elided(k)))
                .collect()
        };
        let widths = fields
            .iter()
            .map(|&f| {
                let head = title(f, t.children).len();
                match (fixed_width(f), f) {
                    (Some(w), _) => w.max(head),
                    (None, TextField::Key(k)) => rows
                        .iter()
                        .map(|r| key_cell(k, r).len())
                        .max()
                        .unwrap_or(0)
                        .max(head),
                    (None, _) => head,
                }
            })
            .collect();
        Self {
            fields,
            widths,
            children: t.children,
        }
    }

    /// The title line and the dotted line under it.
    pub(super) fn write_titles(&self, out: &mut String) {
        let mut head = String::from("#");
        let mut dots = String::from("#");
        for (i, &f) in self.fields.iter().enumerate() {
            let w = self.widths[i];
            let t = title(f, self.children);
            let sep = if i == 0 { " " } else { "  " };
            if fixed_width(f).is_some() {
                let _ = write!(head, "{sep}{t:>w$}");
            } else {
                let _ = write!(head, "{sep}{t:<w$}");
            }
            let _ = write!(dots, "{sep}{}", ".".repeat(w));
        }
        let _ = writeln!(out, "{}", head.trim_end());
        let _ = writeln!(out, "{}", dots.trim_end());
    }

    /// One entry's line (not trimmed).
    pub(super) fn row(&self, r: &TopRow, base: u64) -> String {
        let mut line = String::from(" ");
        for (i, &f) in self.fields.iter().enumerate() {
            let w = self.widths[i];
            let sep = if i == 0 { " " } else { "  " };
            let cell = match f {
                TextField::Overhead => share(r.self_weight, base),
                TextField::Children => share(r.total_weight, base),
                TextField::OverheadSys => share(r.self_kernel_weight, base),
                TextField::OverheadUs => {
                    share(r.self_weight.saturating_sub(r.self_kernel_weight), base)
                }
                TextField::Samples => r.self_samples.to_string(),
                TextField::Period => r.self_weight.to_string(),
                TextField::Key(k) => {
                    let _ = write!(line, "{sep}{:<w$}", key_cell(k, r));
                    continue;
                }
            };
            let _ = write!(line, "{sep}{cell:>w$}");
        }
        line
    }
}
