//! The output file of a recording: written under a temporary name next to
//! the final one and renamed into place only when the recording ran, so a
//! command that cannot start (or an event that cannot be opened) leaves the
//! previous recording untouched. The previous file of the same name is kept
//! as `NAME.old`, as perf keeps `perf.data.old`.
//!
//! This module does not write records; it only owns the names.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A file being written under a temporary name.
#[derive(Debug)]
pub struct OutputFile {
    path: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl OutputFile {
    /// Creates the temporary file for `path` in the same directory (so the
    /// rename cannot cross file systems) and returns it open for writing.
    pub fn create(path: &Path) -> io::Result<(Self, File)> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map_or_else(|| "perf.data".into(), |n| n.to_string_lossy().into_owned());
        let temp = dir.join(format!(".{name}.lwprof-{}.tmp", std::process::id()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)?;
        Ok((
            Self {
                path: path.to_path_buf(),
                temp,
                committed: false,
            },
            file,
        ))
    }

    /// The name the file will have.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary name it has until [`OutputFile::commit`].
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Puts the file in place. An existing non-empty file of that name is
    /// renamed to `NAME.old` first (replacing an older `.old`); returns that
    /// name when it did.
    /// On failure the temporary file is kept (its name is in
    /// [`OutputFile::temp_path`]): what was recorded is never deleted.
    pub fn commit(mut self) -> io::Result<Option<PathBuf>> {
        // From here on the temporary file is never removed.
        self.committed = true;
        let old = old_name(&self.path);
        let kept = match std::fs::metadata(&self.path) {
            Ok(m) if m.is_file() && m.len() > 0 => {
                std::fs::rename(&self.path, &old)?;
                Some(old)
            }
            _ => None,
        };
        std::fs::rename(&self.temp, &self.path)?;
        Ok(kept)
    }

    /// Puts the file in place under another name (a numbered
    /// `--switch-output` file), without keeping an `.old`; on failure the
    /// temporary file is kept.
    pub fn commit_as(mut self, path: &Path) -> io::Result<()> {
        self.committed = true;
        std::fs::rename(&self.temp, path)
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if !self.committed {
            // Nothing was recorded into it that the user asked to keep.
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// `NAME.old`.
fn old_name(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".old");
    PathBuf::from(s)
}

/// `NAME.YYYYmmddHHMMSScc` (UTC, centiseconds), perf's name for a
/// `--switch-output` file; a name taken already gets `-N` appended.
pub fn switch_output_name(path: &Path, at: SystemTime) -> PathBuf {
    let since = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let stamp = format!(
        "{y:04}{mo:02}{d:02}{:02}{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_millis() / 10
    );
    let mut base = path.as_os_str().to_owned();
    base.push(format!(".{stamp}"));
    let mut name = PathBuf::from(&base);
    let mut n = 1;
    while name.exists() {
        let mut s = base.clone();
        s.push(format!("-{n}"));
        name = PathBuf::from(s);
        n += 1;
    }
    name
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn uncommitted_output_leaves_the_old_file_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keep.data");
        std::fs::write(&path, b"44 samples").expect("write");
        let (out, _file) = OutputFile::create(&path).expect("create");
        assert!(out.temp_path().exists());
        drop(out);
        assert_eq!(std::fs::read(&path).expect("read"), b"44 samples");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }

    #[test]
    fn committed_output_keeps_the_previous_one_as_old() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("perf.data");
        std::fs::write(&path, b"first").expect("write");
        let (out, mut file) = OutputFile::create(&path).expect("create");
        std::io::Write::write_all(&mut file, b"second").expect("write");
        let old = out.commit().expect("commit");
        assert_eq!(old, Some(dir.path().join("perf.data.old")));
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        assert_eq!(
            std::fs::read(dir.path().join("perf.data.old")).expect("old"),
            b"first"
        );
    }

    #[test]
    fn switch_output_names_are_perfs_timestamps() {
        // 2026-12-02 10:01:01.44 UTC
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_205_661_440);
        let name = switch_output_name(Path::new("/nonexistent/perf.data"), at);
        assert_eq!(name, Path::new("/nonexistent/perf.data.2026120210010144"));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
