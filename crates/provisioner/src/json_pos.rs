//! A small JSON reader that remembers where every value, key and string character starts.
//!
//! Why not serde_json alone: `serde_json::Value` forgets positions, and the linter must point at
//! the exact character of a bad `Version` (an en dash at line 2, column 19) or at the rule that
//! lacks `DeleteMarkerReplication`. serde_json still decides whether the text is valid JSON and
//! reports syntax errors; this reader only runs on text serde_json accepted.

/// A JSON value with the byte offset where it starts in the source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Byte offset of the value's first character (`{`, `[`, `"`, digit or letter) in the text;
    /// [`crate::error::Location::from_offset`] turns it into line and column.
    pub start: usize,
    /// The value.
    pub kind: Kind,
}

/// What a [`Node`] holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// An object's members, in the order written (repeated keys kept).
    Object(Vec<Member>),
    /// An array's items, in order.
    Array(Vec<Node>),
    /// The decoded string, and for each decoded character the byte offset of its first source
    /// byte (an escape like `\u2013` maps to the offset of its backslash).
    String(String, Vec<usize>),
    /// A number, as written (e.g. `1`, `-2.5e3`).
    Number(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// One `"key": value` member of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The decoded key.
    pub key: String,
    /// Byte offset of the key's opening quote.
    pub key_start: usize,
    /// The member's value.
    pub value: Node,
}

impl Node {
    /// The member `key` of an object (the last one when a key repeats, like serde_json).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.member(key).map(|m| &m.value)
    }

    /// The member `key` of an object, with the key's position (the last one when a key repeats);
    /// `None` for other values.
    pub fn member(&self, key: &str) -> Option<&Member> {
        match &self.kind {
            Kind::Object(members) => members.iter().rev().find(|m| m.key == key),
            _ => None,
        }
    }

    /// An object's members in order; empty for other values.
    pub fn members(&self) -> &[Member] {
        match &self.kind {
            Kind::Object(members) => members,
            _ => &[],
        }
    }

    /// The decoded string, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s, _) => Some(s),
            _ => None,
        }
    }

    /// The items, when this is an array.
    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Array(items) => Some(items),
            _ => None,
        }
    }

    /// An array's items, or the value itself as a one-element list (policy grammar allows both).
    pub fn as_list(&self) -> Vec<&Node> {
        match &self.kind {
            Kind::Array(items) => items.iter().collect(),
            _ => vec![self],
        }
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self.kind, Kind::Object(_))
    }
}

/// Parse `text`. Returns `None` when it is not valid JSON (use serde_json for the error message).
pub fn parse(text: &str) -> Option<Node> {
    let mut p = Parser { text, bytes: text.as_bytes(), pos: 0 };
    // A UTF-8 byte order mark is tolerated, as serde_json does not; callers check validity first.
    if text.starts_with('\u{feff}') {
        p.pos = 3;
    }
    p.skip_ws();
    let node = p.value(0)?;
    p.skip_ws();
    if p.pos == p.bytes.len() {
        Some(node)
    } else {
        None
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

// Deep nesting is not a policy document; stop rather than overflow the stack.
const MAX_DEPTH: usize = 128;

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(b) = self.bytes.get(self.pos) {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let start = self.pos;
        let kind = match self.peek()? {
            b'{' => self.object(depth)?,
            b'[' => self.array(depth)?,
            b'"' => {
                let (s, offsets) = self.string()?;
                Kind::String(s, offsets)
            }
            b't' => self.literal("true", Kind::Bool(true))?,
            b'f' => self.literal("false", Kind::Bool(false))?,
            b'n' => self.literal("null", Kind::Null)?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        };
        Some(Node { start, kind })
    }

    fn literal(&mut self, word: &str, kind: Kind) -> Option<Kind> {
        if self.text.get(self.pos..)?.starts_with(word) {
            self.pos += word.len();
            Some(kind)
        } else {
            None
        }
    }

    fn number(&mut self) -> Option<Kind> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                self.pos += 1;
            } else {
                break;
            }
        }
        let raw = self.text.get(start..self.pos)?;
        raw.parse::<f64>().ok()?;
        Some(Kind::Number(raw.to_string()))
    }

    fn object(&mut self, depth: usize) -> Option<Kind> {
        self.eat(b'{')?;
        let mut members = Vec::new();
        self.skip_ws();
        if self.eat(b'}').is_some() {
            return Some(Kind::Object(members));
        }
        loop {
            self.skip_ws();
            let key_start = self.pos;
            let (key, _) = self.string()?;
            self.skip_ws();
            self.eat(b':')?;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            members.push(Member { key, key_start, value });
            self.skip_ws();
            if self.eat(b',').is_some() {
                continue;
            }
            self.eat(b'}')?;
            return Some(Kind::Object(members));
        }
    }

    fn array(&mut self, depth: usize) -> Option<Kind> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b']').is_some() {
            return Some(Kind::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            if self.eat(b',').is_some() {
                continue;
            }
            self.eat(b']')?;
            return Some(Kind::Array(items));
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let raw = self.text.get(self.pos..self.pos + 4)?;
        let v = u32::from_str_radix(raw, 16).ok()?;
        self.pos += 4;
        Some(v)
    }

    fn string(&mut self) -> Option<(String, Vec<usize>)> {
        self.eat(b'"')?;
        let mut out = String::new();
        let mut offsets = Vec::new();
        loop {
            let at = self.pos;
            let c = self.text.get(self.pos..)?.chars().next()?;
            match c {
                '"' => {
                    self.pos += 1;
                    return Some((out, offsets));
                }
                '\\' => {
                    self.pos += 1;
                    let esc = self.peek()?;
                    self.pos += 1;
                    let decoded = match esc {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi) {
                                self.eat(b'\\')?;
                                self.eat(b'u')?;
                                let lo = self.hex4()?;
                                let code = 0x10000 + ((hi - 0xD800) << 10) + (lo.checked_sub(0xDC00)?);
                                char::from_u32(code)?
                            } else {
                                char::from_u32(hi)?
                            }
                        }
                        _ => return None,
                    };
                    out.push(decoded);
                    offsets.push(at);
                }
                c if (c as u32) < 0x20 => return None,
                c => {
                    self.pos += c.len_utf8();
                    out.push(c);
                    offsets.push(at);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_offsets_of_values_keys_and_characters() {
        let text = "{\n  \"Version\": \"2012–10\",\n  \"A\": [1, \"x\\u2013\"]\n}";
        let root = parse(text).expect("valid");
        let version = root.get("Version").expect("member");
        assert_eq!(&text[version.start..version.start + 1], "\"");
        let Kind::String(s, offsets) = &version.kind else { panic!("not a string") };
        assert_eq!(s, "2012–10");
        assert_eq!(&text[offsets[4]..offsets[4] + 3], "–");
        let a = root.get("A").and_then(Node::as_array).expect("array");
        let Kind::String(s2, offsets2) = &a[1].kind else { panic!("not a string") };
        assert_eq!(s2, "x–");
        assert_eq!(&text[offsets2[1]..offsets2[1] + 2], "\\u");
        assert_eq!(root.member("A").map(|m| &text[m.key_start..m.key_start + 3]), Some("\"A\""));
    }

    #[test]
    fn rejects_invalid_json() {
        assert!(parse("{\"a\": }").is_none());
        assert!(parse("{\"a\": 1} x").is_none());
        assert!(parse("[1,]").is_none());
        assert!(parse("\"\\ud800\"").is_none());
    }

    fn to_value(n: &Node) -> serde_json::Value {
        match &n.kind {
            Kind::Object(members) => serde_json::Value::Object(members.iter().map(|m| (m.key.clone(), to_value(&m.value))).collect()),
            Kind::Array(items) => serde_json::Value::Array(items.iter().map(to_value).collect()),
            Kind::String(s, _) => serde_json::Value::String(s.clone()),
            Kind::Number(raw) => serde_json::from_str(raw).unwrap(),
            Kind::Bool(b) => serde_json::Value::Bool(*b),
            Kind::Null => serde_json::Value::Null,
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map("\\PC{0,6}", inner, 0..5).prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Whatever serde_json writes, this reader reads back to the same value, and every
        /// string character's offset points at that character (or its escape) in the text.
        #[test]
        fn reads_back_what_serde_json_writes(v in json_value(), pretty in proptest::bool::ANY) {
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            let node = parse(&text).expect("serde_json output parses");
            proptest::prop_assert_eq!(to_value(&node), v);
            fn check(n: &Node, text: &str) {
                match &n.kind {
                    Kind::String(s, offsets) => {
                        assert_eq!(s.chars().count(), offsets.len());
                        for (c, &o) in s.chars().zip(offsets) {
                            let at = &text[o..];
                            assert!(at.starts_with(c) || at.starts_with('\\'), "{c:?} at {o}");
                        }
                    }
                    Kind::Object(ms) => ms.iter().for_each(|m| check(&m.value, text)),
                    Kind::Array(items) => items.iter().for_each(|i| check(i, text)),
                    _ => {}
                }
            }
            check(&node, &text);
        }
    }
}
