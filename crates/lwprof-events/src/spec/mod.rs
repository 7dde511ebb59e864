//! Event specifications in the syntax perf users type, e.g.
//! `-e cycles:u,{task-clock,page-faults}:k,msr/tsc/,sched:sched_switch,mem:0x1000/8:w`.
//!
//! Two stages: [`parse()`] turns text into an AST with no I/O (pure, fuzzable);
//! [`Resolver`] turns the AST into [`EventConfig`](crate::EventConfig)s
//! against a [`PmuRegistry`] (sysfs) and a
//! [`TracepointSource`] (tracefs).
//! [`parse_events`] does both; [`parse_events_system`] does both against
//! this machine. Nothing here opens an event.

pub mod error;
pub mod named;
pub mod parse;
pub mod resolve;

pub use error::SpecError;
pub use parse::{parse, parse_modifiers, EventAst, EventTarget, GroupAst, Term, TermValue};
pub use resolve::{suggest, EventGroupSpec, ResolvedEvent, Resolver};

use crate::pmu::PmuRegistry;
use crate::tracefs::{Tracefs, TracepointSource};

/// Parses `spec` and resolves it against `pmus` and `tracefs`.
pub fn parse_events(
    spec: &str,
    pmus: &PmuRegistry,
    tracefs: Option<&dyn TracepointSource>,
) -> Result<Vec<EventGroupSpec>, SpecError> {
    Resolver::new(pmus, tracefs).resolve(&parse(spec)?)
}

/// Parses `spec` and resolves it against this machine: the PMUs under
/// `/sys/bus/event_source/devices` and, only when the spec names a
/// tracepoint, tracefs (mounted at `/sys/kernel/tracing` first when running
/// as root and it is not mounted).
pub fn parse_events_system(spec: &str) -> Result<Vec<EventGroupSpec>, SpecError> {
    let ast = parse(spec)?;
    let pmus = PmuRegistry::system()?;
    let wants_tracefs = ast
        .iter()
        .flat_map(|g| &g.events)
        .any(|e| matches!(e.target, EventTarget::Tracepoint { .. }));
    let tracefs = if wants_tracefs {
        Some(Tracefs::find_or_mount()?)
    } else {
        None
    };
    Resolver::new(&pmus, tracefs.as_ref().map(|t| t as &dyn TracepointSource)).resolve(&ast)
}

/// True when `s` contains glob characters (`*`, `?`, `[`).
pub fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Matches `text` against a shell-style glob: `*` (any run), `?` (one
/// character) and `[abc]` / `[a-z]` / `[!a]` classes. Pure;
/// case-sensitive. An unterminated `[` matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class_match(&p, pi, t[ti]) {
                        if matched {
                            pi = next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `p[start] == '['`; returns
/// whether it matched and the index after `]`, or `None` if unterminated.
fn class_match(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() && (p[i] != ']' || first) {
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    if i >= p.len() {
        return None;
    }
    Some((matched != negate, i + 1))
}
