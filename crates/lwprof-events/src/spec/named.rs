//! perf's built-in event names: software, generic hardware and hardware cache
//! events, with their aliases. Pure tables and lookups, no I/O.

use crate::attr::{EventConfig, EventKind};
use perf_event_open_sys::bindings as sys;

/// One built-in event name and its aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedEvent {
    /// The main name (the one perf lists first).
    pub name: &'static str,
    /// Other names that mean the same event.
    pub aliases: &'static [&'static str],
    /// The `PERF_COUNT_*` config.
    pub config: u64,
}

macro_rules! ev {
    ($name:expr, [$($alias:expr),*], $config:expr) => {
        NamedEvent { name: $name, aliases: &[$($alias),*], config: $config as u64 }
    };
}

/// The software events (`PERF_TYPE_SOFTWARE`).
pub const SOFTWARE: &[NamedEvent] = &[
    ev!("cpu-clock", [], sys::PERF_COUNT_SW_CPU_CLOCK),
    ev!("task-clock", [], sys::PERF_COUNT_SW_TASK_CLOCK),
    ev!("page-faults", ["faults"], sys::PERF_COUNT_SW_PAGE_FAULTS),
    ev!(
        "context-switches",
        ["cs"],
        sys::PERF_COUNT_SW_CONTEXT_SWITCHES
    ),
    ev!(
        "cpu-migrations",
        ["migrations"],
        sys::PERF_COUNT_SW_CPU_MIGRATIONS
    ),
    ev!("minor-faults", [], sys::PERF_COUNT_SW_PAGE_FAULTS_MIN),
    ev!("major-faults", [], sys::PERF_COUNT_SW_PAGE_FAULTS_MAJ),
    ev!("alignment-faults", [], sys::PERF_COUNT_SW_ALIGNMENT_FAULTS),
    ev!("emulation-faults", [], sys::PERF_COUNT_SW_EMULATION_FAULTS),
    ev!("dummy", [], sys::PERF_COUNT_SW_DUMMY),
    ev!("bpf-output", [], sys::PERF_COUNT_SW_BPF_OUTPUT),
    ev!("cgroup-switches", [], sys::PERF_COUNT_SW_CGROUP_SWITCHES),
];

/// The generic hardware events (`PERF_TYPE_HARDWARE`).
pub const HARDWARE: &[NamedEvent] = &[
    ev!("cpu-cycles", ["cycles"], sys::PERF_COUNT_HW_CPU_CYCLES),
    ev!("instructions", [], sys::PERF_COUNT_HW_INSTRUCTIONS),
    ev!("cache-references", [], sys::PERF_COUNT_HW_CACHE_REFERENCES),
    ev!("cache-misses", [], sys::PERF_COUNT_HW_CACHE_MISSES),
    ev!(
        "branch-instructions",
        ["branches"],
        sys::PERF_COUNT_HW_BRANCH_INSTRUCTIONS
    ),
    ev!("branch-misses", [], sys::PERF_COUNT_HW_BRANCH_MISSES),
    ev!("bus-cycles", [], sys::PERF_COUNT_HW_BUS_CYCLES),
    ev!(
        "stalled-cycles-frontend",
        ["idle-cycles-frontend"],
        sys::PERF_COUNT_HW_STALLED_CYCLES_FRONTEND
    ),
    ev!(
        "stalled-cycles-backend",
        ["idle-cycles-backend"],
        sys::PERF_COUNT_HW_STALLED_CYCLES_BACKEND
    ),
    ev!("ref-cycles", [], sys::PERF_COUNT_HW_REF_CPU_CYCLES),
];

/// A hardware cache (first part of a cache event name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheType {
    /// perf's main name, e.g. `L1-dcache`.
    pub name: &'static str,
    /// Other spellings perf accepts.
    pub aliases: &'static [&'static str],
    /// `PERF_COUNT_HW_CACHE_*`.
    pub id: u64,
    /// The operations perf lists for this cache (`PERF_COUNT_HW_CACHE_OP_*`).
    pub ops: &'static [u64],
}

const R: u64 = sys::PERF_COUNT_HW_CACHE_OP_READ as u64;
const W: u64 = sys::PERF_COUNT_HW_CACHE_OP_WRITE as u64;
const P: u64 = sys::PERF_COUNT_HW_CACHE_OP_PREFETCH as u64;
const ACCESS: u64 = sys::PERF_COUNT_HW_CACHE_RESULT_ACCESS as u64;
const MISS: u64 = sys::PERF_COUNT_HW_CACHE_RESULT_MISS as u64;

/// The hardware caches, in perf's order.
pub const CACHES: &[CacheType] = &[
    CacheType {
        name: "L1-dcache",
        aliases: &["l1-d", "l1d", "L1-data"],
        id: sys::PERF_COUNT_HW_CACHE_L1D as u64,
        ops: &[R, W, P],
    },
    CacheType {
        name: "L1-icache",
        aliases: &["l1-i", "l1i", "L1-instruction"],
        id: sys::PERF_COUNT_HW_CACHE_L1I as u64,
        ops: &[R, P],
    },
    CacheType {
        name: "LLC",
        aliases: &["L2"],
        id: sys::PERF_COUNT_HW_CACHE_LL as u64,
        ops: &[R, W, P],
    },
    CacheType {
        name: "dTLB",
        aliases: &["d-tlb", "Data-TLB"],
        id: sys::PERF_COUNT_HW_CACHE_DTLB as u64,
        ops: &[R, W, P],
    },
    CacheType {
        name: "iTLB",
        aliases: &["i-tlb", "Instruction-TLB"],
        id: sys::PERF_COUNT_HW_CACHE_ITLB as u64,
        ops: &[R],
    },
    CacheType {
        name: "branch",
        aliases: &["branches", "bpu", "btb", "bpc"],
        id: sys::PERF_COUNT_HW_CACHE_BPU as u64,
        ops: &[R],
    },
    CacheType {
        name: "node",
        aliases: &[],
        id: sys::PERF_COUNT_HW_CACHE_NODE as u64,
        ops: &[R, W, P],
    },
];

/// perf's spellings of cache operations: (op, main singular, main plural, others).
const OPS: &[(u64, &str, &str, &[&str])] = &[
    (R, "load", "loads", &["read"]),
    (W, "store", "stores", &["write"]),
    (
        P,
        "prefetch",
        "prefetches",
        &["speculative-read", "speculative-load"],
    ),
];

/// perf's spellings of cache results: (result, names).
const RESULTS: &[(u64, &[&str])] = &[
    (ACCESS, &["refs", "Reference", "ops", "access"]),
    (MISS, &["misses", "miss"]),
];

/// A software event by name or alias (case-insensitive).
pub fn software(name: &str) -> Option<&'static NamedEvent> {
    find(SOFTWARE, name)
}

/// A generic hardware event by name or alias (case-insensitive).
pub fn hardware(name: &str) -> Option<&'static NamedEvent> {
    find(HARDWARE, name)
}

fn find(table: &'static [NamedEvent], name: &str) -> Option<&'static NamedEvent> {
    table.iter().find(|e| {
        e.name.eq_ignore_ascii_case(name) || e.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// Strips `word` and a following `-` (or the end) from the front of `s`,
/// ignoring case. Returns the rest, or `None` when `s` does not start so.
fn strip_word<'s>(s: &'s str, word: &str) -> Option<&'s str> {
    if s.len() < word.len() || !s.is_char_boundary(word.len()) {
        return None;
    }
    let (head, rest) = s.split_at(word.len());
    if !head.eq_ignore_ascii_case(word) {
        return None;
    }
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_prefix('-')
    }
}

/// Decodes a hardware cache event name (`L1-dcache-load-misses`, `LLC-loads`,
/// `dTLB-misses`, `branch-loads`...) to its config
/// `id | op << 8 | result << 16`. Without an op, perf's default is load;
/// without a result, access.
pub fn cache_config(name: &str) -> Option<u64> {
    for cache in CACHES {
        for cname in std::iter::once(&cache.name).chain(cache.aliases) {
            let Some(rest) = strip_word(name, cname) else {
                continue;
            };
            if let Some(c) = cache_op_result(rest) {
                return Some(cache.id | c);
            }
        }
    }
    None
}

fn cache_op_result(rest: &str) -> Option<u64> {
    let mut op = R;
    let mut rest = rest;
    'ops: for (o, single, plural, others) in OPS {
        // A plural op (`loads`) means access and takes no result after it.
        if let Some("") = strip_word(rest, plural) {
            return Some(o << 8 | ACCESS << 16);
        }
        for w in std::iter::once(single).chain(others.iter()) {
            if let Some(r) = strip_word(rest, w) {
                op = *o;
                rest = r;
                break 'ops;
            }
        }
    }
    if rest.is_empty() {
        return Some(op << 8 | ACCESS << 16);
    }
    for (res, names) in RESULTS {
        if names.iter().any(|n| rest.eq_ignore_ascii_case(n)) {
            return Some(op << 8 | res << 16);
        }
    }
    None
}

/// The cache event names perf lists: for every cache and each of its ops,
/// `<cache>-<ops>` (access) and `<cache>-<op>-misses`, with their configs.
pub fn cache_events() -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for cache in CACHES {
        for &op in cache.ops {
            let Some((_, single, plural, _)) = OPS.iter().find(|o| o.0 == op) else {
                continue;
            };
            out.push((
                format!("{}-{}", cache.name, plural),
                cache.id | op << 8 | ACCESS << 16,
            ));
            out.push((
                format!("{}-{}-misses", cache.name, single),
                cache.id | op << 8 | MISS << 16,
            ));
        }
    }
    out
}

/// Resolves a built-in name (software, hardware, cache) to its config, with
/// `shown` as the display name. `None` when it is not a built-in name.
pub fn lookup(name: &str, shown: &str) -> Option<EventConfig> {
    if let Some(e) = software(name) {
        return Some(EventConfig::software(shown, e.config));
    }
    if let Some(e) = hardware(name) {
        return Some(EventConfig::hardware(shown, e.config));
    }
    cache_config(name)
        .map(|c| EventConfig::new(shown, EventKind::HardwareCache, sys::PERF_TYPE_HW_CACHE, c))
}

/// Every built-in name and alias, for "did you mean" suggestions.
pub fn all_names() -> Vec<String> {
    let mut v: Vec<String> = SOFTWARE
        .iter()
        .chain(HARDWARE)
        .flat_map(|e| std::iter::once(e.name).chain(e.aliases.iter().copied()))
        .map(str::to_string)
        .collect();
    v.extend(cache_events().into_iter().map(|(n, _)| n));
    v
}
