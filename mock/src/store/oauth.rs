//! The OAuth server's state: pending authorization codes, refresh tokens and
//! issued access tokens (the logic is `resources::oauth`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Who a token speaks for.
#[derive(Clone)]
pub struct Grant {
    pub client_id: String,
    pub scope: String,
    pub org: String,
    pub workspace: String,
}

/// An authorization code waiting to be exchanged.
pub struct Pending {
    pub grant: Grant,
    pub redirect_uri: String,
    pub challenge: String,
    pub state: String,
    pub issued: Instant,
    pub used: bool,
}

#[derive(Default)]
pub struct Tokens {
    pub codes: HashMap<String, Pending>,
    /// Refresh token → grant (rotated on use).
    pub refresh: HashMap<String, Grant>,
    /// Access token → when it expires.
    pub access: HashMap<String, Instant>,
}

/// The server's OAuth state.
#[derive(Default)]
pub struct OAuth {
    tokens: Mutex<Tokens>,
}

impl OAuth {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}
