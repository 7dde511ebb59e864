//! pprof: the `profile.proto` message, gzip-compressed, as `go tool pprof`,
//! Grafana Pyroscope and Parca read it.
//!
//! Value types: `samples/count` first, then one column per kind of weight
//! found: `cpu/nanoseconds` for cpu-clock, `<event>/nanoseconds` for
//! task-clock, `<event>/count` for other events, and `off_cpu/nanoseconds`
//! for off-CPU samples. The first weight column is the default sample type
//! and the period type; `duration_nanos` spans the first sample's period
//! to the last sample. One pprof sample per unique (stack, thread, name),
//! labelled `pid`, `tid` (numbers) and `thread_name`.
//!
//! Locations: one per code address, with one `Line` per inline level,
//! innermost first as pprof expects. Mappings: one per DSO, spanning the
//! addresses seen in it; for file-backed DSOs the address is the file offset
//! and `file_offset == memory_start`, so `address - memory_start +
//! file_offset` is the file offset either way. gzip uses mtime 0, so the
//! same profile gives the same bytes.

pub mod proto;
mod tables;

use std::io::Write;

use flate2::{Compression, GzBuilder};
use prost::Message;

use super::{note_for, Format, OutputError, OutputNote, OutputOptions, ProfileWriter};
use lwprof_profile::model::Profile;
use tables::{Columns, Locations, Rows, Strings};

/// Writes gzip-compressed pprof ([`Format::Pprof`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct PprofWriter;

impl ProfileWriter for PprofWriter {
    fn format(&self) -> Format {
        Format::Pprof
    }

    fn write(
        &self,
        profile: &Profile,
        opts: &OutputOptions,
        out: &mut dyn Write,
    ) -> Result<Option<OutputNote>, OutputError> {
        let message = pprof_profile(profile, opts);
        let bytes = message.encode_to_vec();
        let io = OutputError::io(Format::Pprof);
        let mut gz = GzBuilder::new()
            .mtime(0)
            .write(&mut *out, Compression::default());
        gz.write_all(&bytes)
            .map_err(OutputError::io(Format::Pprof))?;
        gz.finish().map_err(OutputError::io(Format::Pprof))?;
        out.flush().map_err(io)?;
        Ok(note_for(profile, opts, Format::Pprof))
    }
}

/// The uncompressed pprof message for a profile (what
/// [`PprofWriter`] gzips): for tests and tools that want to inspect it.
///
/// Built from tables, each filled once: the value columns, the sample rows
/// (one per unique stack, thread and name), then the locations, functions
/// and mappings those rows use, all naming strings from one string table.
pub fn pprof_profile(profile: &Profile, opts: &OutputOptions) -> proto::Profile {
    let mut strings = Strings::new();
    let columns = Columns::of(profile, opts);
    let sample_type = columns.value_types(profile, &mut strings);
    let rows = Rows::of(profile, opts, &columns);
    let mut locations = Locations::default();
    let keys = tables::LabelKeys::new(&mut strings);
    let sample = rows
        .iter()
        .map(|(key, values)| proto::Sample {
            location_id: profile
                .stack_locations(key.stack)
                .map(|loc| locations.location(profile, loc, opts.no_inline, &mut strings))
                .collect(),
            value: values.to_vec(),
            label: keys.labels(profile, key.thread, key.comm, &mut strings),
        })
        .collect();
    let (location, function, mapping) = locations.finish(profile, &mut strings);
    let period = rows.period();
    let mut comment = Vec::new();
    if profile.lost_samples() > 0 {
        comment.push(strings.get(&format!("lost samples: {}", profile.lost_samples())));
    }
    proto::Profile {
        period_type: sample_type.get(1).copied(),
        default_sample_type: sample_type.get(1).map_or(0, |t| t.r#type),
        sample_type,
        sample,
        mapping,
        location,
        function,
        string_table: strings.into_table(),
        drop_frames: 0,
        keep_frames: 0,
        time_nanos: opts.start_time_unix_ns.map_or(0, to_i64),
        duration_nanos: to_i64(columns.duration(period)),
        period: to_i64(period),
        comment,
        doc_url: 0,
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
