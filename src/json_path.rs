//! The JSON path of the value a `serde_json` error points at, from the error's line and
//! column: `settings.codes.length`, `authenticationMethodConfigurations[1].id`.
//!
//! Why not `serde_path_to_error`: it wraps the deserializer, so every configuration type got
//! a second, path-tracking copy of its deserialization code (~80 KB of the Worker's wasm),
//! and the configuration had to be read from a `serde_json::Value` (another copy) rather
//! than from text like every other document. Here the text is read once by `serde_json`;
//! only on an error is it scanned, up to where `serde_json` stopped, to name the value.
//! The format is `serde_path_to_error`'s, which a differential test holds it to.

/// Where a container stands when the scan stops.
enum Frame {
    /// An object, with the key being read or whose value is being read.
    Object { key: Option<String>, in_key: bool },
    /// An array, with the index of the element being read, if one has started.
    Array { index: usize, in_element: bool },
}

/// The path of the value at `line` and `column` (1-based, as `serde_json` reports them) in
/// `text`; `.` for the whole document.
pub fn at(text: &str, line: usize, column: usize) -> String {
    let end = offset(text, line, column).min(text.len());
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < end {
        let Some(&b) = bytes.get(i) else { break };
        match b {
            b'"' => {
                let (string, next) = read_string(text, i.saturating_add(1), end);
                if let Some(Frame::Object { key, in_key: true }) = stack.last_mut() {
                    *key = Some(string);
                } else {
                    start_value(&mut stack);
                }
                i = next;
                continue;
            }
            b'{' => {
                start_value(&mut stack);
                stack.push(Frame::Object {
                    key: None,
                    in_key: true,
                });
            }
            b'[' => {
                start_value(&mut stack);
                stack.push(Frame::Array {
                    index: 0,
                    in_element: false,
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b':' => {
                if let Some(Frame::Object { in_key, .. }) = stack.last_mut() {
                    *in_key = false;
                }
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { key, in_key }) => {
                    *key = None;
                    *in_key = true;
                }
                Some(Frame::Array { index, in_element }) => {
                    *index = index.saturating_add(1);
                    *in_element = false;
                }
                None => {}
            },
            b if b.is_ascii_whitespace() => {}
            _ => start_value(&mut stack),
        }
        i = i.saturating_add(1);
    }
    render(&stack)
}

/// An array element begins: it is the one the index names.
fn start_value(stack: &mut [Frame]) {
    if let Some(Frame::Array { in_element, .. }) = stack.last_mut() {
        *in_element = true;
    }
}

/// Reads a string from after its opening quote; returns it, unescaped, and the index after
/// its closing quote (or `end`).
fn read_string(text: &str, start: usize, end: usize) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = start;
    while i < end {
        let Some(&b) = bytes.get(i) else { break };
        match b {
            b'"' => {
                return (
                    String::from_utf8_lossy(&out).into_owned(),
                    i.saturating_add(1),
                );
            }
            b'\\' => {
                let escape = bytes.get(i.saturating_add(1)).copied().unwrap_or(b'\\');
                i = i.saturating_add(2);
                let c = match escape {
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let unit = hex4(text, i);
                        i = i.saturating_add(4);
                        // A UTF-16 surrogate pair spells one character in two escapes.
                        let low = (0xD800..0xDC00).contains(&unit)
                            && text.get(i..i.saturating_add(2)) == Some("\\u");
                        let pair = if low {
                            hex4(text, i.saturating_add(2))
                        } else {
                            0
                        };
                        if (0xDC00..0xE000).contains(&pair) {
                            i = i.saturating_add(6);
                            let code = 0x10000 + ((unit - 0xD800) << 10) + (pair - 0xDC00);
                            char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                        } else {
                            char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER)
                        }
                    }
                    other => char::from(other),
                };
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            _ => {
                out.push(b);
                i = i.saturating_add(1);
            }
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), end)
}

/// The four hex digits at `at` as a UTF-16 code unit (an invalid one is never a character).
fn hex4(text: &str, at: usize) -> u32 {
    text.get(at..at.saturating_add(4))
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .unwrap_or(0xFFFF_FFFF)
}

/// The byte offset just after the last byte `serde_json` read.
fn offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    line_start.saturating_add(column)
}

fn render(stack: &[Frame]) -> String {
    let mut path = String::new();
    for frame in stack {
        match frame {
            Frame::Object { key: Some(k), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Array {
                index,
                in_element: true,
            } => {
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
            }
            _ => break,
        }
    }
    if path.is_empty() {
        path.push('.');
    }
    path
}

/// A `serde_json` error's message without the " at line L column C" it appends.
pub fn message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code, reason = "only read to provoke errors")]
    struct Doc {
        name: String,
        #[serde(default)]
        settings: Option<Settings>,
        #[serde(default)]
        items: Vec<Item>,
        #[serde(default)]
        grid: Vec<Vec<u8>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code, reason = "only read to provoke errors")]
    struct Settings {
        length: u8,
        mode: Mode,
        #[serde(default)]
        nested: Option<Box<Settings>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    enum Mode {
        On,
        Off,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "only read to provoke errors")]
    struct Item {
        id: String,
        #[serde(default)]
        weight: u32,
    }

    /// Our path from the text error, and `serde_path_to_error`'s from the same text.
    fn both(text: &str) -> (String, String) {
        let ours = match serde_json::from_str::<Doc>(text) {
            Ok(_) => "no error".to_string(),
            Err(e) => at(text, e.line(), e.column()),
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let theirs = match serde_path_to_error::deserialize::<_, Doc>(&mut de) {
            Ok(_) => "no error".to_string(),
            Err(e) => e.path().to_string(),
        };
        (ours, theirs)
    }

    #[test]
    fn names_the_same_value_as_serde_path_to_error() {
        let cases = [
            r#"{"name": 1}"#,
            r#"{"name": "a", "typo": 1}"#,
            r#"{"name": "a", "settings": {"length": 300, "mode": "on"}}"#,
            r#"{"name": "a", "settings": {"length": 3, "mode": "sometimes"}}"#,
            r#"{"name": "a", "settings": {"mode": "on"}}"#,
            r#"{"name": "a", "settings": {"length": 3, "mode": "on", "nested": {"length": "x"}}}"#,
            r#"{"name": "a", "settings": {"length": 3, "mode": "on", "nested": {"mode": "off"}}}"#,
            r#"{"name": "a", "items": [{"id": "x"}, {"id": "y", "weight": -1}]}"#,
            r#"{"name": "a", "items": [{"id": "x"}, {"weight": 2}]}"#,
            r#"{"name": "a", "items": [{"id": "x"}, {"id": "y", "extra": true}]}"#,
            r#"{"name": "a", "items": [{"id": "x, \"quoted\" ,[{"}, 7]}"#,
            r#"{"name": "a", "grid": [[1, 2], [3, 400]]}"#,
            r#"{"name": "a", "grid": [[1, 2], "row"]}"#,
            r#"{"name": "a", "items": {}}"#,
            r#"{"settings": {"length": 3, "mode": "on"}}"#,
            "{\n  \"name\": \"a\",\n  \"settings\": {\n    \"length\": 3,\n    \"mode\": 7\n  }\n}",
            r#"{"na\"me": 1}"#,
            r#"{"name": "a", "settings": {"len\u0067th": "x", "mode": "on"}}"#,
            r#"{"name": "a", "settings": {"\/length\n": 1}}"#,
            r#"{"name": "a", "settings": {"\ud83d\ude00": 1}}"#,
            r#"[1]"#,
            r#"{"name": "ok"}"#,
        ];
        for text in cases {
            let (ours, theirs) = both(text);
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn the_message_drops_the_position() {
        let e = serde_json::from_str::<Doc>(r#"{"name": 1}"#)
            .map(|_| ())
            .err();
        let m = e.as_ref().map(message).unwrap_or_default();
        assert!(m.starts_with("invalid type: integer `1`"), "{m}");
        assert!(!m.contains("line"), "{m}");
    }
}
