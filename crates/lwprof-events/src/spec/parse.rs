//! The pure parser: event-spec text to an AST, with no I/O.
//!
//! It knows perf's syntax (`name[:mods]`, `rNNNN`, `pmu/terms/[mods]`,
//! `subsys:name[:mods]`, `mem:ADDR[/LEN][:rwx]`, `{a,b}[:mods]`, comma
//! lists) but not which names exist: that is [`super::resolve`]'s job, against
//! sysfs and tracefs. Every node keeps the column it started at so that
//! resolution errors can point at the text.

use super::error::SpecError;
use crate::attr::Modifiers;

/// The letters perf accepts as event modifiers.
pub const MODIFIER_LETTERS: &str = "ukhGHpPSDeIW";

/// One item of a spec list: a group `{a,b}` or a single event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAst {
    /// The events, in order (one for a single event).
    pub events: Vec<EventAst>,
    /// True when written with braces.
    pub is_group: bool,
    /// Modifiers written after the closing brace, applied to every member.
    pub modifiers: Option<Modifiers>,
    /// 1-based column of the item.
    pub column: usize,
}

/// One event as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventAst {
    /// The text of the event, as typed (trimmed).
    pub text: String,
    /// 1-based column of the text in the whole spec.
    pub column: usize,
    /// What the event names.
    pub target: EventTarget,
    /// The modifiers written after the event (default when none).
    pub modifiers: Modifiers,
    /// True when modifiers were written.
    pub has_modifiers: bool,
}

/// What an event names, before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTarget {
    /// A bare name: a software, hardware or cache event, or a PMU alias.
    Named(String),
    /// `rNNNN`: a raw CPU PMU config.
    Raw(u64),
    /// `pmu/terms/`.
    Pmu {
        /// The PMU name.
        pmu: String,
        /// The terms between the slashes.
        terms: Vec<Term>,
    },
    /// `subsystem:name`; either part may be a glob (`*`, `?`).
    Tracepoint {
        /// The subsystem, e.g. `sched`.
        subsystem: String,
        /// The tracepoint name, e.g. `sched_switch`.
        name: String,
    },
    /// `mem:ADDR[/LEN][:rwx]`, with perf's defaults applied.
    Breakpoint {
        /// The address.
        addr: u64,
        /// The length in bytes (1, 2, 4 or 8).
        len: u64,
        /// `HW_BREAKPOINT_R | W | X` bits.
        access: u32,
    },
}

/// One `key=value` or bare `key` term inside `pmu/.../` (or an alias file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The key.
    pub key: String,
    /// The value.
    pub value: TermValue,
}

/// The value of a term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermValue {
    /// A bare key (`any`): 1 for format terms, the alias itself for aliases.
    Flag,
    /// A number (decimal, `0x` hex or `0` octal).
    Num(u64),
    /// Anything else (e.g. `name=foo`).
    Str(String),
}

impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            TermValue::Flag => write!(f, "{}", self.key),
            TermValue::Num(v) => write!(f, "{}={v:#x}", self.key),
            TermValue::Str(s) => write!(f, "{}={s}", self.key),
        }
    }
}

/// Parses a number as perf does: `0x` hex, leading-`0` octal, else decimal.
pub fn parse_number(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// Parses a whole spec (`-e` argument) into its list of groups and events.
///
/// Pure: no I/O, no knowledge of which events exist.
pub fn parse(spec: &str) -> Result<Vec<GroupAst>, SpecError> {
    // No event, term or name has a control character; refusing them here
    // keeps every later message one line.
    if let Some((i, c)) = spec.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(SpecError::ControlCharacter {
            spec: spec.to_string(),
            column: i + 1,
            character: c,
        });
    }
    Parser { spec, pos: 0 }.list()
}

/// Parses modifier letters (without the colon) with perf's semantics.
///
/// `column` is where the letters start, for the error message; `event` is
/// the text to name in it.
pub fn parse_modifiers(letters: &str, event: &str, column: usize) -> Result<Modifiers, SpecError> {
    let mut m = Modifiers::default();
    let (mut u, mut k, mut h, mut g, mut hh) = (false, false, false, false, false);
    let bad = |i: usize, modifier: String, reason: &str| SpecError::BadModifier {
        event: event.to_string(),
        modifier,
        column: column + i,
        reason: reason.to_string(),
    };
    if letters.is_empty() {
        return Err(bad(0, String::new(), "nothing after ':'"));
    }
    for (i, c) in letters.chars().enumerate() {
        match c {
            'u' => u = true,
            'k' => k = true,
            'h' => h = true,
            'G' => g = true,
            'H' => hh = true,
            'p' => {
                if m.precise_ip == 3 {
                    return Err(bad(i, letters.to_string(), "at most three 'p' (ppp)"));
                }
                m.precise_ip += 1;
            }
            'P' => m.precise_max = true,
            'S' => m.sample_read = true,
            'D' => m.pinned = true,
            'e' => m.exclusive = true,
            'I' => m.exclude_idle = true,
            'W' => m.weak_group = true,
            c if c.is_whitespace() => {
                return Err(bad(i, c.to_string(), "no spaces inside modifiers"))
            }
            c => return Err(bad(i, c.to_string(), "not a modifier")),
        }
    }
    if u || k || h {
        m.exclude_user = !u;
        m.exclude_kernel = !k;
        m.exclude_hv = !h;
    }
    if g || hh {
        m.exclude_host = !hh;
        m.exclude_guest = !g;
    }
    Ok(m)
}

/// Merges group modifiers into an event's: a group `{a,b}:u` excludes what
/// `:u` excludes on every member, on top of the member's own modifiers.
pub fn merge_modifiers(event: Modifiers, group: Modifiers) -> Modifiers {
    Modifiers {
        exclude_user: event.exclude_user || group.exclude_user,
        exclude_kernel: event.exclude_kernel || group.exclude_kernel,
        exclude_hv: event.exclude_hv || group.exclude_hv,
        exclude_idle: event.exclude_idle || group.exclude_idle,
        exclude_host: event.exclude_host || group.exclude_host,
        exclude_guest: event.exclude_guest || group.exclude_guest,
        precise_ip: event.precise_ip.max(group.precise_ip),
        precise_max: event.precise_max || group.precise_max,
        pinned: event.pinned || group.pinned,
        exclusive: event.exclusive || group.exclusive,
        sample_read: event.sample_read || group.sample_read,
        weak_group: event.weak_group || group.weak_group,
    }
}

fn is_modifier_text(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| MODIFIER_LETTERS.contains(c))
}

/// Parses the terms of `pmu/.../` or of a sysfs alias file (`event=0x3c,umask=1`).
///
/// `text` names the event in errors; `column` is where `body` starts.
pub fn parse_terms(body: &str, text: &str, column: usize) -> Result<Vec<Term>, SpecError> {
    let mut terms = Vec::new();
    let mut off = 0usize;
    for raw in body.split(',') {
        let col = column + body[..off].chars().count();
        off += raw.len() + 1;
        let t = raw.trim();
        if t.is_empty() {
            if body.trim().is_empty() {
                break;
            }
            return Err(SpecError::BadPmuSyntax {
                text: text.to_string(),
                column: col,
                reason: "empty term".into(),
            });
        }
        let (key, value) = match t.split_once('=') {
            None => (t, TermValue::Flag),
            Some((k, v)) => {
                let (k, v) = (k.trim(), v.trim());
                if v.is_empty() {
                    return Err(SpecError::BadPmuSyntax {
                        text: text.to_string(),
                        column: col,
                        reason: format!("no value after '{k}='"),
                    });
                }
                let value = match parse_number(v) {
                    Some(n) => TermValue::Num(n),
                    None => TermValue::Str(v.trim_matches(['\'', '"']).to_string()),
                };
                (k, value)
            }
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(SpecError::BadPmuSyntax {
                text: text.to_string(),
                column: col,
                reason: format!("'{key}' is not a term name"),
            });
        }
        terms.push(Term {
            key: key.to_string(),
            value,
        });
    }
    Ok(terms)
}

struct Parser<'a> {
    spec: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn column(&self, byte: usize) -> usize {
        self.spec[..byte].chars().count() + 1
    }

    fn peek(&self) -> Option<char> {
        self.spec[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn empty(&self, at: usize) -> SpecError {
        SpecError::EmptyEvent {
            spec: self.spec.to_string(),
            column: self.column(at),
        }
    }

    fn list(&mut self) -> Result<Vec<GroupAst>, SpecError> {
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            let start = self.pos;
            match self.peek() {
                None | Some(',') => return Err(self.empty(start)),
                Some('}') => {
                    return Err(SpecError::UnbalancedBrace {
                        spec: self.spec.to_string(),
                        brace: '}',
                        column: self.column(start),
                    })
                }
                Some('{') => out.push(self.group()?),
                Some(_) => {
                    let ev = self.event()?;
                    out.push(GroupAst {
                        column: ev.column,
                        events: vec![ev],
                        is_group: false,
                        modifiers: None,
                    });
                }
            }
            self.skip_ws();
            match self.peek() {
                None => return Ok(out),
                Some(',') => self.pos += 1,
                Some('}') => {
                    return Err(SpecError::UnbalancedBrace {
                        spec: self.spec.to_string(),
                        brace: '}',
                        column: self.column(self.pos),
                    })
                }
                Some(c) => {
                    // `event()` stops only at , { } or the end.
                    return Err(SpecError::AfterGroup {
                        text: c.to_string(),
                        column: self.column(self.pos),
                    });
                }
            }
        }
    }

    fn group(&mut self) -> Result<GroupAst, SpecError> {
        let open = self.pos;
        self.pos += 1; // '{'
        let mut events = Vec::new();
        loop {
            self.skip_ws();
            let at = self.pos;
            match self.peek() {
                None => {
                    return Err(SpecError::UnbalancedBrace {
                        spec: self.spec.to_string(),
                        brace: '{',
                        column: self.column(open),
                    })
                }
                Some('{') => {
                    return Err(SpecError::NestedGroup {
                        spec: self.spec.to_string(),
                        column: self.column(at),
                    })
                }
                Some('}') if events.is_empty() => {
                    return Err(SpecError::EmptyGroup {
                        spec: self.spec.to_string(),
                        column: self.column(open),
                    })
                }
                Some('}') | Some(',') => return Err(self.empty(at)),
                Some(_) => events.push(self.event()?),
            }
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                Some('{') => {
                    return Err(SpecError::NestedGroup {
                        spec: self.spec.to_string(),
                        column: self.column(self.pos),
                    })
                }
                _ => {
                    return Err(SpecError::UnbalancedBrace {
                        spec: self.spec.to_string(),
                        brace: '{',
                        column: self.column(open),
                    })
                }
            }
        }
        let mut modifiers = None;
        if self.peek() == Some(':') {
            self.pos += 1;
            let start = self.pos;
            let end = self.spec[start..]
                .find(|c: char| c == ',' || c == '{' || c == '}' || c.is_whitespace())
                .map_or(self.spec.len(), |i| start + i);
            let text = &self.spec[open..end];
            modifiers = Some(parse_modifiers(
                &self.spec[start..end],
                text,
                self.column(start),
            )?);
            self.pos = end;
        }
        self.skip_ws();
        match self.peek() {
            None | Some(',') => {}
            Some('{') => {
                return Err(SpecError::NestedGroup {
                    spec: self.spec.to_string(),
                    column: self.column(self.pos),
                })
            }
            Some(_) => {
                let rest = &self.spec[self.pos..];
                let end = rest.find(',').unwrap_or(rest.len());
                return Err(SpecError::AfterGroup {
                    text: rest[..end].to_string(),
                    column: self.column(self.pos),
                });
            }
        }
        Ok(GroupAst {
            events,
            is_group: true,
            modifiers,
            column: self.column(open),
        })
    }

    /// Reads one event's text up to a top-level `,`, `{`, `}` or the end;
    /// commas between a PMU's slashes belong to the event.
    fn event(&mut self) -> Result<EventAst, SpecError> {
        let start = self.pos;
        let rest = &self.spec[start..];
        let is_mem = rest.starts_with("mem:");
        let mut slashes = 0;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '/' if !is_mem => slashes += 1,
                ',' | '{' | '}' if is_mem || slashes != 1 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let raw = &rest[..end];
        self.pos = start + end;
        let text = raw.trim_end();
        if !is_mem && slashes == 1 {
            return Err(SpecError::BadPmuSyntax {
                text: text.to_string(),
                column: self.column(start + text.find('/').unwrap_or(0)),
                reason: "no closing '/'".into(),
            });
        }
        event_text(text, self.column(start))
    }
}

/// Parses the text of one event (no commas at top level, no braces).
fn event_text(text: &str, column: usize) -> Result<EventAst, SpecError> {
    let col_of = |byte: usize| column + text[..byte].chars().count();
    let mut ast = EventAst {
        text: text.to_string(),
        column,
        target: EventTarget::Named(String::new()),
        modifiers: Modifiers::default(),
        has_modifiers: false,
    };
    let set_mods = |ast: &mut EventAst, letters: &str, at: usize| -> Result<(), SpecError> {
        ast.modifiers = parse_modifiers(letters, text, col_of(at))?;
        ast.has_modifiers = true;
        Ok(())
    };

    if let Some(bp) = text.strip_prefix("mem:") {
        let (target, mods) = breakpoint(text, bp)?;
        ast.target = target;
        if let Some(m) = mods {
            set_mods(&mut ast, m, text.len() - m.len())?;
        }
        return Ok(ast);
    }

    if let Some(slash) = text.find('/') {
        let (target, mods) = pmu_event(text, column, slash)?;
        if let Some(m) = mods {
            set_mods(&mut ast, m, text.len() - m.len())?;
        }
        ast.target = target;
        return Ok(ast);
    }

    if text.contains(|c: char| c.is_whitespace()) {
        let at = text.find(|c: char| c.is_whitespace()).unwrap_or(0);
        return Err(SpecError::BadModifier {
            event: text.to_string(),
            modifier: " ".into(),
            column: col_of(at),
            reason: "spaces are only allowed around commas and braces".into(),
        });
    }

    let parts: Vec<&str> = text.split(':').collect();
    let name = parts[0];
    if name.is_empty() {
        return Err(SpecError::EmptyEvent {
            spec: text.to_string(),
            column,
        });
    }
    let (target, mods) = match parts.len() {
        1 => (named_or_raw(name, text)?, None),
        // `cycles:u` is an event with modifiers, `sched:sched_switch` a
        // tracepoint: the second part is modifiers when it is made of
        // modifier letters or when the first part is a built-in or raw name
        // (so `cycles:uz` is a bad modifier, not a tracepoint).
        2 if is_modifier_text(parts[1]) || is_builtin_or_raw(name) => {
            (named_or_raw(name, text)?, Some(parts[1]))
        }
        2 | 3 => {
            if parts[1].is_empty() {
                return Err(SpecError::EmptyEvent {
                    spec: text.to_string(),
                    column: col_of(name.len() + 1),
                });
            }
            (
                EventTarget::Tracepoint {
                    subsystem: name.to_string(),
                    name: parts[1].to_string(),
                },
                parts.get(2).copied(),
            )
        }
        _ => {
            let at = parts[0].len() + parts[1].len() + parts[2].len() + 3;
            return Err(SpecError::BadModifier {
                event: text.to_string(),
                modifier: text[at..].to_string(),
                column: col_of(at),
                reason: "too many ':'".into(),
            });
        }
    };
    ast.target = target;
    if let Some(m) = mods {
        set_mods(&mut ast, m, text.len() - m.len())?;
    }
    Ok(ast)
}

/// The `pmu/terms/[:modifiers]` form of [`event_text`], with the `/` at byte
/// `slash`: the target and the modifier letters, if any.
fn pmu_event(
    text: &str,
    column: usize,
    slash: usize,
) -> Result<(EventTarget, Option<&str>), SpecError> {
    let col_of = |byte: usize| column + text[..byte].chars().count();
    let pmu = text[..slash].trim();
    let close = slash
        + 1
        + text[slash + 1..]
            .find('/')
            .unwrap_or(text.len() - slash - 1);
    if close >= text.len() {
        return Err(SpecError::BadPmuSyntax {
            text: text.to_string(),
            column: col_of(slash),
            reason: "no closing '/'".into(),
        });
    }
    if pmu.is_empty() || pmu.contains(|c: char| c.is_whitespace() || c == ':') {
        return Err(SpecError::BadPmuSyntax {
            text: text.to_string(),
            column,
            reason: format!("'{pmu}' is not a PMU name"),
        });
    }
    let body = &text[slash + 1..close];
    let terms = parse_terms(body, text, col_of(slash + 1))?;
    if terms.is_empty() {
        return Err(SpecError::BadPmuSyntax {
            text: text.to_string(),
            column: col_of(slash + 1),
            reason: "no terms between the slashes".into(),
        });
    }
    let after = &text[close + 1..];
    let mods = after.strip_prefix(':').unwrap_or(after);
    let target = EventTarget::Pmu {
        pmu: pmu.to_string(),
        terms,
    };
    Ok((target, (!after.is_empty()).then_some(mods)))
}

fn is_builtin_or_raw(name: &str) -> bool {
    super::named::lookup(name, name).is_some()
        || name
            .strip_prefix('r')
            .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
}

fn named_or_raw(name: &str, text: &str) -> Result<EventTarget, SpecError> {
    if let Some(hex) = name.strip_prefix('r') {
        if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return u64::from_str_radix(hex, 16)
                .map(EventTarget::Raw)
                .map_err(|_| SpecError::BadRaw {
                    text: text.to_string(),
                    reason: "more than 64 bits".into(),
                });
        }
        if let Some(h) = hex.strip_prefix("0x") {
            return u64::from_str_radix(h, 16)
                .map(EventTarget::Raw)
                .map_err(|_| SpecError::BadRaw {
                    text: text.to_string(),
                    reason: format!("'{h}' is not a 64-bit hex number"),
                });
        }
    }
    Ok(EventTarget::Named(name.to_string()))
}

/// `mem:` is stripped; returns the target and the modifier letters, if any.
fn breakpoint<'t>(text: &str, bp: &'t str) -> Result<(EventTarget, Option<&'t str>), SpecError> {
    let bad = |reason: String| SpecError::BadBreakpoint {
        text: text.to_string(),
        reason,
    };
    let mut parts = bp.split(':');
    let addr_len = parts.next().unwrap_or("");
    let (addr_s, len_s) = match addr_len.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (addr_len, None),
    };
    if addr_s.is_empty() {
        return Err(bad("no address after 'mem:'".into()));
    }
    let addr = parse_number(addr_s).ok_or_else(|| {
        bad(format!(
            "'{addr_s}' is not an address (hex 0x... or decimal)"
        ))
    })?;
    let mut access_s = None;
    let mut mods = None;
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => {}
        (Some(a), None, _) if !a.is_empty() && a.chars().all(|c| "rwx".contains(c)) => {
            access_s = Some(a)
        }
        (Some(m), None, _) => mods = Some(m),
        (Some(a), Some(m), None) => {
            access_s = Some(a);
            mods = Some(m);
        }
        (Some(_), Some(_), Some(_)) => return Err(bad("too many ':'".into())),
    }
    use perf_event_open_sys::bindings as sys;
    let mut access = 0u32;
    if let Some(a) = access_s {
        if a.is_empty() {
            return Err(bad("empty access after ':'; use r, w, x or rw".into()));
        }
        for c in a.chars() {
            let bit = match c {
                'r' => sys::HW_BREAKPOINT_R,
                'w' => sys::HW_BREAKPOINT_W,
                'x' => sys::HW_BREAKPOINT_X,
                c => {
                    return Err(bad(format!(
                        "'{c}' is not an access type; use r, w, x or rw"
                    )))
                }
            };
            if access & bit != 0 {
                return Err(bad(format!("'{c}' given twice")));
            }
            access |= bit;
        }
        if access & sys::HW_BREAKPOINT_X != 0 && access != sys::HW_BREAKPOINT_X {
            return Err(bad(
                "an execute breakpoint (x) cannot also be read/write; use x or r/w/rw".into(),
            ));
        }
    } else {
        access = sys::HW_BREAKPOINT_RW;
    }
    let long = std::mem::size_of::<libc::c_long>() as u64;
    let len = match len_s {
        None if access == sys::HW_BREAKPOINT_X => long,
        None => sys::HW_BREAKPOINT_LEN_4 as u64,
        Some(l) => {
            let len = parse_number(l).ok_or_else(|| bad(format!("'{l}' is not a length")))?;
            if !matches!(len, 1 | 2 | 4 | 8) {
                return Err(bad(format!("length {len} is not 1, 2, 4 or 8")));
            }
            if access == sys::HW_BREAKPOINT_X && len != long {
                return Err(bad(format!(
                    "an execute breakpoint covers one instruction address: its length is {long} (sizeof(long)), not {len}"
                )));
            }
            len
        }
    };
    Ok((EventTarget::Breakpoint { addr, len, access }, mods))
}
