//! Resolution against the fake sysfs tree (`tests/data/sysfs`: a `cpu` PMU
//! with event/umask/cmask/inv/edge/any formats and aliases, an `msr` PMU, an
//! uncore PMU with a scaled alias) and the fake tracefs (`tests/data/tracefs`),
//! plus the catalogue built from them and the error messages.

use lwprof_events::catalog::{Catalog, CatalogKind};
use lwprof_events::pmu::{ConfigWord, PmuRegistry};
use lwprof_events::spec::{parse_events, EventGroupSpec, SpecError};
use lwprof_events::tracefs::{Tracefs, TracepointSource};
use lwprof_events::EventKind;
use perf_event_open_sys::bindings as sys;
use std::path::PathBuf;

fn data(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

fn registry() -> PmuRegistry {
    PmuRegistry::discover(data("sysfs")).unwrap()
}

fn tracefs() -> Tracefs {
    Tracefs::new(data("tracefs"))
}

fn resolve(spec: &str) -> Result<Vec<EventGroupSpec>, SpecError> {
    let t = tracefs();
    parse_events(spec, &registry(), Some(&t as &dyn TracepointSource))
}

fn one(spec: &str) -> lwprof_events::ResolvedEvent {
    let mut g = resolve(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].events.len(), 1);
    g.remove(0).events.remove(0)
}

fn err(spec: &str) -> String {
    match resolve(spec) {
        Ok(g) => panic!("{spec} resolved: {g:?}"),
        Err(e) => {
            let s = e.to_string();
            assert!(!s.contains('\n'), "multi-line error: {s}");
            s
        }
    }
}

#[test]
fn registry_reads_the_fake_tree() {
    let r = registry();
    assert_eq!(r.names(), vec!["cpu", "msr", "uncore_imc_0"]);
    assert!(r.has_cpu_pmu());
    let cpu = r.get("cpu").unwrap();
    assert_eq!(cpu.type_, 4);
    assert_eq!(cpu.formats.len(), 8);
    assert_eq!(cpu.formats["cmask"].word, ConfigWord::Config);
    assert_eq!(cpu.formats["ldlat"].word, ConfigWord::Config1);
    assert_eq!(
        cpu.aliases["mem-loads"].terms,
        "event=0xcd,umask=0x1,ldlat=3"
    );
    assert_eq!(cpu.cpumask, None);
    assert_eq!(r.get("uncore_imc_0").unwrap().cpumask.as_deref(), Some("0"));
    assert_eq!(
        r.alias_scale("cpu", "topdown-total-slots"),
        (4.0, Some("slots"))
    );
    assert_eq!(r.alias_scale("msr", "tsc"), (1.0, None));
    assert_eq!(r.by_type(9).unwrap().name, "msr");
    // A registry without a CPU PMU flags hardware events unavailable.
    let no_cpu = PmuRegistry::from_pmus(r.pmus().filter(|p| p.name != "cpu").cloned());
    assert!(!no_cpu.has_cpu_pmu());
    // A missing root is an empty registry, not an error.
    assert_eq!(
        PmuRegistry::discover(data("nowhere"))
            .unwrap()
            .names()
            .len(),
        0
    );
}

#[test]
fn software_events_and_aliases() {
    let cases: &[(&str, u32)] = &[
        ("cpu-clock", sys::PERF_COUNT_SW_CPU_CLOCK),
        ("task-clock", sys::PERF_COUNT_SW_TASK_CLOCK),
        ("page-faults", sys::PERF_COUNT_SW_PAGE_FAULTS),
        ("faults", sys::PERF_COUNT_SW_PAGE_FAULTS),
        ("minor-faults", sys::PERF_COUNT_SW_PAGE_FAULTS_MIN),
        ("major-faults", sys::PERF_COUNT_SW_PAGE_FAULTS_MAJ),
        ("context-switches", sys::PERF_COUNT_SW_CONTEXT_SWITCHES),
        ("cs", sys::PERF_COUNT_SW_CONTEXT_SWITCHES),
        ("cpu-migrations", sys::PERF_COUNT_SW_CPU_MIGRATIONS),
        ("migrations", sys::PERF_COUNT_SW_CPU_MIGRATIONS),
        ("alignment-faults", sys::PERF_COUNT_SW_ALIGNMENT_FAULTS),
        ("emulation-faults", sys::PERF_COUNT_SW_EMULATION_FAULTS),
        ("dummy", sys::PERF_COUNT_SW_DUMMY),
        ("bpf-output", sys::PERF_COUNT_SW_BPF_OUTPUT),
        ("cgroup-switches", sys::PERF_COUNT_SW_CGROUP_SWITCHES),
    ];
    for &(name, config) in cases {
        let e = one(name).config;
        assert_eq!(
            (e.kind, e.type_, e.config),
            (EventKind::Software, sys::PERF_TYPE_SOFTWARE, config as u64),
            "{name}"
        );
        assert_eq!(e.name, name);
    }
}

#[test]
fn hardware_events_and_aliases() {
    let cases: &[(&str, u32)] = &[
        ("cycles", sys::PERF_COUNT_HW_CPU_CYCLES),
        ("cpu-cycles", sys::PERF_COUNT_HW_CPU_CYCLES),
        ("instructions", sys::PERF_COUNT_HW_INSTRUCTIONS),
        ("branches", sys::PERF_COUNT_HW_BRANCH_INSTRUCTIONS),
        (
            "branch-instructions",
            sys::PERF_COUNT_HW_BRANCH_INSTRUCTIONS,
        ),
        ("branch-misses", sys::PERF_COUNT_HW_BRANCH_MISSES),
        ("cache-references", sys::PERF_COUNT_HW_CACHE_REFERENCES),
        ("cache-misses", sys::PERF_COUNT_HW_CACHE_MISSES),
        ("bus-cycles", sys::PERF_COUNT_HW_BUS_CYCLES),
        ("ref-cycles", sys::PERF_COUNT_HW_REF_CPU_CYCLES),
        (
            "stalled-cycles-frontend",
            sys::PERF_COUNT_HW_STALLED_CYCLES_FRONTEND,
        ),
        (
            "idle-cycles-frontend",
            sys::PERF_COUNT_HW_STALLED_CYCLES_FRONTEND,
        ),
        (
            "stalled-cycles-backend",
            sys::PERF_COUNT_HW_STALLED_CYCLES_BACKEND,
        ),
        (
            "idle-cycles-backend",
            sys::PERF_COUNT_HW_STALLED_CYCLES_BACKEND,
        ),
    ];
    for &(name, config) in cases {
        let e = one(name).config;
        assert_eq!(
            (e.kind, e.type_, e.config),
            (EventKind::Hardware, sys::PERF_TYPE_HARDWARE, config as u64),
            "{name}"
        );
    }
}

#[test]
fn cache_events_follow_perfs_naming() {
    use sys::*;
    let cfg = |id: u32, op: u32, res: u32| id as u64 | (op as u64) << 8 | (res as u64) << 16;
    let (r, w, p) = (
        PERF_COUNT_HW_CACHE_OP_READ,
        PERF_COUNT_HW_CACHE_OP_WRITE,
        PERF_COUNT_HW_CACHE_OP_PREFETCH,
    );
    let (acc, miss) = (
        PERF_COUNT_HW_CACHE_RESULT_ACCESS,
        PERF_COUNT_HW_CACHE_RESULT_MISS,
    );
    let cases = [
        ("L1-dcache-loads", cfg(PERF_COUNT_HW_CACHE_L1D, r, acc)),
        (
            "L1-dcache-load-misses",
            cfg(PERF_COUNT_HW_CACHE_L1D, r, miss),
        ),
        ("L1-dcache-stores", cfg(PERF_COUNT_HW_CACHE_L1D, w, acc)),
        (
            "L1-dcache-store-misses",
            cfg(PERF_COUNT_HW_CACHE_L1D, w, miss),
        ),
        ("L1-dcache-prefetches", cfg(PERF_COUNT_HW_CACHE_L1D, p, acc)),
        (
            "L1-dcache-prefetch-misses",
            cfg(PERF_COUNT_HW_CACHE_L1D, p, miss),
        ),
        (
            "L1-icache-load-misses",
            cfg(PERF_COUNT_HW_CACHE_L1I, r, miss),
        ),
        ("l1i-loads", cfg(PERF_COUNT_HW_CACHE_L1I, r, acc)),
        ("LLC-loads", cfg(PERF_COUNT_HW_CACHE_LL, r, acc)),
        ("LLC-load-misses", cfg(PERF_COUNT_HW_CACHE_LL, r, miss)),
        ("LLC-misses", cfg(PERF_COUNT_HW_CACHE_LL, r, miss)),
        ("LLC-store-misses", cfg(PERF_COUNT_HW_CACHE_LL, w, miss)),
        ("dTLB-load-misses", cfg(PERF_COUNT_HW_CACHE_DTLB, r, miss)),
        ("dTLB-stores", cfg(PERF_COUNT_HW_CACHE_DTLB, w, acc)),
        ("iTLB-loads", cfg(PERF_COUNT_HW_CACHE_ITLB, r, acc)),
        ("iTLB-load-misses", cfg(PERF_COUNT_HW_CACHE_ITLB, r, miss)),
        ("branch-loads", cfg(PERF_COUNT_HW_CACHE_BPU, r, acc)),
        ("branch-load-misses", cfg(PERF_COUNT_HW_CACHE_BPU, r, miss)),
        ("node-loads", cfg(PERF_COUNT_HW_CACHE_NODE, r, acc)),
        ("node-store-misses", cfg(PERF_COUNT_HW_CACHE_NODE, w, miss)),
        ("node-prefetches", cfg(PERF_COUNT_HW_CACHE_NODE, p, acc)),
        ("L1-dcache-read-miss", cfg(PERF_COUNT_HW_CACHE_L1D, r, miss)),
        (
            "LLC-speculative-read-misses",
            cfg(PERF_COUNT_HW_CACHE_LL, p, miss),
        ),
        ("dTLB", cfg(PERF_COUNT_HW_CACHE_DTLB, r, acc)),
    ];
    for (name, config) in cases {
        let e = one(name).config;
        assert_eq!(
            (e.kind, e.type_, e.config),
            (EventKind::HardwareCache, PERF_TYPE_HW_CACHE, config),
            "{name}"
        );
    }
    assert!(err("LLC-bogus").starts_with("unknown event 'LLC-bogus'"));
}

#[test]
fn raw_and_breakpoint_configs() {
    let e = one("r1a8:u").config;
    assert_eq!(
        (e.kind, e.type_, e.config),
        (EventKind::Raw, sys::PERF_TYPE_RAW, 0x1a8)
    );
    assert!(e.modifiers.exclude_kernel && !e.modifiers.exclude_user);
    let e = one("mem:0x1000/8:w").config;
    assert_eq!(e.kind, EventKind::Breakpoint);
    assert_eq!(e.type_, sys::PERF_TYPE_BREAKPOINT);
    assert_eq!(
        (e.config1, e.config2, e.bp_type),
        (0x1000, 8, sys::HW_BREAKPOINT_W)
    );
}

#[test]
fn pmu_terms_are_encoded_through_format() {
    let e = one("cpu/event=0x3c,umask=0x01,edge,any,inv,cmask=2/").config;
    assert_eq!(e.kind, EventKind::Pmu("cpu".into()));
    assert_eq!(e.type_, 4);
    assert_eq!(
        e.config,
        0x3c | 0x01 << 8 | 1 << 18 | 1 << 21 | 1 << 23 | 2 << 24
    );
    // config1 and a split config3 field.
    let e = one("cpu/event=1,ldlat=30,split=0x1f/").config;
    assert_eq!((e.config, e.config1), (1, 30));
    assert_eq!(e.config3, 0xf | 1 << 60);
    // Direct config words and the display name.
    let r = one("cpu/config=0x1234,config2=7,name=mine,period=1000,freq=99/k");
    assert_eq!((r.config.config, r.config.config2), (0x1234, 7));
    assert_eq!(r.config.name, "mine");
    assert_eq!((r.sample_period, r.sample_freq), (Some(1000), Some(99)));
    assert!(r.config.modifiers.exclude_user);
    // A later term overrides the same field.
    assert_eq!(one("cpu/event=1,event=2/").config.config, 2);
}

#[test]
fn pmu_aliases_expand_to_their_terms() {
    let e = one("msr/tsc/").config;
    assert_eq!((e.type_, e.config, e.name.as_str()), (9, 0, "msr/tsc/"));
    assert_eq!(one("msr/aperf/").config.config, 1);
    let e = one("msr/tsc/u").config;
    assert!(e.modifiers.exclude_kernel && e.modifiers.exclude_hv);
    // An alias with several terms, one of them in config1, then overridden.
    let e = one("cpu/mem-loads/").config;
    assert_eq!((e.config, e.config1), (0xcd | 1 << 8, 3));
    let e = one("cpu/mem-loads,ldlat=50/").config;
    assert_eq!((e.config, e.config1), (0xcd | 1 << 8, 50));
    // Scale and unit come with the event.
    let r = one("uncore_imc_0/cas_count_read/");
    assert_eq!((r.config.type_, r.config.config), (13, 0x04 | 0x03 << 8));
    assert_eq!((r.scale, r.unit.as_deref()), (6.103515625e-5, Some("MiB")));
    let r = one("cpu/topdown-total-slots/");
    assert_eq!((r.scale, r.unit.as_deref()), (4.0, Some("slots")));
    // A bare alias name finds its PMU.
    let r = one("tsc");
    assert_eq!((r.config.type_, r.config.name.as_str()), (9, "msr/tsc/"));
}

#[test]
fn tracepoints_resolve_to_tracefs_ids() {
    let e = one("sched:sched_switch").config;
    assert_eq!(
        (e.kind, e.type_, e.config),
        (EventKind::Tracepoint, sys::PERF_TYPE_TRACEPOINT, 316)
    );
    let e = one("sched:sched_wakeup:k").config;
    assert_eq!(e.config, 318);
    assert!(e.modifiers.exclude_user);
    // A glob outside braces gives one independent item per tracepoint.
    let g = resolve("sched:*:u").unwrap();
    let names: Vec<_> = g.iter().map(|g| g.events[0].config.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "sched:sched_process_exec:u",
            "sched:sched_switch:u",
            "sched:sched_wakeup:u"
        ]
    );
    assert!(g
        .iter()
        .all(|g| !g.is_group && g.events[0].config.modifiers.exclude_kernel));
    let ids: Vec<_> = g.iter().map(|g| g.events[0].config.config).collect();
    assert_eq!(ids, [300, 316, 318]);
    // Inside braces the expansion stays one group.
    let g = resolve("{syscalls:sys_*_read}").unwrap();
    assert_eq!(g.len(), 1);
    assert_eq!(
        g[0].configs().iter().map(|c| c.config).collect::<Vec<_>>(),
        [700, 699]
    );
    assert_eq!(resolve("*:irq_*").unwrap()[0].events[0].config.config, 100);
    assert!(err("sched:nothing_*").starts_with("no tracepoint matches 'sched:nothing_*'"));
}

#[test]
fn groups_resolve_with_group_modifiers() {
    let g = resolve("{cpu-clock,page-faults:k}:u,task-clock,{msr/tsc/,cs}").unwrap();
    assert_eq!(g.len(), 3);
    assert!(g[0].is_group && !g[1].is_group && g[2].is_group);
    let m0 = g[0].events[0].config.modifiers;
    assert!(m0.exclude_kernel && m0.exclude_hv && !m0.exclude_user);
    // The member's own :k and the group's :u both apply.
    let m1 = g[0].events[1].config.modifiers;
    assert!(m1.exclude_kernel && m1.exclude_user);
    assert_eq!(g[2].configs().len(), 2);
    assert_eq!(g[2].configs()[0].type_, 9);
}

#[test]
fn unknown_event_suggests_close_names() {
    let e = err("pagefaults");
    assert!(
        e.starts_with("unknown event 'pagefaults'; did you mean 'page-faults'"),
        "{e}"
    );
    assert!(e.ends_with("? (run `lwprof list`)"), "{e}");
    let e = err("task-clok");
    assert!(e.contains("did you mean 'task-clock'"), "{e}");
    let e = err("cylces");
    assert!(e.contains("'cycles'"), "{e}");
    // Nothing close: no guess, still the hint.
    assert_eq!(
        err("zzzzzzzzzzzzzzzz"),
        "unknown event 'zzzzzzzzzzzzzzzz' (run `lwprof list`)"
    );
}

#[test]
fn pmu_errors_name_the_fix() {
    let e = err("cpuu/event=1/");
    assert_eq!(e, "unknown PMU 'cpuu' in 'cpuu/event=1/'; did you mean 'cpu'?; the PMUs here are cpu, msr, uncore_imc_0");
    let e = err("cpu/evnt=1/");
    assert!(e.starts_with("unknown term 'evnt' for PMU 'cpu' in 'cpu/evnt=1/'; valid terms are any, cmask, edge, event, inv, ldlat, split, umask, config"), "{e}");
    let e = err("cpu/event=0x100/");
    assert_eq!(e, "value 0x100 of 'event' does not fit its 8-bit field (config:0-7) in 'cpu/event=0x100/'; the largest is 0xff");
    assert!(err("cpu/split=0x100/").contains("8-bit field (config3:0-3,60-63)"));
    assert!(err("cpu/event=abc/").contains("'abc' is not a number"));
    assert!(err("cpu/event=1,call-graph=dwarf/").contains("use `--call-graph`"));
    assert!(err("cpu/period=x/").contains("period needs a number"));
    assert!(err("msr/tsc=1/").contains("takes no value"));
    assert!(err("msr/nope/").contains("unknown term 'nope' for PMU 'msr'"));
}

#[test]
fn tracepoint_errors_suggest() {
    let e = err("sched:sched_swich");
    assert_eq!(e, "unknown tracepoint 'sched:sched_swich'; did you mean 'sched:sched_switch'?; run `lwprof list 'sched:*'`");
    let e = err("shed:sched_switch");
    assert!(e.contains("did you mean 'sched:sched_switch'"), "{e}");
    let reg = registry();
    let e = parse_events("sched:sched_switch", &reg, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("needs tracefs") && e.contains("mount -t tracefs"),
        "{e}"
    );
}

#[test]
fn spec_error_converts_into_the_crate_error() {
    let e: lwprof_events::Error = resolve("pagefaults").unwrap_err().into();
    assert!(matches!(
        e,
        lwprof_events::Error::Spec(SpecError::UnknownEvent { .. })
    ));
    assert!(e.to_string().starts_with("unknown event 'pagefaults'"));
}

#[test]
fn catalogue_lists_every_usable_event() {
    let t = tracefs();
    let reg = registry();
    let cat = Catalog::build(&reg, Some(&t)).unwrap();
    let kinds: Vec<_> = cat.sections.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            CatalogKind::Hardware,
            CatalogKind::Software,
            CatalogKind::HardwareCache,
            CatalogKind::PmuAlias,
            CatalogKind::Raw,
            CatalogKind::Breakpoint,
            CatalogKind::Tracepoint
        ]
    );
    let names: Vec<String> = cat.entries().map(|e| e.display_name()).collect();
    for n in [
        "page-faults OR faults",
        "cpu-cycles OR cycles",
        "LLC-load-misses",
        "msr/tsc/",
        "cpu/mem-loads/",
        "sched:sched_switch",
        "rNNN",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    // Every listed name (not descriptors) resolves.
    let t_dyn: &dyn TracepointSource = &t;
    for e in cat
        .entries()
        .filter(|e| !matches!(e.kind, CatalogKind::Raw | CatalogKind::Breakpoint))
    {
        for n in std::iter::once(&e.name).chain(&e.aliases) {
            parse_events(n, &reg, Some(t_dyn)).unwrap_or_else(|err| panic!("{n}: {err}"));
        }
    }
    // No CPU PMU: no hardware or cache events.
    let no_cpu = PmuRegistry::from_pmus(reg.pmus().filter(|p| p.name != "cpu").cloned());
    let cat2 = Catalog::build(&no_cpu, None).unwrap();
    assert!(!cat2.has_cpu_pmu);
    assert!(cat2.sections.iter().all(|s| !matches!(
        s.kind,
        CatalogKind::Hardware | CatalogKind::HardwareCache | CatalogKind::Tracepoint
    )));
    // Filters: substring, glob, section keyword.
    let f = cat.filter("fault");
    assert!(f.entries().all(|e| e.display_name().contains("fault")));
    assert_eq!(f.len(), 5);
    let f = cat.filter("sched:*");
    assert_eq!(
        f.entries().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        [
            "sched:sched_process_exec",
            "sched:sched_switch",
            "sched:sched_wakeup"
        ]
    );
    assert_eq!(cat.filter("sw").len(), 12);
    assert_eq!(cat.filter("msr/").len(), 2);
    assert!(cat.filter("no-such-thing").is_empty());
}
