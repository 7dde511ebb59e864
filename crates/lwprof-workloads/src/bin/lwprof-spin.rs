//! Spins on the CPU for the given number of milliseconds (default 500).
use std::time::{Duration, Instant};

fn main() {
    let ms: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 500,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: lwprof-spin [MILLISECONDS]");
            std::process::exit(2);
        }
    };
    let end = Instant::now() + Duration::from_millis(ms);
    let mut x = 1u64;
    while Instant::now() < end {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
    println!("{}", x & 1);
}
