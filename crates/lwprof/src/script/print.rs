//! One sample of the walk to `perf script` text: the filters, the frames
//! symbolized through the cache (with perf's DWARF-unwinding rules: callers
//! at the return address minus one, their inline frames), and each
//! distinct frame rendered once and kept, since call chains repeat.

use super::ScriptConfig;
use lwprof_output::script::{ScriptLine, ScriptSample, ScriptWriter};
use lwprof_profile::convert::SideEvent;
use lwprof_profile::model::Profile;
use lwprof_profile::model::{FrameAddress, FrameMode, LocationId};
use lwprof_profile::walk::{FrameCache, ScriptFrame, Walked, WalkedSample};
use rustc_hash::FxHashMap;
use std::io::Write;
use std::rc::Rc;

/// What perf shows in place of the DSO of an inline frame.
const INLINED: &str = "inlined";

/// Rendered frames kept before the cache starts over.
const MAX_RENDERED: usize = 1 << 20;

/// Prints samples.
pub(super) struct Printer<'a> {
    writer: &'a ScriptWriter,
    frames: FrameCache,
    config: &'a ScriptConfig,
    /// (location, recorded address, event, DWARF-unwound) to its text.
    rendered: FxHashMap<(LocationId, u64, usize, bool), Rc<[u8]>>,
    chain: Vec<Rc<[u8]>>,
    /// Output not yet written.
    pending: Vec<u8>,
}

/// Output bytes gathered before they are written.
const WRITE_SIZE: usize = 1 << 18;

impl<'a> Printer<'a> {
    pub(super) fn new(
        writer: &'a ScriptWriter,
        frames: FrameCache,
        config: &'a ScriptConfig,
    ) -> Self {
        Printer {
            writer,
            frames,
            config,
            rendered: FxHashMap::default(),
            chain: Vec::new(),
            pending: Vec::with_capacity(WRITE_SIZE + (1 << 16)),
        }
    }

    fn keep(&self, comm: &str, pid: u32, tid: u32, time: u64) -> bool {
        let c = self.config;
        (c.comms.is_empty() || c.comms.iter().any(|x| x == comm))
            && (c.pids.is_empty() || c.pids.contains(&pid))
            && (c.tids.is_empty() || c.tids.contains(&tid))
            && c.time.0.is_none_or(|t| time >= t)
            && c.time.1.is_none_or(|t| time <= t)
    }

    /// Prints what the walk handed out.
    pub(super) fn walked(&mut self, out: &mut impl Write, w: &Walked<'_>) -> std::io::Result<()> {
        match w {
            Walked::Sample(s) => self.sample(out, s),
            Walked::Side {
                profile,
                event,
                attr_index,
            } => {
                self.side(profile, event, attr_index.unwrap_or(0));
                if self.pending.len() >= WRITE_SIZE {
                    self.flush(out)?;
                }
                Ok(())
            }
        }
    }

    /// A MMAP or SWITCH record, when asked for.
    fn side(&mut self, profile: &Profile, e: &SideEvent, event: usize) {
        let mmap = lwprof_output::script::side::is_mmap(&e.record);
        if (mmap && !self.config.show_mmap_events) || (!mmap && !self.config.show_switch_events) {
            return;
        }
        let comm = profile
            .threads()
            .iter()
            .rev()
            .find(|t| t.tid == e.tid && t.pid == e.pid)
            .and_then(|t| t.comm_at(e.time))
            .map(|c| profile.string(c).to_string())
            .unwrap_or_else(|| match e.tid {
                // The idle task (and perf's kernel thread, -1) has no COMM
                // record; perf names it.
                0 | u32::MAX => "swapper".to_string(),
                tid => format!(":{}", tid as i32),
            });
        if !self.keep(&comm, e.pid, e.tid, e.time) {
            return;
        }
        let text = lwprof_output::script::side::side_text(&e.record);
        self.writer.write_side(
            &mut self.pending,
            event,
            &comm,
            i64::from(e.pid as i32),
            i64::from(e.tid as i32),
            e.cpu,
            e.time,
            &text,
        );
    }

    /// Prints one sample (nothing when a filter drops it).
    pub(super) fn sample(
        &mut self,
        out: &mut impl Write,
        w: &WalkedSample<'_>,
    ) -> std::io::Result<()> {
        let s = w.sample;
        let profile = w.profile;
        let thread = profile.thread(s.sample.thread);
        let comm_owned;
        let comm = match s.sample.comm {
            // perf knows no thread -1 (a task already gone), so no name.
            Some(c) if thread.tid != u32::MAX => profile.string(c),
            _ => {
                comm_owned = format!(":{}", thread.tid as i32);
                &comm_owned
            }
        };
        if !self.keep(comm, thread.pid, thread.tid, s.sample.time) {
            return Ok(());
        }
        let event = s.event;
        let f = self.writer.fields(event);
        let want = if !(f.ip || f.sym || f.dso) {
            0
        } else if self.writer.prints_chain(event) {
            s.frames.len()
        } else {
            1
        };
        self.chain.clear();
        for (addr, &loc) in s.frames.iter().zip(w.locations).take(want) {
            let key = (loc, addr.address, event, s.dwarf_unwound);
            let text = match self.rendered.get(&key) {
                Some(t) => t.clone(),
                None => {
                    if self.rendered.len() >= MAX_RENDERED {
                        self.rendered.clear();
                    }
                    let t: Rc<[u8]> = self.render(w, loc, addr).into();
                    self.rendered.insert(key, t.clone());
                    t
                }
            };
            self.chain.push(text);
        }
        let frames = &mut self.frames;
        let trace = match (self.writer.trace_format(event), s.raw.as_deref()) {
            (Some(fmt), Some(raw)) => {
                Some(fmt.format_with(raw, &mut |a| frames.kernel_function(a)))
            }
            _ => None,
        };
        self.writer.write_rendered(
            &mut self.pending,
            &ScriptSample {
                comm,
                pid: i64::from(thread.pid as i32),
                tid: i64::from(thread.tid as i32),
                cpu: s.sample.cpu,
                time: s.sample.time,
                period: s.sample.weight,
                event,
                ip: s.ip,
                addr: s.addr,
                raw: s.raw.as_deref(),
                trace: trace.as_deref(),
            },
            self.chain.iter().map(|t| &t[..]),
        )?;
        if self.pending.len() >= WRITE_SIZE {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Writes what is gathered.
    pub(super) fn flush(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(&self.pending)?;
        self.pending.clear();
        out.flush()
    }

    /// The text of one frame of a sample (several lines with inline frames).
    fn render(&mut self, w: &WalkedSample<'_>, loc: LocationId, addr: &FrameAddress) -> Vec<u8> {
        let s = w.sample;
        let event = s.event;
        let chain = self.writer.prints_chain(event);
        let f = self.writer.fields(event);
        let dwarf = s.dwarf_unwound && addr.mode == FrameMode::User;
        // perf's DWARF unwinder reports callers at the return address
        // minus one, resolves them there and adds their inline frames.
        let shown = if dwarf {
            FrameAddress::ip(addr.lookup_address(), addr.mode)
        } else {
            *addr
        };
        let r = if dwarf && !self.config.no_inline {
            self.frames.frame_with_inlines(w.profile, loc, &shown)
        } else {
            self.frames.frame(w.profile, loc, &shown)
        };
        // A sample printed on one line shows its absolute ip.
        let address = if chain { r.address } else { shown.address };
        let elf = r.functions.last().map(|x| x.function.as_str());
        let names: Vec<(Option<&str>, bool)> = match elf {
            Some(e) if !r.inlines.is_empty() => r
                .inlines
                .iter()
                .map(|n| (Some(n.as_str()), n != e))
                .collect(),
            _ => vec![(elf, false)],
        };
        let src = if f.srcline {
            srcline(&r, address)
        } else {
            None
        };
        let mut out = Vec::new();
        for (name, inlined) in names {
            self.writer.render_frame(
                &mut out,
                event,
                &ScriptLine {
                    address,
                    symbol: name,
                    offset: r.functions.last().and_then(|x| x.symbol_offset),
                    dso: if inlined { INLINED } else { &r.dso },
                    srcline: src.as_deref(),
                },
            );
        }
        out
    }
}

/// perf's srcline: the innermost `file:line`, else `DSO[address]`.
fn srcline(r: &Rc<ScriptFrame>, address: u64) -> Option<String> {
    let inner = r.functions.first();
    Some(
        match inner.and_then(|i| Some((i.file.as_deref()?, i.line?))) {
            Some((file, line)) => format!("{}:{line}", file.rsplit('/').next().unwrap_or(file)),
            None => format!(
                "{}[{address:x}]",
                r.dso.rsplit('/').next().unwrap_or(&r.dso)
            ),
        },
    )
}
