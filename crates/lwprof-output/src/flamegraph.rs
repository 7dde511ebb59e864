//! Flame graph SVG, drawn by inferno from the folded stacks of
//! [`super::folded`]: interactive (search, zoom) through inferno's embedded
//! JavaScript, titled `<command> - <event>`, colored by inferno's palettes or
//! by DSO, optionally as an icicle graph.
//!
//! Colors are deterministic (a hash of the name), so the same profile gives
//! the same file. An empty profile gives a small valid SVG that says so,
//! rather than inferno's error image.

use std::io::Write;

use inferno::flamegraph::color::{BasicPalette, Color, MultiPalette, PaletteMap};
use inferno::flamegraph::{self as inferno_fg, Direction, Palette};

use super::folded::{folded_lines, FoldedLines};
use super::{
    default_title, note_for, FlameColors, FoldedCount, Format, OutputError, OutputNote,
    OutputOptions, ProfileWriter,
};
use lwprof_profile::model::Profile;

/// Writes a flame graph SVG ([`Format::Flamegraph`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct FlamegraphWriter;

impl ProfileWriter for FlamegraphWriter {
    fn format(&self) -> Format {
        Format::Flamegraph
    }

    fn write(
        &self,
        profile: &Profile,
        opts: &OutputOptions,
        out: &mut dyn Write,
    ) -> Result<Option<OutputNote>, OutputError> {
        let folded = folded_lines(profile, opts);
        let title = default_title(profile, opts);
        let io = OutputError::io(Format::Flamegraph);
        if folded.lines.is_empty() {
            write_empty_svg(out, &title, opts.flamegraph.width).map_err(io)?;
        } else {
            write_svg(&folded, &title, opts, out).map_err(io)?;
        }
        out.flush().map_err(OutputError::io(Format::Flamegraph))?;
        Ok(note_for(profile, opts, Format::Flamegraph))
    }
}

fn write_svg(
    folded: &FoldedLines,
    title: &str,
    opts: &OutputOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let fg = &opts.flamegraph;
    let mut palette_map = PaletteMap::default();
    let mut o = inferno_fg::Options::default();
    o.title = title.to_string();
    o.deterministic = true;
    o.hash = true;
    o.image_width = Some(fg.width.max(100));
    o.count_name = match opts.folded.count {
        FoldedCount::Samples => "samples".to_string(),
        FoldedCount::Weight => "weight".to_string(),
    };
    if fg.icicle {
        o.direction = Direction::Inverted;
    }
    o.colors = match fg.colors {
        FlameColors::Hot | FlameColors::Dso => Palette::Basic(BasicPalette::Hot),
        FlameColors::Rust => Palette::Multi(MultiPalette::Rust),
        FlameColors::Java => Palette::Multi(MultiPalette::Java),
        FlameColors::Js => Palette::Multi(MultiPalette::Js),
        FlameColors::Python => Palette::Multi(MultiPalette::Python),
        FlameColors::Perl => Palette::Multi(MultiPalette::Perl),
    };
    if fg.colors == FlameColors::Dso {
        for (name, (dso, kernel)) in &folded.frame_dsos {
            palette_map.insert(name, dso_color(dso, *kernel));
        }
        o.palette_map = Some(&mut palette_map);
    }
    let lines = folded.lines.iter().map(|(s, c)| format!("{s} {c}"));
    let lines: Vec<String> = lines.collect();
    inferno_fg::from_lines(&mut o, lines.iter().map(String::as_str), out)
}

/// A stable color per DSO: the hue comes from a hash of the name; kernel
/// frames are orange.
fn dso_color(dso: &str, kernel: bool) -> Color {
    if kernel {
        return Color {
            r: 240,
            g: 140,
            b: 40,
        };
    }
    let h = crc32fast::hash(dso.as_bytes());
    let hue = (h % 360) as f64;
    hsv_to_rgb(hue, 0.45, 0.92)
}

fn hsv_to_rgb(h: f64, s: f64, v: f64) -> Color {
    let c = v * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = v - c;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let to8 = |f: f64| ((f + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    Color {
        r: to8(r),
        g: to8(g),
        b: to8(b),
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn write_empty_svg(out: &mut dyn Write, title: &str, width: usize) -> std::io::Result<()> {
    let width = width.max(100);
    let title = xml_escape(title);
    writeln!(out, r#"<?xml version="1.0" standalone="no"?>"#)?;
    writeln!(
        out,
        r#"<svg version="1.1" width="{width}" height="80" viewBox="0 0 {width} 80" xmlns="http://www.w3.org/2000/svg">"#
    )?;
    writeln!(out, "<title>{title}</title>")?;
    writeln!(
        out,
        r#"<rect x="0" y="0" width="100%" height="100%" fill="rgb(238,238,238)"/>"#
    )?;
    writeln!(
        out,
        r#"<text x="50%" y="24" text-anchor="middle" font-family="Verdana" font-size="17">{title}</text>"#
    )?;
    writeln!(
        out,
        r#"<text x="50%" y="56" text-anchor="middle" font-family="Verdana" font-size="12">No samples</text>"#
    )?;
    writeln!(out, "</svg>")
}
