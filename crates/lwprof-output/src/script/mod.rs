//! `perf script` text: one header line per sample (comm, tid, `[cpu]`,
//! time, period, event), then either the ip, symbol and DSO on the same
//! line or the call chain below it (`\t%16x sym+off (dso)`) and a blank
//! line; tracepoint samples print their fields ([`trace`]).
//!
//! The layout is perf 6.1's: `%16s` comm unless a call chain follows, `%5d`
//! tid, `[%03d]` cpu when the event sampled it, `%10d` period, the event
//! name right-aligned to the longest event name. It writes only: the
//! caller walks the samples and symbolizes their frames.

pub mod side;
pub mod trace;

use std::io::{self, Write};

pub use trace::{TraceField, TraceFormat};

/// The fields `-F` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScriptFields {
    /// The thread name.
    pub comm: bool,
    /// The thread id.
    pub tid: bool,
    /// The process id.
    pub pid: bool,
    /// The sample time.
    pub time: bool,
    /// `[cpu]`.
    pub cpu: bool,
    /// The event name.
    pub event: bool,
    /// The period.
    pub period: bool,
    /// The ip (and the call chain, when the sample has one).
    pub ip: bool,
    /// The symbol.
    pub sym: bool,
    /// `+0x` offsets after symbols.
    pub symoff: bool,
    /// The DSO.
    pub dso: bool,
    /// The source line of each frame.
    pub srcline: bool,
    /// The sample's data address.
    pub addr: bool,
    /// Tracepoint fields.
    pub trace: bool,
}

impl ScriptFields {
    /// perf's default fields for an event: tracepoints print their fields
    /// (and their call chain when they have one), other events their
    /// period and ip.
    pub fn default_for(event: &ScriptEvent) -> ScriptFields {
        let code = !event.is_tracepoint || event.has_callchain;
        ScriptFields {
            comm: true,
            tid: true,
            time: true,
            cpu: event.has_cpu,
            event: true,
            period: !event.is_tracepoint,
            ip: code,
            sym: code,
            symoff: code,
            dso: code,
            trace: event.is_tracepoint,
            ..ScriptFields::default()
        }
    }

    /// Parses `-F`: a comma-separated list replaces `base`; with a leading
    /// `+` or `-` fields are added to or removed from it.
    pub fn parse(spec: &str, base: ScriptFields) -> Result<ScriptFields, String> {
        let spec = spec.trim();
        let (mut out, mode) = match spec.chars().next() {
            Some('+') | Some('-') => (base, None),
            _ => (ScriptFields::default(), Some(true)),
        };
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (on, name) = match mode {
                Some(_) => match item.strip_prefix('+') {
                    Some(n) => (true, n),
                    None => (true, item),
                },
                None => match item.split_at(1) {
                    ("+", n) => (true, n),
                    ("-", n) => (false, n),
                    _ => (true, item),
                },
            };
            let slot = match name {
                "comm" => &mut out.comm,
                "tid" => &mut out.tid,
                "pid" => &mut out.pid,
                "time" => &mut out.time,
                "cpu" => &mut out.cpu,
                "event" => &mut out.event,
                "period" => &mut out.period,
                "ip" => &mut out.ip,
                "sym" => &mut out.sym,
                "symoff" => &mut out.symoff,
                "dso" => &mut out.dso,
                "srcline" => &mut out.srcline,
                "addr" => &mut out.addr,
                "trace" => &mut out.trace,
                other => {
                    return Err(format!(
                        "unknown field `{other}` in -F: use comm, tid, pid, time, cpu, event, period, ip, sym, symoff, dso, srcline, addr or trace"
                    ))
                }
            };
            *slot = on;
        }
        Ok(out)
    }
}

/// What the formatter needs to know of one event of the file.
#[derive(Debug, Clone, Default)]
pub struct ScriptEvent {
    /// Its name, as perf stores it (`cpu-clock:ppp`).
    pub name: String,
    /// Its samples carry the CPU.
    pub has_cpu: bool,
    /// Its samples carry a call chain.
    pub has_callchain: bool,
    /// A tracepoint.
    pub is_tracepoint: bool,
    /// Its tracepoint format, when the file's tracing data has it.
    pub trace: Option<TraceFormat>,
}

/// One frame to print.
#[derive(Debug, Clone, Copy)]
pub struct ScriptLine<'a> {
    /// The address (DSO-relative in a mapped file, as perf prints it).
    pub address: u64,
    /// The symbol, when known.
    pub symbol: Option<&'a str>,
    /// The offset into the symbol.
    pub offset: Option<u64>,
    /// The DSO.
    pub dso: &'a str,
    /// `file:line`, when asked for and known.
    pub srcline: Option<&'a str>,
}

/// One sample to print.
#[derive(Debug, Clone, Copy)]
pub struct ScriptSample<'a> {
    /// The thread name.
    pub comm: &'a str,
    /// Process id.
    pub pid: i64,
    /// Thread id.
    pub tid: i64,
    /// CPU.
    pub cpu: u32,
    /// Time in ns.
    pub time: u64,
    /// Period.
    pub period: u64,
    /// Index into the events.
    pub event: usize,
    /// The sample's ip, for samples without a call chain.
    pub ip: Option<u64>,
    /// The data address.
    pub addr: Option<u64>,
    /// Tracepoint raw data.
    pub raw: Option<&'a [u8]>,
    /// The tracepoint text, when the caller made it
    /// ([`TraceFormat::format_with`], to name kernel functions); else it
    /// is made from `raw`.
    pub trace: Option<&'a str>,
}

/// Writes samples as `perf script` does.
#[derive(Debug)]
pub struct ScriptWriter {
    events: Vec<ScriptEvent>,
    fields: Vec<ScriptFields>,
    name_width: usize,
}

impl ScriptWriter {
    /// A writer for `events`, each printing its `fields`.
    pub fn new(events: Vec<ScriptEvent>, fields: Vec<ScriptFields>) -> Self {
        let name_width = events.iter().map(|e| e.name.len()).max().unwrap_or(0);
        ScriptWriter {
            events,
            fields,
            name_width,
        }
    }

    /// Whether samples of `event` print their call chain (then the caller
    /// passes every frame; else only the ip's).
    pub fn prints_chain(&self, event: usize) -> bool {
        let f = self.fields.get(event).copied().unwrap_or_default();
        f.ip && self.events.get(event).is_some_and(|e| e.has_callchain)
    }

    /// Whether samples of `event` print any code address.
    pub fn prints_ip(&self, event: usize) -> bool {
        self.fields.get(event).is_some_and(|f| f.ip)
    }

    /// The tracepoint format of `event`, when it has one and prints it.
    pub fn trace_format(&self, event: usize) -> Option<&TraceFormat> {
        self.fields(event)
            .trace
            .then(|| self.events.get(event)?.trace.as_ref())
            .flatten()
    }

    /// The fields of `event`.
    pub fn fields(&self, event: usize) -> ScriptFields {
        self.fields.get(event).copied().unwrap_or_default()
    }

    /// Writes one sample; `frames` leaf first (only the first is used when
    /// the event prints no call chain).
    pub fn write(
        &self,
        out: &mut impl Write,
        s: &ScriptSample<'_>,
        frames: &[ScriptLine<'_>],
    ) -> io::Result<()> {
        let mut rendered = Vec::new();
        let n = if self.prints_chain(s.event) {
            frames.len()
        } else {
            frames.len().min(1)
        };
        for l in &frames[..n] {
            self.render_frame(&mut rendered, s.event, l);
        }
        let mut line = Vec::new();
        self.write_rendered(&mut line, s, [rendered.as_slice()])?;
        out.write_all(&line)
    }

    /// Renders one frame of a sample of `event` as it appears in the
    /// output (a call-chain line, or the tail of a one-line sample), for
    /// [`ScriptWriter::write_rendered`]; callers may keep it for frames
    /// that come again.
    pub fn render_frame(&self, out: &mut Vec<u8>, event: usize, l: &ScriptLine<'_>) {
        let f = self.fields(event);
        if !(f.ip || f.sym || f.dso) {
            return;
        }
        // Writing to a Vec cannot fail.
        if self.prints_chain(event) {
            out.push(b'\t');
            let _ = self.frame(out, &f, l);
            out.push(b'\n');
        } else {
            out.push(b' ');
            let _ = self.frame(out, &f, l);
        }
    }

    /// Appends a MMAP or SWITCH record (`--show-mmap-events`,
    /// `--show-switch-events`): the header of `event`'s samples up to the
    /// time, then `text`.
    #[allow(clippy::too_many_arguments)]
    pub fn write_side(
        &self,
        out: &mut Vec<u8>,
        event: usize,
        comm: &str,
        pid: i64,
        tid: i64,
        cpu: Option<u32>,
        time: u64,
        text: &str,
    ) {
        let f = self.fields(event);
        if f.comm {
            if self.prints_chain(event) {
                out.extend_from_slice(comm.as_bytes());
            } else {
                pad_str(out, comm, 16);
            }
            out.push(b' ');
        }
        match (f.pid, f.tid) {
            (true, true) => {
                let _ = write!(out, "{pid:>5}/{tid:<5} ");
            }
            (true, false) | (false, true) => {
                signed(out, if f.pid { pid } else { tid }, 5);
                out.push(b' ');
            }
            _ => {}
        }
        if let (true, Some(cpu)) = (f.cpu, cpu) {
            let _ = write!(out, "[{:03}] ", cpu as i32);
        }
        if f.time {
            decimal(out, time / 1_000_000_000, 5, b' ');
            out.push(b'.');
            decimal(out, time % 1_000_000_000 / 1000, 6, b'0');
            out.extend_from_slice(b": ");
        }
        out.extend_from_slice(text.as_bytes());
        out.push(b'\n');
    }

    /// Appends one sample whose frames are already rendered
    /// ([`ScriptWriter::render_frame`], leaf first).
    pub fn write_rendered<'f>(
        &self,
        out: &mut Vec<u8>,
        s: &ScriptSample<'_>,
        frames: impl IntoIterator<Item = &'f [u8]>,
    ) -> io::Result<()> {
        let f = self.fields(s.event);
        let chain = self.prints_chain(s.event);
        let event = self.events.get(s.event);
        if f.comm {
            if chain {
                out.extend_from_slice(s.comm.as_bytes());
                out.push(b' ');
            } else {
                pad_str(out, s.comm, 16);
                out.push(b' ');
            }
        }
        match (f.pid, f.tid) {
            (true, true) => write!(out, "{:>5}/{:<5} ", s.pid, s.tid)?,
            (true, false) => {
                signed(out, s.pid, 5);
                out.push(b' ');
            }
            (false, true) => {
                signed(out, s.tid, 5);
                out.push(b' ');
            }
            _ => {}
        }
        if f.cpu {
            write!(out, "[{:03}] ", s.cpu as i32)?;
        }
        if f.time {
            decimal(out, s.time / 1_000_000_000, 5, b' ');
            out.push(b'.');
            decimal(out, s.time % 1_000_000_000 / 1000, 6, b'0');
            out.extend_from_slice(b": ");
        }
        if f.period {
            decimal(out, s.period, 10, b' ');
            out.push(b' ');
        }
        if f.event {
            pad_str(out, event.map_or("", |e| e.name.as_str()), self.name_width);
            out.extend_from_slice(b": ");
        }
        if f.addr {
            write!(out, "{:>16x} ", s.addr.unwrap_or(0))?;
        }
        if f.trace {
            if let Some(text) = s.trace {
                out.extend_from_slice(text.as_bytes());
            } else if let (Some(raw), Some(fmt)) = (s.raw, event.and_then(|e| e.trace.as_ref())) {
                out.extend_from_slice(fmt.format(raw).as_bytes());
            }
        }
        if (f.ip || f.sym || f.dso) && chain {
            out.push(b'\n');
        }
        for frame in frames {
            out.extend_from_slice(frame);
        }
        out.push(b'\n');
        Ok(())
    }

    fn frame(&self, out: &mut Vec<u8>, f: &ScriptFields, l: &ScriptLine<'_>) -> io::Result<()> {
        if f.ip {
            write!(out, "{:>16x}", l.address)?;
        }
        if f.sym {
            match l.symbol {
                Some(sym) => {
                    out.push(b' ');
                    out.extend_from_slice(sym.as_bytes());
                    if f.symoff {
                        write!(out, "+0x{:x}", l.offset.unwrap_or(0))?;
                    }
                }
                None => out.extend_from_slice(b" [unknown]"),
            }
        }
        if f.dso {
            out.extend_from_slice(b" (");
            out.extend_from_slice(l.dso.as_bytes());
            out.push(b')');
        }
        if f.srcline {
            if let Some(src) = l.srcline {
                write!(out, "\n  {src}")?;
            }
        }
        Ok(())
    }
}

/// `s` right-aligned in `width` columns (`%*s`).
fn pad_str(out: &mut Vec<u8>, s: &str, width: usize) {
    let n = s.chars().count();
    out.resize(out.len() + width.saturating_sub(n), b' ');
    out.extend_from_slice(s.as_bytes());
}

/// `v` in decimal, right-aligned in `width` columns filled with `fill`.
fn decimal(out: &mut Vec<u8>, mut v: u64, width: usize, fill: u8) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let n = digits.len() - i;
    out.resize(out.len() + width.saturating_sub(n), fill);
    out.extend_from_slice(&digits[i..]);
}

/// A signed `%*d`.
fn signed(out: &mut Vec<u8>, v: i64, width: usize) {
    if v >= 0 {
        decimal(out, v as u64, width, b' ');
    } else {
        let text = v.to_string();
        pad_str(out, &text, width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(has_callchain: bool) -> ScriptWriter {
        let ev = ScriptEvent {
            name: "cpu-clock:ppp".into(),
            has_callchain,
            ..ScriptEvent::default()
        };
        let fields = vec![ScriptFields::default_for(&ev)];
        ScriptWriter::new(vec![ev], fields)
    }

    fn sample() -> ScriptSample<'static> {
        ScriptSample {
            comm: "sh",
            pid: 15217,
            tid: 15217,
            cpu: 0,
            time: 23_966_339_716_123,
            period: 1001001,
            event: 0,
            ip: None,
            addr: None,
            raw: None,
            trace: None,
        }
    }

    const LINES: [ScriptLine<'static>; 2] = [
        ScriptLine {
            address: 0x16714b,
            symbol: Some("__strcmp_evex"),
            offset: Some(0x2b),
            dso: "/usr/lib/x86_64-linux-gnu/libc.so.6",
            srcline: None,
        },
        ScriptLine {
            address: 0x10021,
            symbol: None,
            offset: None,
            dso: "[unknown]",
            srcline: None,
        },
    ];

    #[test]
    fn a_call_chain_sample_as_perf_prints_it() {
        let mut out = Vec::new();
        writer(true).write(&mut out, &sample(), &LINES).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "sh 15217 23966.339716:    1001001 cpu-clock:ppp: \n\t          16714b __strcmp_evex+0x2b (/usr/lib/x86_64-linux-gnu/libc.so.6)\n\t           10021 [unknown] ([unknown])\n\n"
        );
    }

    #[test]
    fn a_sample_without_chain_is_one_line() {
        let mut out = Vec::new();
        writer(false)
            .write(&mut out, &sample(), &LINES[..1])
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "              sh 15217 23966.339716:    1001001 cpu-clock:ppp:            16714b __strcmp_evex+0x2b (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
        );
    }

    #[test]
    fn fields_parse_as_perf_reads_them() {
        let base = ScriptFields::default_for(&ScriptEvent::default());
        let f = ScriptFields::parse("comm,tid", base).unwrap();
        assert!(f.comm && f.tid && !f.time && !f.ip);
        let f = ScriptFields::parse("-period,+addr", base).unwrap();
        assert!(!f.period && f.addr && f.ip);
        assert!(ScriptFields::parse("bogus", base).is_err());
    }
}
