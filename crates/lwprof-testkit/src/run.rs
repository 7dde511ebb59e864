//! Running commands from tests and reading what they printed: output as
//! text, success required with a message that names the command and shows
//! its stderr, and Linux perf (the reference lwprof is compared with).
//!
//! It does not time commands out, feed them input or run lwprof itself
//! (the CLI's tests know the binary's path and add that on top).

use std::path::Path;
use std::process::{Command, Output};

/// stdout as text (lossy UTF-8).
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text (lossy UTF-8).
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// (stdout, stderr) as text.
pub fn text(o: &Output) -> (String, String) {
    (stdout(o), stderr(o))
}

/// Runs `cmd` to its end and returns its output, whatever its exit status;
/// panics only when it cannot be started.
pub fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e} (is it installed?)"))
}

/// Runs `cmd`, requires success, and returns (stdout, stderr) as text.
pub fn run(cmd: &mut Command) -> (String, String) {
    let o = output(cmd);
    let t = text(&o);
    assert!(
        o.status.success(),
        "{cmd:?} failed ({}):\n{}",
        o.status,
        t.1
    );
    t
}

/// Runs Linux perf in `dir` with `args`, whatever its exit status.
pub fn perf(dir: impl AsRef<Path>, args: &[&str]) -> Output {
    Command::new("perf")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("Linux perf is installed by .ci/run")
}

/// Runs Linux perf in `dir` with `args`, requires success, and returns
/// (stdout, stderr).
pub fn perf_ok(dir: impl AsRef<Path>, args: &[&str]) -> (String, String) {
    let o = perf(dir, args);
    let t = text(&o);
    assert!(o.status.success(), "perf {args:?} failed:\n{}", t.1);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_returns_both_streams_and_output_keeps_the_status() {
        let (out, err) = run(Command::new("sh").args(["-c", "echo out; echo err >&2"]));
        assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
        let o = output(Command::new("sh").args(["-c", "exit 3"]));
        assert_eq!(o.status.code(), Some(3));
    }

    #[test]
    #[should_panic(expected = "failed (exit status: 4)")]
    fn run_fails_on_a_failing_command() {
        run(Command::new("sh").args(["-c", "echo why >&2; exit 4"]));
    }

    #[test]
    #[should_panic(expected = "is it installed?")]
    fn a_command_that_cannot_start_says_so() {
        output(&mut Command::new("lwprof-testkit-no-such-command"));
    }
}
