//! Event specs against THIS machine's sysfs and tracefs, and software,
//! tracepoint and breakpoint events opened for real. Expected values are
//! read from sysfs/tracefs in the test, never hard-coded.

use lwprof_events::catalog::{Catalog, CatalogKind};
use lwprof_events::counter::{CountOptions, Counter};
use lwprof_events::pmu::{PmuRegistry, DEFAULT_SYSFS_ROOT};
use lwprof_events::spec::parse_events_system;
use lwprof_events::tracefs::{Tracefs, TracepointSource};
use std::hint::black_box;

fn read_u64(path: impl AsRef<std::path::Path>) -> u64 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn single(spec: &str) -> lwprof_events::EventConfig {
    let g = parse_events_system(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    assert_eq!(g.len(), 1);
    g[0].events[0].config.clone()
}

#[test]
fn msr_tsc_resolves_to_the_msr_pmu_type() {
    let ty = read_u64(format!("{DEFAULT_SYSFS_ROOT}/msr/type")) as u32;
    let e = single("msr/tsc/");
    assert_eq!(e.type_, ty);
    let reg = PmuRegistry::system().unwrap();
    let alias = reg.alias("msr", "tsc").unwrap();
    assert_eq!(
        alias.terms,
        std::fs::read_to_string(format!("{DEFAULT_SYSFS_ROOT}/msr/events/tsc"))
            .unwrap()
            .trim()
    );
    // The software PMU is in sysfs with its ABI type.
    assert_eq!(
        reg.get("software").unwrap().type_,
        perf_event_open_sys::bindings::PERF_TYPE_SOFTWARE
    );
}

#[test]
fn sched_switch_resolves_to_its_tracefs_id() {
    let t = Tracefs::find_or_mount().unwrap();
    let id = read_u64(t.root().join("events/sched/sched_switch/id"));
    assert_eq!(t.id("sched", "sched_switch").unwrap(), Some(id));
    assert_eq!(single("sched:sched_switch").config, id);
    let all = parse_events_system("sched:*").unwrap();
    assert_eq!(all.len(), t.tracepoints("sched").unwrap().len());
    assert!(all.iter().any(|g| g.events[0].config.config == id));
}

#[test]
fn task_clock_counts_for_real() {
    let e = single("task-clock");
    let c = Counter::open(&e, 0, -1, &CountOptions::default()).unwrap();
    c.enable().unwrap();
    let mut x = 0u64;
    for i in 0..2_000_000u64 {
        x = black_box(x.wrapping_mul(31).wrapping_add(i));
    }
    c.disable().unwrap();
    assert!(c.read().unwrap().value > 0);
}

#[test]
fn page_faults_with_user_modifier_count_for_real() {
    let e = single("page-faults:u");
    assert!(e.modifiers.exclude_kernel);
    let c = Counter::open(&e, 0, -1, &CountOptions::default()).unwrap();
    c.enable().unwrap();
    // Touch fresh pages: each first write faults.
    let v = black_box(vec![1u8; 64 * 4096]);
    c.disable().unwrap();
    drop(v);
    assert!(c.read().unwrap().value > 0);
}

#[test]
fn sched_switch_tracepoint_counts_for_real() {
    let e = single("sched:sched_switch");
    let c = Counter::open(&e, 0, -1, &CountOptions::default()).unwrap();
    c.enable().unwrap();
    for _ in 0..5 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    c.disable().unwrap();
    // Each sleep switches this task out at least once.
    assert!(c.read().unwrap().value >= 5);
}

static mut WATCHED: u64 = 0;

#[test]
fn write_breakpoint_counts_every_write() {
    let addr = std::ptr::addr_of!(WATCHED) as u64;
    let e = single(&format!("mem:{addr:#x}/8:w"));
    let c = Counter::open(&e, 0, -1, &CountOptions::default()).unwrap();
    c.enable().unwrap();
    for i in 0..10u64 {
        // SAFETY: a volatile write to our own static, which only this test touches.
        unsafe { std::ptr::addr_of_mut!(WATCHED).write_volatile(i) };
    }
    c.disable().unwrap();
    assert_eq!(c.read().unwrap().value, 10);
}

#[test]
fn catalogue_of_this_machine() {
    let reg = PmuRegistry::system().unwrap();
    let t = Tracefs::find_or_mount().unwrap();
    let cat = Catalog::build(&reg, Some(&t)).unwrap();
    assert_eq!(cat.has_cpu_pmu, reg.has_cpu_pmu());
    let has = |k| cat.sections.iter().any(|s| s.kind == k);
    assert_eq!(has(CatalogKind::Hardware), reg.has_cpu_pmu());
    assert!(has(CatalogKind::Software) && has(CatalogKind::Tracepoint));
    let n_msr = reg.get("msr").map_or(0, |p| p.aliases.len());
    assert_eq!(cat.filter("msr/").len(), n_msr);
}

#[test]
fn msr_tsc_counts_for_real() {
    let e = single("msr/tsc/");
    let c = Counter::open(&e, 0, -1, &CountOptions::default()).unwrap();
    c.enable().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1));
    c.disable().unwrap();
    assert!(c.read().unwrap().value > 0);
}

#[test]
fn tracefs_mounts_where_asked() {
    let dir = std::env::temp_dir().join(format!("lwprof-tracefs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    lwprof_events::tracefs::mount_tracefs(&dir).unwrap();
    let t = Tracefs::new(&dir);
    let id = t.id("sched", "sched_switch").unwrap();
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: c is a NUL-terminated path that outlives the call.
    let rc = unsafe { libc::umount2(c.as_ptr(), 0) };
    std::fs::remove_dir(&dir).ok();
    assert_eq!(rc, 0);
    let real = Tracefs::find_or_mount().unwrap();
    assert_eq!(id, real.id("sched", "sched_switch").unwrap());
    assert!(id.is_some());
}

#[test]
fn unknown_event_message_on_this_machine() {
    let e = parse_events_system("pagefaults").unwrap_err().to_string();
    assert!(
        e.starts_with("unknown event 'pagefaults'; did you mean 'page-faults'"),
        "{e}"
    );
    eprintln!("{e}");
}
