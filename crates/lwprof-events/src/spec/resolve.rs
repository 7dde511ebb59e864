//! Resolution: AST nodes to [`EventConfig`]s, against a [`PmuRegistry`]
//! (sysfs) and a [`TracepointSource`] (tracefs).
//!
//! This is where names meet the machine: built-in names, PMU format terms
//! and aliases, tracepoint ids and globs. It reads only through the registry
//! (already loaded) and the tracepoint source; it opens no events.

use super::error::{quoted_list, SpecError};
use super::named;
use super::parse::{
    merge_modifiers, parse_terms, EventAst, EventTarget, GroupAst, Term, TermValue,
};
use super::{glob_match, is_glob};
use crate::attr::{EventConfig, EventKind, Modifiers};
use crate::pmu::{ConfigWord, Pmu, PmuRegistry};
use crate::tracefs::TracepointSource;
use perf_event_open_sys::bindings as sys;

/// One resolved event, with what `stat` needs to present its count.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedEvent {
    /// The event, ready for [`EventConfig::to_attr`].
    pub config: EventConfig,
    /// Multiply the count by this (a sysfs alias's `.scale`; 1.0 otherwise).
    pub scale: f64,
    /// The unit of the scaled count (a sysfs alias's `.unit`), if any.
    pub unit: Option<String>,
    /// `period=N` written inside `pmu//`, for sampling commands.
    pub sample_period: Option<u64>,
    /// `freq=N` written inside `pmu//`, for sampling commands.
    pub sample_freq: Option<u64>,
}

impl ResolvedEvent {
    fn new(config: EventConfig) -> Self {
        ResolvedEvent {
            config,
            scale: 1.0,
            unit: None,
            sample_period: None,
            sample_freq: None,
        }
    }

    /// The display name (`EventConfig::name`).
    pub fn name(&self) -> &str {
        &self.config.name
    }
}

/// One item of a resolved list: a group written with braces, or one
/// independent event.
///
/// When `is_group` is false there is exactly one event (a glob outside braces
/// expands into several non-group items). When it is true the first event is
/// the leader and all open together (`counter::Group::open`).
#[derive(Debug, Clone, PartialEq)]
pub struct EventGroupSpec {
    /// The events, leader first.
    pub events: Vec<ResolvedEvent>,
    /// True when written as `{...}`.
    pub is_group: bool,
}

impl EventGroupSpec {
    /// The event configs, in order (what `counter::Group::open` takes).
    pub fn configs(&self) -> Vec<EventConfig> {
        self.events.iter().map(|e| e.config.clone()).collect()
    }
}

/// Resolves parsed specs against a machine's PMUs and tracefs.
#[derive(Clone, Copy)]
pub struct Resolver<'a> {
    pmus: &'a PmuRegistry,
    tracefs: Option<&'a dyn TracepointSource>,
}

impl std::fmt::Debug for Resolver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("pmus", &self.pmus.names())
            .field("tracefs", &self.tracefs.is_some())
            .finish()
    }
}

/// Keywords perf accepts inside `pmu//` besides format terms.
const KEYWORDS: &[&str] = &[
    "config", "config1", "config2", "config3", "name", "period", "freq",
];

/// perf keywords lwprof does not take inside `//`; the message names the
/// command-line option to use instead.
const UNSUPPORTED_KEYWORDS: &[(&str, &str)] = &[
    ("call-graph", "use `--call-graph`"),
    ("stack-size", "use `--call-graph dwarf,SIZE`"),
    ("max-stack", "use the command's --max-stack option"),
    (
        "inherit",
        "inherit is the default; use `--no-inherit` to turn it off",
    ),
    ("no-inherit", "use `--no-inherit`"),
    ("overwrite", "not supported"),
    ("no-overwrite", "not supported"),
    ("time", "not supported"),
    ("branch_type", "use `-b`/`-j`"),
    ("percore", "not supported"),
    ("aux-output", "not supported"),
    ("aux-sample-size", "not supported"),
    ("metric-id", "not supported"),
    ("driver-config", "not supported"),
];

impl<'a> Resolver<'a> {
    /// A resolver over `pmus` and, when available, a tracefs.
    pub fn new(pmus: &'a PmuRegistry, tracefs: Option<&'a dyn TracepointSource>) -> Self {
        Resolver { pmus, tracefs }
    }

    /// Parses and resolves a whole spec.
    pub fn resolve_str(&self, spec: &str) -> Result<Vec<EventGroupSpec>, SpecError> {
        self.resolve(&super::parse(spec)?)
    }

    /// Resolves a parsed spec.
    pub fn resolve(&self, groups: &[GroupAst]) -> Result<Vec<EventGroupSpec>, SpecError> {
        let mut out = Vec::new();
        for g in groups {
            let mut events = Vec::new();
            for ev in &g.events {
                events.extend(self.resolve_event(ev, g.modifiers.as_ref())?);
            }
            if g.is_group {
                out.push(EventGroupSpec {
                    events,
                    is_group: true,
                });
            } else {
                out.extend(events.into_iter().map(|e| EventGroupSpec {
                    events: vec![e],
                    is_group: false,
                }));
            }
        }
        Ok(out)
    }

    /// Resolves one event, with its group's modifiers if any; globs and
    /// bare PMU-alias names may give several.
    pub fn resolve_event(
        &self,
        ev: &EventAst,
        group_mods: Option<&Modifiers>,
    ) -> Result<Vec<ResolvedEvent>, SpecError> {
        let mods = match group_mods {
            Some(g) => merge_modifiers(ev.modifiers, *g),
            None => ev.modifiers,
        };
        let mut out = match &ev.target {
            EventTarget::Named(name) => self.named(name, &ev.text)?,
            EventTarget::Raw(v) => vec![ResolvedEvent::new(EventConfig::new(
                &ev.text,
                EventKind::Raw,
                sys::PERF_TYPE_RAW,
                *v,
            ))],
            EventTarget::Breakpoint { addr, len, access } => {
                let mut c = EventConfig::new(
                    &ev.text,
                    EventKind::Breakpoint,
                    sys::PERF_TYPE_BREAKPOINT,
                    0,
                );
                c.config1 = *addr;
                c.config2 = *len;
                c.bp_type = *access;
                vec![ResolvedEvent::new(c)]
            }
            EventTarget::Pmu { pmu, terms } => vec![self.pmu_event(pmu, terms, &ev.text)?],
            EventTarget::Tracepoint { subsystem, name } => self.tracepoints(subsystem, name, ev)?,
        };
        for r in &mut out {
            r.config.modifiers = mods;
        }
        Ok(out)
    }

    fn named(&self, name: &str, text: &str) -> Result<Vec<ResolvedEvent>, SpecError> {
        if let Some(c) = named::lookup(name, text) {
            return Ok(vec![ResolvedEvent::new(c)]);
        }
        // perf also takes a bare alias of any PMU (`tsc` for `msr/tsc/`).
        let mut out = Vec::new();
        for pmu in self.pmus.pmus() {
            if pmu.aliases.contains_key(name) {
                let terms = vec![Term {
                    key: name.to_string(),
                    value: TermValue::Flag,
                }];
                let shown = if text == name {
                    format!("{}/{}/", pmu.name, name)
                } else {
                    text.to_string()
                };
                out.push(self.pmu_event(&pmu.name, &terms, &shown)?);
            }
        }
        if !out.is_empty() {
            return Ok(out);
        }
        let mut candidates = named::all_names();
        for pmu in self.pmus.pmus() {
            for a in pmu.aliases.keys() {
                candidates.push(a.clone());
                candidates.push(format!("{}/{}/", pmu.name, a));
            }
        }
        Err(SpecError::UnknownEvent {
            name: name.to_string(),
            suggestions: suggest(name, candidates.iter().map(String::as_str)),
        })
    }

    fn pmu_event(
        &self,
        pmu_name: &str,
        terms: &[Term],
        text: &str,
    ) -> Result<ResolvedEvent, SpecError> {
        let Some(pmu) = self.pmus.get(pmu_name) else {
            let names = self.pmus.names();
            return Err(SpecError::UnknownPmu {
                event: text.to_string(),
                pmu: pmu_name.to_string(),
                suggestions: suggest(pmu_name, names.iter().map(String::as_str)),
                available: names,
            });
        };
        let kind = EventKind::Pmu(pmu.name.clone());
        let mut r = ResolvedEvent::new(EventConfig::new(text, kind, pmu.type_, 0));
        self.apply_terms(pmu, terms, text, &mut r, true)?;
        Ok(r)
    }

    fn apply_terms(
        &self,
        pmu: &Pmu,
        terms: &[Term],
        text: &str,
        r: &mut ResolvedEvent,
        allow_alias: bool,
    ) -> Result<(), SpecError> {
        for t in terms {
            let bad = |reason: String| SpecError::BadTerm {
                event: text.to_string(),
                term: t.to_string(),
                reason,
            };
            if let Some(field) = pmu.formats.get(&t.key) {
                let v = match &t.value {
                    TermValue::Flag => 1,
                    TermValue::Num(v) => *v,
                    TermValue::Str(s) => {
                        return Err(bad(format!(
                            "'{s}' is not a number; write {}=N (decimal or 0x hex)",
                            t.key
                        )))
                    }
                };
                let Some(bits) = field.encode(v) else {
                    return Err(SpecError::ValueTooWide {
                        event: text.to_string(),
                        key: t.key.clone(),
                        value: v,
                        format: field.spec(),
                        bits: field.width(),
                        max: field.max_value(),
                    });
                };
                let word = word_mut(&mut r.config, field.word);
                *word = (*word & !field.mask()) | bits;
                continue;
            }
            if allow_alias && t.value == TermValue::Flag {
                if let Some(alias) = pmu.aliases.get(&t.key) {
                    let alias_terms = parse_terms(&alias.terms, text, 1).map_err(|_| {
                        bad(format!(
                            "the sysfs alias '{}' of PMU '{}' reads '{}', which is not a term list",
                            alias.name, pmu.name, alias.terms
                        ))
                    })?;
                    self.apply_terms(pmu, &alias_terms, text, r, false)?;
                    if let Some(s) = alias.scale {
                        r.scale = s;
                    }
                    if alias.unit.is_some() {
                        r.unit = alias.unit.clone();
                    }
                    continue;
                }
            }
            let num = |t: &Term| match &t.value {
                TermValue::Num(v) => Ok(*v),
                _ => Err(bad(format!("{} needs a number: write {}=N", t.key, t.key))),
            };
            match t.key.as_str() {
                k @ ("config" | "config1" | "config2" | "config3") => {
                    let v = num(t)?;
                    let w = ConfigWord::parse(k).unwrap_or(ConfigWord::Config);
                    *word_mut(&mut r.config, w) = v;
                }
                "name" => {
                    r.config.name = match &t.value {
                        TermValue::Str(s) => s.clone(),
                        TermValue::Num(_) | TermValue::Flag => {
                            return Err(bad("write name=TEXT".into()))
                        }
                    }
                }
                "period" => r.sample_period = Some(num(t)?),
                "freq" => r.sample_freq = Some(num(t)?),
                k => {
                    if let Some((_, fix)) = UNSUPPORTED_KEYWORDS.iter().find(|(u, _)| *u == k) {
                        return Err(bad(format!(
                            "'{k}' inside // is not supported by lwprof; {fix}"
                        )));
                    }
                    let mut valid: Vec<String> = pmu.formats.keys().cloned().collect();
                    valid.extend(KEYWORDS.iter().map(|s| s.to_string()));
                    if !pmu.aliases.is_empty() {
                        valid.push(format!(
                            "or an event of `lwprof list {}/` ({})",
                            pmu.name,
                            quoted_list(&pmu.aliases.keys().take(3).cloned().collect::<Vec<_>>())
                        ));
                    }
                    if t.value != TermValue::Flag && pmu.aliases.contains_key(k) {
                        return Err(bad(format!(
                            "'{k}' is an event alias and takes no value; write {}/{k}/",
                            pmu.name
                        )));
                    }
                    return Err(SpecError::UnknownTerm {
                        event: text.to_string(),
                        pmu: pmu.name.clone(),
                        key: k.to_string(),
                        valid,
                    });
                }
            }
        }
        Ok(())
    }

    fn tracepoints(
        &self,
        subsystem: &str,
        name: &str,
        ev: &EventAst,
    ) -> Result<Vec<ResolvedEvent>, SpecError> {
        let Some(tfs) = self.tracefs else {
            return Err(SpecError::NoTracefs {
                event: ev.text.clone(),
            });
        };
        let mk = |id: u64, shown: String| {
            ResolvedEvent::new(EventConfig::new(
                &shown,
                EventKind::Tracepoint,
                sys::PERF_TYPE_TRACEPOINT,
                id,
            ))
        };
        if is_glob(subsystem) || is_glob(name) {
            let mods = ev.text.splitn(3, ':').nth(2).map(|m| format!(":{m}"));
            let mut out = Vec::new();
            for sub in tfs.subsystems()? {
                if !glob_match(subsystem, &sub) {
                    continue;
                }
                for n in tfs.tracepoints(&sub)? {
                    if !glob_match(name, &n) {
                        continue;
                    }
                    if let Some(id) = tfs.id(&sub, &n)? {
                        let shown = format!("{sub}:{n}{}", mods.as_deref().unwrap_or(""));
                        out.push(mk(id, shown));
                    }
                }
            }
            if out.is_empty() {
                return Err(SpecError::NoTracepointMatch {
                    pattern: format!("{subsystem}:{name}"),
                });
            }
            return Ok(out);
        }
        if let Some(id) = tfs.id(subsystem, name)? {
            return Ok(vec![mk(id, ev.text.clone())]);
        }
        // Suggest: close names in the same subsystem, else close subsystems.
        let subs = tfs.subsystems()?;
        let suggestions = if subs.iter().any(|s| s == subsystem) {
            let names = tfs.tracepoints(subsystem)?;
            suggest(name, names.iter().map(String::as_str))
                .into_iter()
                .map(|n| format!("{subsystem}:{n}"))
                .collect()
        } else {
            let mut v = Vec::new();
            for s in suggest(subsystem, subs.iter().map(String::as_str)) {
                if tfs.id(&s, name)?.is_some() {
                    v.push(format!("{s}:{name}"));
                } else {
                    v.push(format!("{s}:*"));
                }
            }
            v
        };
        Err(SpecError::UnknownTracepoint {
            subsystem: subsystem.to_string(),
            name: name.to_string(),
            suggestions,
        })
    }
}

fn word_mut(c: &mut EventConfig, w: ConfigWord) -> &mut u64 {
    match w {
        ConfigWord::Config => &mut c.config,
        ConfigWord::Config1 => &mut c.config1,
        ConfigWord::Config2 => &mut c.config2,
        ConfigWord::Config3 => &mut c.config3,
    }
}

/// The up-to-three candidates closest to `input` (case-insensitive), best
/// first; none when nothing is reasonably close. The score is the better of
/// Jaro-Winkler and normalised Damerau-Levenshtein similarity; a candidate
/// must score 0.75 and be within 0.1 of the best.
pub fn suggest<'c>(input: &str, candidates: impl Iterator<Item = &'c str>) -> Vec<String> {
    let lower = input.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .map(|c| {
            let cl = c.to_ascii_lowercase();
            let jw = strsim::jaro_winkler(&lower, &cl);
            let lev = strsim::normalized_damerau_levenshtein(&lower, &cl);
            (jw.max(lev), c)
        })
        .filter(|(s, _)| *s >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    // Keep only those about as close as the best one.
    let best = scored.first().map_or(0.0, |s| s.0);
    scored.retain(|s| s.0 >= best - 0.1);
    let mut out: Vec<String> = Vec::new();
    for (_, c) in scored {
        if !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}
