//! Where a recording's records go: a perf.data file (under a temporary
//! name until it is finished, see [`super::output`]) or, for `-o -`, pipe
//! mode on standard output; zstd-compressed with `-z`. Finishing a file
//! that a write failure (a full disk) stopped keeps every whole record and
//! names the cause, the file and how many samples it holds.
//!
//! This module does not decide what is recorded or when files switch.

use super::output::{switch_output_name, OutputFile};
use super::{RecordConfig, RecordError, WriteTarget, WrittenFile};
use crate::synth;
use lwprof_events::raw::RawData;
use lwprof_perfdata::{
    Compression, EventAttr, Features, PartialFeatures, PerfDataError, PerfDataWriter, PipeWriter,
};
use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

const RECORD_LOST_SAMPLES: u32 = lwprof_records::abi::record_type::LOST_SAMPLES;

/// The output of a recording.
pub(super) enum Sink {
    /// A perf.data file.
    File(PerfDataWriter<File>),
    /// Pipe mode on standard output.
    Pipe(PipeWriter<File>),
}

impl Sink {
    pub(super) fn write_record(&mut self, record: &[u8]) -> Result<(), PerfDataError> {
        match self {
            Sink::File(w) => w.write_record(record),
            Sink::Pipe(w) => w.write_record(record),
        }
    }

    pub(super) fn write_raw(&mut self, record: RawData<'_>) -> Result<(), PerfDataError> {
        match self {
            Sink::File(w) => w.write_raw(record),
            Sink::Pipe(w) => w.write_raw(record),
        }
    }

    pub(super) fn write_finished_round(&mut self) -> Result<(), PerfDataError> {
        match self {
            Sink::File(w) => w.write_finished_round(),
            Sink::Pipe(w) => w.write_finished_round(),
        }
    }

    /// Ends the synthesized records (pipe mode only, as perf 6.1 writes).
    pub(super) fn write_finished_init(&mut self) -> Result<(), PerfDataError> {
        match self {
            Sink::File(_) => Ok(()),
            Sink::Pipe(w) => w.write_finished_init(),
        }
    }

    /// Bytes of records written (compressed, when they are).
    pub(super) fn data_size(&self) -> u64 {
        match self {
            Sink::File(w) => w.data_size(),
            Sink::Pipe(w) => w.data_size(),
        }
    }

    /// Bytes of records written, before compression.
    pub(super) fn record_bytes(&self) -> u64 {
        match self {
            Sink::File(w) => w.record_bytes(),
            Sink::Pipe(w) => w.record_bytes(),
        }
    }

    pub(super) fn records(&self) -> u64 {
        match self {
            Sink::File(w) => w.records(),
            Sink::Pipe(w) => w.records(),
        }
    }
}

/// The file being written and what is known about it.
pub(super) struct CurrentFile {
    /// The temporary name (files only).
    pub(super) output: Option<OutputFile>,
    pub(super) writer: Sink,
    pub(super) samples: u64,
    pub(super) started: Instant,
    /// Lost counts per event when this file started.
    pub(super) lost_at_start: Vec<u64>,
}

/// `-o -`: pipe mode on standard output.
pub(super) fn is_pipe(config: &RecordConfig) -> bool {
    config.output == Path::new("-")
}

fn compression(config: &RecordConfig) -> Option<Compression> {
    let pages = config
        .data_pages
        .unwrap_or_else(|| super::recording::default_pages(config));
    config.compression_level.map(|level| Compression {
        level,
        // perf's: the ring's mmap size, data pages plus the control page.
        mmap_len: ((pages + 1) * 4096).min(u32::MAX as usize) as u32,
    })
}

/// A new output: a file under a temporary name with its attributes
/// written, or the pipe-mode stream on standard output with its header,
/// attributes and `head_features` sent.
pub(super) fn new_file(
    config: &RecordConfig,
    attrs: &[EventAttr],
    lost_at_start: Vec<u64>,
    head_features: &Features,
) -> Result<CurrentFile, RecordError> {
    let compression = compression(config);
    let (output, writer) = if is_pipe(config) {
        let fd = std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| RecordError::Config(format!("cannot write to standard output: {e}")))?;
        let w = PipeWriter::new(File::from(fd), attrs, head_features, compression)?;
        (None, Sink::Pipe(w))
    } else {
        let (output, file) = OutputFile::create(&config.output).map_err(|e| {
            RecordError::Config(format!(
                "cannot create {} (in its directory): {e}",
                config.output.display()
            ))
        })?;
        let mut w = PerfDataWriter::with_path(file, attrs, config.output.clone())?;
        if let Some(c) = compression {
            w = w.with_compression(c)?;
        }
        (Some(output), Sink::File(w))
    };
    Ok(CurrentFile {
        output,
        writer,
        samples: 0,
        started: Instant::now(),
        lost_at_start,
    })
}

/// Writes the lost counts and the features of `cur`, and puts it in place.
/// Returns what was written and the `.old` name when one was kept. After a
/// write failure the file is finished up to its last whole record, put in
/// place all the same, and the failure is returned.
pub(super) fn finish_file(
    config: &RecordConfig,
    mut cur: CurrentFile,
    attrs: &[EventAttr],
    lost_now: &[u64],
    features: &Features,
) -> Result<(WrittenFile, Option<PathBuf>), RecordError> {
    // A failure here is the one the file is finished after.
    let _ = write_lost_samples(&mut cur, attrs, lost_now);
    let bytes = cur.writer.data_size();
    let record_bytes = cur.writer.record_bytes();
    let CurrentFile { output, writer, .. } = cur;
    let writer = match writer {
        Sink::Pipe(w) => return finish_pipe(w, features, cur.samples),
        Sink::File(w) => w,
    };
    let final_path = if config.switch_output.is_some() {
        switch_output_name(&config.output, SystemTime::now())
    } else {
        config.output.clone()
    };
    let finished = writer.finish_what_fits(features);
    let output = output.ok_or_else(|| RecordError::Config("no output file".into()))?;
    let temp = output.temp_path().to_path_buf();
    let io = |e: std::io::Error| {
        RecordError::Config(format!(
            "cannot put the recording in place as {}: {e} (it is kept as {})",
            final_path.display(),
            temp.display()
        ))
    };
    // Even a file whose header could not be rewritten is kept: the records
    // in it are whole, and `lwprof report` reads an unfinished file.
    let old = if config.switch_output.is_some() {
        output.commit_as(&final_path).map_err(io)?;
        None
    } else {
        output.commit().map_err(io)?
    };
    let partial = finished?;
    if let Some(cause) = partial.cause {
        return Err(RecordError::WriteFailed {
            target: WriteTarget::File(final_path),
            cause,
            samples: partial.samples,
            features: partial.features,
        });
    }
    Ok((
        WrittenFile {
            path: final_path,
            bytes,
            record_bytes,
            samples: cur.samples,
        },
        old,
    ))
}

/// Sends the build ids and the last records down the pipe.
fn finish_pipe(
    mut w: PipeWriter<File>,
    features: &Features,
    samples: u64,
) -> Result<(WrittenFile, Option<PathBuf>), RecordError> {
    let _ = w.flush();
    if let Some(f) = w.failure() {
        return Err(RecordError::WriteFailed {
            target: WriteTarget::Stdout,
            cause: std::io::Error::new(f.cause.kind(), f.cause.to_string()),
            samples: f.samples,
            features: PartialFeatures::None,
        });
    }
    let (bytes, record_bytes) = (w.data_size(), w.record_bytes());
    w.finish(&features.build_ids)?;
    Ok((
        WrittenFile {
            path: PathBuf::from("-"),
            bytes,
            record_bytes,
            samples,
        },
        None,
    ))
}

/// One LOST_SAMPLES record per event that lost samples while this file was
/// written, as `perf record` writes them at the end (perf reports "Total
/// Lost Samples" from these records only).
fn write_lost_samples(
    cur: &mut CurrentFile,
    attrs: &[EventAttr],
    lost_now: &[u64],
) -> Result<(), PerfDataError> {
    for (i, attr) in attrs.iter().enumerate() {
        let before = cur.lost_at_start.get(i).copied().unwrap_or(0);
        let lost = lost_now.get(i).copied().unwrap_or(0).saturating_sub(before);
        if lost == 0 {
            continue;
        }
        let info = attr.parse_info();
        let id = attr.ids.first().copied().unwrap_or(0);
        let trailer = synth::sample_id_trailer(&info, 0, 0, 0, id);
        let mut body = lost.to_ne_bytes().to_vec();
        body.extend_from_slice(&trailer);
        let size = (8 + body.len()) as u16;
        let mut rec = Vec::with_capacity(size as usize);
        rec.extend_from_slice(&RECORD_LOST_SAMPLES.to_ne_bytes());
        rec.extend_from_slice(&0u16.to_ne_bytes());
        rec.extend_from_slice(&size.to_ne_bytes());
        rec.extend_from_slice(&body);
        cur.writer.write_record(&rec)?;
    }
    Ok(())
}
