//! The crafted profile of the model and output tests: a table of functions
//! at fixed addresses in an app (`/usr/bin/app` at [`APP`]), libc
//! (`/usr/lib/libc.so.6` at [`LIB`], file offset [`LIB_PGOFF`]) and the
//! kernel ([`KERNEL`]); call chains by function name; a resolver that names
//! every location from the table; and [`profile`], the profile every
//! output format's golden file is written from.
//!
//! It does not read binaries or symbols: names come from the table only,
//! so a test's expectations are the table's. Tests that need other samples
//! build them with [`chain`], [`map_user`] and [`resolve`] on their own
//! `ProfileBuilder`.

use lwprof_profile::model::{
    AddressSpace, EventIndex, FrameAddress, FrameMode, MappingInput, Profile, ProfileBuilder,
    ResolvedFrame, SampleInput, SampleKind,
};

/// Where the app is mapped (file offset 0).
pub const APP: u64 = 0x40_0000;
/// Where libc is mapped.
pub const LIB: u64 = 0x7f00_0000_0000;
/// The file offset libc is mapped from.
pub const LIB_PGOFF: u64 = 0x1000;
/// Where the kernel's functions are.
pub const KERNEL: u64 = 0xffff_ffff_8100_0000;
/// The weight of each on-CPU sample of [`profile`].
pub const PERIOD: u64 = 250_000;

/// (name, start address, file, line); each function spans 0x100 bytes.
pub const FUNCS: &[(&str, u64, Option<&str>, u32)] = &[
    ("main", APP + 0x100, Some("src/main.c"), 10),
    ("foo", APP + 0x200, Some("src/foo.c"), 20),
    ("bar", APP + 0x300, Some("src/bar.c"), 30),
    ("baz", APP + 0x400, None, 0),
    ("worker_loop", APP + 0x500, Some("src/worker.c"), 50),
    ("memcpy", LIB + 0x100, None, 0),
    ("write", LIB + 0x200, None, 0),
    ("entry_SYSCALL_64", KERNEL + 0x100, None, 0),
    ("do_syscall_64", KERNEL + 0x200, None, 0),
    ("schedule", KERNEL + 0x300, None, 0),
];

/// An address inside `name` (its start + 0x10).
pub fn addr(name: &str) -> u64 {
    FUNCS
        .iter()
        .find(|f| f.0 == name)
        .map(|f| f.1 + 0x10)
        .unwrap_or_else(|| panic!("{name} is not in the fixture's FUNCS"))
}

/// The call chain of functions named leaf first: the leaf's address as the
/// sampled ip, the callers' as return addresses (one past the call), each
/// user or kernel by where it is.
pub fn chain(leaf_first: &[&str]) -> Vec<FrameAddress> {
    leaf_first
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let a = addr(n);
            let mode = if a >= KERNEL {
                FrameMode::Kernel
            } else {
                FrameMode::User
            };
            if i == 0 {
                FrameAddress::ip(a, mode)
            } else {
                FrameAddress::return_address(a + 1, mode)
            }
        })
        .collect()
}

/// Maps the app at [`APP`] (with `app_build_id`) and libc at [`LIB`] (build
/// id 01 02 03) into `pid` at `time`, 0x1000 bytes each.
pub fn map_user(b: &mut ProfileBuilder, pid: u32, time: u64, app_build_id: Option<&[u8]>) {
    b.mmap(&MappingInput {
        pid,
        time,
        start: APP,
        len: 0x1000,
        pgoff: 0,
        path: b"/usr/bin/app",
        build_id: app_build_id,
        mode: FrameMode::User,
    });
    b.mmap(&MappingInput {
        pid,
        time,
        start: LIB,
        len: 0x1000,
        pgoff: LIB_PGOFF,
        path: b"/usr/lib/libc.so.6",
        build_id: Some(&[1, 2, 3]),
        mode: FrameMode::User,
    });
}

/// Names each location after the function of [`FUNCS`] whose range holds
/// it, with its file and line; `bar`'s code is `inl` (src/inl.h:7) inlined
/// into `bar`. Locations outside the table stay unresolved.
pub fn resolve(profile: &mut Profile) {
    let dsos: Vec<String> = profile.dsos().iter().map(|d| d.path.clone()).collect();
    profile.resolve_locations(|loc, _| {
        let absolute = match loc.space {
            AddressSpace::File(d) if dsos[d.index()].ends_with("libc.so.6") => {
                loc.address - LIB_PGOFF + LIB
            }
            AddressSpace::File(_) => loc.address + APP,
            AddressSpace::Kernel => loc.address,
            AddressSpace::Process(_) => return Vec::new(),
        };
        let Some(&(name, _, file, line)) = FUNCS
            .iter()
            .find(|f| absolute >= f.1 && absolute < f.1 + 0x100)
        else {
            return Vec::new();
        };
        let outer = ResolvedFrame {
            function: name.to_string(),
            file: file.map(str::to_string),
            line: file.map(|_| line),
            ..ResolvedFrame::default()
        };
        if name == "bar" {
            vec![
                ResolvedFrame {
                    function: "inl".into(),
                    file: Some("src/inl.h".into()),
                    line: Some(7),
                    inlined: true,
                    ..ResolvedFrame::default()
                },
                outer,
            ]
        } else {
            vec![outer]
        }
    });
}

/// The builder behind [`unresolved`]: two processes (app, pid 10 with a
/// worker thread 11; daemon, pid 30), the kernel, a cpu-clock and an
/// off-CPU event, 3 lost samples; samples one [`PERIOD`] apart.
struct Fixture {
    b: ProfileBuilder,
    cpu: EventIndex,
    off: EventIndex,
    time: u64,
}

impl Fixture {
    fn new() -> Self {
        let mut b = ProfileBuilder::new();
        let cpu = b.add_event("cpu-clock");
        let off = b.add_event("offcpu-time");
        b.mmap(&MappingInput {
            pid: u32::MAX,
            time: 0,
            start: KERNEL,
            len: 0x100_0000,
            pgoff: 0,
            path: b"[kernel.kallsyms]",
            build_id: None,
            mode: FrameMode::Kernel,
        });
        for (pid, name) in [(10u32, &b"app"[..]), (30, b"daemon")] {
            b.comm(pid, pid, 1_000, name, true);
            map_user(&mut b, pid, 1_000, Some(&[0xab, 0xcd, 0xef, 0x01]));
        }
        b.fork(10, 10, 11, 10, 2_000);
        b.comm(10, 11, 2_000, b"worker", false);
        b.lost(3);
        Fixture {
            b,
            cpu,
            off,
            time: 1_000_000,
        }
    }

    fn samples(&mut self, pid: u32, tid: u32, n: usize, stack: &[&str]) {
        let callchain = chain(stack);
        for _ in 0..n {
            self.time += PERIOD;
            self.b.sample(&SampleInput {
                pid,
                tid,
                time: self.time,
                cpu: 0,
                event: self.cpu,
                weight: PERIOD,
                kind: SampleKind::OnCpu,
                callchain: &callchain,
            });
        }
    }

    fn off_cpu(&mut self, pid: u32, tid: u32, weight: u64, stack: &[&str]) {
        let callchain = chain(stack);
        self.time += weight;
        self.b.sample(&SampleInput {
            pid,
            tid,
            time: self.time,
            cpu: 1,
            event: self.off,
            weight,
            kind: SampleKind::OffCpu,
            callchain: &callchain,
        });
    }
}

/// The fixed profile, before [`resolve`]. On-CPU self samples (distinct,
/// so every ordering is unambiguous): daemon main 7, foo 6, baz 5, inl (in
/// bar) 4, memcpy 3, do_syscall_64 2, no callchain 1; plus two off-CPU
/// samples and 3 lost.
pub fn unresolved() -> Profile {
    let mut f = Fixture::new();
    f.samples(10, 10, 6, &["foo", "main"]);
    f.samples(10, 10, 4, &["bar", "foo", "main"]);
    f.samples(10, 10, 3, &["memcpy", "bar", "main"]);
    f.samples(10, 11, 5, &["baz", "worker_loop"]);
    f.samples(
        10,
        11,
        2,
        &["do_syscall_64", "entry_SYSCALL_64", "write", "worker_loop"],
    );
    f.samples(30, 30, 7, &["main"]);
    f.samples(30, 30, 1, &[]);
    f.off_cpu(10, 10, 5_000_000, &["schedule", "write", "main"]);
    f.off_cpu(10, 11, 2_000_000, &["schedule", "worker_loop"]);
    f.b.finish()
}

/// The fixed profile of [`unresolved`], named by [`resolve`].
pub fn profile() -> Profile {
    let mut p = unresolved();
    resolve(&mut p);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_every_sample_of_the_profile() {
        let p = profile();
        assert_eq!(p.samples().len(), 30);
        let leaves: Vec<&str> = p
            .samples()
            .iter()
            .filter_map(|s| p.stack_frames(s.stack, true).next())
            .map(|f| p.frame_function(f.frame))
            .collect();
        assert_eq!(leaves.len(), 29, "one sample has no callchain");
        for name in leaves {
            assert!(
                name == "inl" || FUNCS.iter().any(|f| f.0 == name),
                "{name} is not a fixture function"
            );
        }
    }

    #[test]
    fn chains_put_kernel_frames_in_kernel_mode() {
        let c = chain(&["schedule", "main"]);
        assert_eq!(c[0], FrameAddress::ip(KERNEL + 0x310, FrameMode::Kernel));
        assert_eq!(
            c[1],
            FrameAddress::return_address(APP + 0x111, FrameMode::User)
        );
    }
}
