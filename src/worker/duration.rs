//! Go's `time.Duration` syntax, because the official worker's `--max-idle`
//! takes it (`60s`, `1m30s`, `1.5h`, `0`) and its logs print durations the
//! Go way (`2m0s`, `1.5s`, `250ms`).

use std::time::Duration;

const NS: u128 = 1;
const US: u128 = 1_000;
const MS: u128 = 1_000_000;
const S: u128 = 1_000_000_000;
const M: u128 = 60 * S;
const H: u128 = 60 * M;

/// Parses a Go duration into signed nanoseconds, with Go's error texts.
pub fn parse(text: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {text:?}");
    let (neg, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &r[..n];
            rest = &r[n..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "" => return Err(format!("time: missing unit in duration {text:?}")),
            "ns" => NS,
            "us" | "µs" | "μs" => US,
            "ms" => MS,
            "s" => S,
            "m" => M,
            "h" => H,
            other => {
                return Err(format!("time: unknown unit {other:?} in duration {text:?}"));
            }
        };
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut value = whole.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            // Exact decimal fraction of the unit, truncated to nanoseconds.
            let digits = &frac_part[..frac_part.len().min(30)];
            let num: u128 = digits.parse().map_err(|_| invalid())?;
            let den = 10u128.pow(digits.len() as u32);
            value += num * scale / den;
        }
        total = total.checked_add(value).ok_or_else(invalid)?;
        if total > i64::MAX as u128 {
            return Err(invalid());
        }
    }
    Ok(if neg { -(total as i128) } else { total as i128 })
}

/// `--max-idle`: a Go duration; zero or negative means "never".
pub fn parse_max_idle(text: &str) -> Result<Option<Duration>, String> {
    let ns = parse(text)?;
    Ok((ns > 0).then(|| Duration::from_nanos(ns as u64)))
}

/// Formats like Go's `Duration.String()`: `0s`, `250ms`, `1.5s`, `2m0s`, `1h0m0s`.
pub fn format(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < S {
        let (unit, scale) = if ns < US {
            ("ns", NS)
        } else if ns < MS {
            ("µs", US)
        } else {
            ("ms", MS)
        };
        return format!("{}{unit}", decimal(ns, scale));
    }
    let h = ns / H;
    let m = ns % H / M;
    let s = decimal(ns % M, S);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// `value / scale` as a decimal without trailing zeros.
fn decimal(value: u128, scale: u128) -> String {
    let whole = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("60s"), Ok(60 * S as i128));
        assert_eq!(parse("1m30s"), Ok(90 * S as i128));
        assert_eq!(parse("1.5h"), Ok(90 * M as i128));
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("-1s"), Ok(-(S as i128)));
        assert_eq!(parse("250ms"), Ok(250 * MS as i128));
        assert_eq!(parse("1µs1us1μs"), Ok(3000));
        assert_eq!(parse(".5s"), Ok(500 * MS as i128));
        assert_eq!(
            parse("1h2m3.25s"),
            Ok((H + 2 * M + 3 * S + 250 * MS) as i128)
        );
        assert_eq!(
            parse("10").unwrap_err(),
            "time: missing unit in duration \"10\""
        );
        assert_eq!(
            parse("5x").unwrap_err(),
            "time: unknown unit \"x\" in duration \"5x\""
        );
        for bad in ["", "-", "s", ".s", "1.2.3s", "3000000h"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_max_idle("0"), Ok(None));
        assert_eq!(parse_max_idle("-5m"), Ok(None));
        assert_eq!(parse_max_idle("2s"), Ok(Some(Duration::from_secs(2))));
    }

    #[test]
    fn formats_like_go() {
        let f = |ns: u64| format(Duration::from_nanos(ns));
        assert_eq!(f(0), "0s");
        assert_eq!(f(120 * S as u64), "2m0s");
        assert_eq!(f(90 * S as u64), "1m30s");
        assert_eq!(f(1_500 * MS as u64), "1.5s");
        assert_eq!(f(250 * MS as u64), "250ms");
        assert_eq!(f(1_500), "1.5µs");
        assert_eq!(f(7), "7ns");
        assert_eq!(f(H as u64), "1h0m0s");
        assert_eq!(f((H + 61 * S + 5 * MS) as u64), "1h1m1.005s");
    }
}
