//! Replays the recorded Stalwart 0.16.19 transcripts (`tests/fixtures/stalwart-0.16.19/`, copied from the recordings)
//! against a fresh test server and compares every response with the recording.
//!
//! Requests are sent as recorded, with the README's placeholders replaced:
//! * `Basic <alice:password>` (and `old`, `new`, `wrong`, `admin`, `bob`) by real
//!   credentials; `<alice:app password>` and `<api key>` by the secrets this server
//!   returned earlier in the same file;
//! * `<current password>`, `<new password>`, `<wrong password>`, `<bob password>` in bodies,
//!   following alice's password as it changes;
//! * TOTP codes by codes computed now from the recorded `otpauth://` secret, keeping each
//!   recorded code's step offset (the offsets are found from the recorded codes);
//! * ids the server generates (PublicKey ids; the Role and Account the admin creates in
//!   case 11, whose recorded ids depend on the recording server's history) by the ids this
//!   server returned for the same creation id.
//!
//! Where the recording delivered mail over SMTP between two requests (step 12, see
//! `messages/results.json`), the harness calls `TestServer::deliver` at that point with the
//! server clock frozen at the recorded queueing time, and maps the recorded QueuedMessage id
//! and blobId to the ones this server handed out.
//!
//! Case 14 (OAuth): `Bearer <access token>`, `<refreshed access token>`, `<device access
//! token>` and `<refresh token>` are the tokens this server returned for the first
//! `authorization_code` exchange, the `refresh_token` grant and the device grant, and
//! `Basic <golden-native-client:>` is that client id with an empty secret. Codes, tokens,
//! device and user codes and the registered `swc1.…` client id in later request bodies (JSON
//! or form) are replaced by the ones this server returned for the recorded ones; the PKCE
//! verifiers and challenges are sent as recorded. In answers, tokens are compared by shape
//! and account, an `id_token` by header, claims and lifetime, `exp`/`iat` by their difference,
//! and `client_id_issued_at` only as a number.
//!
//! Responses must match in status, in the recorded headers (`Content-Type`, `Location`,
//! `WWW-Authenticate`, and none of these where none was recorded) and in the JSON body.
//! The README's volatile values are normalised on both sides: `sessionState`, `state`,
//! `queryState`, `createdAt`, the OAuth `client_code`, generated secrets (which must
//! still parse and carry the recorded credential and account ids), and the server
//! address. A `notRequest` detail that echoes the request must equal the bytes sent.
//! Everything else is compared exactly.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use mailseal_testserver::auth::tokens::{ApiKeyToken, AppPasswordToken};
use mailseal_testserver::auth::totp::code_at;
use mailseal_testserver::{Config, Delivery, PublicKeySeed, TestServer};
use serde_json::{Map, Value};

const RECORDED_BASE: &str = "http://127.0.0.1:18080";
const ALICE: &str = "alice@example.org";
const ORIGINAL: &str = "Original-alice-Passphrase-2026";
const NEW: &str = "Brand-new-Alice-passphrase-77";
const WRONG: &str = "definitely-Wrong-passphrase-0";
const ADMIN: &str = "Admin-golden-Passphrase-1";
const BOB: &str = "Bob-restricted-Passphrase-11";
const BOB_NEW: &str = "Bob-changed-Passphrase-12";

fn fixture_dir() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/stalwart-0.16.19");
    assert!(
        dir.is_dir(),
        "the Stalwart fixtures are expected at {} (copied into the repository)",
        dir.display()
    );
    dir
}

fn load(name: &str) -> Value {
    let path = fixture_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Exchanges replayed and how they went.
struct Report {
    fixture: String,
    matched: usize,
    skipped: Vec<(usize, &'static str)>,
    mismatches: Vec<String>,
}

/// Replay state for one fixture.
struct Replay {
    server: TestServer,
    client: reqwest::Client,
    base: String,
    /// Recorded id → id this server returned.
    ids: HashMap<String, String>,
    /// Password of each user as it currently is.
    passwords: HashMap<&'static str, String>,
    /// Secrets of created app passwords, with their create objects, in order.
    app_passwords: Vec<(Value, String)>,
    /// Secrets of created API keys, in order.
    api_keys: Vec<String>,
    /// Recorded TOTP code → offset in steps (None: a wrong code).
    totp_codes: HashMap<String, Option<i64>>,
    /// The otpauth URL the fixture enables.
    otp_url: Option<String>,
    /// Messages to deliver before a request (step 12).
    deliveries: Vec<PlannedDelivery>,
    /// Recorded OAuth secret (code, token, device/user code, registered client id) → the
    /// one this server returned; replaced in JSON strings and inside form bodies.
    secrets: HashMap<String, String>,
    /// Case 14's bearer tokens by placeholder name (`access`, `refresh`, `refreshed`,
    /// `device`).
    tokens: HashMap<&'static str, String>,
    /// Learn the ids of mail objects (`id`, `blobId`, `threadId`, query `ids`) from every
    /// answer, recorded against returned (case 15).
    learn_mail_ids: bool,
}

/// A message the recording delivered over SMTP before request `before`.
struct PlannedDelivery {
    before: usize,
    /// Entry of `messages/results.json` (`original`, `envelopeFrom`, `delivered`, `queue`).
    recorded: Value,
}

impl Replay {
    async fn start() -> Self {
        let server = TestServer::start(Config::recorded(ORIGINAL, ADMIN))
            .await
            .unwrap();
        // A fixed server time in the middle of a TOTP step, not before the capture date.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .max(1_795_330_000);
        server.freeze_clock(UNIX_EPOCH + Duration::from_secs(now - now % 30 + 15));
        let base = server.base_url();
        let mut passwords = HashMap::new();
        passwords.insert("alice", ORIGINAL.to_owned());
        passwords.insert("admin", ADMIN.to_owned());
        passwords.insert("bob", BOB.to_owned());
        Self {
            server,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base,
            ids: HashMap::new(),
            passwords,
            app_passwords: Vec::new(),
            api_keys: Vec::new(),
            totp_codes: HashMap::new(),
            otp_url: None,
            deliveries: Vec::new(),
            secrets: HashMap::new(),
            tokens: HashMap::new(),
            learn_mail_ids: false,
        }
    }

    /// Learns recorded → returned mail ids from two answers of the same shape: `id`,
    /// `blobId`, `threadId` values and `ids` lists, position by position. `Mailbox/get`
    /// lists are left out (the real server lists mailboxes in no fixed order).
    fn learn_mail_ids(&mut self, recorded: &Value, actual: &Value) {
        match (recorded, actual) {
            (Value::Array(r), Value::Array(a)) if r.len() == a.len() => {
                if r.first().and_then(Value::as_str) == Some("Mailbox/get") {
                    return;
                }
                for (r, a) in r.iter().zip(a) {
                    self.learn_mail_ids(r, a);
                }
            }
            (Value::Object(r), Value::Object(a)) => {
                for (key, rv) in r {
                    let Some(av) = a.get(key) else { continue };
                    match (key.as_str(), rv, av) {
                        ("id" | "blobId" | "threadId", Value::String(rs), Value::String(as_)) => {
                            if rs != as_ && !self.ids.contains_key(rs) {
                                self.ids.insert(rs.clone(), as_.clone());
                            }
                        }
                        ("ids", Value::Array(ri), Value::Array(ai)) if ri.len() == ai.len() => {
                            for (rs, as_) in ri.iter().zip(ai) {
                                if let (Some(rs), Some(as_)) = (rs.as_str(), as_.as_str())
                                    && rs != as_
                                    && !self.ids.contains_key(rs)
                                {
                                    self.ids.insert(rs.to_owned(), as_.to_owned());
                                }
                            }
                        }
                        _ => self.learn_mail_ids(rv, av),
                    }
                }
            }
            _ => {}
        }
    }

    /// Plans the SMTP deliveries of `setting` (`messages/results.json`): message n before
    /// request `before[n - 1]`.
    fn plan_deliveries(&mut self, setting: &str, before: &[usize]) {
        let results = load("messages/results.json");
        let entry = results
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["setting"] == setting)
            .unwrap_or_else(|| panic!("no setting {setting} in results.json"));
        let messages = entry["messages"].as_array().unwrap();
        assert_eq!(messages.len(), before.len());
        for (message, &before) in messages.iter().zip(before) {
            self.deliveries.push(PlannedDelivery {
                before,
                recorded: message.clone(),
            });
        }
    }

    /// Delivers the messages planned before request `index`, checking the outcome against
    /// the recording and learning the queue ids and blobIds.
    fn deliver_before(&mut self, index: usize) -> Result<(), String> {
        let planned: Vec<Value> = self
            .deliveries
            .iter()
            .filter(|d| d.before == index)
            .map(|d| d.recorded.clone())
            .collect();
        for recorded in planned {
            let queued = recorded["queue"].get(0);
            if let Some(at) = queued.and_then(|q| q["createdAt"].as_str()) {
                let at =
                    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                        .unwrap();
                self.server.freeze_clock(at.into());
            }
            let original = recorded["original"].as_str().unwrap();
            let message = std::fs::read(fixture_dir().join(original)).unwrap();
            let return_path = recorded["envelopeFrom"].as_str().unwrap();
            let outcome = self
                .server
                .deliver(ALICE, return_path, &message)
                .map_err(|e| e.to_string())?;
            match (outcome, queued, recorded["delivered"].as_bool()) {
                (
                    Delivery::Queued {
                        queue_id, blob_id, ..
                    },
                    Some(q),
                    Some(false),
                ) => {
                    self.ids
                        .insert(q["id"].as_str().unwrap().to_owned(), queue_id);
                    self.ids
                        .insert(q["blobId"].as_str().unwrap().to_owned(), blob_id);
                }
                (Delivery::Stored { .. }, None, Some(true)) => {}
                (outcome, _, delivered) => {
                    return Err(format!(
                        "delivery of {original}: {outcome:?}, recorded delivered = {delivered:?}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Finds the step offsets of the recorded codes from the otpauth URL of the fixture.
    fn learn_totp(&mut self, fixture: &Value) {
        let text = fixture["requests"].to_string();
        let Some(start) = text.find("otpauth://") else {
            return;
        };
        let url: String = text[start..].chars().take_while(|c| *c != '"').collect();
        let mut codes = Vec::new();
        for key in ["otpAuth/otpCode\":\"", "otpCode\":\"", "mfaToken\":\""] {
            for (pos, _) in text.match_indices(key) {
                let code: String = text[pos + key.len()..].chars().take(6).collect();
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
        }
        // The capture happened on 2026-11-22 around 05:43 UTC; search ±12 hours.
        let center: i64 = 1_795_325_000 / 30;
        // Most recorded codes in the window; on a tie (a single code, as in case 14) the
        // window where they sit nearest its centre.
        let mut best: (usize, i64, i64) = (0, i64::MIN, center);
        for step in center - 1440..center + 1440 {
            let matching: Vec<i64> = (-2..=2)
                .filter(|k| {
                    let code = code_at(&url, u64::try_from((step + k) * 30).unwrap()).unwrap();
                    codes.contains(&code)
                })
                .collect();
            let spread = -matching.iter().map(|k| k.abs()).sum::<i64>();
            if (matching.len(), spread) > (best.0, best.1) {
                best = (matching.len(), spread, step);
            }
        }
        let step = best.2;
        for code in codes {
            let offset = (-2..=2)
                .find(|k| code_at(&url, u64::try_from((step + k) * 30).unwrap()).unwrap() == code);
            self.totp_codes.insert(code, offset);
        }
        self.otp_url = Some(url);
    }

    /// The code to send for a recorded code.
    fn code_for(&self, recorded: &str) -> Option<String> {
        let url = self.otp_url.as_deref()?;
        match self.totp_codes.get(recorded)? {
            Some(offset) => self.server.totp_code(url, *offset),
            None => {
                // A wrong code: one that is not valid in the current window.
                let window: Vec<String> = (-1..=1)
                    .filter_map(|k| self.server.totp_code(url, k))
                    .collect();
                (0..1000)
                    .map(|n| format!("{:06}", (123_457 + n * 7919) % 1_000_000))
                    .find(|c| !window.contains(c))
            }
        }
    }

    fn authorization(&self, placeholder: &str) -> Option<String> {
        let basic = |user: &str, secret: &str| {
            let raw = format!("{user}:{secret}");
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        };
        Some(match placeholder {
            "Basic <alice:password>" | "Basic <alice:old password>" => basic(ALICE, ORIGINAL),
            "Basic <alice:new password>" => basic(ALICE, NEW),
            "Basic <alice:wrong password>" => basic(ALICE, WRONG),
            "Basic <admin:password>" => basic("admin@example.org", ADMIN),
            "Basic <bob:password>" => basic("bob@example.org", &self.passwords["bob"]),
            "Basic <alice:app password>" => basic(ALICE, &self.app_passwords.first()?.1),
            "Basic <alice:app password restricted to 10.9.9.9>" => {
                let (_, secret) = self
                    .app_passwords
                    .iter()
                    .find(|(create, _)| create["allowedIps"].get("10.9.9.9").is_some())?;
                basic(ALICE, secret)
            }
            "Bearer <api key>" => format!("Bearer {}", self.api_keys.first()?),
            "Basic <alice:api key>" => basic(ALICE, self.api_keys.first()?),
            "Bearer <access token>" => format!("Bearer {}", self.tokens.get("access")?),
            "Bearer <refreshed access token>" => {
                format!("Bearer {}", self.tokens.get("refreshed")?)
            }
            "Bearer <device access token>" => format!("Bearer {}", self.tokens.get("device")?),
            "Bearer <refresh token>" => format!("Bearer {}", self.tokens.get("refresh")?),
            "Basic <golden-native-client:>" => basic("golden-native-client", ""),
            _ => return None,
        })
    }

    /// Whose password `<current password>` means for a request.
    fn subject(authorization: Option<&str>) -> &'static str {
        match authorization {
            Some(a) if a.contains("<bob:") => "bob",
            _ => "alice",
        }
    }

    fn substitute(&self, value: &mut Value, subject: &'static str) {
        match value {
            Value::String(s) => {
                let current = self.passwords[subject].clone();
                let other = match subject {
                    "bob" => if current == BOB { BOB_NEW } else { BOB }.to_owned(),
                    _ => if current == ORIGINAL { NEW } else { ORIGINAL }.to_owned(),
                };
                let replacement = match s.as_str() {
                    "<current password>" => Some(current),
                    "<new password>" => Some(other),
                    "<wrong password>" => Some(WRONG.to_owned()),
                    "<bob password>" => Some(BOB.to_owned()),
                    text if text.len() == 6 && text.chars().all(|c| c.is_ascii_digit()) => {
                        self.code_for(text)
                    }
                    text => self
                        .ids
                        .get(text)
                        .or_else(|| self.secrets.get(text))
                        .cloned(),
                };
                if let Some(r) = replacement {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.substitute(i, subject)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut inner) in entries {
                    self.substitute(&mut inner, subject);
                    let key = self.ids.get(&key).cloned().unwrap_or(key);
                    map.insert(key, inner);
                }
            }
            _ => {}
        }
    }

    /// Learns generated ids and secrets from a JMAP response pair.
    fn learn(&mut self, request: &Value, recorded: &Value, actual: &Value) {
        let (Some(rec), Some(act)) = (
            recorded["methodResponses"].as_array(),
            actual["methodResponses"].as_array(),
        ) else {
            return;
        };
        let calls = request["methodCalls"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for (i, (r, a)) in rec.iter().zip(act).enumerate() {
            let (Some(rc), Some(ac)) = (r[1]["created"].as_object(), a[1]["created"].as_object())
            else {
                continue;
            };
            for (cid, robj) in rc {
                let aobj = &ac.get(cid).cloned().unwrap_or_default();
                if let (Some(rid), Some(aid)) = (robj["id"].as_str(), aobj["id"].as_str())
                    && rid != aid
                {
                    self.ids.insert(rid.to_owned(), aid.to_owned());
                }
                if let Some(secret) = aobj["secret"].as_str() {
                    if secret.starts_with("API_") {
                        self.api_keys.push(secret.to_owned());
                    } else {
                        let create = calls
                            .get(i)
                            .map(|c| c[1]["create"][cid].clone())
                            .unwrap_or_default();
                        self.app_passwords.push((create, secret.to_owned()));
                    }
                }
            }
        }
    }

    fn map_ids(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Some(id) = self.ids.get(s.as_str()) {
                    *s = id.clone();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.map_ids(i)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut inner) in entries {
                    self.map_ids(&mut inner);
                    map.insert(self.ids.get(&key).cloned().unwrap_or(key), inner);
                }
            }
            _ => {}
        }
    }

    /// Learns the OAuth secrets of a response (recorded → returned), and case 14's bearer
    /// tokens from `/auth/token` answers by grant type.
    fn learn_secrets(&mut self, path: &str, form: Option<&str>, recorded: &Value, actual: &Value) {
        for key in [
            "client_code",
            "access_token",
            "refresh_token",
            "id_token",
            "device_code",
            "user_code",
            "client_id",
        ] {
            if let (Some(r), Some(a)) = (recorded[key].as_str(), actual[key].as_str()) {
                self.secrets.insert(r.to_owned(), a.to_owned());
            }
        }
        if path != "/auth/token" {
            return;
        }
        let (Some(access), Some(form)) = (actual["access_token"].as_str(), form) else {
            return;
        };
        let grant = form
            .split('&')
            .find_map(|pair| pair.strip_prefix("grant_type="))
            .unwrap_or_default();
        match grant {
            "authorization_code" if !self.tokens.contains_key("access") => {
                self.tokens.insert("access", access.to_owned());
                if let Some(refresh) = actual["refresh_token"].as_str() {
                    self.tokens.insert("refresh", refresh.to_owned());
                }
            }
            "refresh_token" => {
                self.tokens.insert("refreshed", access.to_owned());
            }
            "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code" => {
                self.tokens.insert("device", access.to_owned());
            }
            _ => {}
        }
    }

    /// A form body with the recorded OAuth secrets replaced.
    fn replace_secrets(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_owned(), |text, (recorded, actual)| {
                text.replace(recorded.as_str(), actual)
            })
    }

    /// An `sw1.` token as `<token ACCOUNT>`: the shape of fixture 14 (about 95 characters,
    /// the last dot-separated part the account name in base64url).
    fn token_shape(token: &str) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = token.split('.').collect();
        match parts.as_slice() {
            ["sw1", body, name]
                if engine.decode(body).is_ok_and(|b| b.len() >= 32)
                    && (80..=110).contains(&token.len()) =>
            {
                match engine
                    .decode(name)
                    .ok()
                    .and_then(|n| String::from_utf8(n).ok())
                {
                    Some(name) => format!("<token {name}>"),
                    None => "<bad token>".to_owned(),
                }
            }
            _ => "<bad token>".to_owned(),
        }
    }

    /// An `id_token` as its header and claims, the times replaced by the lifetime
    /// (`exp - iat`, with `nbf == iat`), a registered client id by `<client id>`, and the
    /// recorded host by this server's.
    fn jwt_shape(&self, jwt: &str) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = jwt.split('.').collect();
        let decode = |part: &str| -> Option<Value> {
            serde_json::from_slice(&engine.decode(part).ok()?).ok()
        };
        let ([header, claims, signature], true) = (parts.as_slice(), parts.len() == 3) else {
            return "<bad jwt>".to_owned();
        };
        let (Some(header), Some(mut claims)) = (decode(header), decode(claims)) else {
            return "<bad jwt>".to_owned();
        };
        let signature_ok = engine.decode(signature).is_ok_and(|s| s.len() == 64);
        if let Some(map) = claims.as_object_mut() {
            let iat = map.remove("iat").and_then(|v| v.as_i64());
            let nbf = map.remove("nbf").and_then(|v| v.as_i64());
            let exp = map.remove("exp").and_then(|v| v.as_i64());
            let lifetime = match (iat, nbf, exp) {
                (Some(iat), Some(nbf), Some(exp)) if nbf == iat => Value::from(exp - iat),
                _ => Value::from("<bad times>"),
            };
            map.insert("<lifetime>".to_owned(), lifetime);
            if map["aud"]
                .as_str()
                .is_some_and(|aud| aud.starts_with("swc1."))
            {
                map.insert("aud".to_owned(), Value::from("<client id>"));
            }
        }
        self.normalise(&mut claims, None);
        format!("<jwt {header} {claims} signature ok: {signature_ok}>")
    }

    fn normalise(&self, value: &mut Value, key: Option<&str>) {
        match value {
            Value::String(s) => {
                let recorded_host = RECORDED_BASE.trim_start_matches("http://");
                let host = self.base.trim_start_matches("http://");
                *s = s.replace(recorded_host, host);
                match key {
                    Some("sessionState" | "state" | "queryState" | "oldState" | "newState") => {
                        *s = "<state>".to_owned();
                    }
                    Some("createdAt") => {
                        let valid = time::OffsetDateTime::parse(
                            s,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .is_ok();
                        *s = if valid { "<date>" } else { "<bad date>" }.to_owned();
                    }
                    Some("client_code") => {
                        let valid = s.len() == 40 && s.chars().all(|c| c.is_ascii_alphanumeric());
                        *s = if valid { "<code>" } else { "<bad code>" }.to_owned();
                    }
                    Some("device_code") => {
                        let valid = s.len() == 40 && s.chars().all(|c| c.is_ascii_alphanumeric());
                        *s = if valid { "<device code>" } else { "<bad code>" }.to_owned();
                    }
                    Some("user_code" | "verification_uri_complete") => {
                        let (head, code) = s.rsplit_once('=').unwrap_or(("", s.as_str()));
                        let valid = code.len() == 9
                            && code.char_indices().all(|(i, c)| {
                                if i == 4 {
                                    c == '-'
                                } else {
                                    "ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(c)
                                }
                            });
                        let code = if valid { "<user code>" } else { "<bad code>" };
                        *s = if head.is_empty() {
                            code.to_owned()
                        } else {
                            format!("{head}={code}")
                        };
                    }
                    Some("access_token" | "refresh_token") => *s = Self::token_shape(s),
                    Some("id_token") => *s = self.jwt_shape(s),
                    Some("client_id") if s.starts_with("swc1.") => {
                        let valid = s.len() == 109;
                        *s = if valid {
                            "<client id>"
                        } else {
                            "<bad client id>"
                        }
                        .to_owned();
                    }
                    Some("secret") if s.starts_with("app") || s.starts_with("API_") => {
                        *s = if let Some(t) = AppPasswordToken::parse(s) {
                            format!("<app password {}>", t.credential_id)
                        } else if let Some(t) = ApiKeyToken::parse(s) {
                            format!("<api key {}/{}>", t.account_id, t.credential_id)
                        } else {
                            "<bad secret>".to_owned()
                        };
                    }
                    _ => {}
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.normalise(i, key)),
            Value::Object(map) => {
                // Introspection: compare the lifetime, not the times.
                if let (Some(exp), Some(iat)) = (
                    map.get("exp").and_then(Value::as_i64),
                    map.get("iat").and_then(Value::as_i64),
                ) {
                    map.remove("exp");
                    map.remove("iat");
                    map.insert("<lifetime>".to_owned(), Value::from(exp - iat));
                }
                if let Some(issued) = map.get_mut("client_id_issued_at") {
                    *issued = Value::from(if issued.is_i64() {
                        "<time>"
                    } else {
                        "<bad time>"
                    });
                }
                for (k, inner) in map.iter_mut() {
                    self.normalise(inner, Some(k.as_str()));
                }
            }
            _ => {}
        }
    }

    async fn run(&mut self, name: &str, skip: &[(usize, &'static str)]) -> Report {
        let fixture = load(name);
        self.learn_totp(&fixture);
        let requests = fixture["requests"].as_array().unwrap().clone();
        let responses = fixture["responses"].as_array().unwrap().clone();
        let mut report = Report {
            fixture: name.to_owned(),
            matched: 0,
            skipped: Vec::new(),
            mismatches: Vec::new(),
        };
        for (i, (request, recorded)) in requests.iter().zip(&responses).enumerate() {
            if let Err(e) = self.deliver_before(i) {
                report.mismatches.push(format!("[{i}] {e}"));
            }
            if let Some((_, reason)) = skip.iter().find(|(n, _)| *n == i) {
                report.skipped.push((i, reason));
                continue;
            }
            match self.exchange(request, recorded).await {
                Ok(()) => report.matched += 1,
                Err(e) => report.mismatches.push(format!("[{i}] {e}")),
            }
        }
        report
    }

    async fn exchange(&mut self, request: &Value, recorded: &Value) -> Result<(), String> {
        let method =
            reqwest::Method::from_bytes(request["method"].as_str().unwrap().as_bytes()).unwrap();
        // Learned ids in the path (the blobId of a download).
        let path: String = request["path"]
            .as_str()
            .unwrap()
            .split('/')
            .map(|segment| self.ids.get(segment).map_or(segment, String::as_str))
            .collect::<Vec<_>>()
            .join("/");
        let path = path.as_str();
        let headers = request["headers"].as_object().cloned().unwrap_or_default();
        let auth_placeholder = headers.get("Authorization").and_then(Value::as_str);
        let subject = Self::subject(auth_placeholder);
        let mut builder = self.client.request(method, format!("{}{path}", self.base));
        if let Some(placeholder) = auth_placeholder {
            let value = self
                .authorization(placeholder)
                .ok_or_else(|| format!("unknown placeholder {placeholder}"))?;
            builder = builder.header("Authorization", value);
        }
        if let Some(ct) = headers.get("Content-Type").and_then(Value::as_str) {
            builder = builder.header("Content-Type", ct);
        }
        let mut sent_body = request["body"].clone();
        let body_text = match &mut sent_body {
            Value::Null => None,
            Value::String(text) => Some(self.replace_secrets(text)),
            other => {
                self.substitute(other, subject);
                Some(other.to_string())
            }
        };
        if let Some(text) = &body_text {
            builder = builder.body(text.clone());
        }
        let response = builder.send().await.map_err(|e| e.to_string())?;

        // Status and headers
        let status = response.status().as_u16();
        let recorded_status = recorded["status"].as_u64().unwrap_or(0);
        let mut errors = Vec::new();
        if u64::from(status) != recorded_status {
            errors.push(format!("status {status}, recorded {recorded_status}"));
        }
        let recorded_headers = recorded["headers"].as_object().cloned().unwrap_or_default();
        for name in ["Content-Type", "Location", "WWW-Authenticate"] {
            let actual: Vec<String> = response
                .headers()
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap_or_default().to_owned())
                .collect();
            let expected: Vec<String> = match recorded_headers.get(name) {
                None => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_owned())
                    .collect(),
                Some(v) => vec![v.as_str().unwrap_or_default().to_owned()],
            };
            if actual != expected {
                errors.push(format!("header {name}: {actual:?}, recorded {expected:?}"));
            }
        }

        // Body
        let text = response.text().await.map_err(|e| e.to_string())?;
        let mut expected = recorded["body"].clone();
        let mut actual = if expected.is_object() || expected.is_array() {
            serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text.clone()))
        } else {
            Value::String(text.clone())
        };
        if sent_body.is_object() {
            self.learn(&sent_body, &expected, &actual);
        }
        if self.learn_mail_ids {
            self.learn_mail_ids(&expected, &actual);
        }
        self.learn_secrets(path, body_text.as_deref(), &expected, &actual);
        self.map_ids(&mut expected);
        // A notRequest detail echoes the body as sent.
        if expected["type"] == "urn:ietf:params:jmap:error:notRequest"
            && let Some(detail) = expected["detail"].as_str()
            && let Ok(parsed) = serde_json::from_str::<Value>(detail)
            && parsed == request["body"]
            && let Some(text) = &body_text
        {
            expected["detail"] = Value::String(text.clone());
        }
        self.normalise(&mut expected, None);
        self.normalise(&mut actual, None);
        sort_mailbox_lists(&mut expected);
        sort_mailbox_lists(&mut actual);
        if let Some(diff) = first_difference(&expected, &actual, "") {
            errors.push(diff);
        }

        // Follow password changes.
        if status == 200
            && let Some(calls) = sent_body["methodCalls"].as_array()
        {
            for (call, reply) in calls
                .iter()
                .zip(actual["methodResponses"].as_array().into_iter().flatten())
            {
                if call[0] == "x:AccountPassword/set"
                    && reply[1]["updated"].get("singleton").is_some()
                    && let Some(secret) = call[1]["update"]["singleton"]["secret"].as_str()
                {
                    self.passwords.insert(subject, secret.to_owned());
                }
            }
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// Sorts the `list` of every `Mailbox/get` answer by id: the real server lists mailboxes
/// in no fixed order.
fn sort_mailbox_lists(body: &mut Value) {
    let responses = body
        .get_mut("methodResponses")
        .and_then(Value::as_array_mut);
    for response in responses.into_iter().flatten() {
        if response[0] == "Mailbox/get"
            && let Some(list) = response[1]["list"].as_array_mut()
        {
            list.sort_by(|a, b| a["id"].to_string().cmp(&b["id"].to_string()));
        }
    }
}

/// The first place where two JSON values differ, as `path: actual vs expected`.
fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for key in e.keys().chain(a.keys()) {
                let p = format!("{path}/{key}");
                match (e.get(key), a.get(key)) {
                    (Some(ev), Some(av)) => {
                        if let Some(d) = first_difference(ev, av, &p) {
                            return Some(d);
                        }
                    }
                    (Some(ev), None) => return Some(format!("{p}: missing, recorded {ev}")),
                    (None, Some(av)) => return Some(format!("{p}: {av}, not recorded")),
                    (None, None) => {}
                }
            }
            None
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Some(format!("{path}: {} items, recorded {}", a.len(), e.len()));
            }
            e.iter()
                .zip(a)
                .enumerate()
                .find_map(|(i, (ev, av))| first_difference(ev, av, &format!("{path}/{i}")))
        }
        (e, a) if e == a => None,
        (e, a) => Some(format!("{path}: {a}, recorded {e}")),
    }
}

fn check(report: &Report, exchanges: usize) {
    let skipped: Vec<String> = report
        .skipped
        .iter()
        .map(|(i, why)| format!("[{i}] {why}"))
        .collect();
    println!(
        "{}: {} of {} exchanges matched, {} skipped{}{}",
        report.fixture,
        report.matched,
        exchanges,
        report.skipped.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" ({})", skipped.join("; "))
        },
        if report.mismatches.is_empty() {
            String::new()
        } else {
            format!("\n  MISMATCH {}", report.mismatches.join("\n  MISMATCH "))
        }
    );
    assert!(
        report.mismatches.is_empty(),
        "{} has mismatches",
        report.fixture
    );
    assert_eq!(report.matched + report.skipped.len(), exchanges);
}

async fn replay(name: &str) {
    replay_with(name, |_| {}, &[]).await;
}

async fn replay_with(name: &str, setup: impl FnOnce(&TestServer), skip: &[(usize, &'static str)]) {
    let mut replay = Replay::start().await;
    setup(&replay.server);
    let report = replay.run(name, skip).await;
    let exchanges = load(name)["requests"].as_array().map_or(0, Vec::len);
    check(&report, exchanges);
    replay.server.stop().await;
}

/// The two keys case 08 leaves for case 09, with their recorded ids.
fn seed_case_08_keys(server: &TestServer) {
    let case_08 = load("08-public-keys.json");
    for (index, id) in [(0, "jpwj3wd2a1aa"), (3, "jpwj3weea3aa")] {
        let create = case_08["requests"][index]["body"]["methodCalls"][0][1]["create"]
            .as_object()
            .and_then(|m| m.values().next().cloned())
            .unwrap();
        server
            .add_public_key(
                ALICE,
                PublicKeySeed {
                    key: create["key"].as_str().unwrap().to_owned(),
                    description: create["description"].as_str().unwrap().to_owned(),
                    email_addresses: vec![ALICE.to_owned()],
                    id: Some(id.to_owned()),
                },
            )
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_01_discovery() {
    replay("01-discovery.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_02_api_account() {
    replay("02-api-account.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_03_self_service_get() {
    replay("03-self-service-get.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_04_password_change() {
    replay("04-password-change.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_05a_totp_lifecycle() {
    replay("05a-totp-lifecycle.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_05b_totp_short_secret() {
    replay("05b-totp-short-secret.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_06_app_passwords() {
    replay("06-app-passwords.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_07_api_keys() {
    replay("07-api-keys.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_08_public_keys() {
    replay("08-public-keys.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_09_account_settings_encryption() {
    replay_with(
        "09-account-settings-encryption.json",
        seed_case_08_keys,
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_10_protocol_errors() {
    replay("10-protocol-errors.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_11_restricted_user() {
    replay("11-restricted-user.json").await;
}

/// Message 1 waits in the queue at request [1] and is destroyed by [2]; message 2 arrives
/// after that (05:45:32, recorded in [3]).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_12_smime_ec_p256_aes128() {
    let name = "12-smime-ec-p256-aes128.json";
    let mut replay = Replay::start().await;
    replay.plan_deliveries("smime-ec-p256-aes128", &[1, 3]);
    let report = replay.run(name, &[]).await;
    let exchanges = load(name)["requests"].as_array().map_or(0, Vec::len);
    check(&report, exchanges);
    assert!(replay.server.queued_messages().is_empty());
    assert!(replay.server.stored_messages(ALICE).is_empty());
    replay.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_13_final_state() {
    replay("13-final-state.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_14_oauth_signin_with_totp() {
    replay("14-oauth-signin-with-totp.json").await;
}

/// Case 15: alice's older message (`eaaaaab`, in Inbox, unread) is seeded and the three
/// messages delivered at the recorded `receivedAt` (their SMTP text is the download of
/// [6]–[8] without the `Delivered-To` line the server adds); every mail id is learned from
/// the answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_15_reimport_for_retroactive_encryption() {
    let name = "15-reimport-for-retroactive-encryption.json";
    let fixture = load(name);
    let mut replay = Replay::start().await;
    replay.learn_mail_ids = true;
    let received = time::OffsetDateTime::parse(
        "2026-11-22T06:07:13Z",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let inbox = replay.server.mailbox_id(ALICE, "inbox").unwrap();
    let older = replay
        .server
        .add_email(
            ALICE,
            b"Delivered-To: alice@example.org\r\nFrom: <root@example.org>\r\nSubject: Hello from local SMTP\r\n\r\nHello.\r\n",
            &[&inbox],
            &[],
            received.unix_timestamp() - 3600,
        )
        .unwrap();
    replay.ids.insert("eaaaaab".to_owned(), older);
    replay.server.freeze_clock(received.into());
    for (index, sender) in [(6, "m1"), (7, "m2"), (8, "m3")] {
        let download = fixture["responses"][index]["body"].as_str().unwrap();
        let smtp = download
            .strip_prefix("Delivered-To: alice@example.org\r\n")
            .unwrap();
        let outcome = replay
            .server
            .deliver(
                ALICE,
                &format!("sender@reimport-{sender}.example.net"),
                smtp.as_bytes(),
            )
            .unwrap();
        assert!(matches!(outcome, Delivery::Stored { .. }));
    }
    let report = replay
        .run(
            name,
            &[(
                12,
                "bodyStructure is not served (and its part blobIds are Stalwart's); Thread/get, \
                 the header and subject queries of this request are checked in tests/mail.rs",
            )],
        )
        .await;
    check(&report, fixture["requests"].as_array().map_or(0, Vec::len));
    replay.server.stop().await;
}

#[test]
fn map_key_order_is_irrelevant_to_the_comparison() {
    let a: Value = serde_json::json!({"a": 1, "b": [1, {"c": 2}]});
    let b: Value = serde_json::json!({"b": [1, {"c": 2}], "a": 1});
    assert_eq!(first_difference(&a, &b, ""), None);
    let _ = Map::<String, Value>::new();
}
