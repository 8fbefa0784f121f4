//! Wire formats of request data, as pure functions: query strings
//! (`a=1&b=x%20y`, percent-decoding) and `multipart/form-data` bodies. The
//! store's layer: it imports only the store's error type.

use bytes::Bytes;

use crate::store::ApiError;

/// One part of a multipart body.
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// Decodes `a=1&b=x%20y` into pairs, in order.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (form_decode(k), form_decode(v)),
            None => (form_decode(kv), String::new()),
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A small `multipart/form-data` parser (enough for file uploads).
pub fn parse_multipart(content_type: &str, body: &[u8]) -> Result<Vec<Part>, ApiError> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .ok_or_else(|| ApiError::invalid("expected a multipart/form-data body with a boundary"))?;
    if boundary.is_empty() || boundary.len() > 200 {
        return Err(ApiError::invalid("invalid multipart boundary"));
    }
    let delim = format!("--{boundary}").into_bytes();
    // Every delimiter after the first is preceded by CRLF (RFC 2046), which
    // is not part of the data before it.
    let crlf_delim = [&b"\r\n"[..], &delim].concat();
    let malformed = || ApiError::invalid("malformed multipart body");
    let mut parts = Vec::new();
    // Indices only move forward and every slice is checked against them, so
    // no input can make the parser slice out of range.
    let mut pos = find(body, &delim, 0).ok_or_else(malformed)?;
    loop {
        pos += delim.len();
        let rest = body.get(pos..).ok_or_else(malformed)?;
        if rest.starts_with(b"--") {
            break;
        }
        // Transport padding, then the CRLF ending the delimiter line.
        let pad = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if !rest[pad..].starts_with(b"\r\n") {
            return Err(malformed());
        }
        pos += pad + 2;
        let (head_end, data_start) = if body[pos..].starts_with(b"\r\n") {
            (pos, pos + 2)
        } else {
            let end = find(body, b"\r\n\r\n", pos)
                .ok_or_else(|| ApiError::invalid("malformed multipart part"))?;
            (end, end + 4)
        };
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let data_end = find(body, &crlf_delim, data_start)
            .ok_or_else(|| ApiError::invalid("unterminated multipart body"))?;
        let next = data_end + 2;
        let mut part = Part {
            name: String::new(),
            filename: None,
            content_type: None,
            data: Bytes::copy_from_slice(&body[data_start..data_end]),
        };
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    for (k, v) in disposition_params(v) {
                        match k.as_str() {
                            "name" => part.name = v,
                            "filename" => part.filename = Some(v),
                            _ => {}
                        }
                    }
                }
                "content-type" => part.content_type = Some(v.trim().to_string()),
                _ => {}
            }
        }
        parts.push(part);
        pos = next;
    }
    Ok(parts)
}

/// The `key=value` parameters of a `Content-Disposition` header; quoted
/// values may hold `;` (quotes themselves arrive percent-encoded).
fn disposition_params(header: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = header;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq]
            .rsplit(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let after = &rest[eq + 1..];
        let (value, next) = match after.strip_prefix('"') {
            Some(q) => match q.find('"') {
                Some(end) => (&q[..end], &q[end + 1..]),
                None => (q, ""),
            },
            None => {
                let end = after.find(';').unwrap_or(after.len());
                (after[..end].trim(), &after[end..])
            }
        };
        out.push((key, value.to_string()));
        rest = next;
    }
    out
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() || needle.is_empty() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::parse_multipart;

    const CT: &str = "multipart/form-data; boundary=B";

    #[test]
    fn multipart_parses_parts() {
        let body = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n--B--\r\n";
        let parts = parse_multipart(CT, body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "file");
        assert_eq!(parts[0].filename.as_deref(), Some("a.txt"));
        assert_eq!(parts[0].content_type.as_deref(), Some("text/plain"));
        assert_eq!(&parts[0].data[..], b"hi");
        assert_eq!(parts[1].name, "x");
        assert_eq!(&parts[1].data[..], b"");
    }

    #[test]
    fn malformed_multipart_is_an_error_not_a_panic() {
        // The review's repro: no CRLF between the part's head and the
        // closing delimiter.
        let repro = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n--B--\r\n";
        let e = parse_multipart(CT, repro).err().expect("rejected");
        assert_eq!((e.status, e.kind), (400, "invalid_request_error"));
        for bad in [
            &b""[..],
            b"--B",
            b"--B\r\n",
            b"--Bx",
            b"--B\r\n\r\n",
            b"--B\r\n\r\n--B",
        ] {
            assert!(
                parse_multipart(CT, bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse_multipart("multipart/form-data; boundary=", b"----\r\n").is_err());
        // Every truncation and every one-byte deletion of a valid body
        // parses or fails cleanly.
        let good = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nxy\r\n--B\r\n\r\n\r\n--B--\r\n";
        for n in 0..=good.len() {
            let _ = parse_multipart(CT, &good[..n]);
            let mut cut = good.to_vec();
            if n < good.len() {
                cut.remove(n);
                let _ = parse_multipart(CT, &cut);
            }
        }
    }

    mod props {
        use super::parse_multipart;
        use ant::request::{Part, files::FileData};
        use proptest::prelude::*;

        fn part() -> impl Strategy<Value = Part> {
            let name = "[a-z_]{1,12}(\\[\\])?";
            // Tricky characters on purpose: quotes, `;`, CR/LF, dashes.
            let tricky = "[a-z;=\"\\r\\n %.-]{0,16}";
            let filename = prop_oneof![any::<String>(), tricky];
            let data = prop_oneof![any::<Vec<u8>>(), tricky.prop_map(String::into_bytes),];
            let file = (filename, "[a-z]{1,8}/[a-z0-9.+-]{1,12}", data).prop_map(
                |(filename, content_type, data)| FileData {
                    filename,
                    content_type,
                    data,
                },
            );
            let text = prop_oneof![any::<String>(), tricky];
            (name, prop::option::of(file), text).prop_map(|(name, file, text)| {
                let text = if file.is_some() { String::new() } else { text };
                Part { name, file, text }
            })
        }

        proptest! {
            #![proptest_config(proptest::test_runner::Config {
                cases: std::env::var("ANT_PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
                failure_persistence: None,
                ..Default::default()
            })]

            #[test]
            fn prop_multipart_bodies_round_trip(parts in prop::collection::vec(part(), 0..6)) {
                let boundary = "ant-boundary-0123456789abcdef";
                let body = ant::http::multipart_bytes(&parts, boundary);
                let ct = format!("multipart/form-data; boundary={boundary}");
                let parsed = parse_multipart(&ct, &body)
                    .map_err(|e| TestCaseError::fail(e.message))?;
                prop_assert_eq!(parsed.len(), parts.len());
                for (got, sent) in parsed.iter().zip(&parts) {
                    prop_assert_eq!(&got.name, &sent.name);
                    match &sent.file {
                        Some(f) => {
                            prop_assert_eq!(got.filename.clone(), Some(ant::http::form_quote(&f.filename)));
                            prop_assert_eq!(got.content_type.as_deref(), Some(f.content_type.as_str()));
                            prop_assert_eq!(&got.data[..], &f.data[..]);
                        }
                        None => {
                            prop_assert_eq!(got.filename.clone(), None);
                            prop_assert_eq!(&got.data[..], sent.text.as_bytes());
                        }
                    }
                }
            }
        }
    }
}
