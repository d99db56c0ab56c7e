//! Tiny XML writer for the Query protocol responses (IAM, STS). Values are always escaped.

use std::fmt::Write;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Builds `<Tag>value</Tag>` sequences.
#[derive(Default)]
pub struct XmlBuf(pub String);

impl XmlBuf {
    pub fn elem(&mut self, tag: &str, value: &str) -> &mut Self {
        let _ = write!(self.0, "<{tag}>{}</{tag}>", escape(value));
        self
    }
    pub fn opt(&mut self, tag: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.elem(tag, v);
        }
        self
    }
    pub fn open(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.0, "<{tag}>");
        self
    }
    pub fn close(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.0, "</{tag}>");
        self
    }
    pub fn raw(&mut self, s: &str) -> &mut Self {
        self.0.push_str(s);
        self
    }
}
