//! `user-profiles` and `beta:user-profiles`: stored by the generic
//! emulation; their action URLs (`:action-urls create`, an
//! `enroll_end_user` action) and enrollment URLs (`create-enrollment-url`)
//! are real links to this emulator, valid for an hour and once: the end
//! user opening one (no API key: it is their browser) enrolls the profile,
//! which then shows when (`external_user_onboarded_at`, and
//! `external_user_details.onboarded_at` in the GA shape).

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Answer, Reply, Req};
use crate::store::{ApiError, EnrollmentLink, Shared, now_ms, rfc3339};

const PROFILES: &str = "/v1/user_profiles";

/// Where the links point: `{ENROLL_PATH}{token}`.
pub const ENROLL_PATH: &str = "/user-profiles/enroll/";

/// How long a link is valid.
const LINK_TTL_MS: u64 = 3_600_000;

fn token() -> String {
    (0..32).map(|_| fastrand::alphanumeric()).collect()
}

/// `:action-urls create` and `create-enrollment-url`: a link for the
/// profile's end user to open.
pub fn link(s: &Arc<Shared>, req: &Req) -> Answer {
    let id = req.p("user_profile_id").to_string();
    // (The request's `action` was checked against its schema already.)
    let enrollment = req.op.verb == "create-enrollment-url";
    let mut st = s.lock();
    if st.generic.get(PROFILES, &id).is_none() {
        return Err(ApiError::not_found("user profile", &id));
    }
    let expires_ms = now_ms() + LINK_TTL_MS;
    let tok = token();
    st.enrollment_links.insert(
        tok.clone(),
        EnrollmentLink {
            profile: id,
            expires_ms,
        },
    );
    let host = req.header("host").unwrap_or("127.0.0.1");
    Ok(Reply::ok(json!({
        "type": if enrollment { "enrollment_url" } else { "user_profile_action_url" },
        "url": format!("http://{host}{ENROLL_PATH}{tok}"),
        "expires_at": rfc3339(expires_ms),
    })))
}

fn page(status: u16, text: &str) -> Reply {
    Reply::Raw {
        status,
        content_type: "text/html; charset=utf-8".into(),
        body: format!("<!doctype html><title>ant-mock</title><p>{text}</p>\n").into(),
    }
}

/// `GET {ENROLL_PATH}{token}`, opened by the end user: enrolls the profile.
/// A link works once, within its hour.
pub fn visit(s: &Arc<Shared>, token: &str) -> Reply {
    let mut st = s.lock();
    let Some(link) = st.enrollment_links.remove(token) else {
        return page(404, "This link is not valid, or has been used already.");
    };
    if now_ms() > link.expires_ms {
        return page(410, "This link has expired.");
    }
    let now = st.now();
    let Some(profile) = st.generic.get_mut(PROFILES, &link.profile) else {
        return page(404, "This user profile no longer exists.");
    };
    profile["external_user_onboarded_at"] = json!(now);
    if !profile["external_user_details"].is_object() {
        profile["external_user_details"] = json!({});
    }
    profile["external_user_details"]["onboarded_at"] = json!(now);
    profile["updated_at"] = Value::String(now);
    page(200, "You are enrolled. You can close this page.")
}
