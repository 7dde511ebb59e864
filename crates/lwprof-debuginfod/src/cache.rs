//! The debuginfod client cache, in elfutils' layout so that lwprof, gdb,
//! perf and `debuginfod-find` share one: `CACHE/HEX/debuginfo` and
//! `CACHE/HEX/executable` (directory 0700, files 0400), where CACHE is
//! `$DEBUGINFOD_CACHE_PATH`, else `$XDG_CACHE_HOME/debuginfod_client`, else
//! `~/.cache/debuginfod_client`.
//!
//! A file appears whole or not at all (written to a temporary file in the
//! same directory, then renamed). A failed fetch leaves an empty file at the
//! same path, elfutils' negative-cache entry, honoured for
//! `CACHE/cache_miss_s` seconds (600 unless that file says otherwise;
//! written with the default when missing, as elfutils does).
//!
//! It does not clean the cache (`cache_clean_interval_s`,
//! `max_unused_age_s`): elfutils' own clients do that, and a cache only
//! lwprof uses grows by what it fetched.

use crate::{hex, Artifact};
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// elfutils' default for `cache_miss_s`.
pub const DEFAULT_CACHE_MISS: Duration = Duration::from_secs(600);

/// `$DEBUGINFOD_CACHE_PATH`, else `$XDG_CACHE_HOME/debuginfod_client`, else
/// `$HOME/.cache/debuginfod_client`; `None` when none of them is set.
pub fn default_cache_path() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(p) = var("DEBUGINFOD_CACHE_PATH") {
        return Some(PathBuf::from(p));
    }
    if let Some(x) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(x).join("debuginfod_client"));
    }
    var("HOME").map(|h| PathBuf::from(h).join(".cache").join("debuginfod_client"))
}

/// What the cache holds for one build id and artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The file.
    Hit(PathBuf),
    /// A negative-cache entry younger than the miss period.
    Miss {
        /// The empty file.
        path: PathBuf,
        /// How old it is.
        age: Duration,
    },
    /// Nothing (or an expired negative entry): ask the servers.
    Absent,
}

/// A cache directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `CACHE/HEX/ARTIFACT`.
    pub fn path(&self, build_id: &[u8], artifact: Artifact) -> PathBuf {
        self.root.join(hex(build_id)).join(artifact.name())
    }

    /// What the cache holds, a negative entry counting for `miss`.
    pub fn lookup(&self, build_id: &[u8], artifact: Artifact, miss: Duration) -> Lookup {
        let path = self.path(build_id, artifact);
        let Ok(meta) = fs::metadata(&path) else {
            return Lookup::Absent;
        };
        if !meta.is_file() {
            return Lookup::Absent;
        }
        if meta.len() > 0 {
            return Lookup::Hit(path);
        }
        // A clock that went back counts as a fresh miss.
        let age = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .unwrap_or_default();
        if age <= miss {
            Lookup::Miss { path, age }
        } else {
            Lookup::Absent
        }
    }

    /// How long a miss is kept: `CACHE/cache_miss_s`, written with elfutils'
    /// default (600) when it is missing; the default when it cannot be read.
    pub fn cache_miss(&self) -> Duration {
        let file = self.root.join("cache_miss_s");
        match fs::read_to_string(&file) {
            Ok(text) => text
                .trim()
                .parse::<u64>()
                .map_or(DEFAULT_CACHE_MISS, Duration::from_secs),
            Err(_) => {
                // Best effort, as elfutils: a cache that cannot be written
                // is reported when a fetch tries to store into it.
                if fs::create_dir_all(&self.root).is_ok() {
                    let _ = fs::write(&file, DEFAULT_CACHE_MISS.as_secs().to_string());
                }
                DEFAULT_CACHE_MISS
            }
        }
    }

    /// `CACHE/HEX`, created (0700) when missing.
    pub fn dir(&self, build_id: &[u8]) -> io::Result<PathBuf> {
        let dir = self.root.join(hex(build_id));
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        Ok(dir)
    }

    /// A temporary file in `CACHE/HEX` that [`Cache::commit`] renames into
    /// place; dropped unused, it is removed.
    pub fn temp_file(
        &self,
        build_id: &[u8],
        artifact: Artifact,
    ) -> io::Result<tempfile::NamedTempFile> {
        let dir = self.dir(build_id)?;
        tempfile::Builder::new()
            .prefix(&format!(".{}.", artifact.name()))
            .suffix(".lwprof-tmp")
            .tempfile_in(dir)
    }

    /// Makes a written temporary file the cached file (read-only, as
    /// elfutils leaves it), replacing a negative entry; returns its path.
    pub fn commit(
        &self,
        file: tempfile::NamedTempFile,
        build_id: &[u8],
        artifact: Artifact,
    ) -> io::Result<PathBuf> {
        file.as_file().sync_all()?;
        fs::set_permissions(file.path(), fs::Permissions::from_mode(0o400))?;
        let path = self.path(build_id, artifact);
        file.persist(&path).map_err(|e| e.error)?;
        Ok(path)
    }

    /// Records a failed fetch: an empty file at `CACHE/HEX/ARTIFACT`, whose
    /// modification time is when. A real file already there is kept.
    pub fn record_miss(&self, build_id: &[u8], artifact: Artifact) -> io::Result<()> {
        let path = self.path(build_id, artifact);
        if fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
            return Ok(());
        }
        // A new empty file renamed over an expired entry: its mtime is now.
        let file = self.temp_file(build_id, artifact)?;
        file.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_entry_is_a_miss_until_it_expires_and_a_file_replaces_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::new(dir.path().join("c"));
        let id = [0xab, 0xcd, 0x01];
        assert_eq!(
            cache.lookup(&id, Artifact::Debuginfo, DEFAULT_CACHE_MISS),
            Lookup::Absent
        );
        cache.record_miss(&id, Artifact::Debuginfo).expect("miss");
        let path = dir.path().join("c/abcd01/debuginfo");
        assert!(matches!(
            cache.lookup(&id, Artifact::Debuginfo, DEFAULT_CACHE_MISS),
            Lookup::Miss { path: p, .. } if p == path
        ));
        assert_eq!(fs::metadata(&path).map(|m| m.len()).ok(), Some(0));
        // The executable of the same build id is not a miss.
        assert_eq!(
            cache.lookup(&id, Artifact::Executable, DEFAULT_CACHE_MISS),
            Lookup::Absent
        );
        // An old miss is no longer honoured.
        let old = SystemTime::now() - Duration::from_secs(700);
        fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(old))
            .expect("set mtime");
        assert_eq!(
            cache.lookup(&id, Artifact::Debuginfo, DEFAULT_CACHE_MISS),
            Lookup::Absent
        );
        let mut tmp = cache.temp_file(&id, Artifact::Debuginfo).expect("temp");
        std::io::Write::write_all(&mut tmp, b"\x7fELF...").expect("write");
        let stored = cache.commit(tmp, &id, Artifact::Debuginfo).expect("commit");
        assert_eq!(stored, path);
        assert_eq!(
            cache.lookup(&id, Artifact::Debuginfo, DEFAULT_CACHE_MISS),
            Lookup::Hit(path.clone())
        );
        let mode = fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o400));
        // A miss recorded later does not clobber the file.
        cache.record_miss(&id, Artifact::Debuginfo).expect("miss");
        assert_eq!(fs::read(&path).ok().as_deref(), Some(&b"\x7fELF..."[..]));
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path().join("c/abcd01"))
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["debuginfo"]);
    }

    #[test]
    fn cache_miss_s_is_read_and_written_with_the_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::new(dir.path());
        assert_eq!(cache.cache_miss(), DEFAULT_CACHE_MISS);
        assert_eq!(
            fs::read_to_string(dir.path().join("cache_miss_s"))
                .ok()
                .as_deref(),
            Some("600")
        );
        fs::write(dir.path().join("cache_miss_s"), "5\n").expect("write");
        assert_eq!(cache.cache_miss(), Duration::from_secs(5));
    }
}
