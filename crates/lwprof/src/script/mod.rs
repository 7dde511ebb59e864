//! `lwprof script`: every sample of a perf.data file as `perf script`
//! prints it, streamed: each sample is read in time order, symbolized
//! through a per-address cache and written at once, so output starts
//! immediately and memory does not grow with the file.
//!
//! The walk is `lwprof_profile::walk`, the layout
//! `lwprof_output::script`; this file only connects them to the file's
//! events and the filters.

mod args;
mod print;

use print::Printer;

pub use args::{ScriptArgs, ScriptConfig};

use anyhow::{Context, Result};
use lwprof_output::script::{ScriptEvent, ScriptFields, ScriptWriter, TraceField, TraceFormat};
use lwprof_perfdata::tracing::EventFormat;
use lwprof_profile::unwind::UnwinderConfig;
use lwprof_profile::walk::{walk_samples, FrameCache, WalkInput, WalkOptions};
use lwprof_symbols::{Symbolizer, SymbolizerConfig};

const SAMPLE_CALLCHAIN: u64 = 1 << 5;
const SAMPLE_CPU: u64 = 1 << 7;
const TYPE_TRACEPOINT: u32 = 2;

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
    // The error names the file and what is wrong with it.
    let input = WalkInput::open(&config.inputs)?;
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
    let mut printer = Printer::new(&writer, frames, &config);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed: Option<std::io::Error> = None;
    let summary = walk_samples(
        &input,
        WalkOptions {
            dwarf: Some(UnwinderConfig::default()),
            side_records: config.show_mmap_events || config.show_switch_events,
            ..WalkOptions::default()
        },
        |w| {
            if failed.is_some() {
                return;
            }
            if let Err(e) = printer.walked(&mut out, w) {
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
    if let Err(e) = printer.flush(&mut out) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Ok(0);
        }
        return Err(e).context("cannot write the output");
    }
    if let Some(d) = summary.damage {
        eprintln!("lwprof: the file is damaged; samples after the damage are missing: {d}");
    }
    Ok(0)
}
