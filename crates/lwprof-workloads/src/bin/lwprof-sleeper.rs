//! Sleeps K times (default 10) for 1 ms each: at least K context switches.
fn main() {
    let k: u32 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 10,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: lwprof-sleeper [TIMES]");
            std::process::exit(2);
        }
    };
    for _ in 0..k {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
