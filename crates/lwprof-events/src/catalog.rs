//! The event catalogue behind `lwprof list [FILTER]`: every event usable on
//! this machine, grouped by kind, with perf's aliases.
//!
//! Pure data: [`Catalog::build`] reads a [`PmuRegistry`] (already loaded) and
//! a [`TracepointSource`]; the CLI prints. Hardware and cache events appear
//! only when a CPU PMU exists. This module does not probe whether an event
//! would actually open (that needs perf_event_open and privileges).

use crate::pmu::PmuRegistry;
use crate::spec::error::SpecError;
use crate::spec::named::{self, NamedEvent};
use crate::spec::{glob_match, is_glob};
use crate::tracefs::TracepointSource;

/// The kind of a catalogue entry; sections come in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CatalogKind {
    /// Generic hardware events (`cycles`, ...).
    Hardware,
    /// Software events (`page-faults`, ...).
    Software,
    /// Hardware cache events (`LLC-loads`, ...).
    HardwareCache,
    /// Aliases from sysfs PMUs (`msr/tsc/`).
    PmuAlias,
    /// Raw and PMU-term descriptors (`rNNN`, `cpu/t1=v1/`).
    Raw,
    /// Hardware breakpoints (`mem:<addr>`).
    Breakpoint,
    /// Tracepoints (`sched:sched_switch`).
    Tracepoint,
}

impl CatalogKind {
    /// perf's bracketed label, e.g. `Software event`.
    pub fn label(self) -> &'static str {
        match self {
            CatalogKind::Hardware => "Hardware event",
            CatalogKind::Software => "Software event",
            CatalogKind::HardwareCache => "Hardware cache event",
            CatalogKind::PmuAlias => "Kernel PMU event",
            CatalogKind::Raw => "Raw hardware event descriptor",
            CatalogKind::Breakpoint => "Hardware breakpoint",
            CatalogKind::Tracepoint => "Tracepoint event",
        }
    }

    /// Words a filter may use to select the whole section (`lwprof list sw`).
    pub fn keywords(self) -> &'static [&'static str] {
        match self {
            CatalogKind::Hardware => &["hw", "hardware"],
            CatalogKind::Software => &["sw", "software"],
            CatalogKind::HardwareCache => &["cache"],
            CatalogKind::PmuAlias => &["pmu"],
            CatalogKind::Raw => &["raw"],
            CatalogKind::Breakpoint => &["breakpoint", "bp"],
            CatalogKind::Tracepoint => &["tracepoint", "tp"],
        }
    }
}

/// One listed event.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    /// The main name, as it can be passed to `-e`.
    pub name: String,
    /// Other names for the same event.
    pub aliases: Vec<String>,
    /// What kind of event it is.
    pub kind: CatalogKind,
    /// A short description (PMU terms, unit), if any.
    pub description: Option<String>,
}

impl CatalogEntry {
    /// The name with its aliases as perf prints it: `page-faults OR faults`.
    pub fn display_name(&self) -> String {
        std::iter::once(self.name.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" OR ")
    }

    /// True when the filter matches the name or an alias: a glob when it
    /// has `*`, `?` or `[`, else a substring; case-insensitive.
    pub fn matches(&self, filter: &str) -> bool {
        let f = filter.to_lowercase();
        let glob = is_glob(&f);
        std::iter::once(&self.name).chain(&self.aliases).any(|n| {
            let n = n.to_lowercase();
            if glob {
                glob_match(&f, &n)
            } else {
                n.contains(&f)
            }
        })
    }
}

/// The entries of one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogSection {
    /// The kind.
    pub kind: CatalogKind,
    /// The entries, in listing order.
    pub entries: Vec<CatalogEntry>,
}

/// Every event usable here, by kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// Non-empty sections, in [`CatalogKind`] order.
    pub sections: Vec<CatalogSection>,
    /// Whether a CPU PMU exists (hardware and cache events are listed only then).
    pub has_cpu_pmu: bool,
}

fn named_entries(table: &[NamedEvent], kind: CatalogKind) -> Vec<CatalogEntry> {
    table
        .iter()
        .map(|e| CatalogEntry {
            name: e.name.to_string(),
            aliases: e.aliases.iter().map(|a| a.to_string()).collect(),
            kind,
            description: None,
        })
        .collect()
}

impl Catalog {
    /// Builds the catalogue of a machine: its PMUs and, when given, its
    /// tracepoints.
    pub fn build(
        pmus: &PmuRegistry,
        tracefs: Option<&dyn TracepointSource>,
    ) -> Result<Catalog, SpecError> {
        let has_cpu_pmu = pmus.has_cpu_pmu();
        let mut sections = Vec::new();
        if has_cpu_pmu {
            sections.push(CatalogSection {
                kind: CatalogKind::Hardware,
                entries: named_entries(named::HARDWARE, CatalogKind::Hardware),
            });
        }
        sections.push(CatalogSection {
            kind: CatalogKind::Software,
            entries: named_entries(named::SOFTWARE, CatalogKind::Software),
        });
        if has_cpu_pmu {
            sections.push(CatalogSection {
                kind: CatalogKind::HardwareCache,
                entries: named::cache_events()
                    .into_iter()
                    .map(|(name, _)| CatalogEntry {
                        name,
                        aliases: Vec::new(),
                        kind: CatalogKind::HardwareCache,
                        description: None,
                    })
                    .collect(),
            });
        }
        let mut aliases = Vec::new();
        for pmu in pmus.pmus() {
            for a in pmu.aliases.values() {
                let mut desc = a.terms.clone();
                if let Some(u) = &a.unit {
                    desc.push_str(&format!(", unit {u}"));
                }
                if let Some(s) = a.scale {
                    desc.push_str(&format!(", scale {s}"));
                }
                aliases.push(CatalogEntry {
                    name: format!("{}/{}/", pmu.name, a.name),
                    aliases: Vec::new(),
                    kind: CatalogKind::PmuAlias,
                    description: Some(desc),
                });
            }
        }
        sections.push(CatalogSection {
            kind: CatalogKind::PmuAlias,
            entries: aliases,
        });
        let raw = |name: &str, desc: &str| CatalogEntry {
            name: name.to_string(),
            aliases: Vec::new(),
            kind: CatalogKind::Raw,
            description: Some(desc.to_string()),
        };
        let mut raws = vec![raw(
            "rNNN",
            "a raw config of the CPU PMU, in hex (needs a CPU PMU)",
        )];
        raws.push(raw(
            "pmu/t1=v1[,t2=v2,t3 ...]/modifier",
            "terms from /sys/bus/event_source/devices/<pmu>/format",
        ));
        sections.push(CatalogSection {
            kind: CatalogKind::Raw,
            entries: raws,
        });
        sections.push(CatalogSection {
            kind: CatalogKind::Breakpoint,
            entries: vec![CatalogEntry {
                name: "mem:<addr>[/len][:access]".into(),
                aliases: Vec::new(),
                kind: CatalogKind::Breakpoint,
                description: Some("len 1, 2, 4 or 8; access r, w, x or rw (default rw)".into()),
            }],
        });
        if let Some(t) = tracefs {
            let mut entries = Vec::new();
            for sub in t.subsystems()? {
                for name in t.tracepoints(&sub)? {
                    entries.push(CatalogEntry {
                        name: format!("{sub}:{name}"),
                        aliases: Vec::new(),
                        kind: CatalogKind::Tracepoint,
                        description: None,
                    });
                }
            }
            sections.push(CatalogSection {
                kind: CatalogKind::Tracepoint,
                entries,
            });
        }
        sections.retain(|s| !s.entries.is_empty());
        Ok(Catalog {
            sections,
            has_cpu_pmu,
        })
    }

    /// The entries matching `filter` (see [`CatalogEntry::matches`]); a
    /// section keyword (`sw`, `hw`, `cache`, `pmu`, `raw`, `breakpoint`,
    /// `tracepoint`) keeps that whole section.
    pub fn filter(&self, filter: &str) -> Catalog {
        let keyword = |s: &CatalogSection| {
            s.kind
                .keywords()
                .iter()
                .any(|k| k.eq_ignore_ascii_case(filter.trim()))
        };
        let sections = if self.sections.iter().any(keyword) {
            self.sections
                .iter()
                .filter(|s| keyword(s))
                .cloned()
                .collect()
        } else {
            self.sections
                .iter()
                .filter_map(|s| {
                    let entries: Vec<_> = s
                        .entries
                        .iter()
                        .filter(|e| e.matches(filter))
                        .cloned()
                        .collect();
                    (!entries.is_empty()).then_some(CatalogSection {
                        kind: s.kind,
                        entries,
                    })
                })
                .collect()
        };
        Catalog {
            sections,
            has_cpu_pmu: self.has_cpu_pmu,
        }
    }

    /// Every entry, section by section.
    pub fn entries(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.sections.iter().flat_map(|s| &s.entries)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.sections.iter().map(|s| s.entries.len()).sum()
    }

    /// True when nothing is listed (e.g. a filter matched nothing).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
