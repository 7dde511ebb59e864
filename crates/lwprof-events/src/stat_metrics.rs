//! The derived figures `perf stat` prints after `#` (perf keeps them in
//! stat-shadow): CPUs utilized, event rates, GHz, instructions per cycle and
//! miss ratios; and the spread of repeated runs.
//!
//! Everything here is a pure function of counts already read. Which figure an
//! event gets is decided by its [`Role`]; the denominators (the clock, cycles,
//! branches, ...) come from the other events counted alongside it, gathered in
//! [`Denominators`]. A figure knows its printf-style [`MetricStyle`], so a
//! printer lays it out as perf does; this module does not lay out whole lines,
//! read counters or know about output formats.

use crate::attr::EventConfig;
use perf_event_open_sys::bindings as pb;

/// The caches perf derives a miss ratio for, with its `-d` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cache {
    /// `L1-dcache-loads` / `L1-dcache-load-misses`.
    L1Data,
    /// `L1-icache-loads` / `L1-icache-load-misses`.
    L1Instruction,
    /// `LLC-loads` / `LLC-load-misses`.
    LastLevel,
    /// `dTLB-loads` / `dTLB-load-misses`.
    DataTlb,
    /// `iTLB-loads` / `iTLB-load-misses`.
    InstructionTlb,
}

impl Cache {
    const ALL: [Cache; 5] = [
        Cache::L1Data,
        Cache::L1Instruction,
        Cache::LastLevel,
        Cache::DataTlb,
        Cache::InstructionTlb,
    ];

    fn from_id(id: u64) -> Option<Cache> {
        let id = id as u32;
        Some(match id {
            pb::PERF_COUNT_HW_CACHE_L1D => Cache::L1Data,
            pb::PERF_COUNT_HW_CACHE_L1I => Cache::L1Instruction,
            pb::PERF_COUNT_HW_CACHE_LL => Cache::LastLevel,
            pb::PERF_COUNT_HW_CACHE_DTLB => Cache::DataTlb,
            pb::PERF_COUNT_HW_CACHE_ITLB => Cache::InstructionTlb,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        Cache::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    /// perf's words after the miss ratio, e.g. `of all L1-dcache accesses`.
    pub fn ratio_unit(self) -> &'static str {
        match self {
            Cache::L1Data => "of all L1-dcache accesses",
            Cache::L1Instruction => "of all L1-icache accesses",
            Cache::LastLevel => "of all LL-cache accesses",
            Cache::DataTlb => "of all dTLB cache accesses",
            Cache::InstructionTlb => "of all iTLB cache accesses",
        }
    }
}

/// What an event is to the derived figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// `task-clock` or `cpu-clock`: nanoseconds; gives CPUs utilized and is
    /// the time base of every rate.
    Clock,
    /// `cycles`: gives GHz.
    Cycles,
    /// `instructions`: gives instructions per cycle.
    Instructions,
    /// `branches`.
    Branches,
    /// `branch-misses`: gives the share of all branches.
    BranchMisses,
    /// `cache-references`.
    CacheReferences,
    /// `cache-misses`: gives the share of all cache references.
    CacheMisses,
    /// A cache's read accesses (`L1-dcache-loads`, ...).
    CacheLoads(Cache),
    /// A cache's read misses: gives the share of its read accesses.
    CacheLoadMisses(Cache),
    /// Anything else: gives a rate per second of the clock.
    Other,
}

impl Role {
    /// The role of `event`.
    pub fn of(event: &EventConfig) -> Role {
        if event.is_task_clock() || event.is_cpu_clock() {
            return Role::Clock;
        }
        match event.type_ {
            pb::PERF_TYPE_HARDWARE => match event.config as u32 {
                pb::PERF_COUNT_HW_CPU_CYCLES => Role::Cycles,
                pb::PERF_COUNT_HW_INSTRUCTIONS => Role::Instructions,
                pb::PERF_COUNT_HW_BRANCH_INSTRUCTIONS => Role::Branches,
                pb::PERF_COUNT_HW_BRANCH_MISSES => Role::BranchMisses,
                pb::PERF_COUNT_HW_CACHE_REFERENCES => Role::CacheReferences,
                pb::PERF_COUNT_HW_CACHE_MISSES => Role::CacheMisses,
                _ => Role::Other,
            },
            pb::PERF_TYPE_HW_CACHE => {
                let (id, op, result) = (
                    event.config & 0xff,
                    (event.config >> 8) & 0xff,
                    event.config >> 16,
                );
                match Cache::from_id(id) {
                    Some(cache) if op == pb::PERF_COUNT_HW_CACHE_OP_READ as u64 => {
                        if result == pb::PERF_COUNT_HW_CACHE_RESULT_MISS as u64 {
                            Role::CacheLoadMisses(cache)
                        } else if result == pb::PERF_COUNT_HW_CACHE_RESULT_ACCESS as u64 {
                            Role::CacheLoads(cache)
                        } else {
                            Role::Other
                        }
                    }
                    _ => Role::Other,
                }
            }
            _ => Role::Other,
        }
    }
}

/// The counts other events' figures are relative to, for one set of counts
/// (the whole run, one CPU, one thread or one interval). `None` means the
/// event was not counted there, and the figures that need it are left blank.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Denominators {
    /// Wall-clock nanoseconds the counts cover (for CPUs utilized).
    pub wall_ns: f64,
    /// Nanoseconds of `task-clock` (or, without it, `cpu-clock`).
    pub clock_ns: Option<f64>,
    task_clock: bool,
    /// `cycles`.
    pub cycles: Option<f64>,
    /// `branches`.
    pub branches: Option<f64>,
    /// `cache-references`.
    pub cache_references: Option<f64>,
    cache_loads: [Option<f64>; 5],
}

impl Denominators {
    /// Denominators over `wall_ns` of wall-clock time, with no counts yet.
    pub fn new(wall_ns: f64) -> Self {
        Denominators {
            wall_ns,
            ..Denominators::default()
        }
    }

    /// Gathers the denominators from `(event, count)` pairs; a count is `None`
    /// when its event was not counted. The first event of each role wins,
    /// except that `task-clock` is preferred to `cpu-clock`.
    pub fn gather<'a>(
        wall_ns: f64,
        counts: impl IntoIterator<Item = (&'a EventConfig, Option<f64>)>,
    ) -> Self {
        let mut d = Denominators::new(wall_ns);
        for (event, count) in counts {
            if let Some(v) = count {
                d.add(event, v);
            }
        }
        d
    }

    /// Adds one counted event.
    pub fn add(&mut self, event: &EventConfig, value: f64) {
        let first = |slot: &mut Option<f64>| {
            if slot.is_none() {
                *slot = Some(value);
            }
        };
        match Role::of(event) {
            Role::Clock => {
                let task = event.is_task_clock();
                if self.clock_ns.is_none() || (task && !self.task_clock) {
                    self.clock_ns = Some(value);
                    self.task_clock = task;
                }
            }
            Role::Cycles => first(&mut self.cycles),
            Role::Branches => first(&mut self.branches),
            Role::CacheReferences => first(&mut self.cache_references),
            Role::CacheLoads(c) => first(&mut self.cache_loads[c.index()]),
            _ => {}
        }
    }

    /// The read accesses of `cache`, when counted.
    pub fn cache_loads(&self, cache: Cache) -> Option<f64> {
        self.cache_loads[cache.index()]
    }
}

/// How a figure is written, as the printf format perf uses for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricStyle {
    /// `%8.3f`: CPUs utilized, rates, GHz.
    Fixed3,
    /// `%7.2f ` (with a trailing space): instructions per cycle.
    Ratio2,
    /// `%7.2f%%`: miss ratios.
    Percent2,
    /// `%8.3f %%`: cache-misses of all cache references.
    Percent3,
}

/// One derived figure: its value, its words and how it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The value (a ratio, a rate, or a percentage for the percent styles).
    pub value: f64,
    /// The words after the value, e.g. `CPUs utilized`, `K/sec`.
    pub unit: String,
    /// How the value is written.
    pub style: MetricStyle,
}

impl Metric {
    fn new(value: f64, unit: impl Into<String>, style: MetricStyle) -> Self {
        Metric {
            value,
            unit: unit.into(),
            style,
        }
    }

    /// The value as perf's printf writes it in its human layout, padded
    /// (`   0.497`, `  12.34%`, `   1.23 `).
    pub fn text(&self) -> String {
        match self.style {
            MetricStyle::Fixed3 => format!("{:8.3}", self.value),
            MetricStyle::Ratio2 => format!("{:7.2} ", self.value),
            MetricStyle::Percent2 => format!("{:7.2}%", self.value),
            MetricStyle::Percent3 => format!("{:8.3} %", self.value),
        }
    }

    /// The value as perf writes it in CSV: the number alone, without padding
    /// or the percent sign (`0.497`, `12.34`).
    pub fn csv_value(&self) -> String {
        let text = self.text();
        let number = text.trim_start();
        let end = number
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(number.len());
        number[..end].to_string()
    }
}

/// The figure perf prints after an event counted `value` (in the event's
/// unit; nanoseconds for a clock), or `None` when it has none here (its
/// denominator was not counted, or is zero where perf leaves it blank).
pub fn metric(event: &EventConfig, value: f64, d: &Denominators) -> Option<Metric> {
    match Role::of(event) {
        Role::Clock => cpus_utilized(value, d.wall_ns),
        Role::Cycles => d
            .clock_ns
            .filter(|t| *t != 0.0)
            .map(|t| Metric::new(value / t, "GHz", MetricStyle::Fixed3)),
        Role::Instructions => d
            .cycles
            .filter(|c| *c != 0.0)
            .map(|c| Metric::new(value / c, "insn per cycle", MetricStyle::Ratio2)),
        Role::BranchMisses => d
            .branches
            .map(|b| share(value, b, "of all branches", MetricStyle::Percent2)),
        Role::CacheMisses => d
            .cache_references
            .map(|r| share(value, r, "of all cache refs", MetricStyle::Percent3)),
        Role::CacheLoadMisses(c) => d
            .cache_loads(c)
            .map(|l| share(value, l, c.ratio_unit(), MetricStyle::Percent2)),
        Role::Branches | Role::CacheReferences | Role::CacheLoads(_) | Role::Other => {
            d.clock_ns.map(|t| rate(value, t))
        }
    }
}

/// CPUs utilized: clock nanoseconds over wall-clock nanoseconds.
pub fn cpus_utilized(clock_ns: f64, wall_ns: f64) -> Option<Metric> {
    (wall_ns != 0.0).then(|| Metric::new(clock_ns / wall_ns, "CPUs utilized", MetricStyle::Fixed3))
}

/// `part` in percent of `whole` (0 when `whole` is 0, as perf prints it).
fn share(part: f64, whole: f64, unit: &str, style: MetricStyle) -> Metric {
    let pct = if whole != 0.0 {
        100.0 * part / whole
    } else {
        0.0
    };
    Metric::new(pct, unit, style)
}

/// Events per second of the clock, in the largest of `/sec`, `K/sec`,
/// `M/sec`, `G/sec` that keeps the number above 1000 (0 when the clock is 0).
pub fn rate(count: f64, clock_ns: f64) -> Metric {
    let mut per_sec = if clock_ns != 0.0 {
        1e9 * count / clock_ns
    } else {
        0.0
    };
    let mut unit = "/sec";
    for prefixed in ["K/sec", "M/sec", "G/sec"] {
        if per_sec > 1000.0 {
            per_sec /= 1000.0;
            unit = prefixed;
        }
    }
    Metric::new(per_sec, unit, MetricStyle::Fixed3)
}

/// The spread of repeated runs as perf prints it after `+-`: the standard
/// error of the mean, in percent of the mean (0 when the mean is 0). `None`
/// for fewer than two runs.
pub fn relative_spread(runs: &[f64]) -> Option<f64> {
    let sd = mean_stddev(runs)?;
    let n = runs.len() as f64;
    let mean = runs.iter().sum::<f64>() / n;
    Some(if mean != 0.0 { 100.0 * sd / mean } else { 0.0 })
}

/// The standard error of the mean of `runs` (sample standard deviation over
/// the square root of the number of runs). `None` for fewer than two runs.
pub fn mean_stddev(runs: &[f64]) -> Option<f64> {
    if runs.len() < 2 {
        return None;
    }
    let n = runs.len() as f64;
    let mean = runs.iter().sum::<f64>() / n;
    let variance = runs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some((variance / n).sqrt())
}

/// How many decimals perf gives the mean elapsed time of repeated runs: two
/// more than the first significant digit of its spread `sd` (in seconds).
pub fn elapsed_precision(sd: f64) -> usize {
    if sd > 1.0 {
        return 2;
    }
    if sd <= 0.0 || !sd.is_finite() {
        // perf takes the log of 0 here; nine decimals show every nanosecond.
        return 9;
    }
    let digits = (-sd.log10()).ceil();
    (digits.clamp(0.0, 7.0) as usize) + 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::EventKind;

    fn sw(name: &str, c: u32) -> EventConfig {
        EventConfig::software(name, c as u64)
    }
    fn hw(name: &str, c: u32) -> EventConfig {
        EventConfig::hardware(name, c as u64)
    }
    fn cache(name: &str, id: u32, result: u32) -> EventConfig {
        let config =
            id as u64 | (pb::PERF_COUNT_HW_CACHE_OP_READ as u64) << 8 | (result as u64) << 16;
        EventConfig::new(
            name,
            EventKind::HardwareCache,
            pb::PERF_TYPE_HW_CACHE,
            config,
        )
    }

    #[test]
    fn clocks_give_cpus_utilized_over_wall_time() {
        let tc = sw("task-clock", pb::PERF_COUNT_SW_TASK_CLOCK);
        let d = Denominators::new(2e9);
        let m = metric(&tc, 1e9, &d).unwrap();
        assert_eq!((m.value, m.unit.as_str()), (0.5, "CPUs utilized"));
        assert_eq!(m.text(), "   0.500");
        assert_eq!(m.csv_value(), "0.500");
        assert_eq!(metric(&tc, 1e9, &Denominators::new(0.0)), None);
    }

    #[test]
    fn task_clock_is_preferred_to_cpu_clock_as_the_time_base() {
        let cc = sw("cpu-clock", pb::PERF_COUNT_SW_CPU_CLOCK);
        let tc = sw("task-clock", pb::PERF_COUNT_SW_TASK_CLOCK);
        let d = Denominators::gather(1e9, [(&cc, Some(4e9)), (&tc, Some(2e9))]);
        assert_eq!(d.clock_ns, Some(2e9));
        let d = Denominators::gather(1e9, [(&tc, Some(2e9)), (&cc, Some(4e9))]);
        assert_eq!(d.clock_ns, Some(2e9));
    }

    #[test]
    fn rates_pick_perfs_unit_above_one_thousand() {
        assert_eq!(rate(12.0, 1e9).unit, "/sec");
        assert_eq!(rate(1000.0, 1e9).unit, "/sec");
        let k = rate(94_809.0, 1e9);
        assert_eq!(k.unit, "K/sec");
        assert!((k.value - 94.809).abs() < 1e-9);
        assert_eq!(rate(2.5e6, 1e9).unit, "M/sec");
        assert_eq!(rate(2.5e12, 1e9).unit, "G/sec");
        // A clock that ran 0 ns: perf prints 0.000 /sec, not a blank.
        assert_eq!(rate(5.0, 0.0).value, 0.0);
        // No clock at all: no rate.
        let pf = sw("page-faults", pb::PERF_COUNT_SW_PAGE_FAULTS);
        assert_eq!(metric(&pf, 5.0, &Denominators::new(1e9)), None);
    }

    #[test]
    fn hardware_figures_need_their_denominators() {
        let cycles = hw("cycles", pb::PERF_COUNT_HW_CPU_CYCLES);
        let insn = hw("instructions", pb::PERF_COUNT_HW_INSTRUCTIONS);
        let br = hw("branches", pb::PERF_COUNT_HW_BRANCH_INSTRUCTIONS);
        let miss = hw("branch-misses", pb::PERF_COUNT_HW_BRANCH_MISSES);
        let tc = sw("task-clock", pb::PERF_COUNT_SW_TASK_CLOCK);
        let none = Denominators::new(1e9);
        assert_eq!(metric(&insn, 10.0, &none), None);
        assert_eq!(metric(&miss, 10.0, &none), None);
        let d = Denominators::gather(
            1e9,
            [(&tc, Some(5e8)), (&cycles, Some(1e9)), (&br, Some(200.0))],
        );
        let ghz = metric(&cycles, 1e9, &d).unwrap();
        assert_eq!((ghz.value, ghz.unit.as_str()), (2.0, "GHz"));
        let ipc = metric(&insn, 2.5e9, &d).unwrap();
        assert_eq!(
            (ipc.text(), ipc.unit.as_str()),
            ("   2.50 ".into(), "insn per cycle")
        );
        assert_eq!(ipc.csv_value(), "2.50");
        let m = metric(&miss, 5.0, &d).unwrap();
        assert_eq!(m.text(), "   2.50%");
        assert_eq!(m.csv_value(), "2.50");
        assert_eq!(m.unit, "of all branches");
        // branches itself gets a rate.
        assert_eq!(metric(&br, 200.0, &d).unwrap().unit, "/sec");
    }

    #[test]
    fn cache_misses_are_a_share_of_their_cache_loads() {
        let loads = cache(
            "L1-dcache-loads",
            pb::PERF_COUNT_HW_CACHE_L1D,
            pb::PERF_COUNT_HW_CACHE_RESULT_ACCESS,
        );
        let misses = cache(
            "L1-dcache-load-misses",
            pb::PERF_COUNT_HW_CACHE_L1D,
            pb::PERF_COUNT_HW_CACHE_RESULT_MISS,
        );
        let llc_misses = cache(
            "LLC-load-misses",
            pb::PERF_COUNT_HW_CACHE_LL,
            pb::PERF_COUNT_HW_CACHE_RESULT_MISS,
        );
        assert_eq!(Role::of(&loads), Role::CacheLoads(Cache::L1Data));
        let d = Denominators::gather(1e9, [(&loads, Some(1000.0))]);
        let m = metric(&misses, 25.0, &d).unwrap();
        assert_eq!(
            (m.value, m.unit.as_str()),
            (2.5, "of all L1-dcache accesses")
        );
        assert_eq!(metric(&llc_misses, 25.0, &d), None);
        let refs = hw("cache-references", pb::PERF_COUNT_HW_CACHE_REFERENCES);
        let cm = hw("cache-misses", pb::PERF_COUNT_HW_CACHE_MISSES);
        let d = Denominators::gather(1e9, [(&refs, Some(400.0))]);
        let m = metric(&cm, 1.0, &d).unwrap();
        assert_eq!(m.text(), "   0.250 %");
        assert_eq!(m.csv_value(), "0.250");
    }

    #[test]
    fn spread_is_the_standard_error_of_the_mean_in_percent() {
        assert_eq!(relative_spread(&[1.0]), None);
        // sd = sqrt(2), standard error = 1, mean 10 -> 10%.
        let s = relative_spread(&[9.0, 11.0]).unwrap();
        assert!((s - 10.0).abs() < 1e-9, "{s}");
        assert_eq!(relative_spread(&[0.0, 0.0]), Some(0.0));
    }

    #[test]
    fn elapsed_precision_is_two_digits_past_the_spread() {
        assert_eq!(elapsed_precision(0.0000652), 7);
        assert_eq!(elapsed_precision(0.05), 4);
        assert_eq!(elapsed_precision(3.0), 2);
        assert_eq!(elapsed_precision(0.0), 9);
    }
}
