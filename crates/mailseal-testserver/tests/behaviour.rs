//! Behaviour the recordings do not cover directly: the default users, the 0.15 mode,
//! brute-force bans, expired and scoped credentials, id reuse, back-references, TOTP
//! windows on password change, what is stored, and the binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use mailseal_testserver::config::{ALICE_PASSWORD, AuthBanConfig, BOB_PASSWORD, CAROL_PASSWORD};
use mailseal_testserver::directory::CredentialPermissions;
use mailseal_testserver::permissions::PermissionSet;
use mailseal_testserver::{Config, CredentialSeed, TestServer};
use serde_json::{Value, json};

const ALICE: &str = "alice@example.org";
const URL_160: &str = "otpauth://totp/Example:alice%40example.org?secret=VIAKPKZJUNR2QLJSTVDLEG7V5D3TP7FI&issuer=Example&algorithm=SHA1&digits=6&period=30";

fn basic(user: &str, secret: &str) -> String {
    let raw = format!("{user}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(server: &TestServer) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.base_url(),
        }
    }

    async fn get(&self, path: &str, auth: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Authorization", auth)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Sends method calls; returns the HTTP status and the method responses (or the body).
    async fn jmap(&self, auth: &str, calls: Value) -> (u16, Value) {
        let body = json!({"using": ["urn:ietf:params:jmap:core", "urn:stalwart:jmap"], "methodCalls": calls});
        let response = self
            .http
            .post(format!("{}/jmap/", self.base))
            .header("Authorization", auth)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let value: Value = response.json().await.unwrap();
        (
            status,
            value.get("methodResponses").cloned().unwrap_or(value),
        )
    }
}

fn frozen(server: &TestServer) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    server.freeze_clock(UNIX_EPOCH + Duration::from_secs(now - now % 30 + 15));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_users_have_the_documented_permissions() {
    let server = TestServer::start(Config::default()).await.unwrap();
    let client = Client::new(&server);

    let (status, _, alice) = client
        .get("/api/account", &basic(ALICE, ALICE_PASSWORD))
        .await;
    assert_eq!(status, 200);
    assert_eq!(alice["permissions"].as_array().unwrap().len(), 239);

    let bob = basic("bob@example.org", BOB_PASSWORD);
    let (_, _, account) = client.get("/api/account", &bob).await;
    let permissions = account["permissions"].as_array().unwrap();
    assert_eq!(permissions.len(), 220);
    assert!(!permissions.contains(&json!("sysAppPasswordCreate")));
    let (_, responses) = client
        .jmap(
            &bob,
            json!([["x:AppPassword/set", {"create": {"a": {"description": "x"}}}, "a"]]),
        )
        .await;
    assert_eq!(
        responses[0],
        json!(["error", {"type": "forbidden", "description": "You are not authorized to create, update or destroy objects of this type"}, "a"])
    );

    let carol = basic("carol@example.org", CAROL_PASSWORD);
    let (_, _, account) = client.get("/api/account", &carol).await;
    let permissions = account["permissions"].as_array().unwrap();
    assert!(!permissions.contains(&json!("sysAccountPasswordUpdate")));
    assert!(permissions.contains(&json!("sysAppPasswordCreate")));
    let (_, responses) = client
        .jmap(
            &carol,
            json!([["x:AccountPassword/set", {"update": {"singleton": {
            "currentSecret": CAROL_PASSWORD, "secret": "another-Long-passphrase-99"}}}, "p"]]),
        )
        .await;
    assert_eq!(
        responses[0][1]["notUpdated"]["singleton"],
        json!({"type": "forbidden", "description": "Operation not allowed."})
    );
    assert_eq!(
        server.password("carol@example.org").as_deref(),
        Some(CAROL_PASSWORD)
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_0_15_has_no_stalwart_api() {
    let server = TestServer::start(Config::v0_15()).await.unwrap();
    let client = Client::new(&server);
    let alice = basic(ALICE, ALICE_PASSWORD);
    let (status, _, session) = client.get("/jmap/session", &alice).await;
    assert_eq!(status, 200);
    assert!(!session.to_string().contains("urn:stalwart:jmap"));
    let (status, headers, body) = client.get("/api/account", &alice).await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["title"], "Not Found");
    // urn:stalwart:jmap is an unknown capability there
    let (status, body) = client.jmap(&alice, json!([])).await;
    assert_eq!(status, 400);
    assert_eq!(body["type"], "urn:ietf:params:jmap:error:notRequest");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_lead_to_429_then_403_when_enabled() {
    let config = Config {
        auth_ban: Some(AuthBanConfig {
            max_failures: 2,
            window_secs: 600,
        }),
        ..Config::default()
    };
    let server = TestServer::start(config).await.unwrap();
    let client = Client::new(&server);
    let wrong = basic(ALICE, "not-the-password");
    for _ in 0..2 {
        assert_eq!(client.get("/jmap/session", &wrong).await.0, 401);
    }
    let (status, _, body) = client.get("/jmap/session", &wrong).await;
    assert_eq!(status, 429);
    assert_eq!(body["title"], "Too Many Authentication Attempts");
    let (status, _, _) = client
        .get("/jmap/session", &basic(ALICE, ALICE_PASSWORD))
        .await;
    assert_eq!(status, 403);
    server.reset_auth_bans();
    assert_eq!(
        client
            .get("/jmap/session", &basic(ALICE, ALICE_PASSWORD))
            .await
            .0,
        200
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_scoped_credentials() {
    let server = TestServer::start(Config::default()).await.unwrap();
    let client = Client::new(&server);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (_, expired) = server
        .add_app_password(
            ALICE,
            CredentialSeed {
                description: "old".to_owned(),
                expires_at: Some(i64::try_from(now).unwrap() - 60),
                ..CredentialSeed::default()
            },
        )
        .unwrap();
    let (status, headers, body) = client.get("/jmap/session", &basic(ALICE, &expired)).await;
    assert_eq!(status, 401);
    assert!(headers.get("www-authenticate").is_none());
    assert_eq!(body["detail"], "You have to authenticate first.");

    // A key that may only read app passwords cannot mint a broader one.
    let (_, key) = server
        .add_api_key(
            ALICE,
            CredentialSeed {
                description: "read only".to_owned(),
                permissions: CredentialPermissions::Replace {
                    permissions: PermissionSet::from_names([
                        "authenticate",
                        "sysAppPasswordGet",
                        "sysAppPasswordCreate",
                    ]),
                },
                ..CredentialSeed::default()
            },
        )
        .unwrap();
    let bearer = format!("Bearer {key}");
    let (_, _, account) = client.get("/api/account", &bearer).await;
    assert_eq!(account["permissions"].as_array().unwrap().len(), 3);
    let (_, responses) = client
        .jmap(
            &bearer,
            json!([["x:AppPassword/set", {"create": {"n": {"description": "wide"}}}, "c"]]),
        )
        .await;
    let err = &responses[0][1]["notCreated"]["n"];
    assert_eq!(err["type"], "forbidden");
    assert!(
        err["description"]
            .as_str()
            .unwrap()
            .starts_with("You are not authorized to grant permissions: ")
            && err["description"].as_str().unwrap().ends_with(" more"),
        "{err}"
    );
    let (_, responses) = client
        .jmap(&bearer, json!([["x:AccountSettings/get", {}, "s"]]))
        .await;
    assert_eq!(responses[0][0], "error");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_ids_are_one_more_than_the_highest_and_come_back() {
    let server = TestServer::start(Config::default()).await.unwrap();
    let client = Client::new(&server);
    let alice = basic(ALICE, ALICE_PASSWORD);
    let create =
        |cid: &str| json!(["x:AppPassword/set", {"create": {cid: {"description": cid}}}, "c"]);
    let (_, r) = client
        .jmap(&alice, json!([create("one"), create("two")]))
        .await;
    assert_eq!(r[0][1]["created"]["one"]["id"], "b");
    assert_eq!(r[1][1]["created"]["two"]["id"], "c");
    let (_, r) = client
        .jmap(
            &alice,
            json!([["x:ApiKey/set", {"create": {"k": {"description": "k"}}}, "k"]]),
        )
        .await;
    assert_eq!(r[0][1]["created"]["k"]["id"], "d", "shared numbering");
    let (_, r) = client
        .jmap(
            &alice,
            json!([["x:ApiKey/set", {"destroy": ["d"]}, "d"], create("three")]),
        )
        .await;
    assert_eq!(
        r[1][1]["created"]["three"]["id"], "d",
        "reused after destroy"
    );
    let (_, r) = client
        .jmap(
            &alice,
            json!([["x:AppPassword/set", {"destroy": ["b"]}, "d"], create("four")]),
        )
        .await;
    assert_eq!(r[1][1]["created"]["four"]["id"], "e", "a gap is not filled");
    // the password credential cannot be destroyed
    let (_, r) = client
        .jmap(
            &alice,
            json!([["x:AppPassword/set", {"destroy": ["a"]}, "d"]]),
        )
        .await;
    assert_eq!(r[0][1]["notDestroyed"]["a"]["type"], "forbidden");
    // what the client got is what is stored
    let stored: Vec<String> = server
        .app_passwords(ALICE)
        .iter()
        .map(|c| c.description.clone())
        .collect();
    assert_eq!(stored, ["two", "three", "four"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_of_one_call_are_handled_in_request_order() {
    let server = TestServer::start(Config::default()).await.unwrap();
    let client = Client::new(&server);
    let body = r#"{"using":["urn:ietf:params:jmap:core"],"methodCalls":[["x:AppPassword/set",
        {"create":{"z1":{"description":"z"},"a1":{"description":"a"}}},"c"]]}"#;
    let response: Value = client
        .http
        .post(format!("{}/jmap", client.base))
        .header("Authorization", basic(ALICE, ALICE_PASSWORD))
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = &response["methodResponses"][0][1]["created"];
    assert_eq!(created["z1"]["id"], "b");
    assert_eq!(created["a1"]["id"], "c");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_references_feed_a_query_into_a_get() {
    let server = TestServer::start(Config::default()).await.unwrap();
    let client = Client::new(&server);
    let alice = basic(ALICE, ALICE_PASSWORD);
    let (_, r) = client
        .jmap(
            &alice,
            json!([
                ["x:AppPassword/set", {"create": {"a": {"description": "A"}, "b": {"description": "B"}}}, "s"],
                ["x:AppPassword/query", {}, "q"],
                ["x:AppPassword/get", {"#ids": {"resultOf": "q", "name": "x:AppPassword/query", "path": "/ids"},
                                       "properties": ["description"]}, "g"],
                ["x:AppPassword/get", {"#ids": {"resultOf": "nope", "name": "x:AppPassword/query", "path": "/ids"}}, "x"]
            ]),
        )
        .await;
    assert_eq!(r[1][1]["ids"], json!(["c", "b"]), "newest first");
    assert_eq!(r[2][1]["list"].as_array().unwrap().len(), 2);
    assert_eq!(r[3][1]["type"], "invalidResultReference");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_codes_one_step_away_change_the_password_and_two_do_not() {
    let server = TestServer::start(Config::default()).await.unwrap();
    frozen(&server);
    server.set_otp_url(ALICE, Some(URL_160)).unwrap();
    let (_, helper) = server
        .add_app_password(
            ALICE,
            CredentialSeed {
                description: "helper".to_owned(),
                ..CredentialSeed::default()
            },
        )
        .unwrap();
    let client = Client::new(&server);
    let auth = basic(ALICE, &helper);
    assert_eq!(
        client
            .get("/jmap/session", &basic(ALICE, ALICE_PASSWORD))
            .await
            .0,
        402
    );

    let change = |code: String| {
        json!([["x:AccountPassword/set", {"update": {"singleton": {
            "currentSecret": ALICE_PASSWORD, "secret": "Rotated-alice-passphrase-31", "otpAuth/otpCode": code}}}, "p"]])
    };
    for offset in [-2, 2] {
        let code = server.totp_code(URL_160, offset).unwrap();
        let (_, r) = client.jmap(&auth, change(code)).await;
        assert_eq!(
            r[0][1]["notUpdated"]["singleton"]["description"], "Current secret is incorrect.",
            "offset {offset}"
        );
    }
    let (_, r) = client
        .jmap(&auth, change(server.totp_code(URL_160, 1).unwrap()))
        .await;
    assert_eq!(r[0][1]["updated"], json!({"singleton": null}));
    assert_eq!(
        server.password(ALICE).as_deref(),
        Some("Rotated-alice-passphrase-31")
    );
    assert_eq!(
        server.otp_url(ALICE).as_deref(),
        Some(URL_160),
        "TOTP stays on"
    );

    // moving the clock one step on turns the +1 code into the current one
    server.set_clock_offset(0);
    frozen(&server);
    let next = server.totp_code(URL_160, 1).unwrap();
    let now = server.now();
    server.freeze_clock(now + Duration::from_secs(30));
    assert_eq!(server.totp_code(URL_160, 0).unwrap(), next);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_state_is_readable_as_json() {
    let server = TestServer::start(Config::default()).await.unwrap();
    let client = Client::new(&server);
    let alice = basic(ALICE, ALICE_PASSWORD);
    let (_, r) = client
        .jmap(
            &alice,
            json!([["x:ApiKey/set", {"create": {"k": {"description": "ci"}}}, "k"]]),
        )
        .await;
    let secret = r[0][1]["created"]["k"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let state = server.state_json();
    let text = state.to_string();
    assert!(
        text.contains(&secret),
        "the stored secret is the one handed out"
    );
    assert_eq!(state["accounts"]["2"]["credentials"][1]["@type"], "ApiKey");
    assert_eq!(server.api_keys(ALICE)[0].secret, secret);
    server.stop().await;
}

#[test]
fn binary_prints_its_address_and_stops_when_stdin_closes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailseal-testserver"))
        .args(["--port", "0", "--version", "0.15"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().strip_prefix("listening ").unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        reqwest::get(format!("{url}/api/account"))
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(
        status, 401,
        "every /api request needs credentials on 0.15 (fixture 05)"
    );
    drop(child.stdin.take());
    let deadline = SystemTime::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        assert!(SystemTime::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn binary_refuses_a_bad_configuration() {
    let output = Command::new(env!("CARGO_BIN_EXE_mailseal-testserver"))
        .args(["--config-json", "{\"prot\": 1}"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .starts_with("mailseal-testserver: error: bad configuration")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_can_be_added_while_running_and_debug_output_hides_secrets() {
    let server = TestServer::start(Config::default()).await.unwrap();
    let id = server
        .add_user(&mailseal_testserver::UserConfig::user(
            "dave@example.org",
            "dave-Seeded-passphrase-5",
        ))
        .unwrap();
    assert_eq!(id, "f");
    assert!(
        server
            .add_user(&mailseal_testserver::UserConfig::user(
                "eve@elsewhere.test",
                "x"
            ))
            .is_err()
    );
    let client = Client::new(&server);
    let (status, _, session) = client
        .get(
            "/jmap/session",
            &basic("dave@example.org", "dave-Seeded-passphrase-5"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(session["username"], "dave@example.org");
    let debug = format!(
        "{server:?} {:?} {:?}",
        server.account(ALICE),
        Config::default()
    );
    assert!(!debug.contains(ALICE_PASSWORD), "{debug}");
    server.stop().await;
}

// ---- OAuth ---------------------------------------------------------------------------

const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CLIENT_ID: &str = "test-client";
const REDIRECT: &str = "https://client.example/cb";

/// POSTs a body to `path`; returns the status and the JSON answer.
async fn post(
    client: &Client,
    path: &str,
    content_type: &str,
    auth: Option<&str>,
    body: String,
) -> (u16, Value) {
    let mut request = client
        .http
        .post(format!("{}{path}", client.base))
        .header("Content-Type", content_type)
        .body(body);
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn form(client: &Client, path: &str, auth: Option<&str>, body: &str) -> (u16, Value) {
    post(
        client,
        path,
        "application/x-www-form-urlencoded",
        auth,
        body.to_owned(),
    )
    .await
}

/// Signs alice in through `/api/auth` (`code`: a TOTP code when TOTP is on) and exchanges
/// the code; returns the token answer.
async fn sign_in(client: &Client, password: &str, code: Option<String>) -> Value {
    let mut login = json!({"type": "authCode", "accountName": ALICE, "accountSecret": password,
        "clientId": CLIENT_ID, "redirectUri": REDIRECT, "scope": "openid offline_access",
        "codeChallenge": PKCE_CHALLENGE, "codeChallengeMethod": "S256"});
    if let Some(code) = code {
        login["mfaToken"] = json!(code);
    }
    let (status, answer) = post(
        client,
        "/api/auth",
        "application/json",
        None,
        login.to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["type"], "authenticated", "{answer}");
    let body = format!(
        "grant_type=authorization_code&code={}&client_id={CLIENT_ID}&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&code_verifier={PKCE_VERIFIER}",
        answer["client_code"].as_str().unwrap()
    );
    let (status, tokens) = form(client, "/auth/token", None, &body).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

fn bearer(token: &Value) -> String {
    format!("Bearer {}", token.as_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_revokes_every_oauth_token_but_a_totp_change_does_not() {
    let server = TestServer::start(Config::default()).await.unwrap();
    frozen(&server);
    let client = Client::new(&server);
    let (_, app_password) = server
        .add_app_password(
            ALICE,
            CredentialSeed {
                description: "helper".to_owned(),
                ..CredentialSeed::default()
            },
        )
        .unwrap();
    let tokens = sign_in(&client, ALICE_PASSWORD, None).await;
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "openid offline_access");
    assert_eq!(server.oauth_active_tokens(ALICE), 2);
    let access = bearer(&tokens["access_token"]);
    let (status, _, session) = client.get("/jmap/session", &access).await;
    assert_eq!(status, 200);
    assert_eq!(session["username"], ALICE);
    let (status, _, info) = client.get("/auth/userinfo", &access).await;
    assert_eq!((status, &info["sub"]), (200, &json!("2")));

    // TOTP on and off from the bearer session: no revocation
    let (_, r) = client
        .jmap(
            &access,
            json!([["x:AccountPassword/set", {"update": {"singleton": {
            "currentSecret": ALICE_PASSWORD, "otpAuth": {"otpUrl": URL_160}}}}, "t"]]),
        )
        .await;
    assert_eq!(r[0][1]["updated"], json!({"singleton": null}));
    let code = server.totp_code(URL_160, 0).unwrap();
    let (_, r) = client
        .jmap(&access, json!([["x:AccountPassword/set", {"update": {"singleton": {
            "currentSecret": ALICE_PASSWORD, "otpAuth": {"otpUrl": null, "otpCode": code}}}}, "t"]]))
        .await;
    assert_eq!(r[0][1]["updated"], json!({"singleton": null}));
    assert_eq!(server.oauth_active_tokens(ALICE), 2);

    // a password change from the bearer session revokes both tokens
    let (_, r) = client
        .jmap(
            &access,
            json!([["x:AccountPassword/set", {"update": {"singleton": {
            "currentSecret": ALICE_PASSWORD, "secret": "Rotated-alice-passphrase-31"}}}, "p"]]),
        )
        .await;
    assert_eq!(r[0][1]["updated"], json!({"singleton": null}));
    assert_eq!(server.oauth_active_tokens(ALICE), 0);
    let (status, headers, body) = client.get("/jmap/session", &access).await;
    assert_eq!(status, 401);
    assert_eq!(body["detail"], "You have to authenticate first.");
    assert_eq!(headers.get_all("WWW-Authenticate").iter().count(), 2);
    let refresh = format!(
        "grant_type=refresh_token&refresh_token={}&client_id={CLIENT_ID}",
        tokens["refresh_token"].as_str().unwrap()
    );
    let (status, answer) = form(&client, "/auth/token", None, &refresh).await;
    assert_eq!((status, answer), (400, json!({"error": "invalid_grant"})));
    let app = basic(ALICE, &app_password);
    let introspect = format!("token={}", tokens["refresh_token"].as_str().unwrap());
    let (status, answer) = form(&client, "/auth/introspect", Some(&app), &introspect).await;
    assert_eq!(
        (status, answer),
        (200, json!({"active": false})),
        "app passwords survive"
    );

    // the admin path and the seeding accessor revoke too
    let (access, _) = server.oauth_issue_tokens(ALICE).unwrap();
    assert_eq!(
        client
            .get("/jmap/session", &format!("Bearer {access}"))
            .await
            .0,
        200
    );
    let admin = basic(
        "admin@example.org",
        mailseal_testserver::config::ADMIN_PASSWORD,
    );
    let (_, r) = client
        .jmap(
            &admin,
            json!([["x:Account/set", {"update": {"c": {
            "credentials/0/secret": "Admin-set-alice-passphrase-8"}}}, "a"]]),
        )
        .await;
    assert_eq!(r[0][1]["updated"], json!({"c": null}), "{r}");
    assert_eq!(
        client
            .get("/jmap/session", &format!("Bearer {access}"))
            .await
            .0,
        401
    );
    let (access, _) = server.oauth_issue_tokens(ALICE).unwrap();
    server.set_password(ALICE, ALICE_PASSWORD).unwrap();
    assert_eq!(
        client
            .get("/jmap/session", &format!("Bearer {access}"))
            .await
            .0,
        401
    );
    assert_eq!(server.oauth_active_tokens(ALICE), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_grant_gives_access_tokens_and_a_new_refresh_token_only_near_the_end() {
    let server = TestServer::start(Config::default()).await.unwrap();
    let client = Client::new(&server);
    let tokens = sign_in(&client, ALICE_PASSWORD, None).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let refresh =
        format!("grant_type=refresh_token&refresh_token={refresh_token}&client_id={CLIENT_ID}");
    let (status, answer) = form(&client, "/auth/token", None, &refresh).await;
    assert_eq!(status, 200);
    let mut keys: Vec<&String> = answer.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["access_token", "expires_in", "token_type"]);
    assert_eq!(
        client
            .get("/jmap/session", &bearer(&answer["access_token"]))
            .await
            .0,
        200
    );
    assert_eq!(
        client
            .get("/jmap/session", &bearer(&tokens["access_token"]))
            .await
            .0,
        200
    );

    // failures
    let wrong = format!(
        "grant_type=refresh_token&refresh_token={}",
        tokens["access_token"].as_str().unwrap()
    );
    assert_eq!(
        form(&client, "/auth/token", None, &wrong).await,
        (400, json!({"error": "invalid_grant"}))
    );
    assert_eq!(
        form(&client, "/auth/token", None, "grant_type=refresh_token").await,
        (400, json!({"error": "invalid_request"}))
    );
    assert_eq!(
        client
            .get("/jmap/session", &bearer(&tokens["refresh_token"]))
            .await
            .0,
        401
    );

    // with 4 days or less left, the answer carries a new refresh token
    server.set_clock_offset(26 * 86_400 + 60);
    let (status, answer) = form(&client, "/auth/token", None, &refresh).await;
    assert_eq!(status, 200);
    let renewed = answer["refresh_token"].as_str().unwrap();
    assert_ne!(renewed, refresh_token);
    // after 30 days the old one is gone, the new one works
    server.set_clock_offset(30 * 86_400 + 60);
    assert_eq!(
        form(&client, "/auth/token", None, &refresh).await,
        (400, json!({"error": "invalid_grant"}))
    );
    let again = format!("grant_type=refresh_token&refresh_token={renewed}");
    assert_eq!(form(&client, "/auth/token", None, &again).await.0, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_device_codes_expire_by_the_server_clock_and_lifetimes_are_configurable() {
    let config: Config = serde_json::from_value(json!({"oauth": {
        "accessTokenTtlSecs": 60, "deviceCodeTtlSecs": 120, "deviceIntervalSecs": 0}}))
    .unwrap();
    assert_eq!(config.oauth.refresh_token_ttl_secs, 30 * 86_400);
    let server = TestServer::start(config).await.unwrap();
    let client = Client::new(&server);
    let tokens = sign_in(&client, ALICE_PASSWORD, None).await;
    assert_eq!(tokens["expires_in"], 60);
    let access = bearer(&tokens["access_token"]);
    assert_eq!(client.get("/jmap/session", &access).await.0, 200);
    server.set_clock_offset(61);
    assert_eq!(client.get("/jmap/session", &access).await.0, 401);
    assert_eq!(
        server.oauth_active_tokens(ALICE),
        1,
        "the refresh token is still valid"
    );
    // a clock before the issue time does not accept it either
    server.set_clock_offset(-60);
    assert_eq!(client.get("/jmap/session", &access).await.0, 401);
    server.set_clock_offset(0);
    assert_eq!(client.get("/jmap/session", &access).await.0, 200);

    // device grant with TOTP on
    server.set_otp_url(ALICE, Some(URL_160)).unwrap();
    let (status, device) = form(
        &client,
        "/auth/device",
        None,
        "client_id=dev&scope=openid+unknown",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (device["interval"].clone(), device["expires_in"].clone()),
        (json!(0), json!(120))
    );
    let poll = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code={}&client_id=dev",
        device["device_code"].as_str().unwrap()
    );
    assert_eq!(
        form(&client, "/auth/token", None, &poll).await,
        (400, json!({"error": "authorization_pending"}))
    );
    let approve = |code: Option<String>| {
        let mut body = json!({"type": "authDevice", "accountName": ALICE,
            "accountSecret": ALICE_PASSWORD, "code": device["user_code"]});
        if let Some(code) = code {
            body["mfaToken"] = json!(code);
        }
        body.to_string()
    };
    let (_, answer) = post(
        &client,
        "/api/auth",
        "application/json",
        None,
        approve(None),
    )
    .await;
    assert_eq!(answer, json!({"type": "mfaRequired"}));
    let (_, answer) = post(
        &client,
        "/api/auth",
        "application/json",
        None,
        approve(server.totp_code(URL_160, 0)),
    )
    .await;
    assert_eq!(answer, json!({"type": "verified"}));
    let (status, tokens) = form(&client, "/auth/token", None, &poll).await;
    assert_eq!(status, 200);
    assert_eq!(tokens["scope"], "openid");
    assert_eq!(tokens["expires_in"], 60);
    assert!(tokens["id_token"].is_string());
    assert_eq!(
        form(&client, "/auth/token", None, &poll).await,
        (400, json!({"error": "expired_token"}))
    );

    // an unapproved device code expires
    let (_, device) = form(&client, "/auth/device", None, "client_id=dev").await;
    let poll = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code={}&client_id=dev",
        device["device_code"].as_str().unwrap()
    );
    server.set_clock_offset(121);
    assert_eq!(
        form(&client, "/auth/token", None, &poll).await,
        (400, json!({"error": "expired_token"}))
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_0_15_reads_password_dollar_code_and_0_16_does_not() {
    let v15 = TestServer::start(Config::v0_15()).await.unwrap();
    let v16 = TestServer::start(Config::default()).await.unwrap();
    for server in [&v15, &v16] {
        frozen(server);
        server.set_otp_url(ALICE, Some(URL_160)).unwrap();
    }
    let c15 = Client::new(&v15);
    let c16 = Client::new(&v16);
    let (status, _, body) = c15
        .get("/jmap/session", &basic(ALICE, ALICE_PASSWORD))
        .await;
    assert_eq!(
        (status, &body["title"]),
        (402, &json!("TOTP code required"))
    );
    assert_eq!(
        body["detail"],
        "A TOTP code is required to authenticate this account. Try authenticating again using 'secret$totp_token'."
    );
    let (status, _, body) = c16
        .get("/jmap/session", &basic(ALICE, ALICE_PASSWORD))
        .await;
    assert_eq!((status, &body["title"]), (402, &json!("MFA code required")));

    let code = v15.totp_code(URL_160, 0).unwrap();
    let with_code = basic(ALICE, &format!("{ALICE_PASSWORD}${code}"));
    let (status, _, session) = c15.get("/jmap/session", &with_code).await;
    assert_eq!((status, &session["username"]), (200, &json!(ALICE)));
    assert_eq!(
        c16.get("/jmap/session", &with_code).await.0,
        401,
        "0.16 has no $ split"
    );
    let window: Vec<String> = (-1..=1).filter_map(|k| v15.totp_code(URL_160, k)).collect();
    let wrong = ["000000", "111111", "222222", "333333"]
        .into_iter()
        .find(|c| !window.iter().any(|w| w == c))
        .unwrap();
    let (status, _, _) = c15
        .get(
            "/jmap/session",
            &basic(ALICE, &format!("{ALICE_PASSWORD}${wrong}")),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _, _) = c15
        .get(
            "/jmap/session",
            &basic(ALICE, &format!("wrong-password${code}")),
        )
        .await;
    assert_eq!(status, 401);
    // without TOTP a $-suffixed secret is compared verbatim
    v15.set_otp_url(ALICE, None).unwrap();
    assert_eq!(c15.get("/jmap/session", &with_code).await.0, 401);
    v15.stop().await;
    v16.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_clients_need_s256_and_a_registered_redirect() {
    let server = TestServer::start(Config::default()).await.unwrap();
    let client = Client::new(&server);
    let register = json!({"client_name": "c", "redirect_uris": ["http://127.0.0.1/cb"],
        "token_endpoint_auth_method": "none", "scope": "openid offline_access"});
    let (status, answer) = post(
        &client,
        "/auth/register",
        "application/json",
        None,
        register.to_string(),
    )
    .await;
    assert_eq!(status, 201);
    let client_id = answer["client_id"].as_str().unwrap().to_owned();
    assert_eq!(client_id.len(), 109);
    let login = |redirect: &str, pkce: bool| {
        let mut body = json!({"type": "authCode", "accountName": ALICE, "accountSecret": ALICE_PASSWORD,
            "clientId": client_id, "redirectUri": redirect, "scope": "openid urn:ietf:params:oauth:scope:mail"});
        if pkce {
            body["codeChallenge"] = json!(PKCE_CHALLENGE);
            body["codeChallengeMethod"] = json!("S256");
        }
        body.to_string()
    };
    let api = |body: String| post(&client, "/api/auth", "application/json", None, body);
    assert_eq!(api(login("http://127.0.0.1:5000/cb", false)).await.0, 401);
    assert_eq!(api(login("http://127.0.0.1:5000/other", true)).await.0, 401);
    let (status, answer) = api(login("http://127.0.0.1:5000/cb", true)).await;
    assert_eq!(status, 200);
    let body = format!(
        "grant_type=authorization_code&code={}&client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb&code_verifier={PKCE_VERIFIER}",
        answer["client_code"].as_str().unwrap()
    );
    let (status, tokens) = form(&client, "/auth/token", None, &body).await;
    assert_eq!(status, 200);
    assert_eq!(
        tokens["scope"], "openid",
        "only the registered part of the scope"
    );
    // an id_token of the JWT shape (its signature is checked in the unit tests), and the
    // signing key at /auth/jwks.json
    let (status, _, jwks) = client.get("/auth/jwks.json", "").await;
    assert_eq!((status, &jwks["keys"][0]["crv"]), (200, &json!("P-256")));
    assert_eq!(tokens["id_token"].as_str().unwrap().split('.').count(), 3);
    server.stop().await;
}
