//! Server-sent-events decoder (WHATWG rules), fed incrementally from network chunks with bounded memory.
//!
//! The decoder works on bytes: line ends are ASCII, so a chunk that splits a UTF-8
//! sequence or a CRLF pair anywhere is handled by buffering the unfinished line.
//! Each finished line is checked as UTF-8 on its own. Memory is bounded by
//! `max_event_bytes`, counted over the pending line, the data buffer and the
//! event name; going over it is an error, never an unbounded allocation.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    /// The `event:` field, or `"message"` when the event had none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id at dispatch time (it persists across events); `None` when empty.
    pub id: Option<String>,
    /// A valid `retry:` value (milliseconds) seen since the previous dispatched event.
    pub retry: Option<u64>,
}

impl SseEvent {
    /// The data as JSON text and parsed. Every event of the API's streams
    /// carries one JSON value; data that is anything else (text, nothing,
    /// whitespace) is an error naming the command (`what`) and the event.
    pub fn into_json(self, what: &str) -> crate::error::Result<(serde_json::Value, String)> {
        match crate::json::validate(self.data.as_bytes()) {
            Ok(()) => Ok((crate::json::value(&self.data), self.data)),
            Err(e) => Err(crate::error::Error::Other(format!(
                "{what}: the stream's {:?} event is not the JSON the API documents: {e}",
                self.event
            ))),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Clone)]
pub enum SseError {
    #[error("server-sent event larger than {0} bytes")]
    TooLarge(usize),
    #[error("server-sent event is not valid UTF-8")]
    Utf8,
}

/// Default bound on one event (pending line + data + name).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Incremental decoder. After `feed` returns an error the stream is unusable:
/// every later call returns the same error.
#[derive(Debug)]
pub struct SseDecoder {
    max: usize,
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    /// Up to three leading bytes held back until we know whether they are a BOM.
    head: Vec<u8>,
    bom_done: bool,
    /// The previous chunk ended in CR: a LF at the start of the next one belongs to it.
    pending_cr: bool,
    event: String,
    data: String,
    last_id: String,
    /// A `retry:` seen since the last dispatched event.
    retry: Option<u64>,
    /// The last valid `retry:` seen at all (the stream's reconnection time).
    reconnection_ms: Option<u64>,
    failed: Option<SseError>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_MAX_EVENT_BYTES)
    }

    pub fn with_limit(max_event_bytes: usize) -> Self {
        SseDecoder {
            max: max_event_bytes,
            line: Vec::new(),
            head: Vec::new(),
            bom_done: false,
            pending_cr: false,
            event: String::new(),
            data: String::new(),
            last_id: String::new(),
            retry: None,
            reconnection_ms: None,
            failed: None,
        }
    }

    /// The reconnection time the server asked for with `retry:`, in
    /// milliseconds (it applies even when no event followed it).
    pub fn reconnection_time(&self) -> Option<u64> {
        self.reconnection_ms
    }

    /// The last event id seen (the value to send as `Last-Event-ID` when reconnecting).
    pub fn last_event_id(&self) -> Option<&str> {
        (!self.last_id.is_empty()).then_some(self.last_id.as_str())
    }

    /// Decodes `chunk`, appending every event it completes to `out`. Events
    /// completed before an error are still appended.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.feed_inner(chunk, out);
        if let Err(e) = &r {
            self.failed = Some(e.clone());
            self.line = Vec::new();
            self.data = String::new();
            self.event = String::new();
        }
        r
    }

    fn feed_inner(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if !self.bom_done {
            let take = (BOM.len() - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.head.len() < BOM.len() && BOM.starts_with(&self.head) {
                return Ok(()); // could still become a BOM
            }
            self.bom_done = true;
            let head = std::mem::take(&mut self.head);
            let rest = head.strip_prefix(BOM).unwrap_or(&head);
            self.process(rest, out)?;
        }
        self.process(chunk, out)
    }

    fn process(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.pending_cr && !bytes.is_empty() {
            self.pending_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while let Some(pos) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (seg, end) = (&bytes[..pos], bytes[pos]);
            self.check_size(seg.len())?;
            if self.line.is_empty() {
                self.line_done(seg, out)?;
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(seg);
                self.line_done(&line, out)?;
                line.clear();
                self.line = line; // keep the allocation
            }
            bytes = &bytes[pos + 1..];
            if end == b'\r' {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
        }
        self.check_size(bytes.len())?;
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn check_size(&self, extra: usize) -> Result<(), SseError> {
        let total = self.line.len() + extra + self.data.len() + self.event.len();
        if total > self.max {
            return Err(SseError::TooLarge(self.max));
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // comment
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::Utf8)?;
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line, ""),
        };
        match field {
            "event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => {
                self.last_id.clear();
                self.last_id.push_str(value);
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse() {
                    self.retry = Some(ms);
                    self.reconnection_ms = Some(ms);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.data.is_empty() {
            self.event.clear();
            return;
        }
        self.data.pop(); // the trailing '\n'
        let event = if self.event.is_empty() {
            "message".to_string()
        } else {
            std::mem::take(&mut self.event)
        };
        out.push(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            id: self.last_event_id().map(str::to_string),
            retry: self.retry.take(),
        });
    }
}

/// Encodes one event: `event: X\nid: Y\ndata: line1\ndata: line2\n\n`.
/// CR and LF are removed from `event` and `id` (they cannot be represented);
/// `data` is split on LF, CRLF and CR, the line ends the decoder recognises.
pub fn encode(event: Option<&str>, data: &str, id: Option<&str>) -> String {
    let clean = |s: &str| s.replace(['\r', '\n'], "");
    let mut s = String::with_capacity(data.len() + 32);
    if let Some(e) = event {
        s.push_str("event: ");
        s.push_str(&clean(e));
        s.push('\n');
    }
    if let Some(i) = id {
        s.push_str("id: ");
        s.push_str(&clean(i));
        s.push('\n');
    }
    let data = data.replace("\r\n", "\n").replace('\r', "\n");
    for line in data.split('\n') {
        s.push_str("data:");
        if !line.is_empty() {
            s.push(' ');
            s.push_str(line);
        }
        s.push('\n');
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
            id: id.map(Into::into),
            retry: None,
        }
    }

    fn decode_chunks(chunks: &[&[u8]]) -> Result<Vec<SseEvent>, SseError> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c, &mut out)?;
        }
        Ok(out)
    }

    fn decode(input: &[u8]) -> Vec<SseEvent> {
        decode_chunks(&[input]).unwrap()
    }

    const MULTI: &[u8] = "\u{FEFF}: hello\r\nevent: agent.message\r\nid: 1\r\ndata: {\"a\":\"h\u{e9}llo \u{1F600}\"}\r\n\r\n\
data: one\rdata: two\r\rretry: 3000\nevent:x\ndata\n\n:c\n\nid: 7\ndata:  sp\n\n"
        .as_bytes();

    fn multi_expected() -> Vec<SseEvent> {
        vec![
            ev(
                "agent.message",
                "{\"a\":\"h\u{e9}llo \u{1F600}\"}",
                Some("1"),
            ),
            ev("message", "one\ntwo", Some("1")),
            SseEvent {
                retry: Some(3000),
                ..ev("x", "", Some("1"))
            },
            ev("message", " sp", Some("7")),
        ]
    }

    #[test]
    fn whole_input() {
        assert_eq!(decode(MULTI), multi_expected());
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        for i in 0..=MULTI.len() {
            let (a, b) = MULTI.split_at(i);
            assert_eq!(
                decode_chunks(&[a, b]).unwrap(),
                multi_expected(),
                "split at {i}"
            );
            for j in i..=MULTI.len() {
                let (b1, b2) = b.split_at(j - i);
                assert_eq!(decode_chunks(&[a, b1, b2]).unwrap(), multi_expected());
            }
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let chunks: Vec<&[u8]> = MULTI.chunks(1).collect();
        assert_eq!(decode_chunks(&chunks).unwrap(), multi_expected());
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        // If the CR and the LF were two line ends, the blank line would dispatch "a" early.
        let out = decode_chunks(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]).unwrap();
        assert_eq!(out, vec![ev("message", "a\nb", None)]);
        // A lone CR at a chunk end followed by a non-LF byte.
        let out = decode_chunks(&[b"data: a\r", b"\r"]).unwrap();
        assert_eq!(out, vec![ev("message", "a", None)]);
        // Empty chunks between the CR and the LF do not break the pair.
        let out = decode_chunks(&[b"data: a\r", b"", b"\ndata: b\n\n"]).unwrap();
        assert_eq!(out, vec![ev("message", "a\nb", None)]);
    }

    #[test]
    fn bom_stripped_once_even_when_split() {
        let out = decode_chunks(&[b"\xEF", b"\xBB", b"\xBFdata: x\n\n"]).unwrap();
        assert_eq!(out, vec![ev("message", "x", None)]);
        // A second BOM is part of the field name, so the line is ignored.
        let out = decode(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n");
        assert_eq!(out, vec![ev("message", "y", None)]);
        // Not a BOM after all: the held bytes are processed normally.
        let out = decode_chunks(&[b"da", b"ta: z\n\n"]).unwrap();
        assert_eq!(out, vec![ev("message", "z", None)]);
        assert_eq!(decode_chunks(&[b"\xEF", b"\xBB"]).unwrap(), vec![]);
    }

    #[test]
    fn multibyte_utf8_split_anywhere() {
        let input = "data: \u{1F980} caf\u{e9} \u{4E2D}\n\n".as_bytes();
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            let out = decode_chunks(&[a, b]).unwrap();
            assert_eq!(
                out,
                vec![ev("message", "\u{1F980} caf\u{e9} \u{4E2D}", None)]
            );
        }
    }

    #[test]
    fn invalid_utf8_is_an_error_and_sticks() {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        assert_eq!(
            d.feed(b"data: ok\n\ndata: \xFF\n\n", &mut out),
            Err(SseError::Utf8)
        );
        assert_eq!(out, vec![ev("message", "ok", None)]);
        assert_eq!(d.feed(b"data: later\n\n", &mut out), Err(SseError::Utf8));
    }

    #[test]
    fn comments_and_unknown_fields_are_ignored() {
        let out = decode(b": ping\n:\nfoo: bar\ndata: x\n: mid\ndata: y\n\n");
        assert_eq!(out, vec![ev("message", "x\ny", None)]);
        // A comment-only block dispatches nothing.
        assert_eq!(decode(b": keepalive\n\n"), vec![]);
    }

    #[test]
    fn field_value_rules() {
        // Only one leading space is removed; a line without colon is a field with empty value.
        let out = decode(b"data:  two\ndata\ndata:\n\n");
        assert_eq!(out, vec![ev("message", " two\n\n", None)]);
        // "data" alone dispatches an event with empty data.
        assert_eq!(decode(b"data\n\n"), vec![ev("message", "", None)]);
        // Colons after the first belong to the value.
        assert_eq!(
            decode(b"data: a:b: c\n\n"),
            vec![ev("message", "a:b: c", None)]
        );
        // Empty event name means "message"; event name resets after dispatch.
        let out = decode(b"event:\ndata: 1\n\nevent: e\ndata: 2\n\ndata: 3\n\n");
        assert_eq!(
            out,
            vec![
                ev("message", "1", None),
                ev("e", "2", None),
                ev("message", "3", None)
            ]
        );
    }

    #[test]
    fn retry_digits_only() {
        let out = decode(b"retry: 1500\ndata: a\n\nretry: 12a\ndata: b\n\nretry:\ndata: c\n\n");
        assert_eq!(out[0].retry, Some(1500));
        assert_eq!(out[1].retry, None);
        assert_eq!(out[2].retry, None);
        // A retry in a block with no data is reported with the next event.
        let out = decode(b"retry: 10\n\ndata: d\n\n");
        assert_eq!(out[0].retry, Some(10));
        // Too large for u64: ignored.
        assert_eq!(
            decode(b"retry: 99999999999999999999999\ndata: e\n\n")[0].retry,
            None
        );
    }

    #[test]
    fn id_persists_and_nul_is_ignored() {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        d.feed(
            b"id: 5\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\n",
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                ev("message", "a", Some("5")),
                ev("message", "b", Some("5")),
                ev("message", "c", Some("5"))
            ]
        );
        // An id in a block without data still updates the last event id.
        d.feed(b"id: 9\n\n", &mut out).unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(d.last_event_id(), Some("9"));
        // An empty id resets it.
        d.feed(b"id\ndata: d\n\n", &mut out).unwrap();
        assert_eq!(out[3].id, None);
        assert_eq!(d.last_event_id(), None);
    }

    #[test]
    fn incomplete_event_at_end_is_discarded() {
        assert_eq!(
            decode(b"data: a\n\ndata: b\n"),
            vec![ev("message", "a", None)]
        );
        assert_eq!(
            decode(b"data: a\n\ndata: b"),
            vec![ev("message", "a", None)]
        );
    }

    #[test]
    fn size_limit() {
        // Data that fits exactly.
        let mut d = SseDecoder::with_limit(16);
        let mut out = Vec::new();
        d.feed(b"data: 0123456789\n\n", &mut out).unwrap();
        assert_eq!(out[0].data, "0123456789");
        // A single long line that never ends errors instead of growing.
        let mut d = SseDecoder::with_limit(64);
        let mut out = Vec::new();
        let mut err = None;
        for _ in 0..100 {
            if let Err(e) = d.feed(b"data: xxxxxxxxxxxxxxxxxxx", &mut out) {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err, Some(SseError::TooLarge(64)));
        assert!(d.line.capacity() <= 64);
        // Many short data lines add up.
        let mut d = SseDecoder::with_limit(64);
        let r = d.feed(&b"data: 0123456789\n".repeat(10), &mut out);
        assert_eq!(r, Err(SseError::TooLarge(64)));
        assert_eq!(d.feed(b"\n", &mut out), Err(SseError::TooLarge(64)));
        // Many small events that each fit are fine.
        let mut d = SseDecoder::with_limit(64);
        let mut out = Vec::new();
        d.feed(&b"data: 0123456789\n\n".repeat(100), &mut out)
            .unwrap();
        assert_eq!(out.len(), 100);
    }

    #[test]
    fn encode_roundtrips() {
        let s = encode(Some("agent.message"), "line1\nline2", Some("e1"));
        assert_eq!(
            s,
            "event: agent.message\nid: e1\ndata: line1\ndata: line2\n\n"
        );
        assert_eq!(encode(None, "", None), "data:\n\n");
        for data in ["x", "", "a\n\nb", " lead", "trail\n", "{\"k\":\"v\"}"] {
            let out = decode(encode(Some("e"), data, Some("1")).as_bytes());
            assert_eq!(out, vec![ev("e", data, Some("1"))], "{data:?}");
        }
        let out = decode(encode(Some("bad\nname"), "a\r\nb\rc", Some("i\rd")).as_bytes());
        assert_eq!(out, vec![ev("badname", "a\nb\nc", Some("id"))]);
    }

    /// Deterministic LCG (Knuth's MMIX constants).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn randomized_chunking_matches_whole_input() {
        const EOLS: [&str; 3] = ["\n", "\r\n", "\r"];
        const WORDS: [&str; 8] = [
            "a",
            "h\u{e9}",
            "\u{1F600}",
            " ",
            ":",
            "x y",
            "\u{4E2D}\u{6587}",
            "",
        ];
        let mut rng = Lcg(0x5EED);
        for round in 0..300 {
            let mut s = String::new();
            if rng.below(4) == 0 {
                s.push('\u{FEFF}');
            }
            for _ in 0..rng.below(12) {
                let eol = EOLS[rng.below(3) as usize];
                let word = WORDS[rng.below(WORDS.len() as u64) as usize];
                match rng.below(8) {
                    0 => s.push_str(&format!(": {word}{eol}")),
                    1 => s.push_str(&format!("event: e{word}{eol}")),
                    2 => s.push_str(&format!("id: {}{eol}", rng.below(100))),
                    3 => s.push_str(&format!("retry: {}{eol}", rng.below(5000))),
                    4 => s.push_str(eol),
                    5 => s.push_str(&format!("data{eol}")),
                    _ => s.push_str(&format!("data: {word}{eol}")),
                }
            }
            let bytes = s.as_bytes();
            let whole = decode(bytes);
            let mut d = SseDecoder::new();
            let mut out = Vec::new();
            let mut rest = bytes;
            while !rest.is_empty() {
                let n = (rng.below(6) as usize).min(rest.len());
                d.feed(&rest[..n], &mut out).unwrap();
                rest = &rest[n..];
            }
            assert_eq!(out, whole, "round {round}: {s:?}");
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// Feeds `input` in pieces cut at `cuts` (byte offsets, any order);
        /// returns the events and the error, if any.
        fn decode_cut(input: &[u8], cuts: &[usize]) -> (Vec<SseEvent>, Option<SseError>) {
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
            cuts.sort_unstable();
            let mut d = SseDecoder::new();
            let mut out = Vec::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([input.len()]) {
                if let Err(e) = d.feed(&input[from..cut], &mut out) {
                    return (out, Some(e));
                }
                from = cut;
            }
            (out, None)
        }

        /// Streams built from SSE lines, with every line ending and a BOM.
        fn stream() -> impl Strategy<Value = Vec<u8>> {
            let line = prop_oneof![
                "(data|event|id|retry|:)?(: ?)?[a-z0-9 \u{e9}\u{1F600}:]{0,8}",
                Just(String::new()),
                "[0-9]{1,4}".prop_map(|n| format!("retry: {n}")),
            ];
            let eol = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
            (any::<bool>(), prop::collection::vec((line, eol), 0..24)).prop_map(|(bom, lines)| {
                let mut s = if bom {
                    "\u{FEFF}".to_string()
                } else {
                    String::new()
                };
                for (l, e) in lines {
                    s.push_str(&l);
                    s.push_str(e);
                }
                s.into_bytes()
            })
        }

        proptest! {
            #![proptest_config(crate::proptest_config())]

            #[test]
            fn prop_sse_events_do_not_depend_on_chunking(
                input in stream(),
                cuts in prop::collection::vec(any::<usize>(), 0..12),
            ) {
                prop_assert_eq!(decode_cut(&input, &cuts), decode_cut(&input, &[]));
            }

            #[test]
            fn prop_sse_decoder_takes_arbitrary_bytes(
                input in prop::collection::vec(any::<u8>(), 0..512),
                cuts in prop::collection::vec(any::<usize>(), 0..12),
            ) {
                // Never panics, and even on bytes that are not UTF-8 the
                // outcome does not depend on where the chunks end.
                prop_assert_eq!(decode_cut(&input, &cuts), decode_cut(&input, &[]));
            }
        }
    }
}
