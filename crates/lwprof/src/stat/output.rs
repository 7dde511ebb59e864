//! Where `lwprof stat` writes its counts: stderr (as perf does, so the
//! command's stdout stays clean) or the `-o` file, with every write error
//! naming that destination (`writing /dev/full: No space left on device`).
//!
//! The error keeps its `io::ErrorKind`, so a broken pipe still exits quietly.
//! This module does not format anything.

use anyhow::{Context, Result};
use std::io::{self, Write};
use std::path::Path;

/// A writer that names its destination in its errors.
pub struct StatOutput {
    name: String,
    inner: Box<dyn Write>,
}

impl StatOutput {
    /// The `-o` file (created or truncated), or stderr.
    pub fn open(path: Option<&Path>) -> Result<StatOutput> {
        Ok(match path {
            Some(path) => StatOutput {
                name: path.display().to_string(),
                inner: Box::new(io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?,
                )),
            },
            None => StatOutput {
                name: "standard error".into(),
                inner: Box::new(io::stderr()),
            },
        })
    }

    fn named(&self, e: io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("writing {}: {e}", self.name))
    }
}

impl Write for StatOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.named(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| self.named(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_device_is_named_in_the_error() {
        let mut out = StatOutput::open(Some(Path::new("/dev/full"))).unwrap();
        let e = writeln!(out, "x").and_then(|_| out.flush()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert_eq!(
            e.to_string(),
            "writing /dev/full: No space left on device (os error 28)"
        );
    }
}
