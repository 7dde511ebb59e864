//! Loopback debuginfod servers for the debuginfod tests: elfutils'
//! `debuginfod` serving a directory, a server that accepts and never
//! answers, and one that answers every request with bytes that are not ELF
//! (each counts the connections it took). And a C program built, its debug
//! file kept apart, and stripped.
//!
//! Every server listens on 127.0.0.1 only and stops when dropped. It does
//! not install `debuginfod` (`.ci/run` does; check with
//! `tools::available("debuginfod", "debuginfod")`).

use crate::run::run;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A program built with `-g`, stripped, and its separate debug file.
#[derive(Debug, Clone)]
pub struct StrippedProgram {
    /// The stripped binary (`objcopy --strip-all`).
    pub binary: PathBuf,
    /// Its debug file (`objcopy --only-keep-debug`).
    pub debug: PathBuf,
    /// The build id, lower-case hex.
    pub build_id: String,
}

/// Compiles `src` as `dir/NAME` with `flags` plus `-g`, keeps its debug
/// file as `dir/debug/NAME.debug` and strips the binary.
pub fn stripped_program(dir: &Path, name: &str, src: &str, flags: &[&str]) -> StrippedProgram {
    let mut all = flags.to_vec();
    all.push("-g");
    let binary = crate::cc::compile_c(dir, name, src, &all);
    let debug_dir = dir.join("debug");
    std::fs::create_dir_all(&debug_dir).expect("creating the debug directory");
    let debug = debug_dir.join(format!("{name}.debug"));
    run(Command::new("objcopy")
        .arg("--only-keep-debug")
        .arg(&binary)
        .arg(&debug));
    run(Command::new("objcopy").arg("--strip-all").arg(&binary));
    let (notes, _) = run(Command::new("readelf").arg("-n").arg(&binary));
    let build_id = notes
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID:"))
        .map(|h| h.trim().to_string())
        .expect("the compiler writes a build id");
    StrippedProgram {
        binary,
        debug,
        build_id,
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding a loopback port")
}

/// The status code of `GET PATH` on 127.0.0.1:PORT, or `None` when there
/// is no answer within a second.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// elfutils' `debuginfod -F` serving a directory; killed when dropped.
#[derive(Debug)]
pub struct Debuginfod {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Debuginfod {
    /// Starts `debuginfod -F -p PORT DIR` (its database in `db_dir`) and
    /// waits, at most 60 s, until it serves the debug file of every build id
    /// in `ready`.
    pub fn start(dir: &Path, db_dir: &Path, ready: &[&str]) -> Self {
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new("debuginfod")
                .args(["-F", "-p", &port.to_string(), "-d"])
                .arg(db_dir.join(format!("debuginfod-{port}.sqlite")))
                .arg(dir)
                // With DEBUGINFOD_URLS it would forward misses upstream.
                .env_remove("DEBUGINFOD_URLS")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting debuginfod");
            let mut server = Self { child, port };
            if server.wait_ready(ready) {
                return server;
            }
            // The port was taken in between, or it died: try another.
        }
        panic!("debuginfod did not serve {ready:?} within 60 s");
    }

    fn wait_ready(&mut self, ready: &[&str]) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            let served = ready
                .iter()
                .all(|id| http_status(self.port, &format!("/buildid/{id}/debuginfo")) == Some(200));
            if served && http_status(self.port, "/metrics") == Some(200) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Waits, at most 60 s, until `GET PATH` answers 200
    /// (`/buildid/HEX/executable`); panics if it does not.
    pub fn wait_for(&self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while http_status(self.port, path) != Some(200) {
            assert!(
                Instant::now() < deadline,
                "debuginfod did not serve {path} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Debuginfod {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a [`FakeServer`] does with a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Accept it and never answer (held until the server is dropped).
    Silent,
    /// Answer `200 OK` with bytes that are not an ELF file.
    Garbage,
}

/// A loopback server that misbehaves; counts the connections it accepted.
#[derive(Debug)]
pub struct FakeServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeServer {
    /// Starts one on a free port.
    pub fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let port = listener.local_addr().expect("local address").port();
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        a.fetch_add(1, Ordering::Relaxed);
                        if behaviour == Behaviour::Garbage {
                            answer_garbage(conn);
                        } else {
                            held.push(conn);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Self {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many connections it accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

fn answer_garbage(mut conn: TcpStream) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    // Read the request head, then answer whatever it asked.
    let mut buf = [0u8; 4096];
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let body: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(&body);
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
