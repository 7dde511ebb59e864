//! Which events `lwprof stat` counts: the `-e` lists, or perf's default set,
//! plus perf's detailed sets for `-d`, `-dd` and `-ddd`.
//!
//! The sets are perf 6.1's, by name, resolved through the same event-spec
//! parser as `-e`. A hardware event this machine cannot count stays in the
//! list and prints as `<not supported>`, as perf prints it. This module does
//! not open counters.

use super::args::StatConfig;
use anyhow::Result;
use lwprof_events::count::CountRequest;
use lwprof_events::EventConfig;

/// perf stat's default events.
const DEFAULT_EVENTS: &str = "task-clock,context-switches,cpu-migrations,page-faults,\
                              cycles,instructions,branches,branch-misses";

/// perf stat's detailed sets, added by -d, -dd and -ddd in turn.
const DETAILED_EVENTS: [&str; 3] = [
    "L1-dcache-loads,L1-dcache-load-misses,LLC-loads,LLC-load-misses",
    "L1-icache-loads,L1-icache-load-misses,dTLB-loads,dTLB-load-misses,iTLB-loads,iTLB-load-misses",
    "L1-dcache-prefetches,L1-dcache-prefetch-misses",
];

/// One event as counted and shown.
#[derive(Debug, Clone)]
pub struct ShownEvent {
    /// The event.
    pub config: EventConfig,
    /// Multiply the count by this (a sysfs alias's scale; 1 otherwise).
    pub scale: f64,
    /// The unit of the scaled count, if the event has one.
    pub unit: Option<String>,
}

impl ShownEvent {
    /// True for task-clock and cpu-clock, counted in ns and shown in msec.
    pub fn is_clock(&self) -> bool {
        self.config.is_task_clock() || self.config.is_cpu_clock()
    }
}

/// The event list of `config`, as requests to open and events to show (one
/// per event of every request, in order).
pub fn resolve_events(config: &StatConfig) -> Result<(Vec<CountRequest>, Vec<ShownEvent>)> {
    let mut text = config
        .events
        .clone()
        .unwrap_or_else(|| DEFAULT_EVENTS.to_string());
    for set in DETAILED_EVENTS.iter().take(config.detailed as usize) {
        text.push(',');
        text.push_str(set);
    }
    let groups = lwprof_events::parse_events_system(&text)?;
    let mut shown = Vec::new();
    let mut requests = Vec::new();
    for g in groups {
        shown.extend(g.events.iter().map(|ev| ShownEvent {
            config: ev.config.clone(),
            scale: ev.scale,
            unit: ev.unit.clone(),
        }));
        if g.is_group {
            requests.push(CountRequest {
                events: g.configs(),
                grouped: true,
            });
        } else {
            requests.extend(g.events.iter().map(|e| CountRequest {
                events: vec![e.config.clone()],
                grouped: false,
            }));
        }
    }
    Ok((requests, shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfs_sets_all_parse_here() {
        let all = [DEFAULT_EVENTS]
            .into_iter()
            .chain(DETAILED_EVENTS)
            .collect::<Vec<_>>()
            .join(",");
        let groups = lwprof_events::parse_events_system(&all).unwrap();
        let names: Vec<String> = groups
            .iter()
            .flat_map(|g| g.events.iter().map(|e| e.config.name.clone()))
            .collect();
        assert_eq!(names.len(), 8 + 4 + 6 + 2);
        assert_eq!(names[0], "task-clock");
        assert_eq!(names[8], "L1-dcache-loads");
        assert_eq!(names[19], "L1-dcache-prefetch-misses");
    }
}
