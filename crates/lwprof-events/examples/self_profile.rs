//! An application profiling itself with `lwprof_events::selfmon::SelfProfiler`.
//!
//! Two threads do the same fixed amount of work, thread A in `busy_alpha`
//! and thread B in `busy_beta` (about `--seconds` each), while the process
//! samples itself at `--hz` from its own rings, read in place by a
//! background thread (no signal handler). At the end the sampled
//! instruction pointers are symbolized through `/proc/self/maps` and the
//! ELF symbols of the mapped files, and the top functions are printed with
//! their share of the samples, then `samples=N lost=N threads=N`.
//!
//! Functions are counted by the sampled IP (self time), which is exact
//! whether or not the code keeps frame pointers: Rust release builds omit
//! them, so the call chains beyond the leaf are not trusted here.
//!
//! ```text
//! cargo run --release --example self_profile -- [--hz 1000] [--seconds 1] [--no-profile]
//! ```
//! `--no-profile` runs the same work unprofiled, and `--no-symbols` prints
//! addresses instead of names, and `--no-callchain` samples the IP alone (both for overhead measurements: symbolizing
//! reads the binary's ELF and DWARF, a fixed cost after the run).

use lwprof_events::selfmon::{SelfProfiler, SelfProfilerConfig};
use lwprof_symbols::{Symbolizer, SymbolizerConfig};
use std::collections::HashMap;
use std::hint::black_box;
use std::process::ExitCode;

/// Loop iterations per second of CPU of `busy_alpha`/`busy_beta`, measured
/// on the reference VM; the work is fixed, so the time is only approximate.
const ITERS_PER_SECOND: f64 = 750_000_000.0;

#[inline(never)]
fn busy_alpha(iters: u64) -> u64 {
    let mut x = black_box(1u64);
    for i in 0..iters {
        x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    x
}

#[inline(never)]
fn busy_beta(iters: u64) -> u64 {
    // The same instructions as busy_alpha with another multiplier: the same
    // cost per iteration, so equal work means equal CPU time.
    let mut x = black_box(3u64);
    for i in 0..iters {
        x = black_box(x.wrapping_mul(2862933555777941757).wrapping_add(i));
    }
    x
}

struct Args {
    hz: u64,
    seconds: f64,
    profile: bool,
    symbols: bool,
    callchain: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        hz: 1000,
        seconds: 1.0,
        profile: true,
        symbols: true,
        callchain: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--hz" => {
                args.hz = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&h| h > 0)
                    .ok_or("--hz takes a positive number")?
            }
            "--seconds" => {
                args.seconds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&s: &f64| s > 0.0 && s.is_finite())
                    .ok_or("--seconds takes a positive number")?
            }
            "--no-profile" => args.profile = false,
            "--no-symbols" => args.symbols = false,
            "--no-callchain" => args.callchain = false,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// An executable mapping of /proc/self/maps.
struct Mapping {
    start: u64,
    end: u64,
    offset: u64,
    path: String,
}

fn exec_mappings() -> Vec<Mapping> {
    let text = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (start, end) = f.next()?.split_once('-')?;
            let perms = f.next()?;
            let offset = f.next()?;
            let path = f.nth(2)?;
            if !perms.contains('x') || !path.starts_with('/') {
                return None;
            }
            Some(Mapping {
                start: u64::from_str_radix(start, 16).ok()?,
                end: u64::from_str_radix(end, 16).ok()?,
                offset: u64::from_str_radix(offset, 16).ok()?,
                path: path.to_string(),
            })
        })
        .collect()
}

/// The function containing `ip` (the outermost frame: inlined callees
/// such as `black_box` are attributed to the function they were inlined in).
fn function_of(ip: u64, maps: &[Mapping], sym: &mut Symbolizer) -> String {
    let Some(m) = maps.iter().find(|m| ip >= m.start && ip < m.end) else {
        return format!("[unknown] {ip:#x}");
    };
    let frames = sym.symbolize_file_offset(&m.path, None, ip - m.start + m.offset);
    match frames.last() {
        Some(f) => f.function.clone(),
        None => format!("[{}] {:#x}", m.path, ip),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("self_profile: {e}");
            eprintln!("usage: self_profile [--hz N] [--seconds S] [--no-profile] [--no-symbols] [--no-callchain]");
            return ExitCode::from(2);
        }
    };
    let iters = (args.seconds * ITERS_PER_SECOND) as u64;
    let profiler = if args.profile {
        let config = SelfProfilerConfig {
            freq_hz: args.hz,
            callchain: args.callchain,
            ..SelfProfilerConfig::default()
        };
        match SelfProfiler::start_with(config) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("self_profile: cannot start the profiler: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let a = std::thread::spawn(move || busy_alpha(iters));
    let b = std::thread::spawn(move || busy_beta(iters));
    let (ra, rb) = (a.join(), b.join());
    let (Ok(ra), Ok(rb)) = (ra, rb) else {
        eprintln!("self_profile: a worker thread panicked");
        return ExitCode::FAILURE;
    };
    black_box((ra, rb));
    let Some(profiler) = profiler else {
        println!("work done (not profiled)");
        return ExitCode::SUCCESS;
    };
    let profile = match profiler.stop() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("self_profile: {e}");
            return ExitCode::FAILURE;
        }
    };

    let maps = if args.symbols {
        exec_mappings()
    } else {
        Vec::new()
    };
    let mut sym = Symbolizer::new(SymbolizerConfig {
        kallsyms: None,
        perf_map_dir: None,
        ..SymbolizerConfig::default()
    });
    let mut by_function: HashMap<String, u64> = HashMap::new();
    for (ip, n) in profile.leaf_counts() {
        *by_function
            .entry(function_of(ip, &maps, &mut sym))
            .or_insert(0) += n;
    }
    let mut top: Vec<(String, u64)> = by_function.into_iter().collect();
    top.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    let total = profile.samples.max(1) as f64;
    for (name, n) in top.iter().take(10) {
        println!("{:6.2}%  {:8}  {}", 100.0 * *n as f64 / total, n, name);
    }
    println!(
        "samples={} lost={} threads={}",
        profile.samples,
        profile.lost + profile.lost_samples,
        profile.thread_count()
    );
    ExitCode::SUCCESS
}
