//! The emulator's OAuth server, driven with the exact requests the official
//! CLI and SDK send: authorize (validation, approval, denial, the code
//! page), the three token grants with their RFC 6749 errors, and issued
//! tokens on API routes (accepted, refused once expired).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::support::{Resp, start};

const CLIENT: &str = "41077d10-94b8-4194-be48-d251e9eb21b4";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// S256 of VERIFIER (RFC 7636, appendix B).
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const LOOPBACK: &str = "http://localhost:7777/callback";

/// One request with exactly these headers (plus host and length).
fn call(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: raw[split..].to_vec(),
    }
}

fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The query of an authorize request as the official CLI builds it.
fn authorize_query(redirect: &str, extra: &[(&str, &str)]) -> String {
    let mut p = vec![
        ("client_id", CLIENT),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("redirect_uri", redirect),
        ("response_type", "code"),
        ("scope", "user:profile user:inference user:developer"),
        ("state", "st4te"),
    ];
    p.extend_from_slice(extra);
    query(&p)
}

fn location_params(r: &Resp) -> Vec<(String, String)> {
    let loc = r.header("location").expect("a redirect");
    let q = loc.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn param(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// Authorizes with the loopback redirect and returns the code.
fn code(addr: &str) -> String {
    let r = call(
        addr,
        "GET",
        &format!("/oauth/authorize?{}", authorize_query(LOOPBACK, &[])),
        &[],
        b"",
    );
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    let p = location_params(&r);
    assert_eq!(param(&p, "state").as_deref(), Some("st4te"));
    param(&p, "code").expect("a code")
}

/// The official CLI's authorization_code exchange (form-encoded, no beta).
fn exchange(addr: &str, code: &str, verifier: &str, redirect: &str) -> Resp {
    let form = query(&[
        ("client_id", CLIENT),
        ("code", code),
        ("code_verifier", verifier),
        ("grant_type", "authorization_code"),
        ("redirect_uri", redirect),
        ("state", "st4te"),
    ]);
    call(
        addr,
        "POST",
        "/v1/oauth/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    )
}

fn json_post(addr: &str, body: Value, headers: &[(&str, &str)]) -> Resp {
    let mut h = vec![("content-type", "application/json")];
    h.extend_from_slice(headers);
    call(
        addr,
        "POST",
        "/v1/oauth/token",
        &h,
        body.to_string().as_bytes(),
    )
}

fn jwt(claims: Value) -> String {
    let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.sig", part(json!({"alg": "RS256"})), part(claims))
}

fn list_agents(addr: &str, token: &str, beta: &str) -> Resp {
    call(
        addr,
        "GET",
        "/v1/agents?beta=true",
        &[
            ("authorization", &format!("Bearer {token}")),
            ("anthropic-beta", beta),
        ],
        b"",
    )
}

#[test]
fn authorize_checks_every_parameter() {
    let (_h, c) = start(Default::default());
    let a = c.addr.as_str();
    let get = |q: String| call(a, "GET", &format!("/oauth/authorize?{q}"), &[], b"");
    // No client or a foreign redirect: an error page, never a redirect.
    let r = get(query(&[("redirect_uri", LOOPBACK)]));
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("client_id is required"));
    let r = get(authorize_query("http://evil.example/callback", &[]));
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    // With a good redirect, errors go back to it (RFC 6749 4.1.2.1).
    for (bad, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge", "short")], "invalid_request"),
    ] {
        let mut q: Vec<(String, String)> =
            form_urlencoded::parse(authorize_query(LOOPBACK, &[]).as_bytes())
                .into_owned()
                .collect();
        for (k, v) in &bad {
            q.retain(|(qk, _)| qk != k);
            q.push((k.to_string(), v.to_string()));
        }
        let r = get(query(
            &q.iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        ));
        assert_eq!(r.status, 302, "{bad:?}");
        let p = location_params(&r);
        assert_eq!(param(&p, "error").as_deref(), Some(error), "{bad:?}");
        assert_eq!(param(&p, "state").as_deref(), Some("st4te"));
        assert!(r.header("location").unwrap().starts_with(LOOPBACK));
    }
    // Without a state (the client's CSRF check) no code is issued.
    let no_state = authorize_query(LOOPBACK, &[]).replace("&state=st4te", "");
    let r = get(no_state);
    assert_eq!(r.status, 302);
    let p = location_params(&r);
    assert_eq!(param(&p, "error").as_deref(), Some("invalid_request"));
    assert!(param(&p, "code").is_none());
}

#[test]
fn the_manual_redirect_shows_code_and_state_to_paste() {
    let (_h, c) = start(Default::default());
    let a = c.addr.as_str();
    let manual = format!("http://{a}/oauth/code/callback?app=anthropic-cli");
    let r = call(
        a,
        "GET",
        &format!("/oauth/authorize?{}", authorize_query(&manual, &[])),
        &[],
        b"",
    );
    assert_eq!(r.status, 302);
    let loc = r.header("location").unwrap().to_string();
    assert!(loc.starts_with(&format!("{manual}&code=")), "{loc}");
    let page = call(
        a,
        "GET",
        loc.trim_start_matches(&format!("http://{a}")),
        &[],
        b"",
    );
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = String::from_utf8_lossy(&page.body);
    let shown = html
        .split("<code id=\"code\">")
        .nth(1)
        .unwrap()
        .split("</code>")
        .next()
        .unwrap();
    let (code, state) = shown.split_once('#').unwrap();
    assert_eq!(state, "st4te");
    // The code works with the manual redirect, and only with it.
    assert_eq!(exchange(a, code, VERIFIER, LOOPBACK).status, 400);
    let code2 = {
        let r = call(
            a,
            "GET",
            &format!("/oauth/authorize?{}", authorize_query(&manual, &[])),
            &[],
            b"",
        );
        param(&location_params(&r), "code").unwrap()
    };
    assert_eq!(exchange(a, &code2, VERIFIER, &manual).status, 200);
}

#[test]
fn denial_is_access_denied_at_the_redirect() {
    let (_h, c) = start(ant_mock::Config {
        oauth_deny: true,
        ..Default::default()
    });
    let r = call(
        &c.addr,
        "GET",
        &format!("/oauth/authorize?{}", authorize_query(LOOPBACK, &[])),
        &[],
        b"",
    );
    assert_eq!(r.status, 302);
    let p = location_params(&r);
    assert_eq!(param(&p, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&p, "state").as_deref(), Some("st4te"));
    assert!(param(&p, "code").is_none());
}

#[test]
fn codes_are_single_use_and_bound_to_verifier_and_redirect() {
    let (_h, c) = start(Default::default());
    let a = c.addr.as_str();
    let err = |r: &Resp| r.json()["error"].as_str().unwrap_or_default().to_string();
    let code1 = code(a);
    let r = exchange(a, &code1, &format!("{VERIFIER}x"), LOOPBACK);
    assert_eq!((r.status, err(&r)), (400, "invalid_grant".into()));
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("code_verifier")
    );
    let r = exchange(a, &code1, VERIFIER, "http://localhost:1/callback");
    assert_eq!((r.status, err(&r)), (400, "invalid_grant".into()));
    // A state other than the authorization's (the official sends it).
    let form = query(&[
        ("client_id", CLIENT),
        ("code", &code1),
        ("code_verifier", VERIFIER),
        ("grant_type", "authorization_code"),
        ("redirect_uri", LOOPBACK),
        ("state", "other"),
    ]);
    let form_type = [("content-type", "application/x-www-form-urlencoded")];
    let r = call(a, "POST", "/v1/oauth/token", &form_type, form.as_bytes());
    assert_eq!((r.status, err(&r)), (400, "invalid_grant".into()));
    let r = exchange(a, &code1, VERIFIER, LOOPBACK);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let t = r.json();
    for key in [
        "access_token",
        "refresh_token",
        "expires_in",
        "token_type",
        "scope",
        "organization",
        "account",
        "workspace",
    ] {
        assert!(t.get(key).is_some(), "{key} missing: {t}");
    }
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    let r = exchange(a, &code1, VERIFIER, LOOPBACK);
    assert_eq!(
        (r.status, err(&r)),
        (400, "invalid_grant".into()),
        "single use"
    );
    let r = json_post(a, json!({"grant_type": "password"}), &[]);
    assert_eq!((r.status, err(&r)), (400, "unsupported_grant_type".into()));
    // The authorize hints bind the token to an org and workspace.
    let r = call(
        a,
        "GET",
        &format!(
            "/oauth/authorize?{}",
            authorize_query(
                LOOPBACK,
                &[("orgUUID", "org-9"), ("workspace_id", "wrkspc_9")]
            )
        ),
        &[],
        b"",
    );
    let code2 = param(&location_params(&r), "code").unwrap();
    let t = exchange(a, &code2, VERIFIER, LOOPBACK).json();
    assert_eq!(t["organization"]["uuid"], "org-9");
    assert_eq!(t["workspace"]["id"], "wrkspc_9");
}

#[test]
fn refresh_tokens_rotate_and_issued_tokens_work_until_they_expire() {
    let (_h, c) = start(ant_mock::Config {
        token_ttl: 1,
        ..Default::default()
    });
    let a = c.addr.as_str();
    let first = exchange(a, &code(a), VERIFIER, LOOPBACK).json();
    let access = first["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        list_agents(a, &access, "managed-agents-2026-04-01,oauth-2025-04-20").status,
        200
    );
    // Without the OAuth beta the token is refused.
    let r = list_agents(a, &access, "managed-agents-2026-04-01");
    assert_eq!(r.status, 401);
    assert!(r.message().contains("oauth-2025-04-20"));
    // The official refresh: JSON with the OAuth beta.
    let refresh = |rt: &str| {
        json_post(
            a,
            json!({"client_id": CLIENT, "grant_type": "refresh_token", "refresh_token": rt}),
            &[("anthropic-beta", "oauth-2025-04-20")],
        )
    };
    let rt1 = first["refresh_token"].as_str().unwrap();
    let second = refresh(rt1);
    assert_eq!(second.status, 200);
    let rt2 = second.json()["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt2, rt1);
    assert_eq!(
        refresh(rt1).json()["error"],
        "invalid_grant",
        "rotated away"
    );
    let wrong_client = json_post(
        a,
        json!({"client_id": "other", "grant_type": "refresh_token", "refresh_token": rt2}),
        &[],
    );
    assert_eq!(wrong_client.json()["error"], "invalid_grant");
    std::thread::sleep(Duration::from_millis(1100));
    let r = list_agents(a, &access, "oauth-2025-04-20");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["type"], "authentication_error");
    assert!(r.message().contains("expired"));
    // Unknown tokens of the emulator's kind are refused; other bearer
    // values stay accepted like API keys.
    assert_eq!(
        list_agents(a, "sk-ant-oat01-antmock-nope", "oauth-2025-04-20").status,
        401
    );
    assert_eq!(list_agents(a, "any-gateway-token", "").status, 200);
}

#[test]
fn the_jwt_bearer_grant_checks_the_rule_and_the_assertion() {
    let (_h, c) = start(ant_mock::Config {
        federation_rule: Some("fdrl_01only".into()),
        ..Default::default()
    });
    let a = c.addr.as_str();
    let beta = [(
        "anthropic-beta",
        "oauth-2025-04-20,oidc-federation-2026-04-01",
    )];
    let body = |assertion: &str, rule: &str| {
        json!({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion,
               "federation_rule_id": rule, "organization_id": "org-1", "service_account_id": "svac_1"})
    };
    let good = jwt(json!({"sub": "repo:acme/app", "exp": 4_000_000_000u64}));
    let r = json_post(a, body(&good, "fdrl_01only"), &beta);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let t = r.json();
    assert_eq!(t["token_type"], "Bearer");
    assert!(t.get("refresh_token").is_none());
    assert_eq!(t["organization"]["uuid"], "org-1");
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(list_agents(a, access, "oauth-2025-04-20").status, 200);
    for (assertion, rule) in [
        (good.as_str(), "fdrl_01other"),
        ("not-a-jwt", "fdrl_01only"),
        (&jwt(json!({"exp": 1})), "fdrl_01only"),
    ] {
        let r = json_post(a, body(assertion, rule), &beta);
        assert_eq!(r.status, 401, "{assertion} {rule}");
        assert_eq!(r.json()["error"], "invalid_grant");
    }
    let r = json_post(
        a,
        json!({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": good}),
        &beta,
    );
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (400, json!("invalid_request"))
    );
}

#[test]
fn any_configured_lifetime_issues_tokens() {
    // The expiry once overflowed (and the handler panicked) for huge TTLs.
    let (_h, c) = start(ant_mock::Config {
        token_ttl: u64::MAX,
        ..Default::default()
    });
    let a = c.addr.as_str();
    let t = exchange(a, &code(a), VERIFIER, LOOPBACK);
    assert_eq!(t.status, 200, "{}", String::from_utf8_lossy(&t.body));
    let access = t.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(list_agents(a, &access, "oauth-2025-04-20").status, 200);
}
