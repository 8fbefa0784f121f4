//! `beta:tunnels`: stored by the generic emulation, with the tunnel's
//! connection token kept apart (it is a secret, never in the tunnel
//! object): `reveal-token` shows it (the same until rotated),
//! `rotate-token` replaces it; an archived tunnel has none. Created tunnels
//! get a domain of their own.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Answer, Reply, Req, generic};
use crate::store::{ApiError, Shared};

const TUNNELS: &str = "/v1/tunnels";

fn token() -> String {
    let mut s = String::from("tnltok_");
    for _ in 0..40 {
        s.push(fastrand::alphanumeric());
    }
    s
}

pub fn create(s: &Arc<Shared>, req: &Req) -> Answer {
    let Reply::Json(status, mut v) = generic::handle(s, req)? else {
        unreachable!("the generic create answers JSON")
    };
    let id = v["id"].as_str().unwrap_or("").to_string();
    let suffix: String = id.chars().rev().take(10).collect::<String>().to_lowercase();
    v["domain"] = json!(format!("{suffix}.tunnels.ant-mock.local"));
    let mut st = s.lock();
    if let Some(stored) = st.generic.get_mut(TUNNELS, &id) {
        stored["domain"] = v["domain"].clone();
    }
    Ok(Reply::Json(status, v))
}

/// `reveal-token` (`rotate: false`) and `rotate-token`.
pub fn token_of(s: &Arc<Shared>, req: &Req, rotate: bool) -> Answer {
    let id = req.p("tunnel_id").to_string();
    let mut st = s.lock();
    let tunnel = st
        .generic
        .get(TUNNELS, &id)
        .ok_or_else(|| ApiError::not_found("tunnel", &id))?;
    if !tunnel["archived_at"].is_null() {
        return Err(ApiError::invalid(format!("tunnel {id:?} is archived")));
    }
    let tok = match st.tunnel_tokens.get(&id) {
        Some(t) if !rotate => t.clone(),
        _ => token(),
    };
    st.tunnel_tokens.insert(id.clone(), tok.clone());
    Ok(Reply::ok(
        json!({"type": "tunnel_token", "id": id, "tunnel_token": Value::String(tok)}),
    ))
}
