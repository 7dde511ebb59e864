//! The pure event-spec parser: every form perf users type, on crafted
//! strings, and every bad form's one-line error. No I/O.

use lwprof_events::spec::{parse, parse_modifiers, EventTarget, TermValue};
use lwprof_events::Modifiers;
use perf_event_open_sys::bindings as sys;

fn one(spec: &str) -> lwprof_events::spec::EventAst {
    let mut g = parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    assert_eq!(g.len(), 1, "{spec}");
    let g = g.remove(0);
    assert!(!g.is_group);
    assert_eq!(g.events.len(), 1);
    g.events.into_iter().next().unwrap()
}

fn err(spec: &str) -> String {
    match parse(spec) {
        Ok(g) => panic!("{spec} parsed: {g:?}"),
        Err(e) => {
            let s = e.to_string();
            assert!(!s.contains('\n'), "multi-line error: {s}");
            s
        }
    }
}

#[test]
fn named_events_parse_as_names() {
    for n in [
        "cpu-clock",
        "task-clock",
        "page-faults",
        "faults",
        "cs",
        "cycles",
        "LLC-loads",
        "L1-dcache-load-misses",
    ] {
        let e = one(n);
        assert_eq!(e.target, EventTarget::Named(n.into()));
        assert!(!e.has_modifiers);
        assert_eq!(e.modifiers, Modifiers::default());
    }
}

#[test]
fn privilege_modifiers_exclude_what_is_not_named() {
    let m = one("cycles:u").modifiers;
    assert!(m.exclude_kernel && m.exclude_hv && !m.exclude_user);
    let m = one("cycles:k").modifiers;
    assert!(m.exclude_user && m.exclude_hv && !m.exclude_kernel);
    let m = one("cycles:h").modifiers;
    assert!(m.exclude_user && m.exclude_kernel && !m.exclude_hv);
    let m = one("cycles:uk").modifiers;
    assert!(!m.exclude_user && !m.exclude_kernel && m.exclude_hv);
    let m = one("cycles:ukh").modifiers;
    assert!(!m.exclude_user && !m.exclude_kernel && !m.exclude_hv);
}

#[test]
fn other_modifiers() {
    let m = one("cycles:upp").modifiers;
    assert_eq!(m.precise_ip, 2);
    assert!(m.exclude_kernel && !m.exclude_user);
    assert_eq!(one("cycles:p").modifiers.precise_ip, 1);
    assert_eq!(one("cycles:ppp").modifiers.precise_ip, 3);
    assert!(one("cycles:P").modifiers.precise_max);
    let m = one("cycles:G").modifiers;
    assert!(m.exclude_host && !m.exclude_guest);
    let m = one("cycles:H").modifiers;
    assert!(m.exclude_guest && !m.exclude_host);
    let m = one("cycles:GH").modifiers;
    assert!(!m.exclude_guest && !m.exclude_host);
    let m = one("cycles:SDeIW").modifiers;
    assert!(m.sample_read && m.pinned && m.exclusive && m.exclude_idle && m.weak_group);
    assert!(!m.exclude_user && !m.exclude_kernel && !m.exclude_hv);
}

#[test]
fn raw_events_are_hex() {
    assert_eq!(one("r1a8").target, EventTarget::Raw(0x1a8));
    assert_eq!(one("rC0").target, EventTarget::Raw(0xc0));
    let e = one("r003c:u");
    assert_eq!(e.target, EventTarget::Raw(0x3c));
    assert!(e.modifiers.exclude_kernel);
    // Names that start with r but are not hex stay names.
    assert_eq!(
        one("ref-cycles").target,
        EventTarget::Named("ref-cycles".into())
    );
    assert!(err("r11112222333344445").contains("r11112222333344445"));
}

#[test]
fn pmu_terms() {
    let e = one("cpu/event=0x3c,umask=0x00,any,cmask=3/");
    let EventTarget::Pmu { pmu, terms } = e.target else {
        panic!()
    };
    assert_eq!(pmu, "cpu");
    let got: Vec<_> = terms
        .iter()
        .map(|t| (t.key.as_str(), t.value.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("event", TermValue::Num(0x3c)),
            ("umask", TermValue::Num(0)),
            ("any", TermValue::Flag),
            ("cmask", TermValue::Num(3)),
        ]
    );
    let e = one("cpu/event=0x3c,name=my-cycles/u");
    let EventTarget::Pmu { terms, .. } = &e.target else {
        panic!()
    };
    assert_eq!(terms[1].value, TermValue::Str("my-cycles".into()));
    assert!(e.modifiers.exclude_kernel && !e.modifiers.exclude_user);
    // Modifier after a colon works too; spaces inside the slashes are fine.
    let e = one("msr/tsc/:k");
    assert!(e.modifiers.exclude_user);
    let e = one("cpu/ event = 1 , umask=2 /");
    let EventTarget::Pmu { terms, .. } = &e.target else {
        panic!()
    };
    assert_eq!(terms.len(), 2);
    assert_eq!(terms[0].value, TermValue::Num(1));
}

#[test]
fn pmu_alias() {
    let e = one("msr/tsc/");
    assert_eq!(
        e.target,
        EventTarget::Pmu {
            pmu: "msr".into(),
            terms: vec![lwprof_events::spec::Term {
                key: "tsc".into(),
                value: TermValue::Flag
            }]
        }
    );
    let e = one("msr/tsc/u");
    assert!(e.modifiers.exclude_kernel && e.modifiers.exclude_hv);
}

#[test]
fn tracepoints_and_their_modifiers() {
    let e = one("sched:sched_switch");
    assert_eq!(
        e.target,
        EventTarget::Tracepoint {
            subsystem: "sched".into(),
            name: "sched_switch".into()
        }
    );
    assert!(!e.has_modifiers);
    let e = one("sched:sched_switch:u");
    assert!(matches!(e.target, EventTarget::Tracepoint { .. }));
    assert!(e.has_modifiers && e.modifiers.exclude_kernel);
    let e = one("sched:*");
    assert_eq!(
        e.target,
        EventTarget::Tracepoint {
            subsystem: "sched".into(),
            name: "*".into()
        }
    );
    let e = one("syscalls:sys_enter_*:k");
    assert!(e.modifiers.exclude_user);
}

#[test]
fn breakpoints() {
    let rw = sys::HW_BREAKPOINT_RW;
    let bp = |s: &str| one(s).target;
    assert_eq!(
        bp("mem:0x1000"),
        EventTarget::Breakpoint {
            addr: 0x1000,
            len: 4,
            access: rw
        }
    );
    assert_eq!(
        bp("mem:4096/8"),
        EventTarget::Breakpoint {
            addr: 4096,
            len: 8,
            access: rw
        }
    );
    assert_eq!(
        bp("mem:0x1000/2:w"),
        EventTarget::Breakpoint {
            addr: 0x1000,
            len: 2,
            access: sys::HW_BREAKPOINT_W
        }
    );
    assert_eq!(
        bp("mem:0x1000:r"),
        EventTarget::Breakpoint {
            addr: 0x1000,
            len: 4,
            access: sys::HW_BREAKPOINT_R
        }
    );
    // x implies sizeof(long).
    assert_eq!(
        bp("mem:0x400000:x"),
        EventTarget::Breakpoint {
            addr: 0x400000,
            len: std::mem::size_of::<std::ffi::c_long>() as u64,
            access: sys::HW_BREAKPOINT_X
        }
    );
    let e = one("mem:0x1000/1:rw:u");
    assert_eq!(
        e.target,
        EventTarget::Breakpoint {
            addr: 0x1000,
            len: 1,
            access: rw
        }
    );
    assert!(e.modifiers.exclude_kernel);
    // Modifiers without an access type.
    let e = one("mem:0x1000:k");
    assert_eq!(
        e.target,
        EventTarget::Breakpoint {
            addr: 0x1000,
            len: 4,
            access: rw
        }
    );
    assert!(e.modifiers.exclude_user);
}

#[test]
fn groups_and_lists() {
    let g = parse("{cpu-clock,page-faults}:u, task-clock , { cs , msr/tsc/ }").unwrap();
    assert_eq!(g.len(), 3);
    assert!(g[0].is_group && !g[1].is_group && g[2].is_group);
    assert_eq!(g[0].events.len(), 2);
    assert!(g[0].modifiers.unwrap().exclude_kernel);
    assert_eq!(
        g[1].events[0].target,
        EventTarget::Named("task-clock".into())
    );
    assert_eq!(g[2].events[1].text, "msr/tsc/");
    assert!(g[2].modifiers.is_none());
    // Commas inside a PMU's slashes belong to the event.
    let g = parse("cpu/event=1,umask=2/,cycles,{mem:0x10/8:w,sched:sched_switch:k}").unwrap();
    assert_eq!(g.len(), 3);
    assert_eq!(g[2].events.len(), 2);
    // Columns point into the whole spec.
    assert_eq!(g[1].events[0].column, 22);
}

#[test]
fn modifier_parser_alone() {
    let m = parse_modifiers("uk", "x:uk", 3).unwrap();
    assert!(m.exclude_hv && !m.exclude_user && !m.exclude_kernel);
    assert!(parse_modifiers("pppp", "x", 1).is_err());
}

#[test]
fn bad_modifiers_name_the_letter_and_column() {
    let e = err("cycles:uz");
    assert_eq!(
        e,
        "bad modifier 'z' in 'cycles:uz' at column 9: not a modifier; modifiers are u k h G H p pp ppp P S D e I W"
    );
    // Unknown modifier letters make a tracepoint-looking name, resolved later,
    // but a third colon part is always modifiers.
    assert!(err("sched:sched_switch:q").contains("'q'"));
    assert!(err("cycles:pppp").contains("at most three"));
    assert!(err("{cycles}:x").contains("bad modifier 'x'"));
    assert!(err("msr/tsc/z").contains("bad modifier 'z'"));
    assert!(err("a:b:c:d").contains("too many ':'"));
}

#[test]
fn bad_groups() {
    assert!(err("{cycles,instructions").starts_with("unbalanced '{' at column 1"));
    assert!(err("cycles}").starts_with("unbalanced '}' at column 7"));
    assert!(err("{}").starts_with("empty group at column 1"));
    assert!(err("{a,{b,c}}").starts_with("nested group at column 4"));
    assert!(err("{a}{b}").starts_with("nested group"));
    assert!(err("{a}x").contains("'x' after a group"));
    assert!(err("a,,b").starts_with("empty event at column 3"));
    assert!(err("a,").starts_with("empty event at column 3"));
    assert!(err("").starts_with("empty event at column 1"));
    assert!(err("{a,}").starts_with("empty event at column 4"));
}

#[test]
fn bad_pmu_syntax() {
    assert!(err("cpu/event=1").contains("no closing '/'"));
    assert!(err("cpu//").contains("no terms"));
    assert!(err("cpu/event=/").contains("no value after 'event='"));
    assert!(err("cpu/event=1,,umask=2/").contains("empty term"));
    assert!(err("/event=1/").contains("not a PMU name"));
}

#[test]
fn bad_breakpoints() {
    let e = err("mem:");
    assert_eq!(
        e,
        "bad breakpoint 'mem:': no address after 'mem:'; write it as mem:ADDR[/LEN][:rwx] (LEN 1, 2, 4 or 8)"
    );
    assert!(err("mem:zz").contains("'zz' is not an address"));
    assert!(err("mem:0x1000/3").contains("length 3 is not 1, 2, 4 or 8"));
    assert!(err("mem:0x1000/4:x").contains("sizeof(long)"));
    assert!(err("mem:0x1000:rx").contains("cannot also be read/write"));
    assert!(err("mem:0x1000:rr").contains("'r' given twice"));
    assert!(err("mem:0x1000:w:u:k").contains("too many ':'"));
    assert!(err("mem:0x1000:w:z").contains("bad modifier 'z'"));
}

#[test]
fn arbitrary_text_never_panics_and_errors_are_one_line() {
    // A deterministic xorshift stream over perf's special characters: the
    // parser must answer Ok or a one-line error for every string.
    let alphabet: Vec<char> = "{}:/,=rmem0x1fuUkpP*? \tabc-é.".chars().collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0;
    for _ in 0..20_000 {
        let len = (next() % 24) as usize;
        let s: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        if let Err(e) = parse(&s) {
            errors += 1;
            assert!(!e.to_string().contains('\n'), "{s:?}: {e}");
        }
    }
    assert!(errors > 0);
}

#[test]
fn glob_matching() {
    use lwprof_events::spec::glob_match;
    assert!(glob_match("sched:*", "sched:sched_switch"));
    assert!(glob_match("*switch", "sched_switch"));
    assert!(glob_match("sys_?nter_*", "sys_enter_read"));
    assert!(glob_match("irq_[a-h]*", "irq_handler_entry"));
    assert!(!glob_match("irq_[!h]*", "irq_handler_entry"));
    assert!(!glob_match("sched_*", "irq_handler"));
    assert!(glob_match("a[b", "a[b"));
    assert!(glob_match("*", ""));
}
