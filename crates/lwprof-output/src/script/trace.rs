//! Tracepoint fields as `perf script` prints them: the event's `print fmt`
//! (from its tracefs `format` file) evaluated over the sample's raw data,
//! as libtraceevent does for the common events (sched, syscalls, irq).
//!
//! It evaluates the C subset those formats use: `REC->field`, integer and
//! string literals, casts (ignored), arithmetic, bit and logic operators,
//! `?:`, `__get_str`, `__print_symbolic` and `__print_flags`. Anything else
//! makes [`TraceFormat::format`] fall back to `field=value` pairs. It does
//! no I/O.

use std::fmt::Write;

/// One field of a tracepoint's raw data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceField {
    /// Its name.
    pub name: String,
    /// Offset in the raw data.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    /// Signed integer.
    pub signed: bool,
    /// A `char` array (a string).
    pub is_string: bool,
    /// A `__data_loc` field (u32: offset and length of the data).
    pub dynamic: bool,
}

/// A tracepoint's fields and print format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceFormat {
    /// The event's own fields (not the `common_` ones).
    pub fields: Vec<TraceField>,
    /// The `print fmt:` text.
    pub print_fmt: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Int(i128),
    Str(String),
}

impl Val {
    fn int(&self) -> Option<i128> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Str(_) => None,
        }
    }
    fn truthy(&self) -> bool {
        match self {
            Val::Int(i) => *i != 0,
            Val::Str(s) => !s.is_empty(),
        }
    }
}

impl TraceFormat {
    /// The text `perf script` prints for a sample with raw data `raw`
    /// (`%ps` code addresses as hex).
    pub fn format(&self, raw: &[u8]) -> String {
        self.format_with(raw, &mut |_| None)
    }

    /// [`TraceFormat::format`], with `symbol` naming the kernel code
    /// addresses that `%ps`/`%pS` print.
    pub fn format_with(&self, raw: &[u8], symbol: &mut dyn FnMut(u64) -> Option<String>) -> String {
        self.evaluate(raw, symbol)
            .unwrap_or_else(|| self.generic(raw))
    }

    /// `field=value` pairs, for events whose format is not understood.
    pub fn generic(&self, raw: &[u8]) -> String {
        let mut out = String::new();
        for f in &self.fields {
            if !out.is_empty() {
                out.push(' ');
            }
            let v = match self.field(raw, &f.name) {
                Some(Val::Int(i)) => i.to_string(),
                Some(Val::Str(s)) => s,
                None => String::new(),
            };
            let _ = write!(out, "{}={}", f.name, v);
        }
        out
    }

    fn field(&self, raw: &[u8], name: &str) -> Option<Val> {
        let f = self.fields.iter().find(|f| f.name == name)?;
        let at = |off: usize, len: usize| raw.get(off..off.checked_add(len)?);
        if f.dynamic {
            let b = at(f.offset as usize, 4)?;
            let v = u32::from_ne_bytes(b.try_into().ok()?);
            let (off, len) = ((v & 0xffff) as usize, (v >> 16) as usize);
            return Some(Val::Str(c_string(at(off, len)?)));
        }
        let b = at(f.offset as usize, f.size as usize)?;
        if f.is_string {
            return Some(Val::Str(c_string(b)));
        }
        let v: i128 = match (f.size, f.signed) {
            (1, true) => i128::from(b[0] as i8),
            (1, false) => i128::from(b[0]),
            (2, true) => i128::from(i16::from_ne_bytes(b.try_into().ok()?)),
            (2, false) => i128::from(u16::from_ne_bytes(b.try_into().ok()?)),
            (4, true) => i128::from(i32::from_ne_bytes(b.try_into().ok()?)),
            (4, false) => i128::from(u32::from_ne_bytes(b.try_into().ok()?)),
            (8, true) => i128::from(i64::from_ne_bytes(b.try_into().ok()?)),
            (8, false) => i128::from(u64::from_ne_bytes(b.try_into().ok()?)),
            _ => return None,
        };
        Some(Val::Int(v))
    }

    fn evaluate(
        &self,
        raw: &[u8],
        symbol: &mut dyn FnMut(u64) -> Option<String>,
    ) -> Option<String> {
        let text = self.print_fmt.trim();
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
            fmt: self,
            raw,
            depth: 0,
        };
        let fmt = match p.primary()? {
            Val::Str(s) => s,
            Val::Int(_) => return None,
        };
        let mut args = Vec::new();
        while p.eat(b",") {
            args.push(p.expr()?);
        }
        p.ws();
        if p.i != p.s.len() {
            return None;
        }
        printf(&fmt, &args, symbol)
    }
}

fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// C's printf over the conversions trace formats use.
fn printf(
    fmt: &str,
    args: &[Val],
    symbol: &mut dyn FnMut(u64) -> Option<String>,
) -> Option<String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "-0+ #".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = 0usize;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            width = (width * 10 + d as usize).min(MAX_WIDTH);
            chars.next();
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = 0usize;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                p = (p * 10 + d as usize).min(MAX_WIDTH);
                chars.next();
            }
            precision = Some(p);
        }
        let mut long = 0;
        while let Some(&l) = chars.peek() {
            match l {
                'l' | 'L' | 'q' => long += 1,
                'h' | 'z' | 'j' | 't' => {}
                _ => break,
            }
            chars.next();
        }
        let conv = chars.next()?;
        let arg = args.next()?;
        let bits = if long > 0 { 64 } else { 32 };
        let body = match conv {
            's' => match arg {
                Val::Str(s) => match precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s.clone(),
                },
                Val::Int(i) => i.to_string(),
            },
            'd' | 'i' => {
                let v = arg.int()?;
                let v = if bits == 32 {
                    i128::from(v as i32)
                } else {
                    i128::from(v as i64)
                };
                v.to_string()
            }
            'u' => truncate(arg.int()?, bits).to_string(),
            'x' => format!("{:x}", truncate(arg.int()?, bits)),
            'X' => format!("{:X}", truncate(arg.int()?, bits)),
            'o' => format!("{:o}", truncate(arg.int()?, bits)),
            'c' => char::from(arg.int()? as u8).to_string(),
            'p' => {
                // %ps/%pS: the kernel function; other %p forms as hex.
                let mut kind = String::new();
                while let Some(c) = chars.peek().copied().filter(char::is_ascii_alphabetic) {
                    kind.push(c);
                    chars.next();
                }
                let addr = truncate(arg.int()?, 64);
                let named = matches!(kind.as_str(), "s" | "S" | "f" | "F")
                    .then(|| symbol(addr))
                    .flatten();
                named.unwrap_or_else(|| format!("0x{addr:x}"))
            }
            _ => return None,
        };
        let body = if flags.contains('#') && matches!(conv, 'x' | 'X') && body != "0" {
            format!("0x{body}")
        } else {
            body
        };
        if body.len() >= width {
            out.push_str(&body);
        } else if flags.contains('-') {
            let _ = write!(out, "{body:<width$}");
        } else if flags.contains('0') && conv != 's' {
            let (sign, digits) = body
                .strip_prefix('-')
                .map_or(("", body.as_str()), |d| ("-", d));
            let _ = write!(out, "{sign}{digits:0>w$}", w = width - sign.len());
        } else {
            let _ = write!(out, "{body:>width$}");
        }
    }
    Some(out)
}

fn truncate(v: i128, bits: u32) -> u64 {
    if bits == 32 {
        u64::from(v as u32)
    } else {
        v as u64
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    fmt: &'a TraceFormat,
    raw: &'a [u8],
    /// Nesting so far (bounded: a hostile format must not overflow the
    /// stack).
    depth: usize,
}

/// The deepest nesting evaluated; real formats stay far below it.
const MAX_DEPTH: usize = 64;

/// The widest printf field honoured; real formats stay far below it.
const MAX_WIDTH: usize = 256;

/// Binary operators by precedence, lowest first.
const LEVELS: &[&[&str]] = &[
    &["||"],
    &["&&"],
    &["|"],
    &["^"],
    &["&"],
    &["==", "!="],
    &["<=", ">=", "<", ">"],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
];

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn rest(&self) -> &[u8] {
        self.s.get(self.i..).unwrap_or(&[])
    }

    fn peek(&mut self, t: &[u8]) -> bool {
        self.ws();
        self.rest().starts_with(t)
    }

    fn eat(&mut self, t: &[u8]) -> bool {
        if self.peek(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Option<Val> {
        self.depth += 1;
        let v = if self.depth > MAX_DEPTH {
            None
        } else {
            self.ternary()
        };
        self.depth -= 1;
        v
    }

    fn ternary(&mut self) -> Option<Val> {
        let c = self.binary(0)?;
        if self.eat(b"?") {
            let a = self.expr()?;
            if !self.eat(b":") {
                return None;
            }
            let b = self.expr()?;
            return Some(if c.truthy() { a } else { b });
        }
        Some(c)
    }

    fn binary(&mut self, level: usize) -> Option<Val> {
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        loop {
            self.ws();
            let rest = self.rest();
            let op = LEVELS[level].iter().find(|op| {
                rest.starts_with(op.as_bytes())
                    // `|` is not `||`, `&` not `&&`, `<` not `<<`.
                    && !(op.len() == 1
                        && rest.len() > 1
                        && (rest[1] == rest[0] && "|&<>".contains(rest[0] as char)
                            || rest[1] == b'=' && "<>".contains(rest[0] as char)))
            });
            let Some(op) = op else {
                return Some(left);
            };
            self.i += op.len();
            let right = self.binary(level + 1)?;
            let (a, b) = (left.int()?, right.int()?);
            left = Val::Int(match *op {
                "||" => i128::from(a != 0 || b != 0),
                "&&" => i128::from(a != 0 && b != 0),
                "|" => a | b,
                "^" => a ^ b,
                "&" => a & b,
                "==" => i128::from(a == b),
                "!=" => i128::from(a != b),
                "<=" => i128::from(a <= b),
                ">=" => i128::from(a >= b),
                "<" => i128::from(a < b),
                ">" => i128::from(a > b),
                "<<" => a.checked_shl(u32::try_from(b).ok()?)?,
                ">>" => a.checked_shr(u32::try_from(b).ok()?)?,
                "+" => a.checked_add(b)?,
                "-" => a.checked_sub(b)?,
                "*" => a.checked_mul(b)?,
                "/" => a.checked_div(b)?,
                _ => a.checked_rem(b)?,
            });
        }
    }

    fn unary(&mut self) -> Option<Val> {
        self.depth += 1;
        let v = if self.depth > MAX_DEPTH {
            None
        } else {
            self.unary_inner()
        };
        self.depth -= 1;
        v
    }

    fn unary_inner(&mut self) -> Option<Val> {
        if self.eat(b"!") {
            return Some(Val::Int(i128::from(!self.unary()?.truthy())));
        }
        if self.eat(b"~") {
            return Some(Val::Int(!(self.unary()?.int()? as u64) as i128));
        }
        if self.eat(b"-") {
            return Some(Val::Int(self.unary()?.int()?.checked_neg()?));
        }
        self.primary()
    }

    fn ident(&mut self) -> Option<String> {
        self.ws();
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn primary(&mut self) -> Option<Val> {
        self.ws();
        let c = *self.s.get(self.i)?;
        if c == b'"' {
            let mut out = String::new();
            // Adjacent literals concatenate.
            while self.peek(b"\"") {
                self.i += 1;
                let start = self.i;
                while *self.s.get(self.i)? != b'"' {
                    self.i += if self.s[self.i] == b'\\' { 2 } else { 1 };
                }
                out.push_str(&unescape(&self.s[start..self.i]));
                self.i += 1;
            }
            return Some(Val::Str(out));
        }
        if c == b'(' {
            self.i += 1;
            // A cast: `(unsigned long)`, `(int)`, `(u64)`...
            let save = self.i;
            if self.cast() {
                return self.unary();
            }
            self.i = save;
            let v = self.expr()?;
            return self.eat(b")").then_some(v);
        }
        if c.is_ascii_digit() {
            let start = self.i;
            while self
                .s
                .get(self.i)
                .is_some_and(|c| c.is_ascii_alphanumeric())
            {
                self.i += 1;
            }
            let t = std::str::from_utf8(&self.s[start..self.i]).ok()?;
            let t = t.trim_end_matches(['u', 'U', 'l', 'L']);
            let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(h) => i128::from_str_radix(h, 16).ok()?,
                None if t.len() > 1 && t.starts_with('0') => i128::from_str_radix(t, 8).ok()?,
                None => t.parse().ok()?,
            };
            return Some(Val::Int(v));
        }
        if c == b'\'' {
            let ch = *self.s.get(self.i + 1)?;
            self.i += 3;
            return Some(Val::Int(i128::from(ch)));
        }
        let name = self.ident()?;
        if name == "REC" {
            if !self.eat(b"->") {
                return None;
            }
            let field = self.ident()?;
            return self.fmt.field(self.raw, &field);
        }
        if !self.eat(b"(") {
            return None;
        }
        match name.as_str() {
            "__get_str" => {
                let field = self.ident()?;
                self.eat(b")").then_some(())?;
                self.fmt.field(self.raw, &field)
            }
            "__print_symbolic" => self.symbolic(None),
            "__print_flags" => {
                let v = self.expr()?;
                if !self.eat(b",") {
                    return None;
                }
                let delim = match self.primary()? {
                    Val::Str(s) => s,
                    Val::Int(_) => return None,
                };
                self.symbolic(Some((v, delim)))
            }
            _ => None,
        }
    }

    /// After `(`: a type name and `)`.
    fn cast(&mut self) -> bool {
        const TYPES: &[&str] = &[
            "unsigned", "signed", "long", "int", "short", "char", "u8", "u16", "u32", "u64", "s8",
            "s16", "s32", "s64", "size_t", "bool", "void",
        ];
        let mut any = false;
        loop {
            let save = self.i;
            match self.ident() {
                Some(t) if TYPES.contains(&t.as_str()) => any = true,
                Some(_) => {
                    self.i = save;
                    return false;
                }
                None => break,
            }
        }
        while self.eat(b"*") {}
        any && self.eat(b")")
    }

    /// `__print_symbolic(v, {n, "s"}, ...)` or, with `flags`, the rest of
    /// `__print_flags(v, "|", {n, "s"}, ...)`.
    fn symbolic(&mut self, flags: Option<(Val, String)>) -> Option<Val> {
        let v = match &flags {
            Some((v, _)) => v.int()?,
            None => self.expr()?.int()?,
        };
        let mut table = Vec::new();
        while self.eat(b",") {
            if !self.eat(b"{") {
                return None;
            }
            // A key the format cannot say (an enum name such as
            // HRTIMER_MODE_ABS): libtraceevent skips the entry.
            let save = self.i;
            let Some(n) = self.expr().and_then(|v| v.int()) else {
                self.i = save;
                while self.s.get(self.i).is_some_and(|&c| c != b'}') {
                    self.i += 1;
                }
                if !self.eat(b"}") {
                    return None;
                }
                continue;
            };
            if !self.eat(b",") {
                return None;
            }
            let Val::Str(s) = self.expr()? else {
                return None;
            };
            if !self.eat(b"}") {
                return None;
            }
            table.push((n, s));
        }
        if !self.eat(b")") {
            return None;
        }
        Some(Val::Str(match flags {
            None => table
                .iter()
                .find(|(n, _)| *n == v)
                .map_or_else(|| format!("0x{v:x}"), |(_, s)| s.clone()),
            Some((_, delim)) => {
                let mut left = v;
                let mut parts = Vec::new();
                for (n, s) in &table {
                    if *n != 0 && left & n == *n {
                        parts.push(s.clone());
                        left &= !n;
                    }
                }
                if left != 0 {
                    parts.push(format!("0x{left:x}"));
                }
                parts.join(&delim)
            }
        }))
    }
}

fn unescape(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, offset: u32, size: u32, is_string: bool) -> TraceField {
        TraceField {
            name: name.into(),
            offset,
            size,
            signed: !is_string,
            is_string,
            dynamic: false,
        }
    }

    #[test]
    fn sched_switch_prints_as_perf() {
        let fmt = TraceFormat {
            fields: vec![
                field("prev_comm", 8, 16, true),
                field("prev_pid", 24, 4, false),
                field("prev_state", 28, 8, false),
            ],
            print_fmt: r#""prev_comm=%s prev_pid=%d prev_state=%s%s", REC->prev_comm, REC->prev_pid, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002) + 1) << 1) - 1), "|", { 0x00000001, "S" }, { 0x00000002, "D" }) : "R", REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002) + 1) << 1)) ? "+" : """#.into(),
        };
        let mut raw = vec![0u8; 36];
        raw[8..12].copy_from_slice(b"perf");
        raw[24..28].copy_from_slice(&42i32.to_ne_bytes());
        raw[28..36].copy_from_slice(&2i64.to_ne_bytes());
        assert_eq!(fmt.format(&raw), "prev_comm=perf prev_pid=42 prev_state=D");
        raw[28..36].copy_from_slice(&0i64.to_ne_bytes());
        assert_eq!(fmt.format(&raw), "prev_comm=perf prev_pid=42 prev_state=R");
        // Preempted while runnable: TASK_REPORT_MAX.
        raw[28..36].copy_from_slice(&8i64.to_ne_bytes());
        assert_eq!(fmt.format(&raw), "prev_comm=perf prev_pid=42 prev_state=R+");
    }

    #[test]
    fn unknown_functions_fall_back_to_field_pairs() {
        let fmt = TraceFormat {
            fields: vec![field("vec", 8, 4, false)],
            print_fmt: r#""vec=%u", __mystery(REC->vec)"#.into(),
        };
        let mut raw = vec![0u8; 12];
        raw[8..12].copy_from_slice(&7u32.to_ne_bytes());
        assert_eq!(fmt.format(&raw), "vec=7");
        let fmt = TraceFormat {
            print_fmt: r#""vec=%u [action=%s]", REC->vec, __print_symbolic(REC->vec, { 0, "HI" }, { 7, "SCHED" })"#.into(),
            ..fmt
        };
        assert_eq!(fmt.format(&raw), "vec=7 [action=SCHED]");
    }

    #[test]
    fn timer_start_flags_and_enum_keys() {
        let fmt = TraceFormat {
            fields: vec![field("flags", 8, 4, false)],
            print_fmt: r#""cpu=%u idx=%u flags=%s mode=%s", REC->flags & 0x0003FFFF, REC->flags >> 22, __print_flags(REC->flags & (0x00040000 | 0x00080000 | 0x00100000 | 0x00200000), "|", { 0x00040000, "M" }, { 0x00080000, "D" }, { 0x00100000, "P" }, { 0x00200000, "I" }), __print_symbolic(REC->flags & 1, { HRTIMER_MODE_ABS, "ABS" }, { 1, "one" })"#.into(),
        };
        let mut raw = vec![0u8; 12];
        raw[8..12].copy_from_slice(&0x0238_0001u32.to_ne_bytes());
        assert_eq!(fmt.format(&raw), "cpu=1 idx=8 flags=D|P|I mode=one");
    }

    #[test]
    fn hostile_formats_end_without_a_panic() {
        let fmt = |print_fmt: String| TraceFormat {
            fields: vec![field("vec", 8, 4, false)],
            print_fmt,
        };
        let raw = [0u8; 12];
        let deep = format!("\"%d\", {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(fmt(deep).format(&raw), "vec=0");
        let wide = "\"%99999999999999999999d\", REC->vec".to_string();
        assert_eq!(fmt(wide).format(&raw).len(), MAX_WIDTH);
        assert_eq!(fmt("\"%d\", 'x".into()).format(&raw), "vec=0");
    }

    #[test]
    fn printf_widths_and_zero_padding() {
        let args = [Val::Int(0xffff_ff9c), Val::Int(-3), Val::Str("ab".into())];
        assert_eq!(
            printf("0x%08lx %5d|%-4s|", &args, &mut |_| None).as_deref(),
            Some("0xffffff9c    -3|ab  |")
        );
    }
}
