//! The client against elfutils' own `debuginfod` on a loopback port: the
//! cache it fills is the one `debuginfod-find` reads (and the other way
//! round), a server that never answers or answers garbage costs one
//! failure and leaves a negative-cache entry that the next fetch honours,
//! and an `https://` URL speaks TLS (rustls).

use lwprof_debuginfod::{Artifact, Client, ClientConfig, Error, Request, ServerFailure};
use lwprof_testkit::debuginfod::{stripped_program, Behaviour, Debuginfod, FakeServer};
use lwprof_testkit::{busy_c, output, scratch, text, tools};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("hex build id"))
        .collect()
}

fn config(urls: Vec<String>, cache: &Path) -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(1),
        ..ClientConfig::new(urls, cache.to_path_buf())
    }
}

/// `debuginfod-find debuginfo HEX` with this cache and servers.
fn debuginfod_find(cache: &Path, urls: &str, build_id: &str) -> (bool, String, String) {
    let o = output(
        Command::new("debuginfod-find")
            .args(["debuginfo", build_id])
            .env("DEBUGINFOD_CACHE_PATH", cache)
            .env("DEBUGINFOD_URLS", urls)
            .env("DEBUGINFOD_TIMEOUT", "1"),
    );
    let (out, err) = text(&o);
    (o.status.success(), out, err)
}

#[test]
fn fetched_debug_files_are_shared_with_elfutils_debuginfod_find() {
    if !tools::available("debuginfod", "debuginfod")
        || !tools::available("debuginfod-find", "elfutils")
    {
        return;
    }
    let dir = scratch("debuginfod-shared");
    let d = dir.path();
    let a = stripped_program(d, "alpha", &busy_c("alpha_hot", "alpha_side"), &["-O1"]);
    let b = stripped_program(d, "beta", &busy_c("beta_hot", "beta_side"), &["-O1"]);
    let server = Debuginfod::start(&d.join("debug"), d, &[&a.build_id, &b.build_id]);
    let cache = d.join("cache");

    // lwprof fetches alpha's debug file; debuginfod-find finds it in the
    // cache with no server to ask (the port of a stopped one).
    let client = Client::new(config(vec![server.url()], &cache));
    let id = unhex(&a.build_id);
    let path = client.fetch(&id, Artifact::Debuginfo).expect("fetched");
    assert_eq!(path, cache.join(&a.build_id).join("debuginfo"));
    assert_eq!(
        std::fs::read(&path).ok(),
        std::fs::read(&a.debug).ok(),
        "the cached file is the served debug file"
    );
    // debuginfod-find fetches beta's into the same cache.
    let (ok, out, err) = debuginfod_find(&cache, &server.url(), &b.build_id);
    assert!(ok, "{err}");
    let beta_path = cache.join(&b.build_id).join("debuginfo");
    assert_eq!(out.trim(), beta_path.to_str().unwrap_or_default());
    let port = server.port;
    drop(server);
    let dead = format!("http://127.0.0.1:{port}");
    let (ok, out, err) = debuginfod_find(&cache, &dead, &a.build_id);
    assert!(ok, "debuginfod-find did not find lwprof's file: {err}");
    assert_eq!(out.trim(), path.to_str().unwrap_or_default());
    // And lwprof finds debuginfod-find's without a server.
    let offline = Client::new(config(vec![dead], &cache));
    let found = offline.fetch(&unhex(&b.build_id), Artifact::Debuginfo);
    assert_eq!(found.ok(), Some(beta_path));
}

#[test]
fn a_silent_server_times_out_once_and_its_misses_are_cached() {
    let dir = scratch("debuginfod-silent");
    let cache = dir.path().join("cache");
    let silent = FakeServer::start(Behaviour::Silent);
    let client = Client::new(config(vec![silent.url()], &cache));
    let requests: Vec<Request> = (1..=3u8)
        .map(|i| Request {
            build_id: vec![i; 20],
            artifact: Artifact::Debuginfo,
        })
        .collect();
    let results = client.fetch_all(&requests);
    assert_eq!(results.len(), 3);
    let mut timeouts = 0;
    for r in &results {
        match r {
            Err(Error::Failed(f)) => {
                assert_eq!(f.len(), 1, "{f:?}");
                assert_eq!(f[0].0, silent.url());
                match &f[0].1 {
                    ServerFailure::Timeout { secs: 1 } => timeouts += 1,
                    ServerFailure::Skipped => {}
                    other => panic!("unexpected failure {other}"),
                }
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
    assert!(timeouts >= 1, "{results:?}");
    let first = silent.accepted();
    assert!((1..=3).contains(&first), "{first} connections");
    for r in &requests {
        let miss = cache
            .join(lwprof_debuginfod::hex(&r.build_id))
            .join("debuginfo");
        assert_eq!(std::fs::metadata(&miss).map(|m| m.len()).ok(), Some(0));
    }
    // A new client (the next run) asks nobody.
    let again = Client::new(config(vec![silent.url()], &cache));
    for r in again.fetch_all(&requests) {
        assert!(matches!(r, Err(Error::CachedMiss { .. })), "{r:?}");
    }
    assert_eq!(silent.accepted(), first, "the next run connected again");
}

#[test]
fn garbage_is_rejected_and_not_cached_as_a_file() {
    let dir = scratch("debuginfod-garbage");
    let cache = dir.path().join("cache");
    let garbage = FakeServer::start(Behaviour::Garbage);
    let client = Client::new(config(vec![garbage.url()], &cache));
    let id = [0x42; 20];
    let r = client.fetch(&id, Artifact::Executable);
    match &r {
        Err(Error::Failed(f)) => {
            assert!(
                matches!(&f[0].1, ServerFailure::WrongFile { found } if found.contains("4096 bytes")),
                "{f:?}"
            );
            let text = r.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
            assert!(text.contains(&garbage.url()), "{text}");
        }
        other => panic!("garbage accepted: {other:?}"),
    }
    let cached = cache.join(lwprof_debuginfod::hex(&id)).join("executable");
    assert_eq!(std::fs::metadata(&cached).map(|m| m.len()).ok(), Some(0));
    let names: Vec<_> = std::fs::read_dir(cached.parent().expect("dir"))
        .expect("cache dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, ["executable"], "a temporary file was left behind");
}

#[test]
fn https_urls_speak_tls_and_a_failed_handshake_is_one_failure() {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // Reads what the client sends first, then hangs up: no TLS server here.
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        let mut head = [0u8; 6];
        conn.read_exact(&mut head).map(|_| head).ok()
    });
    let dir = scratch("debuginfod-https");
    let url = format!("https://127.0.0.1:{port}");
    let client = Client::new(config(vec![url.clone()], &dir.path().join("cache")));
    let r = client.fetch(&[0x17; 20], Artifact::Debuginfo);
    let head = server.join().expect("server thread");
    // A TLS handshake record (22), TLS 1.x, carrying a ClientHello (1).
    let head = head.expect("the client sent nothing");
    assert_eq!((head[0], head[1], head[5]), (22, 3, 1), "{head:?}");
    match r {
        Err(Error::Failed(f)) => {
            assert_eq!(f.len(), 1);
            assert_eq!(f[0].0, url);
            assert!(matches!(f[0].1, ServerFailure::Transport { .. }), "{f:?}");
        }
        other => panic!("expected a failed handshake, got {other:?}"),
    }
}
