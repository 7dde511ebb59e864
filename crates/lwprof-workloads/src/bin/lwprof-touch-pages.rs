//! Touches N fresh pages (default 20,000), each exactly once, so the program
//! takes at least N page faults.
fn main() {
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 20_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: lwprof-touch-pages [PAGES]");
            std::process::exit(2);
        }
    };
    const PAGE: usize = 4096;
    // A zeroed allocation this large comes from fresh anonymous mmap pages,
    // none of which is present until written.
    let mut v = vec![0u8; n * PAGE];
    for i in 0..n {
        v[i * PAGE] = 1;
    }
    let touched: usize = (0..n).map(|i| v[i * PAGE] as usize).sum();
    println!("touched {touched} pages");
}
