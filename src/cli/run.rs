//! Runs one API command: build the request, send it, and feed what comes
//! back (one object, pages, a JSONL or SSE stream, or bytes) to a printer.

use std::io::Write;
use std::time::Duration;

use serde_json::Value;

use super::Failure;
use super::config::{self, ADMIN_KEY_HINT};
use super::global::GlobalArgs;
use crate::api::{Operation, Paging, Response};
use crate::error::{Error, Result};
use crate::http::body::next_chunk;
use crate::http::{self, Client};
use crate::json::Doc;
use crate::output::choose::{self, Command};
use crate::output::{self, Format, OutputOptions, Printer, Shape, Terminal};
use crate::request::{self, Body, Input, Request, files::DiskFiles};
use crate::stream::follow::Follow;
use crate::stream::sink;
use crate::stream::stop::{Outcome, Watch};

/// Client-side flags of the command.
pub struct Extras {
    pub max_items: Option<i64>,
    pub output: Option<String>,
    pub until_idle: bool,
    pub no_reconnect: bool,
}

/// What every API command needs: a client, the output options and the
/// error rendering settings.
pub struct Context {
    pub client: Client,
    pub opts: OutputOptions,
    format_error: Format,
    transform_error: Option<String>,
    raw_output: bool,
    debug: bool,
    /// An Admin API command sent without an admin key: a refusal then
    /// says how to give one.
    admin_without_key: bool,
}

impl Context {
    /// Resolves formats, credentials and base URL; no request is sent.
    pub fn new(g: &GlobalArgs, command: String) -> Result<Context> {
        Context::with_admin(g, command, None)
    }

    /// As [`Context::new`]; `admin` says whether the request goes to the
    /// Admin API, for a command the table does not name (`ant api`).
    pub fn with_admin(g: &GlobalArgs, command: String, admin: Option<bool>) -> Result<Context> {
        let requested: Format = g.format.parse().map_err(Error::Usage)?;
        let format_error: Format = g.format_error.parse().map_err(Error::Usage)?;
        let pick = output::check_pick(g.transform.as_deref(), g.jq.as_deref())?;
        if let Some(path) = &g.transform_error {
            output::check_transform("--transform-error", path)?;
        }
        let op = command
            .split_once(' ')
            .and_then(|(g, v)| Operation::find(g, v));
        let kind = match op {
            Some(op) if op.is_read() && !op.is_session_stream() => Command::Read,
            Some(_) => Command::Other,
            None => Command::NoExplore,
        };
        let kind = kind.asking_for_values(g.raw_output || pick.is_some());
        let choice = choose::detect(requested, kind, g.no_pager);
        if let Some(note) = &choice.note {
            eprintln!("note: {note}");
        }
        let format = choice.format;
        let admin = admin.unwrap_or(op.is_some_and(Operation::is_admin));
        let resolved = config::resolve_for(g, admin)?;
        let client = Client::new(http::Config {
            base_url: resolved.base_url,
            auth: resolved.auth,
            workspace_id: resolved.workspace_id,
            max_retries: g.max_retries,
            timeout: g.timeout.map(Duration::from_secs_f64),
            debug: g.debug,
            command: command.clone(),
            extra_betas: resolved.extra_betas,
            progress: Terminal::detect().stderr_tty && format != Format::Explore,
        })?;
        let opts = OutputOptions {
            format,
            transform: pick,
            raw_output: g.raw_output,
            term: Terminal::detect(),
            title: command,
            pager: choice.pager,
        };
        Ok(Context {
            client,
            opts,
            format_error,
            transform_error: g.transform_error.clone(),
            raw_output: g.raw_output,
            debug: g.debug,
            admin_without_key: admin && g.admin_key.as_deref().is_none_or(str::is_empty),
        })
    }

    /// Runs `job` to completion; Ctrl-C stops it cleanly with exit 130.
    pub fn block_on<F: std::future::Future<Output = Result<()>>>(
        &self,
        job: F,
    ) -> std::result::Result<(), Failure> {
        self.block_on_handling_signals(async {
            tokio::select! {
                r = job => r,
                _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
                r = output::closed() => r,
            }
        })
    }

    /// Runs `job` to completion; the job handles Ctrl-C itself.
    pub fn block_on_handling_signals<F: std::future::Future<Output = Result<()>>>(
        &self,
        job: F,
    ) -> std::result::Result<(), Failure> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Other(format!("cannot start runtime: {e}")))?;
        runtime.block_on(job).map_err(|error| self.failure(error))
    }

    /// An error plus, for API errors, the body rendered per `--format-error`.
    pub fn failure(&self, mut error: Error) -> Failure {
        if let Error::Api(api) = &mut error
            && self.admin_without_key
            && matches!(api.status, 401 | 403)
        {
            api.message = Some(match api.message.take() {
                Some(m) => format!("{m} ({ADMIN_KEY_HINT})"),
                None => ADMIN_KEY_HINT.to_string(),
            });
        }
        let detail = match &error {
            Error::Api(api)
                if self.format_error != Format::Auto
                    || self.transform_error.is_some()
                    || self.debug =>
            {
                Some(output::render_error_body(
                    &api.body,
                    self.format_error,
                    self.transform_error.as_deref(),
                    self.raw_output,
                    &self.opts.term.for_stderr(),
                ))
            }
            _ => None,
        };
        Failure { error, detail }
    }
}

pub fn run(
    op: &'static Operation,
    input: Input,
    g: &GlobalArgs,
    extras: Extras,
) -> std::result::Result<(), Failure> {
    let req = request::build(op, input, &mut DiskFiles::default())?;
    let ctx = Context::new(g, op.name())?;
    let job = Job {
        op,
        client: &ctx.client,
        opts: &ctx.opts,
        max_items: extras
            .max_items
            .or_else(|| limit_caps_items(op, &req))
            .unwrap_or(-1),
        output: extras.output,
        until_idle: extras.until_idle,
        reconnect: !extras.no_reconnect,
        verbose: g.verbose,
    };
    ctx.block_on(job.execute(req))
}

struct Job<'a> {
    op: &'static Operation,
    client: &'a Client,
    opts: &'a OutputOptions,
    max_items: i64,
    output: Option<String>,
    until_idle: bool,
    reconnect: bool,
    verbose: bool,
}

impl Job<'_> {
    fn printer(&self, shape: Shape) -> Box<dyn Printer> {
        output::open(self.opts, shape)
    }

    fn event_sink(&self) -> Box<dyn Printer> {
        sink::event_sink(self.op, self.opts, self.verbose)
    }

    fn limit_reached(&self, n: i64) -> bool {
        self.max_items >= 0 && n >= self.max_items
    }

    async fn execute(&self, req: Request) -> Result<()> {
        match self.op.response {
            Response::Page(paging) => self.pages(req, paging).await,
            Response::Sse if self.op.is_session_stream() => self.follow(req).await,
            Response::Sse => self.sse(req).await,
            Response::JsonOrSse if streams(&req) => self.sse(req).await,
            Response::Jsonl => self.jsonl(req).await,
            Response::Binary => self.download(req).await,
            Response::Json | Response::JsonOrSse => self.json(req).await,
        }
    }

    async fn json(&self, req: Request) -> Result<()> {
        let resp = self.client.send(&req, "application/json").await?;
        // `204 No Content` is the one answer documented to have no body
        // (a work item's `stop`); any other success must carry the JSON.
        let no_content = resp.status() == reqwest::StatusCode::NO_CONTENT;
        let body = self.client.read_body(resp, &self.op.name()).await?;
        let mut p = self.printer(Shape::One);
        if !no_content {
            p.item(self.document(body)?.text())?;
        }
        p.finish()
    }

    /// A response body checked as JSON: anything else is not what the API
    /// documents, and an error rather than something printed.
    fn document(&self, body: Vec<u8>) -> Result<Doc> {
        Doc::new(body).map_err(|e| {
            Error::Other(format!(
                "{}: the response is not the JSON the API documents: {e}",
                self.op.name()
            ))
        })
    }

    /// Fetches page after page, printing each item as it arrives.
    async fn pages(&self, mut req: Request, paging: Paging) -> Result<()> {
        let mut p = sink::list_sink(self.op, self.opts, self.verbose)
            .unwrap_or_else(|| self.printer(Shape::List));
        let backward = req.has_query("before_id");
        let mut cursors = crate::http::cursors::Cursors::default();
        for (k, v) in &req.query {
            if matches!(k.as_str(), "page" | "after_id" | "before_id") {
                cursors.next(&self.op.name(), v)?;
            }
        }
        let mut printed = 0i64;
        loop {
            // The explorer asks for the next page only when it needs it.
            if self.limit_reached(printed) || !p.wants_more().await {
                break;
            }
            let resp = self.client.send(&req, "application/json").await?;
            let body = self.client.read_body(resp, &self.op.name()).await?;
            let page = self.document(body)?;
            let items = page.items(paging.items).ok_or_else(|| {
                Error::Other(format!(
                    "{}: the response is not the JSON the API documents: it has no {:?} list",
                    self.op.name(),
                    paging.items
                ))
            })?;
            if self.opts.format == Format::Raw {
                p.item(page.text())?;
                printed += items.len() as i64;
            } else {
                for item in &items {
                    if self.limit_reached(printed) {
                        break;
                    }
                    p.item(item)?;
                    printed += 1;
                }
            }
            match crate::api::paging::next(&page, &paging, backward, items.is_empty()) {
                Some((param, cursor)) => {
                    cursors.next(&self.op.name(), &cursor)?;
                    req.set_query(param, &cursor);
                }
                None => break,
            }
        }
        let finished = p.finish();
        // On a terminal an empty list would print nothing at all.
        if printed == 0 && self.opts.term.stdout_tty && self.opts.format != Format::Raw {
            eprintln!("no {}", items_noun(self.op));
        }
        finished
    }

    async fn jsonl(&self, req: Request) -> Result<()> {
        let mut resp = self.client.send(&req, "application/binary").await?;
        let mut p = self.printer(Shape::Stream);
        let mut buf: Vec<u8> = Vec::new();
        let mut printed = 0i64;
        let mut lines = 0usize;
        let mut emit = |line: &[u8], p: &mut Box<dyn Printer>| -> Result<bool> {
            lines += 1;
            let line = line.trim_ascii();
            if line.is_empty() {
                return Ok(true);
            }
            if self.limit_reached(printed) {
                return Ok(false);
            }
            let doc = Doc::new(line.to_vec()).map_err(|e| {
                Error::Other(format!(
                    "{}: line {lines} of the response is not JSON: {e}",
                    self.op.name()
                ))
            })?;
            p.item(doc.text())?;
            printed += 1;
            Ok(!self.limit_reached(printed))
        };
        while let Some(chunk) = next_chunk(&mut resp, self.client.cfg.debug).await? {
            buf.extend_from_slice(&chunk);
            while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=nl).collect();
                if !emit(&line, &mut p)? {
                    return p.finish();
                }
            }
            if buf.len() > http::MAX_BODY {
                return Err(Error::Network(format!(
                    "{}: a line of the response is longer than {} MiB, the most ant reads into memory; not read further",
                    self.op.name(),
                    http::MAX_BODY >> 20
                )));
            }
        }
        emit(&buf, &mut p)?;
        p.finish()
    }

    async fn sse(&self, req: Request) -> Result<()> {
        let resp = self.client.send(&req, "text/event-stream").await?;
        let mut p = self.event_sink();
        sink::print_events(self.client, &req, resp, &mut *p, self.max_items).await
    }

    /// Session and thread streams: reconnect, backfill and stop rules.
    async fn follow(&self, req: Request) -> Result<()> {
        let mut follow = Follow {
            client: self.client,
            watch: Watch::for_stream(&req.path, self.until_idle),
            stream: req,
            reconnect: self.reconnect,
            max_items: self.max_items,
        };
        let opened = follow.open(true).await?;
        let mut p = self.event_sink();
        let outcome = follow
            .run(opened, &mut |ev, json, _| {
                p.event(json, ev).map(|()| vec![])
            })
            .await;
        if self.until_idle && matches!(outcome, Ok(Outcome::Ended)) {
            eprintln!(
                "note: --max-items {} reached before the turn ended",
                self.max_items
            );
        }
        // How the turn ended says more than a --transform that matched nothing.
        let finished = p.finish();
        outcome?.into_result().and(finished)
    }

    async fn download(&self, req: Request) -> Result<()> {
        let mut resp = self.client.send(&req, "application/binary").await?;
        let headers = resp.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let is_text = content_type.starts_with("text/") || content_type.contains("json");
        let to_stdout = match self.output.as_deref() {
            Some("-") | Some("/dev/stdout") => true,
            Some(_) => false,
            None => !self.opts.term.stdout_tty || is_text,
        };
        let mut partial = None;
        let (mut sink, path): (Box<dyn Write>, Option<std::path::PathBuf>) = if to_stdout {
            (Box::new(std::io::stdout().lock()), None)
        } else {
            let path = match self.output.as_deref() {
                Some(p) => std::path::PathBuf::from(p),
                None => free_name(&download_name(&headers, &content_type)),
            };
            let (file, part) = Partial::create(&path)?;
            partial = part;
            (Box::new(std::io::BufWriter::new(file)), Some(path))
        };
        let total = resp.content_length();
        let bar = progress_bar(total, self.opts.term.stderr_tty && path.is_some());
        while let Some(chunk) = next_chunk(&mut resp, false).await? {
            sink.write_all(&chunk).map_err(Error::from_write)?;
            if let Some(b) = &bar {
                b.inc(chunk.len() as u64);
            }
        }
        sink.flush().map_err(Error::from_write)?;
        drop(sink);
        if let Some(part) = partial {
            part.finish()?;
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        if let Some(path) = path {
            // On stdout, as the official CLI writes it.
            let mut out = std::io::stdout().lock();
            writeln!(out, "Wrote output to: {}", path.display())
                .and_then(|()| out.flush())
                .map_err(Error::from_write)?;
        }
        Ok(())
    }
}

/// A download written beside its target and renamed onto it once the whole
/// body has arrived: a download cut short (or interrupted) leaves nothing,
/// and a file it would replace stays as it was. Dropped unfinished, the
/// partial file is removed.
struct Partial {
    tmp: std::path::PathBuf,
    target: std::path::PathBuf,
}

impl Partial {
    /// The file to write for `target`, with the `Partial` to finish when it
    /// is a new or regular file; a special file (`/dev/null`, a pipe) is
    /// written directly, never replaced.
    fn create(target: &std::path::Path) -> Result<(std::fs::File, Option<Partial>)> {
        let cannot =
            |e: std::io::Error| Error::Io(format!("cannot write {}: {e}", target.display()));
        if std::fs::metadata(target).is_ok_and(|m| !m.is_file()) {
            return Ok((std::fs::File::create(target).map_err(cannot)?, None));
        }
        let name = target
            .file_name()
            .map_or_else(Default::default, |n| n.to_string_lossy().into_owned());
        let tmp = target.with_file_name(format!(".{name}.{}.part", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(cannot)?;
        let target = target.to_path_buf();
        Ok((file, Some(Partial { tmp, target })))
    }

    fn finish(mut self) -> Result<()> {
        let tmp = std::mem::take(&mut self.tmp);
        std::fs::rename(&tmp, &self.target).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::Io(format!("cannot write {}: {e}", self.target.display()))
        })
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// What a list holds, for "no agents": the last word of its group.
fn items_noun(op: &Operation) -> String {
    op.group
        .rsplit(':')
        .next()
        .unwrap_or(op.group)
        .replace('-', " ")
}

fn progress_bar(total: Option<u64>, show: bool) -> Option<indicatif::ProgressBar> {
    if !show {
        return None;
    }
    let bar = match total {
        Some(t) => indicatif::ProgressBar::new(t),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// The file name a download is saved under: the server's name (base name
/// only), else `download` with an extension from the content type.
fn download_name(headers: &reqwest::header::HeaderMap, content_type: &str) -> String {
    let from_header = headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix("filename="))
                .map(|n| n.trim_matches('"').to_string())
        })
        .and_then(|n| {
            std::path::Path::new(&n)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .filter(|n| !n.is_empty() && n != ".." && n != ".");
    from_header.unwrap_or_else(|| {
        let ext = mime_guess::get_mime_extensions_str(content_type.split(';').next().unwrap_or(""))
            .and_then(|e| e.first())
            .map(|e| format!(".{e}"))
            .unwrap_or_default();
        format!("download{ext}")
    })
}

/// `name.ext`, or `name-1.ext`, `name-2.ext`... when taken.
fn free_name(name: &str) -> std::path::PathBuf {
    let path = std::path::PathBuf::from(name);
    if !path.exists() {
        return path;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_string(), String::new()),
    };
    (1..)
        .map(|i| std::path::PathBuf::from(format!("{stem}-{i}{ext}")))
        .find(|p| !p.exists())
        .expect("a free name")
}

/// `--limit N` without `--max-items` on the lists whose official command
/// stops after N items (the ID-paged ones, see `api/cli-compat.json`).
fn limit_caps_items(op: &Operation, req: &Request) -> Option<i64> {
    match op.response {
        Response::Page(p) if p.limit_caps_items => req
            .query
            .iter()
            .find(|(k, _)| k == "limit")
            .and_then(|(_, v)| v.parse().ok()),
        _ => None,
    }
}

fn streams(req: &Request) -> bool {
    matches!(&req.body, Body::Json(v) if v.get("stream") == Some(&Value::Bool(true)))
}
