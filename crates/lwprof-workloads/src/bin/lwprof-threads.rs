//! N threads named `spinner` (default 2) burn CPU for MS milliseconds
//! (default 2000) while the main thread sleeps: one busy row per spinner and
//! an idle one for the main thread in `stat --per-thread`. It prints
//! `ready` once every thread runs. Arguments: THREADS MS.
use std::time::{Duration, Instant};

fn arg(i: usize, default: u64) -> u64 {
    match std::env::args().nth(i).map(|a| a.parse()) {
        None => default,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: lwprof-threads [THREADS] [MILLISECONDS]");
            std::process::exit(2);
        }
    }
}

fn main() {
    let (threads, ms) = (arg(1, 2), arg(2, 2000));
    let end = Instant::now() + Duration::from_millis(ms);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(threads as usize + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::Builder::new()
                .name("spinner".into())
                .spawn(move || {
                    barrier.wait();
                    let mut x = 1u64;
                    while Instant::now() < end {
                        for _ in 0..10_000 {
                            x = std::hint::black_box(x.wrapping_mul(6364136223846793005) | 1);
                        }
                    }
                    x
                })
                .expect("spawning a thread")
        })
        .collect();
    barrier.wait();
    println!("ready");
    for h in handles {
        let _ = h.join();
    }
}
