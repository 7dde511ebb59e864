//! tracefs lookup: tracepoint subsystems, names and ids.
//!
//! [`Tracefs`] reads `events/<subsystem>/<name>/id` under a root given as a
//! parameter (so tests run against a fake tree); [`TracepointSource`] is what
//! the resolver and the catalogue need, so other sources can stand in.
//! [`Tracefs::find_or_mount`] mounts tracefs at `/sys/kernel/tracing` when
//! running as root and it is not mounted, as perf does. This module does not
//! parse tracepoint formats or enable ftrace.

use crate::spec::error::SpecError;
use std::ffi::CString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where tracefs is normally mounted.
pub const TRACEFS_MOUNT: &str = "/sys/kernel/tracing";
/// The older place, under debugfs.
pub const DEBUGFS_TRACING: &str = "/sys/kernel/debug/tracing";

/// Something that knows tracepoints: tracefs, or a stand-in in tests.
pub trait TracepointSource {
    /// Every subsystem, sorted.
    fn subsystems(&self) -> Result<Vec<String>, SpecError>;
    /// Every tracepoint of one subsystem, sorted (empty when it has none).
    fn tracepoints(&self, subsystem: &str) -> Result<Vec<String>, SpecError>;
    /// The id of one tracepoint (its `perf_event_attr.config`), `None` when
    /// it does not exist.
    fn id(&self, subsystem: &str, name: &str) -> Result<Option<u64>, SpecError>;
}

/// A tracefs tree at some root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracefs {
    root: PathBuf,
}

impl Tracefs {
    /// A tracefs tree at `root` (the directory that contains `events/`).
    pub fn new(root: impl Into<PathBuf>) -> Tracefs {
        Tracefs { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The mounted tracefs: `/sys/kernel/tracing`, else
    /// `/sys/kernel/debug/tracing`; `None` when neither has `events/`.
    pub fn find() -> Option<Tracefs> {
        [TRACEFS_MOUNT, DEBUGFS_TRACING]
            .into_iter()
            .map(Tracefs::new)
            .find(|t| t.root.join("events").is_dir())
    }

    /// Like [`Tracefs::find`], but when nothing is mounted and we run as
    /// root, mounts tracefs at `/sys/kernel/tracing` first (as perf does).
    pub fn find_or_mount() -> Result<Tracefs, SpecError> {
        if let Some(t) = Tracefs::find() {
            return Ok(t);
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Err(SpecError::NoTracefs {
                event: "tracepoints".into(),
            });
        }
        mount_tracefs(Path::new(TRACEFS_MOUNT))?;
        Ok(Tracefs::new(TRACEFS_MOUNT))
    }

    fn events_dir(&self) -> PathBuf {
        self.root.join("events")
    }
}

/// Mounts tracefs at `target` (`mount -t tracefs nodev <target>`).
pub fn mount_tracefs(target: &Path) -> Result<(), SpecError> {
    let err = |source: io::Error| SpecError::Mount {
        path: target.to_path_buf(),
        source,
    };
    let c_target = CString::new(target.as_os_str().as_encoded_bytes())
        .map_err(|_| err(io::Error::from(io::ErrorKind::InvalidInput)))?;
    // SAFETY: every pointer is a NUL-terminated string that outlives the call
    // (the literals are 'static, c_target lives to the end of this function);
    // tracefs takes no mount data, so a null data pointer is allowed.
    let rc = unsafe {
        libc::mount(
            c"nodev".as_ptr(),
            c_target.as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(err(io::Error::last_os_error()));
    }
    Ok(())
}

fn sorted_dirs(dir: &Path) -> Result<Vec<String>, SpecError> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SpecError::io(dir, e)),
    };
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| SpecError::io(dir, e))?;
        if ent.path().is_dir() {
            out.push(ent.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

impl TracepointSource for Tracefs {
    fn subsystems(&self) -> Result<Vec<String>, SpecError> {
        let dir = self.events_dir();
        if !dir.is_dir() {
            return Err(SpecError::io(
                &dir,
                io::Error::new(io::ErrorKind::NotFound, "tracefs has no events/ directory"),
            ));
        }
        sorted_dirs(&dir)
    }

    fn tracepoints(&self, subsystem: &str) -> Result<Vec<String>, SpecError> {
        if subsystem.contains('/') || subsystem.starts_with('.') {
            return Ok(Vec::new());
        }
        let dir = self.events_dir().join(subsystem);
        let mut v = sorted_dirs(&dir)?;
        v.retain(|n| dir.join(n).join("id").is_file());
        Ok(v)
    }

    fn id(&self, subsystem: &str, name: &str) -> Result<Option<u64>, SpecError> {
        if [subsystem, name]
            .iter()
            .any(|s| s.is_empty() || s.contains('/') || s.starts_with('.'))
        {
            return Ok(None);
        }
        let path = self.events_dir().join(subsystem).join(name).join("id");
        match fs::read_to_string(&path) {
            Ok(s) => s.trim().parse().map(Some).map_err(|_| {
                SpecError::io(
                    &path,
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("'{}' is not an id", s.trim()),
                    ),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SpecError::io(&path, e)),
        }
    }
}
