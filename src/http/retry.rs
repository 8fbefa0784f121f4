//! When and how long to wait before retrying a request: ant's own backoff,
//! the server's `retry-after` (honoured up to a minute, as the official
//! SDKs do), and the notice a terminal shows for a longer wait.

use std::time::Duration;

use super::date;
use crate::error::Error;

/// Longest wait a server may ask for between retries: longer ones are not
/// honoured (ant backs off on its own instead), as in the official SDKs.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// 0.5 s × 2^n, at most 8 s, minus up to 25 % jitter.
pub fn backoff(attempt: u32) -> Duration {
    let base = (0.5 * 2f64.powi(attempt.min(10) as i32)).min(8.0);
    let jitter = 1.0 - fastrand::f64() * 0.25;
    Duration::from_secs_f64(base * jitter)
}

/// The wait a server asks for: `retry-after-ms`, then `retry-after`
/// (seconds or an HTTP date), honoured from 0 to [`MAX_RETRY_AFTER`] as the
/// official SDKs do; anything else (longer, negative, `inf`, `NaN`, a date
/// in the year 9999) is `None`, and ant backs off on its own.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && !ms.is_nan()
    {
        return honoured_secs(ms / 1000.0);
    }
    let v = get("retry-after")?;
    match v.parse::<f64>() {
        Ok(secs) => honoured_secs(secs),
        Err(_) => {
            let when = date::httpdate_secs(v)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_secs();
            // A date in the past means now.
            honoured_secs(when.saturating_sub(now) as f64)
        }
    }
}

/// A wait in seconds, when it is within `0..=MAX_RETRY_AFTER` (checked
/// before it becomes a [`Duration`], so no value can overflow one).
fn honoured_secs(secs: f64) -> Option<Duration> {
    (0.0..=MAX_RETRY_AFTER.as_secs_f64())
        .contains(&secs)
        .then(|| Duration::from_secs_f64(secs))
}

/// The line a terminal shows before a retry that waits longer than a
/// second (`rate limited; retrying in 12 s (1 of 2)`); `None` for a
/// shorter wait.
pub(super) fn retry_notice(e: &Error, delay: Duration, retry: u32, of: u32) -> Option<String> {
    if delay <= Duration::from_secs(1) {
        return None;
    }
    let why = match e {
        Error::Api(a) if a.status == 429 => "rate limited".to_string(),
        Error::Api(a) if a.status == 529 => "the API is overloaded".to_string(),
        Error::Api(a) => format!("the API answered {}", a.status),
        Error::Timeout(_) => "timed out".to_string(),
        _ => "network error".to_string(),
    };
    let secs = delay.as_secs_f64().ceil();
    Some(format!(
        "ant: {why}; retrying in {secs} s ({retry} of {of})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn retry_after_prefers_ms_and_is_capped() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "60".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        // Longer than a minute: ant's own backoff, as in the SDKs.
        h.insert("retry-after", "61".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        h.insert(
            "retry-after",
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    #[test]
    fn hostile_retry_after_values_never_overflow_and_fall_back_to_backoff() {
        for (header, value) in [
            ("retry-after", "inf"),
            ("retry-after", "1e300"),
            ("retry-after", "99999999999999999999"),
            ("retry-after-ms", "inf"),
            ("retry-after-ms", "1e300"),
            ("retry-after-ms", "99999999999999999999"),
            ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"),
            ("retry-after", "-5"),
            ("retry-after", "-inf"),
            ("retry-after-ms", "-1e300"),
        ] {
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(header, value.parse().unwrap());
            assert_eq!(retry_after(&h), None, "{header}: {value}");
        }
        for value in [
            "NaN",
            "Sun, 06 Nov 99999999999999 08:49:37 GMT",
            "Sun, 99 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 99:49:37 GMT",
            "soon",
        ] {
            let mut h = reqwest::header::HeaderMap::new();
            h.insert("retry-after", value.parse().unwrap());
            assert_eq!(retry_after(&h), None, "{value}");
        }
        // A NaN in retry-after-ms falls back to retry-after.
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after-ms", "NaN".parse().unwrap());
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
    }

    #[test]
    fn waits_over_a_second_are_announced() {
        let limited = Error::Api(Box::new(ApiError {
            status: 429,
            method: "GET".into(),
            url: "u".into(),
            kind: None,
            message: None,
            request_id: None,
            body: vec![],
            headers: vec![],
        }));
        assert_eq!(
            retry_notice(&limited, Duration::from_millis(11_200), 1, 2).as_deref(),
            Some("ant: rate limited; retrying in 12 s (1 of 2)")
        );
        assert_eq!(retry_notice(&limited, Duration::from_secs(1), 1, 2), None);
        let net = Error::Network("x".into());
        assert_eq!(
            retry_notice(&net, Duration::from_secs(4), 2, 2).as_deref(),
            Some("ant: network error; retrying in 4 s (2 of 2)")
        );
    }

    #[test]
    fn backoff_grows_and_is_capped_with_jitter() {
        for n in 0..12 {
            let d = backoff(n).as_secs_f64();
            let base = (0.5 * 2f64.powi(n as i32)).min(8.0);
            assert!(d <= base && d >= base * 0.75, "{n}: {d}");
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn header_text() -> impl Strategy<Value = String> {
            prop_oneof![
                "[ -~]{0,40}",
                any::<f64>().prop_map(|f| f.to_string()),
                any::<i128>().prop_map(|n| n.to_string()),
                "[0-9]{1,40}(\\.[0-9]{0,20})?(e[+-]?[0-9]{1,4})?",
                (0u64..400, 0u64..20000, 0u64..100, 0u64..100).prop_map(|(d, y, h, m)| {
                    format!("Sun, {d:02} Nov {y} {h:02}:{m:02}:37 GMT")
                }),
            ]
        }

        proptest! {
            #![proptest_config(crate::proptest_config())]

            #[test]
            fn prop_retry_headers_never_panic_and_stay_within_a_minute(
                after in prop::option::of(header_text()),
                after_ms in prop::option::of(header_text()),
            ) {
                let mut h = reqwest::header::HeaderMap::new();
                for (k, v) in [("retry-after", after), ("retry-after-ms", after_ms)] {
                    if let Some(v) = v.and_then(|v| v.parse().ok()) {
                        h.insert(k, v);
                    }
                }
                if let Some(d) = retry_after(&h) {
                    prop_assert!(d <= MAX_RETRY_AFTER, "{d:?}");
                }
            }
        }
    }
}
