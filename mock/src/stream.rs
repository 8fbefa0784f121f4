//! The per-session SSE hub: fans events out to every attached stream, buffers
//! events produced while nobody listens, and turns a subscription into an
//! SSE response body (`event:`/`id:`/`data:` lines, `: ping` keep-alives,
//! optional cut-off after N events).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame};
use tokio::sync::mpsc;

/// One SSE message.
#[derive(Debug)]
pub struct Item {
    pub event_type: String,
    pub id: Option<String>,
    pub data: String,
    /// For previews (`event_start`/`event_delta`): the event type previewed;
    /// only subscribers that asked for it (`event_deltas[]`) receive them.
    pub preview_of: Option<String>,
}

impl Item {
    pub fn to_sse(&self) -> Bytes {
        let mut s = String::with_capacity(self.data.len() + 64);
        s.push_str("event: ");
        s.push_str(&self.event_type);
        s.push('\n');
        if let Some(id) = &self.id {
            s.push_str("id: ");
            s.push_str(id);
            s.push('\n');
        }
        s.push_str("data: ");
        s.push_str(&self.data);
        s.push_str("\n\n");
        Bytes::from(s)
    }
}

struct Sub {
    tx: mpsc::UnboundedSender<Arc<Item>>,
    previews: Vec<String>,
}

/// Subscribers of one session plus the events nobody has received yet.
#[derive(Default)]
pub struct Hub {
    subs: Vec<Sub>,
    pending: Vec<Arc<Item>>,
    closed: bool,
}

impl Hub {
    /// Sends an item to every attached stream; a non-preview item that no
    /// stream took is kept for the next stream that attaches.
    pub fn publish(&mut self, item: Item) {
        let item = Arc::new(item);
        self.subs.retain(|s| !s.tx.is_closed());
        match &item.preview_of {
            Some(kind) => {
                for s in self
                    .subs
                    .iter()
                    .filter(|s| s.previews.iter().any(|p| p == kind))
                {
                    let _ = s.tx.send(item.clone());
                }
            }
            None => {
                let mut delivered = false;
                for s in &self.subs {
                    delivered |= s.tx.send(item.clone()).is_ok();
                }
                if !delivered && !self.closed {
                    self.pending.push(item);
                }
            }
        }
    }

    /// Whether some attached stream wants previews of `kind`.
    pub fn wants_previews(&mut self, kind: &str) -> bool {
        self.subs.retain(|s| !s.tx.is_closed());
        self.subs
            .iter()
            .any(|s| s.previews.iter().any(|p| p == kind))
    }

    /// Attaches a stream: it first receives the buffered events.
    pub fn subscribe(&mut self, previews: Vec<String>) -> mpsc::UnboundedReceiver<Arc<Item>> {
        let (tx, rx) = mpsc::unbounded_channel();
        for item in self.pending.drain(..) {
            let _ = tx.send(item);
        }
        if !self.closed {
            self.subs.push(Sub { tx, previews });
        }
        rx
    }

    /// Ends every stream (after what they already hold); later subscribers
    /// get only the buffered events.
    pub fn close(&mut self) {
        self.closed = true;
        self.subs.clear();
    }

    pub fn subscriber_count(&mut self) -> usize {
        self.subs.retain(|s| !s.tx.is_closed());
        self.subs.len()
    }
}

/// A response body fed by a channel of byte chunks.
pub struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

/// How often an idle stream gets a `: ping` comment.
pub const PING_EVERY: Duration = Duration::from_secs(15);

/// Turns a subscription into an SSE body. With `drop_after`, the connection
/// ends after that many events.
pub fn sse_body(
    mut rx: mpsc::UnboundedReceiver<Arc<Item>>,
    drop_after: Option<usize>,
) -> ChannelBody {
    let (tx, body_rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let mut sent = 0usize;
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        if drop_after == Some(0) {
            return;
        }
        loop {
            tokio::select! {
                item = rx.recv() => {
                    let Some(item) = item else { break };
                    if tx.send(item.to_sse()).await.is_err() {
                        break;
                    }
                    sent += 1;
                    if drop_after.is_some_and(|n| sent >= n) {
                        break;
                    }
                }
                _ = ping.tick() => {
                    if tx.send(Bytes::from_static(b": ping\n\n")).await.is_err() {
                        break;
                    }
                }
                _ = tx.closed() => break,
            }
        }
    });
    ChannelBody(body_rx)
}
