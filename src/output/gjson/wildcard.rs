//! The wildcard match GJSON uses for `*`/`?` keys and `%` queries
//! (tidwall/match 1.1): `*` any run of characters, `?` one character, `\`
//! makes the next one literal. Like the original, a match that takes more
//! than 10,000 steps per byte of the subject counts as no match.

const MAX_STEPS_PER_BYTE: usize = 10_000;

#[derive(PartialEq)]
enum Found {
    Yes,
    No,
    /// Too many steps: given up.
    Stop,
}

/// Whether `subject` matches `pattern`.
pub fn match_limit(subject: &[u8], pattern: &[u8]) -> bool {
    if pattern == b"*" {
        return true;
    }
    let s = String::from_utf8_lossy(subject);
    let p = String::from_utf8_lossy(pattern);
    let mut steps = 0usize;
    let budget = s.len().saturating_mul(MAX_STEPS_PER_BYTE);
    wild(&s, &p, budget, &mut steps) == Found::Yes
}

fn first(s: &str) -> Option<(char, usize)> {
    s.chars().next().map(|c| (c, c.len_utf8()))
}

fn wild(mut s: &str, mut p: &str, budget: usize, steps: &mut usize) -> Found {
    if *steps > budget {
        return Found::Stop;
    }
    *steps += 1;
    while let Some((pc, mut ps)) = first(p) {
        let sc = first(s);
        let mut star = false;
        match pc {
            '?' => {
                if sc.is_none() {
                    return Found::No;
                }
            }
            '*' => {
                while p.len() > 1 && p.as_bytes()[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return Found::Yes;
                }
                let Some((ts, tp)) = trim_suffix(s, p) else {
                    return Found::No;
                };
                (s, p) = (ts, tp);
                if p.len() == 1 {
                    return Found::Yes;
                }
                match wild(s, &p[1..], budget, steps) {
                    Found::No => {}
                    other => return other,
                }
                if s.is_empty() {
                    return Found::No;
                }
                star = true;
            }
            _ => {
                let Some((c, _)) = sc else {
                    return Found::No;
                };
                let mut want = pc;
                if pc == '\\' {
                    p = &p[ps..];
                    let Some((escaped, size)) = first(p) else {
                        return Found::No;
                    };
                    want = escaped;
                    ps = size;
                }
                if c != want {
                    return Found::No;
                }
            }
        }
        s = &s[sc.map_or(0, |(_, n)| n)..];
        if !star {
            p = &p[ps..];
        }
    }
    if s.is_empty() { Found::Yes } else { Found::No }
}

/// With `p` a `*` followed by more: matches literal characters at the end
/// of `p` against the end of `s`, removing them; `None` on a mismatch.
fn trim_suffix<'s, 'p>(mut s: &'s str, mut p: &'p str) -> Option<(&'s str, &'p str)> {
    while !s.is_empty() && p.len() > 1 {
        let pc = p.chars().next_back().expect("not empty");
        let mut ps = pc.len_utf8();
        // An odd run of backslashes before it escapes it.
        let before = &p.as_bytes()[..p.len() - ps];
        let run = before.iter().rev().take_while(|&&b| b == b'\\').count();
        let escaped = run % 2 == 1;
        if escaped {
            ps += 1;
        }
        if pc == '*' && !escaped {
            break;
        }
        let sc = s.chars().next_back().expect("not empty");
        if !((pc == '?' && !escaped) || pc == sc) {
            return None;
        }
        s = &s[..s.len() - sc.len_utf8()];
        p = &p[..p.len() - ps];
    }
    Some((s, p))
}

#[cfg(test)]
mod tests {
    use super::match_limit;

    #[test]
    fn stars_questions_and_escapes() {
        for (s, p, want) in [
            ("hello", "*", true),
            ("hello", "h*o", true),
            ("hello", "h?llo", true),
            ("hello", "h?lo", false),
            ("hello", "*ll*", true),
            ("hello", "*x*", false),
            ("", "*", true),
            ("", "?", false),
            ("a*b", "a\\*b", true),
            ("axb", "a\\*b", false),
            ("naïve", "na?ve", true),
            ("https://mcp.example.com/sse", "*example*", true),
            ("owner", "o?ner", true),
            ("metadata", "meta*", true),
        ] {
            assert_eq!(
                match_limit(s.as_bytes(), p.as_bytes()),
                want,
                "{s:?} ~ {p:?}"
            );
        }
    }

    #[test]
    fn a_pathological_pattern_gives_up_instead_of_running_long() {
        let s = "a".repeat(40);
        let p = format!("{}*c*", "*a".repeat(20));
        assert!(!match_limit(s.as_bytes(), p.as_bytes()));
    }
}
