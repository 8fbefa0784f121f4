//! PKCE (RFC 7636, method S256) and the login `state`: random values from
//! the operating system's CSPRNG, base64url without padding.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};

/// `n` random bytes as base64url without padding.
pub fn random_url_safe(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| Error::Other("cannot get random bytes from the system".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The S256 challenge of a verifier: base64url(SHA-256(verifier)).
pub fn challenge_s256(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// One login attempt's secrets: the PKCE verifier (64 random bytes, 86
/// characters), its challenge, and the CSRF `state` (32 random bytes).
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
    pub state: String,
}

impl Pkce {
    pub fn new() -> Result<Pkce> {
        let verifier = random_url_safe(64)?;
        let challenge = challenge_s256(&verifier);
        let state = random_url_safe(32)?;
        Ok(Pkce {
            verifier,
            challenge,
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_challenge() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_and_states_have_the_official_lengths_and_alphabet() {
        let p = Pkce::new().unwrap();
        assert_eq!(p.verifier.len(), 86);
        assert_eq!(p.state.len(), 43);
        assert_eq!(p.challenge.len(), 43);
        let url_safe = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        assert!(
            url_safe(&p.verifier) && url_safe(&p.state),
            "{}",
            p.verifier
        );
        assert_ne!(Pkce::new().unwrap().verifier, p.verifier);
    }
}
