//! A tracepoint's `format` file (`events/<system>/<name>/format`), parsed:
//! name, id, fields and print format.
//!
//! ```text
//! name: sched_switch
//! ID: 372
//! format:
//!     field:unsigned short common_type;    offset:0;    size:2;    signed:0;
//!     ...                                      (a blank line ends the common fields)
//!     field:char prev_comm[16];    offset:8;    size:16;    signed:0;
//!
//! print fmt: "prev_comm=%s ...", REC->prev_comm, ...
//! ```
//!
//! (The field lines start with a tab, and tabs separate their parts.)
//!
//! Pure, on bytes. The print format is kept as text, not evaluated; lines
//! this parser does not know are passed over.

/// One tracepoint's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFormat {
    /// The subsystem (`sched`; `ftrace` for ftrace's own events).
    pub system: String,
    /// The event name (`sched_switch`).
    pub name: String,
    /// The tracepoint id (`perf_event_attr.config`).
    pub id: u64,
    /// Every field, common ones first, in file order.
    pub fields: Vec<FormatField>,
    /// The print format: the quoted format string and its arguments, as
    /// written after `print fmt: ` (empty when the file has none).
    pub print_fmt: String,
}

/// One field of a tracepoint's raw record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatField {
    /// The field name (`prev_comm`).
    pub name: String,
    /// The C type without the name, with an array's brackets
    /// (`unsigned short`, `char[16]`, `char *`, `__data_loc char[]`).
    pub type_name: String,
    /// Byte offset in the raw record.
    pub offset: u32,
    /// Size in bytes (of the whole array for arrays; 4 for the offset/length
    /// word of a dynamic field).
    pub size: u32,
    /// Whether the value is signed.
    pub signed: bool,
    /// Declared as an array (`name[N]`, `name[]`).
    pub is_array: bool,
    /// The declared element count, when it is a number (`Some(16)` for
    /// `char prev_comm[16]`; `None` for `[]` or `[sizeof(...)]`).
    pub array_len: Option<u32>,
    /// One of the fields every event starts with (`common_pid`...).
    pub common: bool,
}

impl FormatField {
    /// A dynamic field (`__data_loc` or `__rel_loc`): the record holds a
    /// 16-bit offset and a 16-bit length of data stored further on.
    pub fn is_dynamic(&self) -> bool {
        self.type_name.starts_with("__data_loc") || self.type_name.starts_with("__rel_loc")
    }
}

impl EventFormat {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&FormatField> {
        self.fields.iter().find(|f| f.name == name)
    }
    /// The event's own fields (not the common ones).
    pub fn event_fields(&self) -> impl Iterator<Item = &FormatField> {
        self.fields.iter().filter(|f| !f.common)
    }
}

/// Why a format file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {detail}")]
pub struct FormatError {
    /// 1-based line number (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub detail: String,
}

/// Parses one `format` file of subsystem `system`.
pub fn parse_format(system: &str, text: &[u8]) -> Result<EventFormat, FormatError> {
    let text = String::from_utf8_lossy(text);
    let mut name = None;
    let mut id = None;
    let mut fields = Vec::new();
    let mut common = true;
    let mut print_fmt = String::new();
    let mut at = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let here = at;
        at += line.len();
        let err = |detail: String| FormatError {
            line: i + 1,
            detail,
        };
        let l = line.trim();
        if let Some(v) = l.strip_prefix("name:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = l.strip_prefix("ID:") {
            let v = v.trim();
            id = Some(
                v.parse::<u64>()
                    .map_err(|_| err(format!("ID '{}' is not a number", cut(v))))?,
            );
        } else if let Some(decl) = l.strip_prefix("field:") {
            let mut f = parse_field(decl).map_err(err)?;
            f.common = common;
            fields.push(f);
        } else if l.is_empty() && !fields.is_empty() {
            common = false;
        } else if let Some(rest) = text[here..].trim_start().strip_prefix("print fmt:") {
            // The rest of the file, whatever its line breaks.
            print_fmt = rest.trim().to_string();
            break;
        }
    }
    let missing = |what: &str| FormatError {
        line: 0,
        detail: format!("no '{what}' line"),
    };
    Ok(EventFormat {
        system: system.to_string(),
        name: name.ok_or_else(|| missing("name:"))?,
        id: id.ok_or_else(|| missing("ID:"))?,
        fields,
        print_fmt,
    })
}

/// At most 40 characters of `s`, for messages.
fn cut(s: &str) -> String {
    s.chars().take(40).collect()
}

/// `unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;`
fn parse_field(line: &str) -> Result<FormatField, String> {
    let mut parts = line.split(';');
    let decl = parts.next().unwrap_or("").trim();
    let (mut offset, mut size, mut signed) = (None, None, false);
    for p in parts {
        let Some((k, v)) = p.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        let num = || {
            v.parse::<u32>()
                .map_err(|_| format!("field '{}': {k} '{}' is not a number", cut(decl), cut(v)))
        };
        match k {
            "offset" => offset = Some(num()?),
            "size" => size = Some(num()?),
            "signed" => signed = num()? != 0,
            _ => {}
        }
    }
    let (base, array) = match decl
        .strip_suffix(']')
        .and_then(|d| d.rfind('[').map(|lb| (d, lb)))
    {
        Some((d, lb)) => (&d[..lb], Some(&d[lb + 1..])),
        None => (decl, None),
    };
    let base = base.trim_end();
    // The name is the trailing identifier; its characters are ASCII, so
    // their count is its length in bytes.
    let name_len = base
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .count();
    let start = base.len() - name_len;
    let name = &base[start..];
    let ty = base[..start].trim_end();
    if name.is_empty() || ty.is_empty() {
        return Err(format!(
            "field '{}' is not a C declaration (type and name)",
            cut(decl)
        ));
    }
    let missing = |what: &str| format!("field '{name}' has no {what}");
    Ok(FormatField {
        name: name.to_string(),
        type_name: match array {
            Some(a) => format!("{ty}[{a}]"),
            None => ty.to_string(),
        },
        offset: offset.ok_or_else(|| missing("offset"))?,
        size: size.ok_or_else(|| missing("size"))?,
        signed,
        is_array: array.is_some(),
        array_len: array.and_then(|a| a.trim().parse().ok()),
        common: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWITCH: &str = "name: sched_switch\nID: 372\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\
        \n\
        \tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
        \tfield:char * buf;\toffset:24;\tsize:8;\tsigned:0;\n\
        \tfield:__data_loc char[] name;\toffset:32;\tsize:4;\tsigned:0;\n\
        \tfield:__u8 saddr[sizeof(struct sockaddr_in6)];\toffset:36;\tsize:28;\tsigned:0;\n\
        \tfield:unsigned long args[];\toffset:64;\tsize:0;\tsigned:0;\n\
        \n\
        print fmt: \"prev_comm=%s\", REC->prev_comm\n";

    #[test]
    fn fields_types_and_print_format_are_read() {
        let f = parse_format("sched", SWITCH.as_bytes()).unwrap();
        assert_eq!(
            (f.system.as_str(), f.name.as_str(), f.id),
            ("sched", "sched_switch", 372)
        );
        let got: Vec<_> = f
            .fields
            .iter()
            .map(|x| {
                (
                    x.name.as_str(),
                    x.type_name.as_str(),
                    x.offset,
                    x.size,
                    x.signed,
                    x.array_len,
                    x.common,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("common_type", "unsigned short", 0, 2, false, None, true),
                ("common_pid", "int", 4, 4, true, None, true),
                ("prev_comm", "char[16]", 8, 16, false, Some(16), false),
                ("buf", "char *", 24, 8, false, None, false),
                ("name", "__data_loc char[]", 32, 4, false, None, false),
                (
                    "saddr",
                    "__u8[sizeof(struct sockaddr_in6)]",
                    36,
                    28,
                    false,
                    None,
                    false
                ),
                ("args", "unsigned long[]", 64, 0, false, None, false),
            ]
        );
        assert!(f.field("name").unwrap().is_dynamic());
        assert!(f.field("args").unwrap().is_array && !f.field("buf").unwrap().is_array);
        assert_eq!(f.print_fmt, "\"prev_comm=%s\", REC->prev_comm");
        assert_eq!(f.event_fields().count(), 5);
    }

    #[test]
    fn bad_lines_are_named() {
        let e = parse_format("s", b"name: x\nID: 12a\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.detail.contains("12a"), "{e}");
        let e =
            parse_format("s", b"name: x\nID: 1\n\tfield:int;\toffset:0;\tsize:4;\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = parse_format("s", b"name: x\nID: 1\n\tfield:int a;\toffset:0;\n").unwrap_err();
        assert!(e.detail.contains("no size"), "{e}");
        // A non-ASCII character before the name (found by fuzzing: a panic).
        let f = parse_format(
            "s",
            "name: x\nID: 1\n\tfield:char \u{fffd}n;\toffset:0;\tsize:1;\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(
            (f.fields[0].name.as_str(), f.fields[0].type_name.as_str()),
            ("n", "char \u{fffd}")
        );
        let e = parse_format(
            "s",
            "name: x\nID: 1\n\tfield:char \u{fffd};\toffset:0;\tsize:1;\n".as_bytes(),
        )
        .unwrap_err();
        assert!(e.detail.contains("not a C declaration"), "{e}");
        let e = parse_format("s", b"ID: 1\n").unwrap_err();
        assert!(e.detail.contains("name:"), "{e}");
    }
}
