//! The TRACING_DATA feature of a recording with tracepoint events: their
//! format files from tracefs, laid out as perf lays them out, so that
//! `perf report` and `perf script` read the file and print tracepoint
//! fields by name. Reading tracefs happens here; the layout is
//! [`lwprof_perfdata::tracing`]'s.

use lwprof_events::tracefs::{Tracefs, TracepointSource};
use lwprof_events::EventConfig;
use lwprof_perfdata::tracing::{self, TracingData, TracingHost};
use lwprof_perfdata::{feature, Features};
use perf_event_open_sys::bindings as abi;

/// The TRACING_DATA blob for the tracepoint events, `None` without
/// tracepoints. When it cannot be made the recording goes on, with a
/// warning: lwprof reads the file without it, perf does not.
pub(super) fn tracing_blob(events: &[EventConfig], warnings: &mut Vec<String>) -> Option<Vec<u8>> {
    let tracepoints: Vec<&EventConfig> = events
        .iter()
        .filter(|e| e.type_ == abi::PERF_TYPE_TRACEPOINT)
        .collect();
    if tracepoints.is_empty() {
        return None;
    }
    let made = (|| {
        let tfs = Tracefs::find().ok_or_else(|| "tracefs is not mounted".to_string())?;
        let names = tracepoints
            .iter()
            .map(|e| tracepoint_name(&tfs, e))
            .collect::<Result<Vec<_>, _>>()?;
        let pairs: Vec<(&str, &str)> = names
            .iter()
            .map(|(s, n)| (s.as_str(), n.as_str()))
            .collect();
        let files = tfs.tracing_files(&pairs).map_err(|e| e.to_string())?;
        for u in &files.unreadable {
            warnings.push(format!("{u}: left out of the file's tracing data"));
        }
        let page = lwprof_events::budget::Limits::from_system().page_size;
        let host = TracingHost::native(u32::try_from(page).unwrap_or(4096));
        tracing::build(&files, host).map_err(|e| e.to_string())
    })();
    match made {
        Ok(blob) => Some(blob),
        Err(e) => {
            warnings.push(format!(
                "the tracepoint formats cannot be written ({e}): perf will not read this file"
            ));
            None
        }
    }
}

/// Puts the blob into the features (parsed, or as bytes when lwprof cannot
/// read what it wrote).
pub(super) fn add_to_features(
    blob: Option<&Vec<u8>>,
    features: &mut Features,
    warnings: &mut Vec<String>,
) {
    let Some(blob) = blob else { return };
    match TracingData::parse(blob.clone()) {
        Ok(t) => features.tracing_data = Some(t),
        Err(e) => {
            // Written all the same: perf may read what lwprof cannot.
            warnings.push(format!(
                "lwprof cannot read the tracepoint formats it wrote: {e}"
            ));
            features.other.insert(feature::TRACING_DATA, blob.clone());
        }
    }
}

/// (subsystem, name) of a tracepoint event: from its name when that has the
/// event's id, else by a search of tracefs for the id.
fn tracepoint_name(tfs: &Tracefs, e: &EventConfig) -> Result<(String, String), String> {
    let mut parts = e.name.split(':');
    if let (Some(sub), Some(name)) = (parts.next(), parts.next()) {
        if tfs.id(sub, name).ok().flatten() == Some(e.config) {
            return Ok((sub.to_string(), name.to_string()));
        }
    }
    tfs.tracepoint_by_id(e.config)
        .map_err(|err| err.to_string())?
        .ok_or_else(|| {
            format!(
                "no tracepoint in tracefs has the id {} of {}",
                e.config, e.name
            )
        })
}
