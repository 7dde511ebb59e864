//! Starting a command to be measured from its very first instruction.
//!
//! perf's model, which we keep: fork a child that waits on a pipe before it
//! calls exec; the parent opens counters on the child's pid with
//! `enable_on_exec`, then lets it go. Nothing the child does before exec (or
//! lwprof does at all) is counted.
//!
//! Everything the child needs (program path, argv, envp) is prepared before
//! fork, so the child only calls async-signal-safe functions: close, read,
//! execve, write and _exit (through libc, not std, whose wrappers promise no
//! async-signal safety). The parent's side of the two pipes is std's.
//!
//! This module does not open events: the caller opens them on
//! [`PreparedCommand::pid`] between [`PreparedCommand::new`] and
//! [`PreparedCommand::start`].

use crate::error::{Error, Result};
use std::ffi::{CString, OsStr, OsString};
use std::io::{self, PipeReader, PipeWriter, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// How a measured command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called exit with this code.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
}

impl ExitStatus {
    /// The status a shell would report: the code, or 128 + the signal.
    pub fn code(&self) -> i32 {
        match *self {
            ExitStatus::Exited(c) => c,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }
}

/// A forked child that has not yet called exec.
#[derive(Debug)]
pub struct PreparedCommand {
    pid: i32,
    go: Option<PipeWriter>,
    exec_err: PipeReader,
    program: OsString,
    reaped: Option<ExitStatus>,
    pidfd: Option<OwnedFd>,
    times: Option<(std::time::Duration, std::time::Duration)>,
}

fn cstring(s: &OsStr, what: &str) -> Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        Error::misuse(format!(
            "{what} contains a NUL byte: {}",
            s.to_string_lossy()
        ))
    })
}

/// Finds `program` in `$PATH` the way execvp would (a name with a slash is
/// taken as a path).
pub fn resolve_program(program: &OsStr) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

impl PreparedCommand {
    /// Forks a child that will exec `argv[0]` (searched in `$PATH`) with
    /// `argv` once [`PreparedCommand::start`] is called.
    pub fn new(argv: &[OsString]) -> Result<PreparedCommand> {
        Self::fork(argv, false)
    }

    /// Like [`new`](Self::new), but the command's standard output is its
    /// standard error, as perf does when its own output is the data stream
    /// (`perf record -o -`): the command's output must not get into it.
    pub fn with_stdout_on_stderr(argv: &[OsString]) -> Result<PreparedCommand> {
        Self::fork(argv, true)
    }

    fn fork(argv: &[OsString], stdout_on_stderr: bool) -> Result<PreparedCommand> {
        let program = argv
            .first()
            .ok_or_else(|| Error::misuse("no command given"))?;
        let path = resolve_program(program).ok_or_else(|| Error::CommandNotFound {
            program: program.to_string_lossy().into_owned(),
        })?;
        let c_path = cstring(path.as_os_str(), "the program path")?;
        let c_args: Vec<CString> = argv
            .iter()
            .map(|a| cstring(a, "an argument"))
            .collect::<Result<_>>()?;
        let c_env: Vec<CString> = std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k.into_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                CString::new(kv).unwrap_or_default()
            })
            .collect();
        let mut argv_ptrs: Vec<*const libc::c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let mut env_ptrs: Vec<*const libc::c_char> = c_env.iter().map(|a| a.as_ptr()).collect();
        env_ptrs.push(std::ptr::null());

        // std's pipes are close-on-exec: the error pipe reads EOF once exec
        // succeeds, and the command inherits neither.
        let (go_read, go_write) = io::pipe().map_err(|e| Error::io("pipe", e))?;
        let (err_read, err_write) = io::pipe().map_err(|e| Error::io("pipe", e))?;

        // SAFETY: fork is safe to call; in the child we only use
        // async-signal-safe calls (read, execve, write, _exit) on data that
        // was fully built before the fork, and never return into Rust code.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(Error::io("fork", io::Error::last_os_error()));
        }
        if pid == 0 {
            // Child. Close our copies of the parent's pipe ends first, so the
            // go pipe reads EOF if the parent drops us without starting.
            // SAFETY: close is async-signal-safe; these fds are the child's copies.
            unsafe {
                libc::close(go_write.as_raw_fd());
                libc::close(err_read.as_raw_fd());
            }
            let mut byte = 0u8;
            // SAFETY: reading one byte into a live local from our own pipe.
            let n = unsafe { libc::read(go_read.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) };
            if n == 1 && stdout_on_stderr {
                // SAFETY: dup2 is async-signal-safe and only replaces the
                // child's own descriptor 1.
                unsafe { libc::dup2(2, 1) };
            }
            if n == 1 {
                // SAFETY: path, argv and envp are NUL-terminated arrays of
                // NUL-terminated strings that outlive this call.
                unsafe { libc::execve(c_path.as_ptr(), argv_ptrs.as_ptr(), env_ptrs.as_ptr()) };
                let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
                let bytes = errno.to_ne_bytes();
                // SAFETY: writing four bytes from a live local to our pipe.
                unsafe { libc::write(err_write.as_raw_fd(), bytes.as_ptr().cast(), 4) };
            }
            // SAFETY: _exit never returns and runs no destructors or atexit
            // handlers of the parent's state.
            unsafe { libc::_exit(127) };
        }
        drop(go_read);
        drop(err_write);
        Ok(PreparedCommand {
            pid,
            go: Some(go_write),
            exec_err: err_read,
            program: program.clone(),
            reaped: None,
            pidfd: pidfd_open(pid),
            times: None,
        })
    }

    /// The child's pid: open counters on it before [`start`](Self::start).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Lets the child exec, and waits until exec has succeeded or failed.
    pub fn start(&mut self) -> Result<()> {
        let mut go = self
            .go
            .take()
            .ok_or_else(|| Error::misuse("command already started"))?;
        go.write_all(&[1])
            .map_err(|e| Error::io("start command", e))?;
        drop(go);
        // The error pipe is close-on-exec: EOF means exec succeeded, four
        // bytes carry the errno of a failed exec.
        let mut status = Vec::with_capacity(4);
        self.exec_err
            .read_to_end(&mut status)
            .map_err(|e| Error::io("waiting for the command to exec", e))?;
        if let Some(&errno) = status.first_chunk::<4>() {
            let errno = i32::from_ne_bytes(errno);
            let _ = self.wait();
            return Err(Error::io(
                format!("cannot run {}", self.program.to_string_lossy()),
                io::Error::from_raw_os_error(errno),
            ));
        }
        Ok(())
    }

    /// Waits for the child to end.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        if let Some(s) = self.reaped {
            return Ok(s);
        }
        loop {
            if let Some(s) = self.reap(0)? {
                return Ok(s);
            }
        }
    }

    /// Returns the exit status if the child has ended, without blocking.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        if let Some(s) = self.reaped {
            return Ok(Some(s));
        }
        self.reap(libc::WNOHANG)
    }

    /// Waits up to `timeout` for the child to end (polling its pidfd, so a
    /// caller can check for Ctrl-C between waits without delaying the exit).
    pub fn wait_timeout(&mut self, timeout: std::time::Duration) -> Result<Option<ExitStatus>> {
        if let Some(s) = self.reaped {
            return Ok(Some(s));
        }
        if let Some(fd) = &self.pidfd {
            let mut pfd = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // Rounded up: a timeout cut to whole milliseconds would return
            // early and make a caller waiting for a deadline spin.
            let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd on the stack; poll only writes revents.
            unsafe { libc::poll(&mut pfd, 1, ms) };
        } else {
            std::thread::sleep(timeout.min(std::time::Duration::from_millis(10)));
        }
        self.reap(libc::WNOHANG)
    }

    /// User and system CPU time of the child and its waited-for children,
    /// once it has been reaped.
    pub fn times(&self) -> Option<(std::time::Duration, std::time::Duration)> {
        self.times
    }

    fn reap(&mut self, flags: i32) -> Result<Option<ExitStatus>> {
        let r = wait_pid(self.pid, flags)?;
        if let Some((status, times)) = r {
            self.reaped = Some(status);
            self.times = Some(times);
            return Ok(Some(status));
        }
        Ok(None)
    }

    /// Sends `signal` to the child.
    pub fn kill(&self, signal: i32) -> Result<()> {
        if self.reaped.is_some() {
            return Ok(());
        }
        // SAFETY: kill has no memory-safety preconditions.
        if unsafe { libc::kill(self.pid, signal) } < 0 {
            return Err(Error::io("kill", io::Error::last_os_error()));
        }
        Ok(())
    }
}

impl Drop for PreparedCommand {
    fn drop(&mut self) {
        if self.reaped.is_none() {
            if self.go.is_some() {
                // Never started: closing the pipe makes the child _exit(127).
                self.go = None;
            }
            let _ = self.wait();
        }
    }
}

fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just returned this descriptor; it is ours alone.
    Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

type Times = (std::time::Duration, std::time::Duration);

fn tv(t: libc::timeval) -> std::time::Duration {
    std::time::Duration::new(t.tv_sec.max(0) as u64, (t.tv_usec.max(0) as u32) * 1000)
}

fn wait_pid(pid: i32, flags: i32) -> Result<Option<(ExitStatus, Times)>> {
    loop {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 writes the status and the rusage into live locals.
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut ru) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::io(format!("waitpid {pid}"), e));
        }
        if r == 0 {
            return Ok(None);
        }
        let times = (tv(ru.ru_utime), tv(ru.ru_stime));
        if libc::WIFEXITED(status) {
            return Ok(Some((ExitStatus::Exited(libc::WEXITSTATUS(status)), times)));
        }
        if libc::WIFSIGNALED(status) {
            return Ok(Some((ExitStatus::Signaled(libc::WTERMSIG(status)), times)));
        }
    }
}

/// Every thread id of process `pid`, from `/proc/PID/task`.
pub fn process_threads(pid: i32) -> Result<Vec<i32>> {
    let dir = format!("/proc/{pid}/task");
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Error::NoSuchProcess { pid }
        } else {
            Error::io(format!("reading {dir}"), e)
        }
    })?;
    let mut tids: Vec<i32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

/// The command name of thread `tid` of process `pid`, from
/// `/proc/PID/task/TID/comm`, or `None` once the thread is gone.
pub fn thread_comm(pid: i32, tid: i32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).ok()?;
    Some(text.trim_end_matches('\n').to_string())
}

/// Online CPUs, from `/sys/devices/system/cpu/online` (e.g. `0-3,6`).
pub fn online_cpus() -> Result<Vec<i32>> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online")
        .map_err(|e| Error::io("reading /sys/devices/system/cpu/online", e))?;
    Ok(parse_cpu_list(&text))
}

/// Parses a kernel CPU list such as `0-3,6,8-9`.
pub fn parse_cpu_list(text: &str) -> Vec<i32> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.trim().parse::<i32>(), b.trim().parse::<i32>()) {
                    cpus.extend(a..=b);
                }
            }
            None => {
                if let Ok(c) = part.trim().parse() {
                    cpus.push(c);
                }
            }
        }
    }
    cpus
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(parse_cpu_list("0-3,6\n"), vec![0, 1, 2, 3, 6]);
        assert_eq!(parse_cpu_list("0"), vec![0]);
        assert_eq!(parse_cpu_list(""), Vec::<i32>::new());
    }

    #[test]
    fn a_threads_comm_is_read_from_proc() {
        let me = std::process::id() as i32;
        let comm = thread_comm(me, me).unwrap();
        assert!(!comm.is_empty() && !comm.ends_with('\n'), "{comm:?}");
        assert_eq!(thread_comm(me, -5), None);
    }

    #[test]
    fn exit_codes_pass_through() {
        let mut cmd = PreparedCommand::new(&["sh".into(), "-c".into(), "exit 7".into()]).unwrap();
        cmd.start().unwrap();
        assert_eq!(cmd.wait().unwrap(), ExitStatus::Exited(7));
    }

    #[test]
    fn missing_program_is_one_clear_error() {
        let err = PreparedCommand::new(&["no-such-program-lwprof".into()]).unwrap_err();
        assert!(err.to_string().contains("command not found"), "{err}");
    }

    #[test]
    fn never_started_child_is_reaped() {
        let cmd = PreparedCommand::new(&["true".into()]).unwrap();
        let pid = cmd.pid();
        drop(cmd);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists() || {
                // A recycled pid is possible but vanishingly rare; check it is not our zombie.
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                !stat.contains(" Z ")
            }
        );
    }
}
