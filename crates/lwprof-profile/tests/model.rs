//! The profile model on crafted samples: stack interning, thread and
//! mapping bookkeeping, top self/total percentages, filters, no-inline
//! collapse and the call-graph threshold. The functions, their addresses
//! and the resolver are `lwprof_testkit::fixture`'s; the samples are these
//! tests' own.

use lwprof_profile::model::{
    AddressSpace, CallGraphOptions, CallGraphOrder, CallNode, EventIndex, FrameAddress, FrameMode,
    MappingInput, Profile, ProfileBuilder, SampleFilter, SampleInput, SampleKind, SortKey,
    TopOptions, TopOrder,
};
use lwprof_testkit::fixture::{addr, chain, map_user, resolve, APP};

struct Fixture {
    b: ProfileBuilder,
    ev: EventIndex,
}

impl Fixture {
    fn new() -> Self {
        let mut b = ProfileBuilder::new();
        let ev = b.add_event("cpu-clock");
        for pid in [10u32, 20] {
            b.comm(pid, pid, 0, b"app", true);
            map_user(&mut b, pid, 0, None);
        }
        Fixture { b, ev }
    }

    fn sample(&mut self, pid: u32, tid: u32, time: u64, weight: u64, stack: &[&str]) {
        let callchain = chain(stack);
        self.b.sample(&SampleInput {
            pid,
            tid,
            time,
            cpu: 0,
            event: self.ev,
            weight,
            kind: SampleKind::OnCpu,
            callchain: &callchain,
        });
    }
}

/// Samples (weights): main>foo>bar 10, main>foo 5, main>baz 3,
/// main>foo>foo 2 (recursion), libc memcpy from bar 4 (pid 20, tid 21),
/// total 24.
fn standard() -> Profile {
    let mut f = Fixture::new();
    f.sample(10, 10, 100, 10, &["bar", "foo", "main"]);
    f.sample(10, 10, 200, 5, &["foo", "main"]);
    f.sample(10, 11, 300, 3, &["baz", "main"]);
    f.sample(10, 11, 400, 2, &["foo", "foo", "main"]);
    f.sample(20, 21, 500, 4, &["memcpy", "bar", "foo", "main"]);
    let mut p = f.b.finish();
    resolve(&mut p);
    p
}

fn row<'a>(
    r: &'a lwprof_profile::model::TopReport,
    symbol: &str,
) -> &'a lwprof_profile::model::TopRow {
    r.rows
        .iter()
        .find(|x| x.symbol.as_deref() == Some(symbol))
        .unwrap_or_else(|| panic!("no row {symbol} in {:#?}", r.rows))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn stacks_are_interned_as_a_prefix_tree() {
    let mut f = Fixture::new();
    f.sample(10, 10, 1, 1, &["bar", "foo", "main"]);
    f.sample(10, 10, 2, 1, &["bar", "foo", "main"]);
    f.sample(20, 20, 3, 1, &["bar", "foo", "main"]);
    f.sample(10, 10, 4, 1, &["baz", "foo", "main"]);
    f.sample(10, 10, 5, 1, &[]);
    let p = f.b.finish();
    let s = p.samples();
    assert_eq!(s[0].stack, s[1].stack);
    // Two processes map the same file at the same offsets: same locations.
    assert_eq!(s[0].stack, s[2].stack);
    assert_ne!(s[0].stack, s[3].stack);
    assert_eq!(s[4].stack, None);
    // main, main>foo, main>foo>bar, main>foo>baz.
    assert_eq!(p.stacks().len(), 4);
    assert_eq!(p.locations().len(), 4);
    let parent_of_bar = s[0].stack.map(|id| p.stack(id).parent);
    let parent_of_baz = s[3].stack.map(|id| p.stack(id).parent);
    assert_eq!(parent_of_bar, parent_of_baz);
    // Return addresses were looked up at address - 1: the location of a
    // caller is inside the function.
    let foo_loc = p
        .stack_locations(s[0].stack)
        .nth(1)
        .map(|l| *p.location(l))
        .expect("foo");
    assert_eq!(foo_loc.address, addr("foo") - APP);
    // Unsymbolized frames are named after the address as recorded (return
    // addresses as they are), as perf prints them in call chains.
    let names: Vec<&str> = p
        .stack_frames(s[0].stack, true)
        .map(|fr| p.frame_function(fr.frame))
        .collect();
    assert_eq!(names, ["0x400310", "0x400211", "0x400111"]);
    assert!(std::mem::size_of::<lwprof_profile::model::Sample>() <= 64);
}

#[test]
fn top_self_and_total_percentages() {
    let p = standard();
    let r = p.top(&TopOptions {
        keys: vec![SortKey::Symbol],
        ..TopOptions::default()
    });
    assert_eq!(r.total_weight, 24);
    assert_eq!(r.total_samples, 5);
    let expect = [
        // (symbol, self, total)
        ("inl", 10, 14),
        ("foo", 7, 21),
        ("memcpy", 4, 4),
        ("baz", 3, 3),
        ("main", 0, 24),
        ("bar", 0, 14),
    ];
    for (sym, self_w, total_w) in expect {
        let x = row(&r, sym);
        assert_eq!((x.self_weight, x.total_weight), (self_w, total_w), "{sym}");
        assert!(close(x.self_percent, self_w as f64 * 100.0 / 24.0), "{sym}");
        assert!(
            close(x.total_percent, total_w as f64 * 100.0 / 24.0),
            "{sym}"
        );
    }
    assert_eq!(r.rows.len(), expect.len());
    // Ordered by self weight, heaviest first.
    let order: Vec<_> = r
        .rows
        .iter()
        .map(|x| x.symbol.clone().unwrap_or_default())
        .collect();
    assert_eq!(&order[..4], ["inl", "foo", "memcpy", "baz"]);
    let by_total = p.top(&TopOptions {
        keys: vec![SortKey::Symbol],
        order: TopOrder::TotalWeight,
        limit: Some(2),
        ..TopOptions::default()
    });
    let order: Vec<_> = by_total
        .rows
        .iter()
        .map(|x| x.symbol.clone().unwrap_or_default())
        .collect();
    assert_eq!(order, ["main", "foo"]);
}

#[test]
fn top_grouped_by_comm_pid_tid_and_dso() {
    let p = standard();
    let r = p.top(&TopOptions::default());
    let memcpy = row(&r, "memcpy");
    assert_eq!(memcpy.dso.as_deref(), Some("libc.so.6"));
    assert_eq!(memcpy.comm.as_deref(), Some("app"));
    assert_eq!(memcpy.mode, Some(FrameMode::User));

    let by_dso = p.top(&TopOptions {
        keys: vec![SortKey::Dso],
        ..TopOptions::default()
    });
    let dsos: Vec<_> = by_dso
        .rows
        .iter()
        .map(|x| {
            (
                x.dso.clone().unwrap_or_default(),
                x.self_weight,
                x.total_weight,
            )
        })
        .collect();
    assert_eq!(
        dsos,
        [("app".to_string(), 20, 24), ("libc.so.6".to_string(), 4, 4)]
    );

    let by_tid = p.top(&TopOptions {
        keys: vec![SortKey::Pid, SortKey::Tid],
        ..TopOptions::default()
    });
    let tids: Vec<_> = by_tid
        .rows
        .iter()
        .map(|x| (x.pid, x.tid, x.self_weight, x.total_weight))
        .collect();
    assert_eq!(
        tids,
        [
            (Some(10), Some(10), 15, 15),
            (Some(10), Some(11), 5, 5),
            (Some(20), Some(21), 4, 4)
        ]
    );
}

#[test]
fn filters() {
    let p = standard();
    let weight = |filter: SampleFilter| -> u64 {
        let a = p
            .top(&TopOptions {
                filter: filter.clone(),
                ..TopOptions::default()
            })
            .total_weight;
        let b: u64 = p.filtered_samples(&filter).map(|s| s.weight).sum();
        let c: u64 = p.stack_weights(&filter).iter().map(|s| s.weight).sum();
        assert_eq!((a, a), (b, c));
        a
    };
    assert_eq!(weight(SampleFilter::default()), 24);
    assert_eq!(
        weight(SampleFilter {
            pids: vec![20],
            ..Default::default()
        }),
        4
    );
    assert_eq!(
        weight(SampleFilter {
            tids: vec![11],
            ..Default::default()
        }),
        5
    );
    assert_eq!(
        weight(SampleFilter {
            comms: vec!["app".into()],
            ..Default::default()
        }),
        24
    );
    assert_eq!(
        weight(SampleFilter {
            comms: vec!["nope".into()],
            ..Default::default()
        }),
        0
    );
    assert_eq!(
        weight(SampleFilter {
            dsos: vec!["libc.so.6".into()],
            ..Default::default()
        }),
        4
    );
    assert_eq!(
        weight(SampleFilter {
            dsos: vec!["/usr/bin/app".into()],
            ..Default::default()
        }),
        20
    );
    assert_eq!(
        weight(SampleFilter {
            time_start: Some(200),
            time_end: Some(400),
            ..Default::default()
        }),
        8
    );
    assert_eq!(
        weight(SampleFilter {
            kind: Some(SampleKind::OffCpu),
            ..Default::default()
        }),
        0
    );
    // Percentages are relative to the filtered total.
    let r = p.top(&TopOptions {
        keys: vec![SortKey::Symbol],
        filter: SampleFilter {
            pids: vec![10],
            ..Default::default()
        },
        ..TopOptions::default()
    });
    assert!(close(row(&r, "foo").total_percent, 100.0 * 17.0 / 20.0));
}

#[test]
fn no_inline_charges_inlined_code_to_its_caller() {
    let p = standard();
    let opts = TopOptions {
        keys: vec![SortKey::Symbol],
        no_inline: true,
        ..TopOptions::default()
    };
    let r = p.top(&opts);
    assert!(r.rows.iter().all(|x| x.symbol.as_deref() != Some("inl")));
    let bar = row(&r, "bar");
    assert_eq!((bar.self_weight, bar.total_weight), (10, 14));
    let s = p.samples()[0].stack;
    let with: Vec<_> = p
        .stack_frames(s, true)
        .map(|f| p.frame_function(f.frame))
        .collect();
    let without: Vec<_> = p
        .stack_frames(s, false)
        .map(|f| p.frame_function(f.frame))
        .collect();
    assert_eq!(with, ["inl", "bar", "foo", "main"]);
    assert_eq!(without, ["bar", "foo", "main"]);
    let inl = p
        .stack_frames(s, true)
        .next()
        .map(|f| *p.frame(f.frame))
        .expect("leaf");
    assert!(inl.inlined && inl.resolved);
}

fn find<'a>(nodes: &'a [CallNode], symbol: &str) -> Option<&'a CallNode> {
    nodes.iter().find(|n| n.symbol == symbol)
}

#[test]
fn call_graph_caller_callee_and_threshold() {
    let p = standard();
    let tree = p.call_graph(&CallGraphOptions {
        threshold_percent: 0.0,
        no_inline: true,
        ..CallGraphOptions::default()
    });
    assert_eq!(tree.total_weight, 24);
    assert_eq!(tree.roots.len(), 1);
    let main = &tree.roots[0];
    assert_eq!(
        (main.symbol.as_str(), main.total_weight, main.self_weight),
        ("main", 24, 0)
    );
    assert!(close(main.percent, 100.0));
    let foo = find(&main.children, "foo").expect("main>foo");
    assert_eq!((foo.total_weight, foo.self_weight), (21, 5));
    let baz = find(&main.children, "baz").expect("main>baz");
    assert!(close(baz.percent, 12.5));
    let foo_foo = find(&foo.children, "foo").expect("recursion is a nested node");
    assert_eq!(foo_foo.total_weight, 2);
    let bar = find(&foo.children, "bar").expect("main>foo>bar");
    assert_eq!((bar.total_weight, bar.self_weight), (14, 10));
    assert_eq!(bar.children[0].symbol, "memcpy");
    // Children come heaviest first.
    assert_eq!(main.children[0].symbol, "foo");

    // 10% drops baz (12.5% stays), 13% drops baz and foo>foo and memcpy.
    let t10 = p.call_graph(&CallGraphOptions {
        threshold_percent: 10.0,
        no_inline: true,
        ..CallGraphOptions::default()
    });
    assert!(find(&t10.roots[0].children, "baz").is_some());
    assert!(find(
        &find(&t10.roots[0].children, "foo").expect("foo").children,
        "foo"
    )
    .is_none());
    let t13 = p.call_graph(&CallGraphOptions {
        threshold_percent: 13.0,
        no_inline: true,
        ..CallGraphOptions::default()
    });
    assert!(find(&t13.roots[0].children, "baz").is_none());
    let bar13 = find(
        &find(&t13.roots[0].children, "foo").expect("foo").children,
        "bar",
    )
    .expect("bar");
    assert_eq!(bar13.children.len(), 1, "memcpy is 4/24 = 16.7%: it stays");
    let t20 = p.call_graph(&CallGraphOptions {
        threshold_percent: 20.0,
        no_inline: true,
        ..CallGraphOptions::default()
    });
    let bar20 = find(
        &find(&t20.roots[0].children, "foo").expect("foo").children,
        "bar",
    )
    .expect("bar");
    assert!(bar20.children.is_empty(), "memcpy is under 20%");

    // Callee order: roots are leaves.
    let callee = p.call_graph(&CallGraphOptions {
        threshold_percent: 0.0,
        order: CallGraphOrder::Callee,
        ..CallGraphOptions::default()
    });
    let roots: Vec<_> = callee
        .roots
        .iter()
        .map(|n| (n.symbol.as_str(), n.total_weight))
        .collect();
    assert_eq!(roots, [("inl", 10), ("foo", 7), ("memcpy", 4), ("baz", 3)]);
    let inl = &callee.roots[0];
    assert_eq!(
        inl.children[0].symbol, "bar",
        "inline frames are nodes unless no_inline"
    );
}

#[test]
fn threads_processes_comm_exec_fork_exit() {
    let mut b = ProfileBuilder::new();
    let ev = b.add_event("cpu-clock");
    let sample = |b: &mut ProfileBuilder, pid, tid, time, a: u64| {
        let chain = [FrameAddress::ip(a, FrameMode::User)];
        b.sample(&SampleInput {
            pid,
            tid,
            time,
            cpu: 1,
            event: ev,
            weight: 1,
            kind: SampleKind::OnCpu,
            callchain: &chain,
        });
    };
    b.comm(1, 1, 0, b"shell", false);
    b.mmap(&MappingInput {
        pid: 1,
        time: 0,
        start: APP,
        len: 0x1000,
        pgoff: 0,
        path: b"/bin/sh",
        build_id: None,
        mode: FrameMode::User,
    });
    b.fork(2, 1, 2, 1, 10);
    sample(&mut b, 2, 2, 11, APP + 5); // in /bin/sh, inherited
    b.comm(2, 2, 12, b"worker", true); // exec: the old image's mappings stay
    sample(&mut b, 2, 2, 13, APP + 5); // (a sample inside execve)
    b.fork(2, 2, 3, 2, 14); // a thread
    sample(&mut b, 2, 3, 15, APP + 6);
    b.exit(2, 3, 16);
    sample(&mut b, 2, 3, 17, APP + 6); // after EXIT: still the same thread
    b.fork(2, 2, 3, 2, 18); // tid 3 reused: a new thread
    sample(&mut b, 2, 3, 19, APP + 6);
    sample(&mut b, 1, 1, 20, APP + 5);
    b.lost(3);
    let p = b.finish();

    assert_eq!(p.lost_samples(), 3);
    assert_eq!(p.processes().len(), 2);
    let child = &p.processes()[1];
    assert_eq!((child.pid, child.parent), (2, Some(1)));
    assert_eq!(child.mappings.len(), 1, "inherited at fork");
    let s = p.samples();
    let space = |i: usize| {
        p.stack_locations(s[i].stack)
            .next()
            .map(|l| p.location(l).space)
    };
    assert!(matches!(space(0), Some(AddressSpace::File(_))));
    assert_eq!(
        space(1),
        space(0),
        "after exec, until the new image is mapped, the old mappings hold (as in perf)"
    );
    assert_eq!(space(5), space(0), "the parent keeps its mapping");
    let comm = |i: usize| s[i].comm.map(|c| p.string(c));
    assert_eq!(comm(0), Some("shell"));
    assert_eq!(comm(1), Some("worker"));
    assert_eq!(
        comm(2),
        Some("worker"),
        "a new thread starts with its parent's name"
    );
    assert_eq!(comm(5), Some("shell"));
    assert_eq!(
        s[2].thread, s[3].thread,
        "a sample after EXIT is the exiting thread's"
    );
    assert_eq!(comm(3), Some("worker"), "and keeps its name");
    assert_ne!(
        s[3].thread, s[4].thread,
        "a FORK of the tid starts a new thread"
    );
    assert_eq!(p.thread(s[2].thread).end_time, Some(16));
    assert_eq!(p.thread(s[4].thread).tid, 3);
    assert_eq!(p.thread_name(s[1].thread), "worker");
    let history: Vec<_> = p
        .thread(s[1].thread)
        .comms
        .iter()
        .map(|c| (p.string(c.name), c.exec))
        .collect();
    assert_eq!(history, [("shell", false), ("worker", true)]);

    // `-s pid` keys on the thread and names it by its latest comm, as
    // perf does: the sample before exec joins the exec'd name's row.
    // `-s comm` keeps the name each sample had.
    let rows = |keys: Vec<SortKey>| -> Vec<(Option<u32>, String, u64)> {
        p.top(&TopOptions {
            keys,
            ..TopOptions::default()
        })
        .rows
        .iter()
        .map(|r| (r.tid, r.comm.clone().unwrap_or_default(), r.self_weight))
        .collect()
    };
    let by_pid = rows(vec![SortKey::Pid]);
    assert!(
        by_pid.contains(&(Some(2), "worker".into(), 2)),
        "{by_pid:?}"
    );
    assert!(!by_pid.iter().any(|r| r.1 == "shell" && r.0 == Some(2)));
    let by_comm = rows(vec![SortKey::Comm]);
    assert!(by_comm.contains(&(None, "shell".into(), 2)), "{by_comm:?}");
}

#[test]
fn kernel_addresses_share_one_address_space() {
    let mut b = ProfileBuilder::new();
    let ev = b.add_event("cpu-clock");
    let k = 0xffff_ffff_8100_1234u64;
    for pid in [1u32, 2] {
        let chain = [
            FrameAddress::ip(k, FrameMode::Kernel),
            FrameAddress::ip(APP, FrameMode::User),
        ];
        b.sample(&SampleInput {
            pid,
            tid: pid,
            time: 1,
            cpu: 0,
            event: ev,
            weight: 1,
            kind: SampleKind::OnCpu,
            callchain: &chain,
        });
    }
    let p = b.finish();
    let leaf = |i: usize| p.stack_locations(p.samples()[i].stack).next();
    assert_eq!(leaf(0), leaf(1));
    let loc = *p.location(leaf(0).expect("leaf"));
    assert_eq!(loc.space, AddressSpace::Kernel);
    assert_eq!(loc.mode(), FrameMode::Kernel);
    assert_eq!(
        loc.dso.map(|d| p.dso(d).path.as_str()),
        Some("[kernel.kallsyms]")
    );
    assert_ne!(
        p.samples()[0].stack,
        p.samples()[1].stack,
        "user parts differ per process"
    );
}

#[test]
fn repeated_callchain_follows_a_new_mapping() {
    let mut b = ProfileBuilder::new();
    let ev = b.add_event("cpu-clock");
    let map = |b: &mut ProfileBuilder, path: &[u8]| {
        b.mmap(&MappingInput {
            pid: 5,
            time: 0,
            start: APP,
            len: 0x1000,
            pgoff: 0,
            path,
            build_id: None,
            mode: FrameMode::User,
        })
    };
    let chain = [FrameAddress::ip(APP + 8, FrameMode::User)];
    let sample = |b: &mut ProfileBuilder| {
        b.sample(&SampleInput {
            pid: 5,
            tid: 5,
            time: 1,
            cpu: 0,
            event: ev,
            weight: 1,
            kind: SampleKind::OnCpu,
            callchain: &chain,
        })
    };
    map(&mut b, b"/a");
    sample(&mut b);
    sample(&mut b);
    map(&mut b, b"/b"); // replaces /a at the same addresses
    sample(&mut b);
    let p = b.finish();
    let dso = |i: usize| {
        p.stack_locations(p.samples()[i].stack)
            .next()
            .and_then(|l| p.location(l).dso)
            .map(|d| p.dso(d).path.clone())
    };
    assert_eq!(p.samples()[0].stack, p.samples()[1].stack);
    assert_eq!(dso(1).as_deref(), Some("/a"));
    assert_eq!(dso(2).as_deref(), Some("/b"));
}

#[test]
fn aggregated_samples_give_the_same_reports_in_fewer_entries() {
    let build = |aggregate: bool| {
        let mut f = Fixture::new();
        f.b.aggregate_samples(aggregate);
        for round in 0..50u64 {
            let t = round * 1000;
            f.sample(10, 10, t + 1, 10, &["bar", "foo", "main"]);
            f.sample(10, 10, t + 2, 5, &["foo", "main"]);
            f.sample(10, 11, t + 3, 3 + round % 2, &["baz", "main"]);
            f.sample(20, 21, t + 4, 4, &["memcpy", "bar", "foo", "main"]);
        }
        let mut p = f.b.finish();
        resolve(&mut p);
        p
    };
    let (each, aggregated) = (build(false), build(true));
    assert!(!each.is_aggregated() && aggregated.is_aggregated());
    assert_eq!(each.samples().len(), 200);
    assert_eq!(
        aggregated.samples().len(),
        4,
        "one entry per distinct sample"
    );
    assert_eq!(aggregated.sample_count(), 200);
    let baz = &aggregated.samples()[2];
    assert_eq!((baz.count, baz.weight), (50, 175));
    assert_eq!((baz.time, baz.last_time), (3, 49_003));
    assert_eq!(baz.period(), 3);
    for keys in [
        vec![SortKey::Symbol],
        vec![SortKey::Comm, SortKey::Dso],
        vec![SortKey::Tid],
    ] {
        let opts = TopOptions {
            keys,
            ..TopOptions::default()
        };
        assert_eq!(each.top(&opts), aggregated.top(&opts));
    }
    assert_eq!(
        each.stack_weights(&SampleFilter::default()),
        aggregated.stack_weights(&SampleFilter::default())
    );
}

#[test]
fn a_mount_namespace_holds_for_its_process_and_is_inherited_at_fork() {
    let mut b = ProfileBuilder::new();
    b.comm(10, 10, 0, b"sh", true);
    b.fork(11, 10, 11, 10, 1);
    b.namespaces(10, 2, (4, 0xf000_0001));
    b.fork(12, 10, 12, 10, 3);
    let p = b.finish();
    let ns = |pid: u32| {
        p.processes()
            .iter()
            .find(|x| x.pid == pid)
            .and_then(|x| x.mount_namespace)
    };
    assert_eq!(ns(10), Some((4, 0xf000_0001)));
    assert_eq!(ns(11), None, "forked before the namespace record");
    assert_eq!(ns(12), Some((4, 0xf000_0001)));
}
