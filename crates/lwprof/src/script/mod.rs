//! `lwprof script`: every sample of a perf.data file as `perf script`
//! prints it, streamed: each sample is read in time order, symbolized
//! through a per-address cache and written at once, so output starts
//! immediately and memory does not grow with the file.
//!
//! The walk is `lwprof_profile::walk`, the layout
//! `lwprof_output::script`; this file only connects them to the file's
//! events and the filters.

mod args;

pub use args::{ScriptArgs, ScriptConfig};

use anyhow::{Context, Result};
use lwprof_output::script::{
    ScriptEvent, ScriptFields, ScriptLine, ScriptSample, ScriptWriter, TraceField, TraceFormat,
};
use lwprof_perfdata::tracing::EventFormat;
use lwprof_profile::model::{FrameAddress, FrameMode};
use lwprof_profile::unwind::UnwinderConfig;
use lwprof_profile::walk::{walk_samples, FrameCache, WalkInput, WalkOptions, WalkedSample};
use lwprof_symbols::{Symbolizer, SymbolizerConfig};
use std::io::Write;

const SAMPLE_CALLCHAIN: u64 = 1 << 5;
const SAMPLE_CPU: u64 = 1 << 7;
const TYPE_TRACEPOINT: u32 = 2;

/// What perf shows in place of the DSO of an inline frame.
const INLINED: &str = "inlined";

/// The event's tracepoint format, in the formatter's terms.
fn trace_format(f: &EventFormat) -> TraceFormat {
    TraceFormat {
        fields: f
            .event_fields()
            .map(|x| TraceField {
                name: x.name.clone(),
                offset: x.offset,
                size: x.size,
                signed: x.signed,
                is_string: x.is_array && x.type_name.contains("char"),
                dynamic: x.is_dynamic(),
            })
            .collect(),
        print_fmt: f.print_fmt.clone(),
    }
}

/// The events of the file, as the formatter needs them.
fn script_events(input: &WalkInput) -> Vec<ScriptEvent> {
    let tracing = input.features().tracing_data.as_ref();
    input
        .file()
        .attrs()
        .iter()
        .map(|a| {
            let attr = a.attr();
            let is_tracepoint = attr.type_ == TYPE_TRACEPOINT;
            ScriptEvent {
                name: a.name.clone(),
                has_cpu: attr.sample_type & SAMPLE_CPU != 0,
                has_callchain: attr.sample_type & SAMPLE_CALLCHAIN != 0,
                is_tracepoint,
                trace: is_tracepoint
                    .then(|| tracing.and_then(|t| t.format_by_id(attr.config)))
                    .flatten()
                    .map(trace_format),
            }
        })
        .collect()
}

/// Whether a sample passes the filters.
fn keep(config: &ScriptConfig, comm: &str, pid: u32, tid: u32, time: u64) -> bool {
    (config.comms.is_empty() || config.comms.iter().any(|c| c == comm))
        && (config.pids.is_empty() || config.pids.contains(&pid))
        && (config.tids.is_empty() || config.tids.contains(&tid))
        && config.time.0.is_none_or(|t| time >= t)
        && config.time.1.is_none_or(|t| time <= t)
}

/// False when the file's build-id table names another kernel than the
/// running one (perf then leaves kernel frames `[unknown]`, and so do we).
fn recorded_kernel_is_running(features: &lwprof_perfdata::Features) -> bool {
    let Some(recorded) = features
        .build_ids
        .iter()
        .find(|e| e.path == "[kernel.kallsyms]")
        .map(|e| e.build_id.clone())
    else {
        return true;
    };
    let Some(running) = std::fs::read("/sys/kernel/notes")
        .ok()
        .and_then(|n| lwprof_symbols::build_id_from_notes(&n))
    else {
        return true;
    };
    let n = recorded.len().min(running.len());
    recorded[..n] == running[..n]
}

/// Runs `lwprof script`.
pub fn run(config: ScriptConfig) -> Result<u8> {
    let input = WalkInput::open(&config.inputs)
        .with_context(|| format!("cannot read {}", config.inputs[0].display()))?;
    let events = script_events(&input);
    let fields = events
        .iter()
        .map(|e| {
            let base = ScriptFields::default_for(e);
            match &config.fields {
                Some(spec) => ScriptFields::parse(spec, base).map_err(anyhow::Error::msg),
                None => Ok(base),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let srcline = fields.iter().any(|f| f.srcline);
    let writer = ScriptWriter::new(events, fields);
    let mut frames = FrameCache::new(Symbolizer::new(SymbolizerConfig {
        dwarf: srcline,
        cache_dir: lwprof_symbols::default_cache_dir(),
        ..SymbolizerConfig::default()
    }));
    if !recorded_kernel_is_running(input.features()) {
        frames = frames.without_kernel_symbols();
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut failed: Option<std::io::Error> = None;
    let summary = walk_samples(
        &input,
        WalkOptions {
            dwarf: Some(UnwinderConfig::default()),
            ..WalkOptions::default()
        },
        |w| {
            if failed.is_some() {
                return;
            }
            if let Err(e) = write_sample(&writer, &mut frames, &config, &mut out, w) {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    // `| head` is done: nothing more to say.
                    std::process::exit(0);
                }
                failed = Some(e);
            }
        },
    )?;
    if let Some(e) = failed {
        return Err(e).context("cannot write the output");
    }
    out.flush().context("cannot write the output")?;
    if let Some(d) = summary.damage {
        eprintln!("lwprof: the file is damaged; samples after the damage are missing: {d}");
    }
    Ok(0)
}

fn write_sample(
    writer: &ScriptWriter,
    frames: &mut FrameCache,
    config: &ScriptConfig,
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
    if !keep(config, comm, thread.pid, thread.tid, s.sample.time) {
        return Ok(());
    }
    let event = s.event;
    let f = writer.fields(event);
    let want = if !(f.ip || f.sym || f.dso) {
        0
    } else if writer.prints_chain(event) {
        s.frames.len()
    } else {
        1
    };
    let chain = writer.prints_chain(event);
    // (frame, address shown, name to show instead, inlined)
    let mut resolved = Vec::with_capacity(want);
    for (addr, &loc) in s.frames.iter().zip(w.locations).take(want) {
        if s.dwarf_unwound && addr.mode == FrameMode::User && !config.no_inline {
            // perf's DWARF unwinder reports callers at the return address
            // minus one, resolves them there and adds their inline frames.
            let shown = FrameAddress::ip(addr.lookup_address(), addr.mode);
            let r = frames.frame_with_inlines(profile, loc, &shown);
            // (`--no-inline` still steps callers back, below.)
            let address = if chain { r.address } else { shown.address };
            let elf = r.functions.last().map(|f| f.function.clone());
            if r.inlines.is_empty() || elf.is_none() {
                resolved.push((r, address, None, false));
                continue;
            }
            for name in r.inlines.clone() {
                let inlined = elf.as_deref() != Some(name.as_str());
                resolved.push((r.clone(), address, Some(name), inlined));
            }
            continue;
        }
        let addr = &if s.dwarf_unwound && addr.mode == FrameMode::User {
            FrameAddress::ip(addr.lookup_address(), addr.mode)
        } else {
            *addr
        };
        let r = frames.frame(profile, loc, addr);
        // A sample printed on one line shows its absolute ip.
        let address = if chain { r.address } else { addr.address };
        resolved.push((r, address, None, false));
    }
    let srclines: Vec<Option<String>> = resolved
        .iter()
        .map(|(r, address, ..)| {
            if !f.srcline {
                return None;
            }
            // perf: the innermost `file:line`, else `DSO[address]`.
            let inner = r.functions.first();
            Some(
                match inner.and_then(|i| Some((i.file.as_deref()?, i.line?))) {
                    Some((file, line)) => {
                        format!("{}:{line}", file.rsplit('/').next().unwrap_or(file))
                    }
                    None => format!(
                        "{}[{address:x}]",
                        r.dso.rsplit('/').next().unwrap_or(&r.dso)
                    ),
                },
            )
        })
        .collect();
    let lines: Vec<ScriptLine<'_>> = resolved
        .iter()
        .zip(&srclines)
        .map(|((r, address, name, inlined), src)| {
            let outer = r.functions.last();
            ScriptLine {
                address: *address,
                symbol: name.as_deref().or(outer.map(|f| f.function.as_str())),
                offset: outer.and_then(|f| f.symbol_offset),
                dso: if *inlined { INLINED } else { &r.dso },
                srcline: src.as_deref(),
            }
        })
        .collect();
    writer.write(
        out,
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
        },
        &lines,
    )
}
