//! Optional tools a test needs (`go`, `chromium`, a system library): when
//! one is missing the test prints `SKIP: ...` and passes, except under
//! `LWPROF_REQUIRE_TOOLS=1`, where a missing tool is a failure that names
//! the Debian package providing it. `.ci/run` installs every tool and sets
//! it, so in CI no test passes without having run.
//!
//! It does not install anything, and it is not for the tools every test
//! run has (perf, cc, binutils): a test simply fails without those.

use std::path::Path;

/// The environment variable that turns a missing tool into a failure.
pub const REQUIRE_TOOLS: &str = "LWPROF_REQUIRE_TOOLS";

/// Whether `LWPROF_REQUIRE_TOOLS=1` is set.
pub fn required() -> bool {
    std::env::var_os(REQUIRE_TOOLS).is_some_and(|v| v == "1")
}

/// Whether `tool` is an executable on `PATH` (or, with a `/`, at that
/// path). When it is not: prints `SKIP: ...` and returns false, or under
/// `LWPROF_REQUIRE_TOOLS=1` panics naming `package`.
pub fn available(tool: &str, package: &str) -> bool {
    decide(
        on_path(tool),
        required(),
        &format!("`{tool}` is not installed"),
        package,
    )
}

/// Whether the file at `path` (a system library, a debug file) exists.
/// When it does not: prints `SKIP: ...` and returns false, or under
/// `LWPROF_REQUIRE_TOOLS=1` panics naming `package`.
pub fn installed(path: &Path, package: &str) -> bool {
    decide(
        path.exists(),
        required(),
        &format!("{} does not exist", path.display()),
        package,
    )
}

/// The rule, apart from the environment and the file system.
fn decide(found: bool, required: bool, what: &str, package: &str) -> bool {
    if found {
        return true;
    }
    assert!(
        !required,
        "{what}: install the Debian package {package} ({REQUIRE_TOOLS}=1 requires every tool)"
    );
    eprintln!("SKIP: {what} (apt-get install {package})");
    false
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn on_path(tool: &str) -> bool {
    if tool.contains('/') {
        return is_executable(Path::new(tool));
    }
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| is_executable(&d.join(tool))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_present_tool_is_available_either_way() {
        assert!(on_path("sh"));
        assert!(on_path("/bin/sh"));
        assert!(decide(true, true, "x", "pkg"));
        assert!(decide(true, false, "x", "pkg"));
    }

    #[test]
    fn a_missing_tool_is_a_skip_without_the_requirement() {
        assert!(!on_path("lwprof-testkit-no-such-tool"));
        assert!(!on_path("/etc/passwd"), "not executable");
        assert!(!decide(false, false, "`x` is not installed", "pkg"));
    }

    #[test]
    #[should_panic(expected = "`x` is not installed: install the Debian package pkg")]
    fn a_missing_tool_fails_when_tools_are_required() {
        decide(false, true, "`x` is not installed", "pkg");
    }
}
