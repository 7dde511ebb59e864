//! What `lwprof record` writes besides a plain perf.data file (issue 10):
//! pipe mode on standard output (`-o -`), zstd-compressed records (`-z`),
//! and a file cut short by a full disk. Each is checked against perf 6.1,
//! which must read it.

mod common;

use common::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The samples an `lwprof record` summary line says it wrote.
fn written_samples(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("[ lwprof record: wrote ")?;
            let (_, after) = rest.split_once(" (")?;
            after.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no summary line in:\n{stderr}"))
}

/// `SAMPLE events:` of `perf report --stats`, and perf's stderr.
fn perf_stat_samples(dir: &Path, args: &[&str], stdin: Option<&Path>) -> (u64, String) {
    let mut c = Command::new("perf");
    c.current_dir(dir).arg("report").args(args).arg("--stats");
    if let Some(f) = stdin {
        c.stdin(std::fs::File::open(f).expect("open"));
    }
    let o = output(&mut c);
    let (out, err) = text(&o);
    assert!(o.status.success(), "perf report {args:?} --stats:\n{err}");
    let n = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("SAMPLE events:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no SAMPLE events line in:\n{out}\nperf said:\n{err}"));
    (n, err)
}

fn no_warnings(what: &str, stderr: &str) {
    let bad: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            let l = l.to_lowercase();
            l.contains("warn") || l.contains("error") || l.contains("fail")
        })
        .collect();
    assert!(bad.is_empty(), "{what}: perf complained:\n{stderr}");
}

#[test]
fn record_to_stdout_writes_pipe_mode_that_perf_report_reads_from_stdin() {
    let dir = scratch("pipe");
    let d = dir.path();
    let shares = lwprof_workloads::path("lwprof-shares");
    // A real pipe: lwprof's standard output is perf's standard input.
    let mut rec = lwprof_command(d)
        .args(["record", "-e", "cpu-clock", "-o", "-", "--"])
        .arg(&shares)
        .arg("0.5")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lwprof record");
    let pipe = rec.stdout.take().expect("stdout");
    let report = Command::new("perf")
        .current_dir(d)
        .args(["report", "-i", "-", "--stdio", "--no-children"])
        .args(["--sort", "sym", "-g", "none"])
        .stdin(Stdio::from(pipe))
        .output()
        .expect("perf report");
    let rec = rec.wait_with_output().expect("lwprof record");
    let rec_err = stderr(&rec);
    assert!(rec.status.success(), "lwprof record -o -:\n{rec_err}");
    let (out, err) = text(&report);
    assert!(report.status.success(), "perf report -i -:\n{err}");
    no_warnings("perf report -i -", &err);
    let got = parse_shares(&out);
    let (hot, warm) = (share(&got, "hot_seventy"), share(&got, "warm_thirty"));
    assert!(hot > 55.0 && warm > 18.0 && hot > warm, "{out}");
    // Only data went to stdout: the progress is on stderr.
    assert!(rec_err.contains("to standard output"), "{rec_err}");

    // Saved to a file, the stream starts with pipe mode's short header.
    let saved = d.join("saved.pipe");
    let o = lwprof_command(d)
        .args(["record", "-e", "cpu-clock", "-o", "-", "--"])
        .arg(&shares)
        .arg("0.2")
        .stdout(std::fs::File::create(&saved).expect("create"))
        .output()
        .expect("lwprof record");
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&saved).expect("read");
    assert_eq!(&bytes[..8], b"PERFILE2");
    assert_eq!(u64::from_ne_bytes(bytes[8..16].try_into().unwrap()), 16);
    let wrote = written_samples(&stderr(&o));
    let (n, err) = perf_stat_samples(d, &["-i", "-"], Some(&saved));
    no_warnings("perf report -i - --stats", &err);
    assert_eq!(n, wrote, "samples perf counts in the stream vs written");
}

#[test]
fn a_tracepoint_in_pipe_mode_carries_its_format_to_perf_script() {
    let dir = scratch("pipe-tracepoint");
    let d = dir.path();
    let saved = d.join("sched.pipe");
    let o = lwprof_command(d)
        .args(["record", "-e", "sched:sched_switch", "-o", "-", "--"])
        .args(["sleep", "0.05"])
        .stdout(std::fs::File::create(&saved).expect("create"))
        .output()
        .expect("lwprof record");
    assert!(o.status.success(), "{}", stderr(&o));
    let script = Command::new("perf")
        .current_dir(d)
        .args(["script", "-i", "-"])
        .stdin(std::fs::File::open(&saved).expect("open"))
        .output()
        .expect("perf script");
    let (out, err) = text(&script);
    assert!(script.status.success(), "perf script -i -:\n{err}");
    no_warnings("perf script -i -", &err);
    assert!(
        out.contains("sched:sched_switch: prev_comm=sleep"),
        "fields by name:\n{out}"
    );
}

#[test]
fn a_closed_pipe_ends_the_recording_with_one_line() {
    let dir = scratch("closed-pipe");
    let spin = lwprof_workloads::path("lwprof-spin");
    let mut rec = lwprof_command(dir.path())
        .args(["record", "-e", "cpu-clock", "-o", "-", "--"])
        .arg(&spin)
        .arg("20000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lwprof record");
    // `| head -c 100`: read 100 bytes, then close the pipe.
    let mut pipe = rec.stdout.take().expect("stdout");
    let mut first = [0u8; 100];
    pipe.read_exact(&mut first).expect("100 bytes");
    drop(pipe);
    let start = Instant::now();
    while rec.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(15) {
            let _ = rec.kill();
            panic!("lwprof record went on after its reader closed the pipe");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = rec.wait_with_output().expect("lwprof record");
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("standard output was closed") && !err.contains("panic"),
        "{err}"
    );
    assert_eq!(o.status.code(), Some(141), "{err}");
    assert_eq!(&first[..8], b"PERFILE2");
}

#[test]
fn zstd_compressed_records_are_read_by_perf_with_the_samples_written() {
    let dir = scratch("zstd");
    let d = dir.path();
    let shares = lwprof_workloads::path("lwprof-shares");
    for (flag, level) in [("-z", 1), ("--compression-level=6", 6)] {
        let (_, err) = ok(
            d,
            &[
                "record",
                "-e",
                "cpu-clock",
                flag,
                "-o",
                "z.data",
                "--",
                shares.to_str().unwrap(),
                "0.3",
            ],
        );
        let wrote = written_samples(&err);
        let (n, perr) = perf_stat_samples(d, &["-i", "z.data"], None);
        no_warnings("perf report --stats of a -z file", &perr);
        assert_eq!(n, wrote, "{flag}: samples perf counts vs written");
        let (stats, _) = perf_ok(d, &["report", "-i", "z.data", "--stats"]);
        assert!(stats.contains("COMPRESSED events"), "{flag}: {stats}");
        let (head, _) = perf_ok(d, &["report", "-i", "z.data", "--header-only"]);
        let want = format!("# compressed : Zstd, level = {level}, ratio = ");
        assert!(head.contains(&want), "{flag}: {head}");
        let got = perf_shares(d, "z.data");
        assert!(share(&got, "hot_seventy") > share(&got, "warm_thirty"));
    }
    // The flight recorder's dumps are compressed too.
    ok(
        d,
        &[
            "record",
            "-q",
            "-e",
            "cpu-clock",
            "-z",
            "--overwrite",
            "-o",
            "f.data",
            "--",
        ]
        .into_iter()
        .chain([shares.to_str().unwrap(), "0.3"])
        .collect::<Vec<_>>(),
    );
    let (n, perr) = perf_stat_samples(d, &["-i", "f.data"], None);
    no_warnings("perf report --stats of a -z --overwrite dump", &perr);
    assert!(n > 100, "{n} samples in the dump");
    let o = lwprof(d, &["record", "-z=23", "-o", "z.data", "--", "true"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("from 1 (fastest) to 22"),
        "{}",
        stderr(&o)
    );
}

/// A small tmpfs, unmounted when dropped.
struct SmallFs(PathBuf);

impl SmallFs {
    /// Mounts a tmpfs of `size` on `dir`; `None` when mounting is
    /// impossible here (not root, no mount), which under
    /// `LWPROF_REQUIRE_TOOLS=1` is a failure.
    fn mount(dir: PathBuf, size: &str) -> Option<Self> {
        std::fs::create_dir_all(&dir).expect("mkdir");
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output();
        match o {
            Ok(o) if o.status.success() => Some(Self(dir)),
            other => {
                let why = match other {
                    Ok(o) => stderr(&o),
                    Err(e) => e.to_string(),
                };
                assert!(
                    !tools::required(),
                    "cannot mount a tmpfs ({why}): the full-disk test needs root"
                );
                eprintln!("SKIP: cannot mount a tmpfs: {why}");
                None
            }
        }
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_finishes_the_file_names_the_cause_and_perf_reads_it() {
    let dir = scratch("full");
    let spin = lwprof_workloads::path("lwprof-spin");
    for (name, extra) in [("plain", None), ("zstd", Some("-z"))] {
        let Some(fs) = SmallFs::mount(dir.path().join(name), "200k") else {
            return;
        };
        let d = fs.0.as_path();
        let mut args = vec!["record", "-e", "cpu-clock", "-F", "10000", "-o", "out.data"];
        args.extend(extra);
        args.extend(["--", spin.to_str().unwrap(), "20000"]);
        let o = lwprof(d, &args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{name}: a full disk must fail:\n{err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: one line:\n{err}");
        let line = lines[0];
        for want in [
            "No space left on device",
            "out.data",
            "`lwprof report -i out.data`",
            "`perf report -i out.data`",
        ] {
            assert!(line.contains(want), "{name}: no {want:?} in: {line}");
        }
        assert!(!line.contains("::"), "{name}: a Rust path in: {line}");
        let safe: u64 = line
            .split(" samples")
            .next()
            .and_then(|s| s.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{name}: no sample count in: {line}"));
        assert!(safe > 100, "{name}: {line}");
        let (n, perr) = perf_stat_samples(d, &["-i", "out.data"], None);
        no_warnings("perf report of the partial file", &perr);
        assert_eq!(n, safe, "{name}: samples perf reads vs the message");
        let (report, _) = ok(d, &["report", "-i", "out.data", "-g", "none"]);
        assert!(
            report.contains(&format!("# Samples: {safe} ")),
            "{name}: {report}"
        );
        let len = std::fs::metadata(d.join("out.data")).expect("file").len();
        assert!(len <= 200 * 1024, "{name}: {len} bytes");
    }
}
