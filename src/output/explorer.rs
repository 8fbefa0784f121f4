//! `--format explore` as a printer: applies `--transform`/`--jq`, opens the
//! explorer (`crate::explore`) on the first value, hands it the rest, and
//! lets the paging loop wait until the explorer wants more. Once the user
//! leaves, `p` and `y` print here, with the JSON printer's rendering.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;

use super::{Format, OutputOptions, Printer, Render, Transform, whole};
use crate::error::{Error, Result};
use crate::explore::{self, Exit, Session, Shape};

pub(super) struct ExplorePrinter {
    shape: Shape,
    opts: OutputOptions,
    transform: Option<Transform>,
    session: Option<Session>,
    /// Items seen, matched by `--transform`, and handed to the explorer.
    seen: usize,
    matched: usize,
    delivered: usize,
}

impl ExplorePrinter {
    pub(super) fn new(opts: &OutputOptions, shape: Shape) -> Self {
        ExplorePrinter {
            shape,
            opts: opts.clone(),
            // Checked before anything was sent.
            transform: opts
                .transform
                .as_ref()
                .and_then(|t| Transform::from_pick(t).ok()),
            session: None,
            seen: 0,
            matched: 0,
            delivered: 0,
        }
    }

    /// What `p` and `y` print once the terminal is back.
    fn on_exit(&self) -> explore::OnExit {
        let mut render = Render::new(Format::Json, self.opts.raw_output, self.opts.term, "");
        Box::new(move |exit: &Exit| {
            let text = match exit {
                Exit::Quit => return Ok(()),
                Exit::Print(v) => render.value(&v.to_string())?,
                Exit::Path(p) => format!("{p}\n").into_bytes(),
            };
            let mut out = std::io::stdout().lock();
            out.write_all(&text)
                .and_then(|()| out.flush())
                .map_err(Error::from_write)
        })
    }
}

impl Printer for ExplorePrinter {
    fn item(&mut self, json: &str) -> Result<()> {
        self.seen += 1;
        let doc = whole(json);
        let selected = match &self.transform {
            Some(t) => t.apply(doc, self.seen)?,
            None => vec![doc.into()],
        };
        if !selected.is_empty() {
            self.matched += 1;
        }
        for selected in selected {
            let value = crate::json::value(&selected);
            self.delivered += 1;
            match &self.session {
                Some(s) => s.push(value),
                None => {
                    let opts = explore::Options {
                        shape: self.shape,
                        title: self.opts.title.clone(),
                        color: self.opts.term.color,
                    };
                    self.session = Some(Session::open(opts, value, self.on_exit())?);
                }
            }
        }
        Ok(())
    }

    fn wants_more(&mut self) -> Pin<Box<dyn Future<Output = bool> + '_>> {
        match &mut self.session {
            Some(s) => Box::pin(s.wants(self.delivered)),
            None => Box::pin(std::future::ready(true)),
        }
    }

    fn finish(&mut self) -> Result<()> {
        if let Some(s) = self.session.take() {
            return s.finish();
        }
        match &self.transform {
            Some(t) if self.seen > 0 && self.matched == 0 => t.unmatched().map_or(Ok(()), Err),
            _ => Ok(()),
        }
    }
}
