//! Known shares in Rust: `hot_seventy` gets 70% of the CPU time and
//! `warm_thirty` 30%, both called from `run_round`; `mix` is always inlined
//! into `hot_seventy`, so inline frames show up. Argument: seconds.
use std::hint::black_box;
use std::time::{Duration, Instant};

#[inline(always)]
fn mix(x: u64, i: u64) -> u64 {
    x.wrapping_mul(6364136223846793005).wrapping_add(i)
}

#[inline(never)]
fn hot_seventy(n: u64) -> u64 {
    let mut x = black_box(1u64);
    for i in 0..n {
        x = mix(black_box(x), i);
    }
    x
}

#[inline(never)]
fn warm_thirty(n: u64) -> u64 {
    let mut x = black_box(3u64);
    for i in 0..n {
        x = black_box(x)
            .wrapping_mul(2862933555777941757)
            .wrapping_add(i);
    }
    x
}

#[inline(never)]
fn run_round() -> u64 {
    hot_seventy(700_000) ^ warm_thirty(300_000)
}

fn main() {
    let secs: f64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 1.0,
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            eprintln!("usage: lwprof-shares [SECONDS]");
            std::process::exit(2);
        }
    };
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut acc = 0u64;
    while Instant::now() < end {
        acc ^= run_round();
    }
    println!("{}", acc & 1);
}
