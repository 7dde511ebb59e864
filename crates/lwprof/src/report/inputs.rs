//! What `-i` names: a perf.data file, a `perf record --threads` directory
//! (its `data` file and `data.N` streams), or a glob over file names (a
//! `--switch-output` series, `perf.data.*`), reported as one profile.
//!
//! The glob is matched here (`*` and `?` in the last path component, files
//! in name order, which is time order for perf's timestamped names); it
//! deliberately does not expand directories or brace lists.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// A directory that `perf record --threads` wrote.
pub fn is_threads_dir(path: &Path) -> bool {
    path.is_dir() && path.join("data").is_file()
}

fn matches(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            matches(&pattern[1..], name) || (!name.is_empty() && matches(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => matches(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => matches(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// The inputs `-i INPUT` names: itself when it exists or has no glob
/// characters, else the files its last component matches, in name order.
pub fn expand(input: &Path) -> Result<Vec<PathBuf>> {
    let name = input.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if input.exists() || !name.contains(['*', '?']) {
        return Ok(vec![input.to_path_buf()]);
    }
    let dir = match input.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let entries = std::fs::read_dir(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_dir()))
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| matches(name.as_bytes(), n.as_bytes()))
        })
        .map(|e| dir.join(e.file_name()))
        .collect();
    found.sort();
    if found.is_empty() {
        bail!("{}: no file matches", input.display());
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_names_a_switch_output_series_in_time_order() {
        assert!(matches(b"perf.data.*", b"perf.data.2026120216240012"));
        assert!(!matches(b"perf.data.*", b"perf.data"));
        assert!(matches(b"p?.data", b"p1.data"));
        let dir = lwprof_testkit::scratch("glob");
        for n in ["perf.data.2", "perf.data.1", "other"] {
            std::fs::write(dir.path().join(n), b"").expect("write");
        }
        let got = expand(&dir.path().join("perf.data.*")).expect("expands");
        let names: Vec<_> = got
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["perf.data.1", "perf.data.2"]);
        assert!(expand(&dir.path().join("nothing.*")).is_err());
    }
}
