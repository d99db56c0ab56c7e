//! IAM wildcard matching: `*` matches any run of characters (including none, and
//! including `/` and `:`), `?` matches exactly one character. Nothing else is special.
//!
//! Patterns are compiled to tokens first so that policy variables can insert
//! literal `*`/`?` characters (`${*}`, or a user name containing `*`) that must not
//! act as wildcards.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
    Lit(char),
}

/// Reads `*` and `?` as wildcards, everything else literally.
pub fn compile(pattern: &str) -> Vec<Tok> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c),
        })
        .collect()
}

/// The tokens as plain text, for operators without wildcards (`StringEquals`).
pub fn literal(tokens: &[Tok]) -> String {
    tokens
        .iter()
        .map(|t| match t {
            Tok::Star => '*',
            Tok::One => '?',
            Tok::Lit(c) => *c,
        })
        .collect()
}

/// Whether `text` matches `pattern`. `ignore_case` is for actions and the
/// `...IgnoreCase` condition operators; resources and ARNs are case-sensitive.
pub fn matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    matches_tokens(&compile(pattern), text, ignore_case)
}

/// [`matches`] for an already compiled pattern.
pub fn matches_tokens(pattern: &[Tok], text: &str, ignore_case: bool) -> bool {
    let text: Vec<char> = text.chars().collect();
    let same = |p: char, t: char| p == t || (ignore_case && p.to_lowercase().eq(t.to_lowercase()));

    // Greedy scan with a single backtrack point: the most recent `*` and the text
    // position it currently absorbs up to. O(n*m) worst case and never recursive,
    // so hostile patterns cannot blow the stack.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Tok::One) => {
                p += 1;
                t += 1;
            }
            Some(Tok::Lit(c)) if same(*c, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    // Let the last `*` swallow one more character and retry.
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&tok| tok == Tok::Star)
}

/// Whether a string contains a wildcard character.
pub fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert!(matches("*", "", false));
        assert!(matches("*", "arn:aws:s3:::b/k", false));
        assert!(matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c", false));
        assert!(matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/", false));
        assert!(!matches("arn:aws:s3:::b/*", "arn:aws:s3:::b", false));
        assert!(matches("s3:Get*", "s3:getobject", true));
        assert!(!matches("s3:Get*", "s3:getobject", false));
        assert!(matches("a?c", "abc", false));
        assert!(!matches("a?c", "ac", false));
        assert!(matches("*a*b*c*", "xxaxxbxxcxx", false));
        assert!(!matches("*a*b*c*", "xxaxxcxxbxx", false));
        assert!(matches("a**b", "ab", false));
        assert!(matches("??", "éü", false));
        assert!(!matches("", "x", false));
        assert!(matches("", "", false));
    }

    #[test]
    fn literal_star_is_not_a_wildcard() {
        let pattern = [Tok::Lit('a'), Tok::Lit('*')];
        assert!(matches_tokens(&pattern, "a*", false));
        assert!(!matches_tokens(&pattern, "abc", false));
        assert_eq!(literal(&pattern), "a*");
    }
}
