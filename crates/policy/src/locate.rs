//! Finding where in the text a JSON value is, to report line and column.
//!
//! serde_json gives positions only for syntax errors; for a value that parses but
//! is wrong (a bad Version, an unknown Effect) we walk the text again along the
//! value's path. The scanner is tolerant: it only needs the text to be valid up to
//! the value it looks for, so it also works on documents broken further down.

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// 1-based line and column (in characters) of the value at `path`. When an object
/// repeats a key, the last one is taken, as serde_json does.
pub(crate) fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    locate_offset(text, path).map(|offset| line_column(text, offset))
}

/// Byte offset of the value at `path`.
pub(crate) fn locate_offset(text: &str, path: &[Seg]) -> Option<usize> {
    Scanner { text, pos: 0 }.find(path)
}

/// Line and column of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    (line, before[line_start..].chars().count() + 1)
}

/// Converts serde_json's error position (line, and column counted in bytes, 1-based
/// at the offending byte) to a column counted in characters.
pub(crate) fn char_column(text: &str, line: usize, byte_column: usize) -> usize {
    let Some(line_text) = text.split('\n').nth(line.saturating_sub(1)) else {
        return byte_column;
    };
    let end = floor_char_boundary(line_text, byte_column.min(line_text.len()));
    let full = line_text[..end].chars().count();
    // A column inside a multi-byte character points at that character.
    if end < byte_column.min(line_text.len()) {
        full + 1
    } else {
        full.max(1)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl Scanner<'_> {
    fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    /// Byte offset of the value at `path`, starting from the current position.
    fn find(&mut self, path: &[Seg]) -> Option<usize> {
        self.skip_ws();
        let Some((first, rest)) = path.split_first() else {
            return Some(self.pos);
        };
        match first {
            Seg::Key(wanted) => {
                self.eat(b'{')?;
                let mut found = None;
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    return None;
                }
                loop {
                    self.skip_ws();
                    let key = self.string()?;
                    self.eat(b':')?;
                    self.skip_ws();
                    if key == *wanted {
                        found = Some(self.pos);
                    }
                    if self.skip_value().is_none() {
                        // Broken text after the value: settle for what we have.
                        break;
                    }
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        _ => break,
                    }
                }
                self.pos = found?;
                self.find(rest)
            }
            Seg::Index(wanted) => {
                self.eat(b'[')?;
                for _ in 0..*wanted {
                    self.skip_ws();
                    self.skip_value()?;
                    self.eat(b',')?;
                }
                self.find(rest)
            }
        }
    }

    /// Reads a JSON string at the current position and decodes it.
    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        self.skip_string()?;
        serde_json::from_str(self.text.get(start..self.pos)?).ok()
    }

    fn skip_string(&mut self) -> Option<()> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.pos += 1;
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Skips one value. Nesting is counted, not recursed into, so deep documents
    /// cannot overflow the stack.
    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => self.skip_string()?,
                b'{' | b'[' => {
                    depth += 1;
                    self.pos += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.pos += 1;
                }
                b',' | b':' if depth > 0 => self.pos += 1,
                b' ' | b'\t' | b'\n' | b'\r' if depth > 0 => self.pos += 1,
                _ if depth == 0 => {
                    // A scalar: runs to the next delimiter.
                    let start = self.pos;
                    while let Some(b) = self.peek() {
                        if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                            break;
                        }
                        self.pos += 1;
                    }
                    return (self.pos > start).then_some(());
                }
                _ => self.pos += 1,
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Seg {
        Seg::Key(k.to_string())
    }

    #[test]
    fn finds_nested_values() {
        let text = "{\n  \"Version\": \"2012–10–17\",\n  \"Statement\": [{\"Effect\": \"x\"}, {\n  \"Effect\": \"y\"}]\n}";
        assert_eq!(locate(text, &[key("Version")]), Some((2, 14)));
        assert_eq!(locate(text, &[key("Statement"), Seg::Index(0), key("Effect")]), Some((3, 28)));
        assert_eq!(locate(text, &[key("Statement"), Seg::Index(1), key("Effect")]), Some((4, 13)));
        assert_eq!(locate(text, &[key("Missing")]), None);
    }

    #[test]
    fn last_duplicate_key_wins() {
        assert_eq!(locate(r#"{"a": 1, "a": 2}"#, &[key("a")]), Some((1, 15)));
    }

    #[test]
    fn tolerates_broken_tail() {
        assert_eq!(locate(r#"{"Version": "x", "Statement": [ oops"#, &[key("Version")]), Some((1, 13)));
    }

    #[test]
    fn byte_to_char_columns() {
        let text = "{\"a\":\"é\" x}";
        // 'x' is byte 11 (1-based) but character 10.
        assert_eq!(char_column(text, 1, 11), 10);
    }
}
