//! The DWARF unwinder on crafted registers, stacks and callchains, and its
//! mapping bookkeeping on this test binary's own mappings.

use lwprof_profile::model::{FrameAddress, FrameMode, MappingInput};
use lwprof_profile::unwind::{
    DwarfUnwinder, StackCopy, UnwindEnd, UnwindWarning, UnwinderConfig, UserRegs,
};

#[allow(clippy::unnecessary_cast)]
const CONTEXT_KERNEL: u64 = lwprof_records::abi::context::KERNEL;
#[allow(clippy::unnecessary_cast)]
const CONTEXT_USER: u64 = lwprof_records::abi::context::USER;

const SP: u64 = 0x7ffd_1234_0000;
const K1: u64 = 0xffff_ffff_8100_1000;
const K2: u64 = 0xffff_ffff_8100_2000;

/// Stack words from `SP`.
fn stack(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn user(addrs: &[u64]) -> Vec<FrameAddress> {
    addrs
        .iter()
        .enumerate()
        .map(|(i, &a)| {
            if i == 0 {
                FrameAddress::ip(a, FrameMode::User)
            } else {
                FrameAddress::return_address(a, FrameMode::User)
            }
        })
        .collect()
}

#[test]
fn a_truncated_stack_copy_stops_dwarf_and_the_fp_chain_completes_it() {
    // No module covers these addresses, so framehop walks frame records; the
    // copy holds two of them, the third starts beyond its end.
    let mut w = vec![0u64; 8];
    w[0] = SP + 0x20; // record at SP: next rbp, return into f1
    w[1] = 0x40_1111;
    w[4] = SP + 0x400; // record at SP+0x20: next rbp beyond the copy
    w[5] = 0x40_2222;
    let bytes = stack(&w);
    let regs = UserRegs {
        ip: 0x40_0abc,
        sp: SP,
        bp: SP,
    };
    // The kernel walked the live stack: the same two, then what lay above.
    let chain = [
        CONTEXT_KERNEL,
        K1,
        K2,
        CONTEXT_USER,
        0x40_0abc,
        0x40_1111,
        0x40_2222,
        0x40_3333,
        0x40_4444,
    ];
    let mut u = DwarfUnwinder::new(UnwinderConfig::default());
    let mut out = Vec::new();
    let report = u.unwind_into(
        7,
        Some((
            regs,
            StackCopy {
                data: &bytes,
                dyn_size: bytes.len() as u64,
            },
        )),
        &chain,
        &mut out,
    );
    let mut want = vec![
        FrameAddress::ip(K1, FrameMode::Kernel),
        FrameAddress::return_address(K2, FrameMode::Kernel),
    ];
    want.extend(user(&[
        0x40_0abc, 0x40_1111, 0x40_2222, 0x40_3333, 0x40_4444,
    ]));
    assert_eq!(out, want);
    assert_eq!(report.kernel_frames, 2);
    assert_eq!(report.dwarf_frames, 3);
    assert_eq!(report.fp_frames, 2);
    assert_eq!(
        report.end,
        UnwindEnd::StackTruncated {
            address: SP + 0x400
        }
    );

    // dyn_size cuts the same data shorter: the kernel copied less.
    let short = u.unwind(
        7,
        regs,
        StackCopy {
            data: &bytes,
            dyn_size: 0x20,
        },
        &chain,
    );
    assert_eq!(
        &short[2..],
        &user(&[0x40_0abc, 0x40_1111, 0x40_2222, 0x40_3333, 0x40_4444])[..]
    );
}

#[test]
fn a_complete_unwind_ignores_the_fp_chain_and_garbage_is_not_spliced() {
    let mut w = vec![0u64; 8];
    w[0] = SP + 0x20;
    w[1] = 0x40_1111;
    w[4] = 0; // outermost frame
    w[5] = 0x40_2222;
    let bytes = stack(&w);
    let copy = StackCopy {
        data: &bytes,
        dyn_size: 64,
    };
    let regs = UserRegs {
        ip: 0x40_0abc,
        sp: SP,
        bp: SP,
    };
    let chain = [CONTEXT_USER, 0x40_0abc, 0xdead, 0xbeef];
    let mut u = DwarfUnwinder::default();
    let mut out = Vec::new();
    let r = u.unwind_into(1, Some((regs, copy)), &chain, &mut out);
    assert_eq!(r.end, UnwindEnd::Root);
    assert_eq!(out, user(&[0x40_0abc, 0x40_1111, 0x40_2222]));

    // rbp is a heap pointer (code without frame pointers): framehop cannot
    // read it, and the kernel's walk from it is not trusted.
    let garbage = UserRegs {
        bp: 0x5555_0000_1000,
        ..regs
    };
    let r = u.unwind_into(1, Some((garbage, copy)), &chain, &mut out);
    assert_eq!(r.fp_frames, 0);
    assert_eq!(out, user(&[0x40_0abc]));
}

#[test]
fn without_user_registers_the_kernel_chain_is_used_as_is() {
    let chain = [CONTEXT_KERNEL, K1, K2, CONTEXT_USER, 0x40_0abc, 0x40_1111];
    let mut u = DwarfUnwinder::default();
    let mut out = Vec::new();
    let r = u.unwind_into(1, None, &chain, &mut out);
    assert_eq!(r.end, UnwindEnd::FramePointerOnly);
    let mut want = vec![
        FrameAddress::ip(K1, FrameMode::Kernel),
        FrameAddress::return_address(K2, FrameMode::Kernel),
    ];
    want.extend(user(&[0x40_0abc, 0x40_1111]));
    assert_eq!(out, want);
}

/// This process's executable mapping of the test binary: (start, end,
/// pgoff, path).
fn own_text_mapping() -> (u64, u64, u64, String) {
    let exe = std::env::current_exe().expect("current_exe");
    let exe = exe.canonicalize().expect("canonical exe path");
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    for line in maps.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || !f[1].contains('x') || std::path::Path::new(f[5]) != exe {
            continue;
        }
        let (s, e) = f[0].split_once('-').expect("range");
        let h = |x: &str| u64::from_str_radix(x, 16).expect("hex");
        return (h(s), h(e), h(f[2]), f[5].to_string());
    }
    panic!("no executable mapping of {}", exe.display());
}

fn mapping<'a>(pid: u32, start: u64, end: u64, pgoff: u64, path: &'a str) -> MappingInput<'a> {
    MappingInput {
        pid,
        time: 0,
        start,
        len: end - start,
        pgoff,
        path: path.as_bytes(),
        build_id: None,
        mode: FrameMode::User,
    }
}

#[test]
fn mappings_follow_mmap_fork_exec_and_exit() {
    let (start, end, pgoff, path) = own_text_mapping();
    let mut u = DwarfUnwinder::default();
    u.mmap(&mapping(10, start, end, pgoff, &path));
    u.mmap(&mapping(10, 0x1000, 0x2000, 0, "//anon"));
    assert_eq!(u.modules(10), vec![(start, end, path.clone())]);
    assert!(u.warnings().is_empty(), "{:?}", u.warnings());

    // A child inherits the modules; a thread fork changes nothing.
    u.fork(11, 10);
    u.fork(10, 10);
    assert_eq!(u.modules(11), vec![(start, end, path.clone())]);

    // An anonymous mapping over the middle of the text splits it in two
    // modules around it.
    let mid = start + (((end - start) / 2) & !0xfff);
    u.mmap(&mapping(11, mid, mid + 0x1000, 0, "//anon"));
    let after = u.modules(11);
    assert_eq!(
        after,
        vec![
            (start, mid, path.clone()),
            (mid + 0x1000, end, path.clone())
        ]
    );
    // The parent is unaffected.
    assert_eq!(u.modules(10).len(), 1);

    // exec drops everything; exit forgets the process.
    u.exec(11);
    assert!(u.modules(11).is_empty());
    u.exit(10, 10);
    assert!(u.modules(10).is_empty());
}

#[test]
fn unusable_files_are_warned_about_once_and_get_no_module() {
    let mut u = DwarfUnwinder::default();
    u.mmap(&mapping(
        3,
        0x10000,
        0x20000,
        0,
        "/nonexistent/lwprof-unwind-test.so",
    ));
    u.mmap(&mapping(
        4,
        0x10000,
        0x20000,
        0,
        "/nonexistent/lwprof-unwind-test.so",
    ));
    assert!(u.modules(3).is_empty());
    assert!(u.modules(4).is_empty());
    assert_eq!(u.warnings().len(), 1, "{:?}", u.warnings());
    assert!(matches!(u.warnings()[0], UnwindWarning::Unreadable { .. }));

    // A recorded build id that the file on disk does not have.
    let (start, end, pgoff, path) = own_text_mapping();
    let mut m = mapping(5, start, end, pgoff, &path);
    m.build_id = Some(&[0xde, 0xad, 0xbe, 0xef]);
    u.mmap(&m);
    assert!(u.modules(5).is_empty());
    assert!(u
        .warnings()
        .iter()
        .any(|w| matches!(w, UnwindWarning::BuildIdMismatch { .. })));
}
