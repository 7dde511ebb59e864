//! Which samples a report looks at.
//!
//! Two kinds of filter, as in perf: the *scope* (time ranges, event, on- or
//! off-CPU) decides which samples exist for the report at all, and the
//! *selection* (pids, tids, thread names, the leaf's DSO and symbol,
//! unresolved leaves) hides samples while they still count in the total
//! that perf's default "absolute" percentages are taken of.

use super::super::{DsoId, EventIndex, Pid, Profile, Sample, SampleKind, StrId, Tid};

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
    /// Keep samples whose leaf function is one of these (perf's `-S`).
    pub symbols: Vec<String>,
    /// Drop samples whose leaf has no symbol (perf's `-U`).
    pub hide_unresolved: bool,
    /// Keep samples at or after this time (ns).
    pub time_start: Option<u64>,
    /// Keep samples before this time (ns).
    pub time_end: Option<u64>,
    /// Keep samples in any of these ranges, `[start, end)` in ns (perf's
    /// `--time a,b c,d`); empty keeps all.
    pub time_ranges: Vec<(Option<u64>, Option<u64>)>,
    /// Keep samples of this event only.
    pub event: Option<EventIndex>,
    /// Keep on-CPU or off-CPU samples only.
    pub kind: Option<SampleKind>,
}

impl SampleFilter {
    /// Only the scope of this filter (times, event, kind): the samples a
    /// report's absolute percentages are relative to.
    pub fn scope(&self) -> SampleFilter {
        SampleFilter {
            time_start: self.time_start,
            time_end: self.time_end,
            time_ranges: self.time_ranges.clone(),
            event: self.event,
            kind: self.kind,
            ..SampleFilter::default()
        }
    }

    /// True when the filter selects (beyond its scope): pids, tids, names,
    /// DSOs, symbols or unresolved leaves.
    pub fn selects(&self) -> bool {
        !self.pids.is_empty()
            || !self.tids.is_empty()
            || !self.comms.is_empty()
            || !self.dsos.is_empty()
            || !self.symbols.is_empty()
            || self.hide_unresolved
    }

    fn in_time(&self, t: u64) -> bool {
        if self.time_start.is_some_and(|s| t < s) || self.time_end.is_some_and(|e| t >= e) {
            return false;
        }
        self.time_ranges.is_empty()
            || self
                .time_ranges
                .iter()
                .any(|&(s, e)| s.is_none_or(|s| t >= s) && e.is_none_or(|e| t < e))
    }
}

/// A filter with names turned into ids.
#[derive(Clone, Debug)]
pub(crate) struct CompiledFilter<'a> {
    filter: &'a SampleFilter,
    comms: Vec<StrId>,
    dsos: Vec<DsoId>,
    symbols: Vec<StrId>,
    /// Some name in `symbols` is not in the profile: nothing can match it.
    leaf_needed: bool,
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
        let symbols = filter
            .symbols
            .iter()
            .filter_map(|s| profile.strings.find(s))
            .collect();
        Self {
            filter,
            comms,
            dsos,
            symbols,
            leaf_needed: !filter.dsos.is_empty()
                || !filter.symbols.is_empty()
                || filter.hide_unresolved,
        }
    }

    pub(crate) fn accepts(&self, profile: &Profile, s: &Sample) -> bool {
        let f = self.filter;
        if !f.in_time(s.time) {
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
        if self.leaf_needed {
            // The leaf entry: the function the sampled code belongs to (the
            // outermost frame of the leaf location).
            let leaf = profile
                .stack_frames(s.stack, false)
                .next()
                .map(|sf| *profile.frame(sf.frame));
            if !f.dsos.is_empty()
                && !leaf
                    .and_then(|l| l.dso)
                    .is_some_and(|d| self.dsos.contains(&d))
            {
                return false;
            }
            if !f.symbols.is_empty() && !leaf.is_some_and(|l| self.symbols.contains(&l.function)) {
                return false;
            }
            if f.hide_unresolved && !leaf.is_some_and(|l| l.resolved) {
                return false;
            }
        }
        true
    }
}
