//! How the emulator runs: the flags of `ant-mock` as a plain value.

/// How to run the emulator. `Default` binds 127.0.0.1 on a free port with every
/// fault switched off.
#[derive(Clone, Debug)]
pub struct Config {
    pub host: String,
    pub port: u16,
    /// Let the scripted agent's `/bash` directive run real shell commands.
    pub allow_bash: bool,
    /// Sleep this long before answering each request.
    pub latency_ms: u64,
    /// Probability of answering a request with a random 500/529/429.
    pub fail_rate: f64,
    /// Close every stream connection after this many events.
    pub drop_streams_after: Option<usize>,
    /// Seed for the fault generator (deterministic failures).
    pub seed: Option<u64>,
    /// Do not log requests to stderr.
    pub quiet: bool,
    /// Largest request body accepted; larger ones get `413 request_too_large`.
    pub max_body: u64,
    /// Most connections served at once; past it a connection is answered
    /// `503` and closed. `None`: 1024, or fewer when the process may not
    /// open that many files (see `server::conn::connection_limit`).
    pub max_connections: Option<usize>,
    /// How long a client may take to send a request's headers, and then
    /// its body, before the connection is closed (`408` for a slow body).
    pub read_timeout: std::time::Duration,
    /// Check every JSON response (and every streamed event) against its
    /// operation's response schema: a response that does not match becomes
    /// a `500` naming the mismatch and is recorded in
    /// `MockHandle::violations`. On by default for the library (tests);
    /// the binary turns it on with `--check-responses`.
    pub check_responses: bool,
    /// Answer every authorization with `error=access_denied`.
    pub oauth_deny: bool,
    /// The only federation rule id the jwt-bearer grant accepts (default:
    /// any `fdrl_…`).
    pub federation_rule: Option<String>,
    /// Lifetime of issued access tokens, in seconds.
    pub token_ttl: u64,
    /// Lease of a work item after each heartbeat, in seconds (self-hosted workers).
    pub work_ttl_secs: u64,
    /// Answer `500` to this many work acknowledgements first (how a worker
    /// recovers from an ack that fails).
    pub fail_acks: u32,
    /// How long a message batch stays `in_progress`, and a dream `pending`
    /// then `running`, before it ends.
    pub batch_delay: std::time::Duration,
}

/// The real API's request size limit (32 MB).
pub const DEFAULT_MAX_BODY: u64 = 32 * 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 0,
            allow_bash: false,
            latency_ms: 0,
            fail_rate: 0.0,
            drop_streams_after: None,
            seed: None,
            quiet: true,
            max_body: DEFAULT_MAX_BODY,
            max_connections: None,
            read_timeout: std::time::Duration::from_secs(30),
            check_responses: true,
            oauth_deny: false,
            federation_rule: None,
            token_ttl: 3600,
            work_ttl_secs: 30,
            fail_acks: 0,
            batch_delay: std::time::Duration::from_secs(1),
        }
    }
}
