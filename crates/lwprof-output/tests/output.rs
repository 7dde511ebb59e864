//! The output writers on a fixed, crafted profile: golden files for every
//! format (regenerate with `LWPROF_BLESS=1`), real consumers (`go tool
//! pprof`, an XML parser, inferno, headless Chromium), and degenerate input
//! (empty profile, no symbols) giving well-formed files and a note.
//!
//! The profile is `lwprof_testkit::fixture`'s. Tests that need `go` or
//! `chromium` skip with a message when the tool is not installed (Debian
//! packages `golang-go` and `chromium`), and fail under
//! `LWPROF_REQUIRE_TOOLS=1`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use lwprof_output::{
    json::json_profile, pprof_profile, pprof_proto, writer_for, FlameColors, FoldedOptions, Format,
    OutputNote, OutputOptions, ThreadPrefix,
};
use lwprof_profile::model::{Profile, ProfileBuilder, SampleFilter, SampleKind};
use lwprof_testkit::fixture::{self, PERIOD};
use lwprof_testkit::{scratch, tools};
use prost::Message;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compare with a golden file, or write it under `LWPROF_BLESS=1`.
fn check_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("LWPROF_BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).expect("create golden dir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with LWPROF_BLESS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let diff_at = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output at line {} (LWPROF_BLESS=1 regenerates):\nexpected: {:?}\nactual:   {:?}",
            path.display(),
            diff_at + 1,
            expected.lines().nth(diff_at),
            actual.lines().nth(diff_at)
        );
    }
}

fn write(profile: &Profile, format: Format, opts: &OutputOptions) -> (Vec<u8>, Option<OutputNote>) {
    let mut out = Vec::new();
    let note = writer_for(format)
        .expect("every format is built")
        .write(profile, opts, &mut out)
        .unwrap_or_else(|e| panic!("{format}: {e}"));
    (out, note)
}

fn write_str(profile: &Profile, format: Format, opts: &OutputOptions) -> String {
    let (out, note) = write(profile, format, opts);
    assert_eq!(note, None, "{format}");
    String::from_utf8(out).expect("utf-8")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

fn opts() -> OutputOptions {
    OutputOptions {
        command: Some("app --work".into()),
        ..OutputOptions::default()
    }
}

fn on_cpu() -> OutputOptions {
    OutputOptions {
        filter: SampleFilter {
            kind: Some(SampleKind::OnCpu),
            ..SampleFilter::default()
        },
        ..opts()
    }
}

#[test]
fn golden_text() {
    let p = fixture::profile();
    check_golden("fixture.txt", &write_str(&p, Format::Text, &opts()));
    let mut o = opts();
    o.text.children = false;
    o.text.call_graph = false;
    o.no_inline = true;
    check_golden(
        "fixture-self-noinline.txt",
        &write_str(&p, Format::Text, &o),
    );
}

#[test]
fn golden_folded() {
    let p = fixture::profile();
    check_golden("fixture.folded", &write_str(&p, Format::Folded, &opts()));
    let mut o = on_cpu();
    o.folded = FoldedOptions {
        thread_prefix: ThreadPrefix::CommTid,
        include_dso: true,
        count: lwprof_output::FoldedCount::Weight,
    };
    check_golden(
        "fixture-tid-dso-weight.folded",
        &write_str(&p, Format::Folded, &o),
    );
}

#[test]
fn golden_flamegraph() {
    let p = fixture::profile();
    let svg = write_str(&p, Format::Flamegraph, &on_cpu());
    check_golden("fixture.svg", &svg);
    let mut o = on_cpu();
    o.flamegraph.icicle = true;
    o.flamegraph.colors = FlameColors::Dso;
    check_golden(
        "fixture-icicle-dso.svg",
        &write_str(&p, Format::Flamegraph, &o),
    );
}

#[test]
fn golden_pprof() {
    let p = fixture::profile();
    let (gz, note) = write(&p, Format::Pprof, &opts());
    assert_eq!(note, None);
    // Deterministic gzip: mtime 0, same bytes twice.
    assert_eq!(&gz[4..8], &[0, 0, 0, 0], "gzip mtime");
    assert_eq!(gz, write(&p, Format::Pprof, &opts()).0);
    let decoded = pprof_proto::Profile::decode(gunzip(&gz).as_slice()).expect("decode");
    assert_eq!(decoded, pprof_profile(&p, &opts()));
    check_golden("fixture.pprof.txt", &format!("{decoded:#?}\n"));
}

#[test]
fn golden_firefox() {
    let p = fixture::profile();
    let out = write_str(&p, Format::Firefox, &opts());
    let v: serde_json::Value = serde_json::from_str(&out).expect("firefox JSON");
    check_golden(
        "fixture.firefox.json",
        &(serde_json::to_string_pretty(&v).expect("pretty") + "\n"),
    );
}

#[test]
fn golden_json() {
    let p = fixture::profile();
    let out = write_str(&p, Format::Json, &opts());
    check_golden("fixture.json", &out);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["lwprof_profile_version"], 1);
}

/// The pprof message says what the issue asks: sample types, labels, inline
/// lines innermost first, mappings with build ids, period and duration.
#[test]
fn pprof_content() {
    let p = fixture::profile();
    let m = pprof_profile(&p, &opts());
    let s = |i: i64| m.string_table[i as usize].as_str();
    let types: Vec<(&str, &str)> = m
        .sample_type
        .iter()
        .map(|t| (s(t.r#type), s(t.unit)))
        .collect();
    assert_eq!(
        types,
        [
            ("samples", "count"),
            ("cpu", "nanoseconds"),
            ("off_cpu", "nanoseconds")
        ]
    );
    assert_eq!(s(m.default_sample_type), "cpu");
    assert_eq!(m.period, PERIOD as i64);
    let pt = m.period_type.expect("period type");
    assert_eq!((s(pt.r#type), s(pt.unit)), ("cpu", "nanoseconds"));
    // Sum of values per column equals the profile's totals.
    let col = |i: usize| m.sample.iter().map(|x| x.value[i]).sum::<i64>();
    assert_eq!(col(0), p.samples().len() as i64);
    let on: u64 = p
        .samples()
        .iter()
        .filter(|x| x.kind == SampleKind::OnCpu)
        .map(|x| x.weight)
        .sum();
    let off: u64 = p
        .samples()
        .iter()
        .filter(|x| x.kind == SampleKind::OffCpu)
        .map(|x| x.weight)
        .sum();
    assert_eq!((col(1), col(2)), (on as i64, off as i64));
    let first = p.samples().iter().map(|x| x.time).min().unwrap_or(0);
    let last = p.samples().iter().map(|x| x.time).max().unwrap_or(0);
    assert_eq!(m.duration_nanos, (last - first + PERIOD) as i64);
    assert_eq!(
        s(m.mapping[0].filename),
        "/usr/bin/app",
        "main binary first"
    );
    // Labels.
    let worker = m
        .sample
        .iter()
        .find(|x| {
            x.label
                .iter()
                .any(|l| s(l.key) == "thread_name" && s(l.str) == "worker")
        })
        .expect("a worker sample");
    let num = |k: &str| worker.label.iter().find(|l| s(l.key) == k).map(|l| l.num);
    assert_eq!((num("pid"), num("tid")), (Some(10), Some(11)));
    // The bar location has two lines: inl (innermost) then bar.
    let func = |id: u64| s(m.function[id as usize - 1].name);
    let bar_loc = m
        .location
        .iter()
        .find(|l| l.line.len() == 2)
        .expect("inline location");
    let names: Vec<&str> = bar_loc.line.iter().map(|l| func(l.function_id)).collect();
    assert_eq!(names, ["inl", "bar"]);
    assert_eq!(bar_loc.line[0].line, 7);
    let inl = &m.function[bar_loc.line[0].function_id as usize - 1];
    assert_eq!(s(inl.filename), "src/inl.h");
    // Mappings: app with its build id and inline frames.
    let app = m
        .mapping
        .iter()
        .find(|x| s(x.filename) == "/usr/bin/app")
        .expect("app mapping");
    assert_eq!(s(app.build_id), "abcdef01");
    assert!(app.has_functions && app.has_inline_frames && app.has_line_numbers);
    assert_eq!(bar_loc.mapping_id, app.id);
    assert!(bar_loc.address >= app.memory_start && bar_loc.address < app.memory_limit);
    // Samples are leaf first.
    let leafs: Vec<&str> = m
        .sample
        .iter()
        .filter_map(|x| x.location_id.first())
        .map(|&l| func(m.location[l as usize - 1].line[0].function_id))
        .collect();
    assert!(leafs.contains(&"memcpy") && !leafs.contains(&"worker_loop"));
}

/// Rows `(symbol, self percent)` of the text writer's first section with a
/// nonzero self weight, in order.
fn text_self_rows(p: &Profile) -> Vec<(String, String)> {
    let mut o = on_cpu();
    o.text.children = false;
    o.text.call_graph = false;
    let text = write_str(p, Format::Text, &o);
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let pct = it.next()?.to_string();
            let symbol = l.rsplit_once("] ")?.1.to_string();
            (pct != "0.00%" && symbol != "[unknown]").then_some((symbol, pct))
        })
        .collect()
}

/// `go tool pprof -top` on lwprof's pprof shows the same top functions, in
/// the same order and with the same flat percentages, as the text writer.
#[test]
fn go_tool_pprof_agrees_with_text_report() {
    if !tools::available("go", "golang-go") {
        return;
    }
    let p = fixture::profile();
    let dir = scratch("pprof");
    let file = dir.path().join("fixture.pb.gz");
    std::fs::write(&file, write(&p, Format::Pprof, &on_cpu()).0).expect("write pprof");
    let out = Command::new("go")
        .args([
            "tool",
            "pprof",
            "-top",
            // Entries of the text report are real functions (inlined code
            // counts for its caller, as in perf report): ask pprof the same.
            "-noinlines",
            "-nodecount=10",
            "-symbolize=none",
            "-sample_index=cpu",
        ])
        .arg(&file)
        .env("HOME", dir.path())
        .env("PPROF_TMPDIR", dir.path())
        .env("PPROF_BINARY_PATH", dir.path())
        .output()
        .expect("run go tool pprof");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "go tool pprof failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("go tool pprof -top:\n{stdout}");
    // Rows after the "flat  flat%   sum%  cum   cum%" header.
    let rows: Vec<(String, String)> = stdout
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("flat"))
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 6 {
                return None;
            }
            let name = f[5..].join(" ");
            let name = name.trim_end_matches(" (inline)").to_string();
            Some((name, f[1].to_string()))
        })
        .filter(|(_, pct)| pct != "0%")
        .collect();
    let text = text_self_rows(&p);
    assert!(text.len() >= 5, "text rows: {text:?}");
    assert_eq!(rows, text, "pprof -top:\n{stdout}");
}

/// Flame graph totals per node of the folded stacks: `(frame, count)` for
/// every prefix of every line, plus the root total.
fn expected_nodes(folded: &str) -> (u64, BTreeMap<(usize, String), u64>) {
    let mut nodes: BTreeMap<(usize, String), u64> = BTreeMap::new();
    let mut total = 0;
    for line in folded.lines() {
        let (stack, count) = line.rsplit_once(' ').expect("count");
        let count: u64 = count.parse().expect("number");
        total += count;
        let mut prefix = String::new();
        for (depth, frame) in stack.split(';').enumerate() {
            if !prefix.is_empty() {
                prefix.push(';');
            }
            prefix.push_str(frame);
            let _ = frame;
            *nodes.entry((depth, prefix.clone())).or_default() += count;
        }
    }
    // Key by (depth, frame name) multiset: collapse prefixes to names.
    let mut by_name: BTreeMap<(usize, String), u64> = BTreeMap::new();
    for ((depth, prefix), c) in nodes {
        let name = prefix.rsplit(';').next().unwrap_or("").to_string();
        *by_name.entry((depth, name)).or_default() += c;
    }
    (total, by_name)
}

/// The `(name, count)` of every frame of an inferno SVG, from the
/// `<title>name (N samples, P%)</title>` of each frame group, keyed like
/// [`expected_nodes`] by (depth from the `y` of its rect, name).
fn svg_nodes(svg: &str) -> (u64, BTreeMap<(usize, String), u64>) {
    let doc = parse_xml(svg).expect("SVG parses as XML");
    let mut frames: Vec<(f64, String, u64)> = Vec::new();
    for g in doc.descendants().filter(|n| n.has_tag_name("g")) {
        let Some(title) = g.children().find(|c| c.has_tag_name("title")) else {
            continue;
        };
        let Some(rect) = g.children().find(|c| c.has_tag_name("rect")) else {
            continue;
        };
        let text = title.text().unwrap_or("");
        let Some((name, rest)) = text.rsplit_once(" (") else {
            continue;
        };
        let count: u64 = rest
            .split_whitespace()
            .next()
            .unwrap_or("")
            .replace(',', "")
            .parse()
            .unwrap_or_else(|_| panic!("count in {text:?}"));
        let y: f64 = rect.attribute("y").unwrap_or("0").parse().expect("y");
        frames.push((y, name.to_string(), count));
    }
    // The root "all" is the bottom-most frame: largest y.
    let root_y = frames.iter().map(|f| f.0).fold(f64::MIN, f64::max);
    let total = frames
        .iter()
        .find(|f| f.0 == root_y && f.1 == "all")
        .map(|f| f.2)
        .expect("an `all` frame");
    let mut by_name = BTreeMap::new();
    for (y, name, count) in frames {
        if y == root_y {
            continue;
        }
        let depth = ((root_y - y) / 16.0).round() as usize - 1;
        *by_name.entry((depth, name)).or_default() += count;
    }
    (total, by_name)
}

/// Folded output fed to inferno's flamegraph gives an SVG whose frame
/// totals are those of the folded stacks; the flame graph writer draws the
/// same frames.
#[test]
fn folded_round_trips_through_inferno() {
    let p = fixture::profile();
    let folded = write_str(&p, Format::Folded, &on_cpu());
    let mut o = inferno::flamegraph::Options::default();
    o.min_width = 0.0;
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut o, folded.lines(), &mut svg).expect("inferno");
    let svg = String::from_utf8(svg).expect("utf-8");
    let expected = expected_nodes(&folded);
    assert_eq!(expected.0, 28, "on-CPU samples");
    assert_eq!(svg_nodes(&svg), expected);
    // Our own SVG (default min width prunes nothing this wide).
    let ours = write_str(&p, Format::Flamegraph, &on_cpu());
    assert_eq!(svg_nodes(&ours), expected);
}

#[test]
fn flamegraph_svg_is_xml_with_title_search_and_icicle() {
    let p = fixture::profile();
    let svg = write_str(&p, Format::Flamegraph, &on_cpu());
    let doc = parse_xml(&svg).expect("XML");
    let title = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("title"))
        .and_then(|n| n.text())
        .unwrap_or_default()
        .to_string();
    assert_eq!(title, "app --work - cpu-clock");
    assert!(doc
        .descendants()
        .any(|n| n.attribute("id") == Some("search")));
    assert!(doc.descendants().any(|n| n.has_tag_name("script")));
    // Icicle: the root `all` is at the top (smallest y) instead of the bottom.
    let mut o = on_cpu();
    o.flamegraph.icicle = true;
    let icicle = write_str(&p, Format::Flamegraph, &o);
    let root_y = |svg: &str| -> (f64, f64) {
        let doc = parse_xml(svg).expect("XML");
        let ys: Vec<(f64, bool)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("g"))
            .filter_map(|g| {
                let t = g.children().find(|c| c.has_tag_name("title"))?.text()?;
                let y = g
                    .children()
                    .find(|c| c.has_tag_name("rect"))?
                    .attribute("y")?;
                Some((y.parse().ok()?, t.starts_with("all (")))
            })
            .collect();
        let all = ys.iter().find(|y| y.1).map(|y| y.0).expect("all");
        let max = ys.iter().map(|y| y.0).fold(f64::MIN, f64::max);
        (all, max)
    };
    let (all, max) = root_y(&svg);
    assert_eq!(all, max, "flame graph root at the bottom");
    let (all, max) = root_y(&icicle);
    assert!(all < max, "icicle root at the top");
}

/// Folded lines: root first, thread name prefix, counts adding up.
#[test]
fn folded_lines_are_root_first_with_prefix() {
    let p = fixture::profile();
    let folded = write_str(&p, Format::Folded, &on_cpu());
    assert!(
        folded.lines().any(|l| l == "app;main;foo;bar;inl 4"),
        "{folded}"
    );
    assert!(
        folded.lines().any(|l| l == "daemon;[unknown] 1"),
        "{folded}"
    );
    let mut o = on_cpu();
    o.folded.thread_prefix = ThreadPrefix::None;
    o.no_inline = true;
    let plain = write_str(&p, Format::Folded, &o);
    assert!(plain.lines().any(|l| l == "main;foo;bar 4"), "{plain}");
}

/// Chromium renders the flame graph without script errors.
#[test]
fn flamegraph_renders_in_headless_chromium_without_script_errors() {
    if !tools::available("chromium", "chromium") {
        return;
    }
    let p = fixture::profile();
    let dir = scratch("chromium");
    let file = dir.path().join("flame.svg");
    std::fs::write(&file, write_str(&p, Format::Flamegraph, &on_cpu())).expect("write svg");
    let (stderr, dom) = chromium_dump_dom(&file);
    assert!(!stderr.contains("Uncaught"), "script error: {stderr}");
    // The script ran: inferno's init() fills the details line and the DOM
    // still has our frames.
    assert!(dom.contains("app --work - cpu-clock"), "dom: {dom}");
    assert!(dom.contains("worker_loop"), "dom: {dom}");
    // Control: a script error in an SVG does show up this way.
    let bad = dir.path().join("bad.svg");
    std::fs::write(
        &bad,
        r#"<svg xmlns="http://www.w3.org/2000/svg" onload="init(evt)"><script><![CDATA[function init(e) { noSuchFunction(); }]]></script></svg>"#,
    )
    .expect("write bad svg");
    let (stderr, _) = chromium_dump_dom(&bad);
    assert!(
        stderr.contains("Uncaught"),
        "control not detected: {stderr}"
    );
}

/// Load a file in headless Chromium; returns (stderr with the console log,
/// the DOM after scripts ran).
fn chromium_dump_dom(file: &Path) -> (String, String) {
    let profile_dir = scratch("chromium-profile");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=2000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile_dir.path().display()))
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("run chromium");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "chromium failed: {stderr}");
    (stderr, dom)
}

fn empty_profile() -> Profile {
    let mut b = ProfileBuilder::new();
    b.add_event("cpu-clock");
    b.finish()
}

/// Checks that a writer's output is well-formed for its format.
fn assert_well_formed(format: Format, bytes: &[u8]) {
    match format {
        Format::Text => {
            let s = std::str::from_utf8(bytes).expect("utf-8");
            assert!(s.starts_with("# Total Lost Samples:"), "{s}");
        }
        Format::Folded => {
            let s = std::str::from_utf8(bytes).expect("utf-8");
            assert!(
                s.lines().all(|l| l
                    .rsplit_once(' ')
                    .is_some_and(|(_, c)| c.parse::<u64>().is_ok())),
                "{s}"
            );
        }
        Format::Flamegraph => {
            let s = std::str::from_utf8(bytes).expect("utf-8");
            parse_xml(s).unwrap_or_else(|e| panic!("{e}: {s}"));
        }
        Format::Pprof => {
            let m = pprof_proto::Profile::decode(gunzip(bytes).as_slice()).expect("decode");
            assert!(m.sample_type.len() >= 2);
            assert_eq!(m.string_table.first().map(String::as_str), Some(""));
        }
        Format::Firefox => {
            let v: serde_json::Value = serde_json::from_slice(bytes).expect("JSON");
            assert!(v["meta"].is_object(), "{v}");
            assert!(
                v["threads"].as_array().is_some_and(|t| !t.is_empty()),
                "{v}"
            );
        }
        Format::Json => {
            let v: serde_json::Value = serde_json::from_slice(bytes).expect("JSON");
            assert_eq!(v["lwprof_profile_version"], 1);
        }
    }
}

#[test]
fn empty_profile_gives_well_formed_files_and_a_note() {
    for profile in [empty_profile(), Profile::default()] {
        for format in Format::ALL {
            let (bytes, note) = write(&profile, format, &opts());
            assert_eq!(note, Some(OutputNote::NoSamples { format }), "{format}");
            assert_eq!(note.map(|n| n.to_string().lines().count()), Some(1));
            assert_well_formed(format, &bytes);
        }
    }
    // A filter that keeps nothing is the same case.
    let mut o = opts();
    o.filter.pids = vec![999];
    for format in Format::ALL {
        let (bytes, note) = write(&fixture::profile(), format, &o);
        assert_eq!(note, Some(OutputNote::NoSamples { format }));
        assert_well_formed(format, &bytes);
    }
}

#[test]
fn profile_without_symbols_gives_well_formed_files_and_a_note() {
    let p = fixture::unresolved();
    for format in Format::ALL {
        let (bytes, note) = write(&p, format, &opts());
        match note {
            Some(OutputNote::NoSymbols { format: f, frames }) => {
                assert_eq!(f, format);
                assert!(frames > 5, "{frames}");
            }
            other => panic!("{format}: {other:?}"),
        }
        assert_well_formed(format, &bytes);
    }
    // JSON of an unsymbolized profile names frames by address.
    let doc = json_profile(&p, &opts());
    assert!(doc.functions.iter().any(|f| f.name.starts_with("0x")));
}

#[test]
fn format_names_parse() {
    for f in Format::ALL {
        assert_eq!(f.name().parse::<Format>(), Ok(f));
        assert_eq!(writer_for(f).expect("every format is built").format(), f);
    }
    assert_eq!("SVG".parse::<Format>(), Ok(Format::Flamegraph));
    let err = "perf".parse::<Format>().expect_err("unknown");
    assert!(err
        .to_string()
        .contains("text, folded, flamegraph, pprof, firefox, json"));
}

/// The JSON document's stacks and functions agree with the profile.
#[test]
fn json_totals_match_profile() {
    let p = fixture::profile();
    let doc = json_profile(&p, &on_cpu());
    assert_eq!(doc.totals.samples, 28);
    assert_eq!(doc.totals.weight, 28 * PERIOD);
    assert_eq!(doc.totals.lost_samples, 3);
    let stack_weight: u64 = doc.stacks.iter().map(|s| s.weight).sum();
    assert_eq!(stack_weight, doc.totals.weight);
    let foo = doc
        .functions
        .iter()
        .position(|f| f.name == "foo")
        .expect("foo");
    assert_eq!(doc.functions[foo].self_weight, 6 * PERIOD);
    assert_eq!(doc.functions[foo].total_weight, 10 * PERIOD);
    assert_eq!(doc.functions[foo].file.as_deref(), Some("src/foo.c"));
    // foo's total is the weight of the stacks that contain it.
    let through_foo: u64 = doc
        .stacks
        .iter()
        .filter(|s| s.frames.contains(&foo))
        .map(|s| s.weight)
        .sum();
    assert_eq!(through_foo, doc.functions[foo].total_weight);
    let names: Vec<&str> = doc
        .stacks
        .iter()
        .flat_map(|s| s.frames.first())
        .map(|&i| doc.functions[i].name.as_str())
        .collect();
    assert!(
        names.iter().all(|n| ["main", "worker_loop"].contains(n)),
        "roots: {names:?}"
    );
}

/// The Firefox profile has one process per pid, named threads, timestamped
/// samples and the lost-samples marker.
#[test]
fn firefox_profile_content() {
    let p = fixture::profile();
    let out = write_str(&p, Format::Firefox, &on_cpu());
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let threads = v["threads"].as_array().expect("threads");
    let names: Vec<&str> = threads.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(threads.len(), 3, "{names:?}");
    for n in ["app", "worker", "daemon"] {
        assert!(names.contains(&n), "{names:?}");
    }
    let pids: std::collections::BTreeSet<&str> =
        threads.iter().filter_map(|t| t["pid"].as_str()).collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    let samples: u64 = threads
        .iter()
        .map(|t| t["samples"]["length"].as_u64().expect("length"))
        .sum();
    assert_eq!(samples, 28);
    assert!(out.contains("LostSamples"), "lost marker");
    // Inline frame `inl` is a frame of its own.
    assert!(out.contains("\"inl\""), "inline frame name");
}

/// Parse XML, allowing the SVG 1.1 DOCTYPE inferno writes.
fn parse_xml(s: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    roxmltree::Document::parse_with_options(
        s,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        },
    )
}
