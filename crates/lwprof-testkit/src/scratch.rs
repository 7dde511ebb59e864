//! Scratch directories for tests, on `tempfile`: each has a name that says
//! which test made it and is removed when dropped, so parallel tests and
//! repeated runs never share or leave files.
//!
//! It does not keep a directory for inspection after a failure, and it does
//! not choose where the directory lives (`tempfile` follows `TMPDIR`).

pub use tempfile::TempDir;

/// A fresh directory named `lwprof-test-NAME-XXXXXX` under the system's
/// temporary directory; removed, with everything in it, when dropped.
///
/// Keep the returned value alive for as long as the files are used.
pub fn scratch(name: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("lwprof-test-{name}-"))
        .tempdir()
        .unwrap_or_else(|e| panic!("creating a scratch directory for {name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::scratch;

    #[test]
    fn scratch_dirs_are_distinct_named_and_removed_on_drop() {
        let a = scratch("kit");
        let b = scratch("kit");
        assert_ne!(a.path(), b.path());
        let name = a.path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("lwprof-test-kit-"), "{name}");
        std::fs::write(a.path().join("f"), b"x").unwrap();
        let path = a.path().to_path_buf();
        drop(a);
        assert!(!path.exists());
        assert!(b.path().is_dir());
    }
}
