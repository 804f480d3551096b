//! Credentials stay with the server the user named: a test server whose session object or
//! OAuth metadata sends the client to another port of 127.0.0.1 gets a typed refusal, and
//! the other port never sees a connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mailseal_jmap::{Client, ConnectOptions, Credential, Error, Secret};
use mailseal_testserver::config::ALICE_PASSWORD;
use mailseal_testserver::{Config, TestServer};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

const ALICE: &str = "alice@example.org";

/// A listener on 127.0.0.1 that counts the connections it gets and the bytes sent to it.
struct Catcher {
    port: u16,
    connections: Arc<AtomicUsize>,
    bytes: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Catcher {
    async fn start() -> Catcher {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let bytes = Arc::new(AtomicUsize::new(0));
        let (c, b) = (Arc::clone(&connections), Arc::clone(&bytes));
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let b = Arc::clone(&b);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        b.fetch_add(n, Ordering::SeqCst);
                    }
                });
            }
        });
        Catcher {
            port,
            connections,
            bytes,
            task,
        }
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn untouched(&self) -> bool {
        self.connections.load(Ordering::SeqCst) == 0 && self.bytes.load(Ordering::SeqCst) == 0
    }
}

impl Drop for Catcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn overrides(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn assert_foreign(e: &Error, what: &str, server: &str, catcher: &Catcher) {
    assert_eq!(e.code(), "jmap.foreign_origin", "{e}");
    match e {
        Error::ForeignOrigin {
            what: w,
            expected,
            found,
        } => {
            assert_eq!(w, what);
            assert_eq!(expected, server.trim_end_matches('/'));
            assert_eq!(found, &catcher.origin());
        }
        other => panic!("{other:?}"),
    }
    let text = e.to_string();
    assert!(text.contains(&catcher.origin()), "{text}");
    assert!(text.contains(server.trim_end_matches('/')), "{text}");
    assert!(catcher.untouched(), "the other origin was contacted");
}

#[tokio::test]
async fn session_urls_on_another_port_get_nothing() {
    for field in ["apiUrl", "uploadUrl", "downloadUrl", "eventSourceUrl"] {
        let catcher = Catcher::start().await;
        let server = TestServer::start(Config {
            session_overrides: overrides(&[(field, format!("{}/jmap/", catcher.origin()))]),
            ..Config::default()
        })
        .await
        .unwrap();
        let e = Client::connect(
            &server.base_url(),
            Credential::password(ALICE, ALICE_PASSWORD),
            &ConnectOptions::default(),
        )
        .await
        .unwrap_err();
        assert_foreign(&e, field, &server.base_url(), &catcher);
        server.stop().await;
    }
}

#[tokio::test]
async fn oauth_endpoints_on_another_port_get_no_password() {
    let catcher = Catcher::start().await;
    let server = TestServer::start(Config {
        oauth_metadata_overrides: overrides(&[(
            "token_endpoint",
            format!("{}/auth/token", catcher.origin()),
        )]),
        ..Config::default()
    })
    .await
    .unwrap();
    let e = Client::sign_in(
        &server.base_url(),
        ALICE,
        &Secret::new(ALICE_PASSWORD),
        None,
        &ConnectOptions::default(),
    )
    .await
    .unwrap_err();
    assert_foreign(&e, "token_endpoint", &server.base_url(), &catcher);
    server.stop().await;
}

#[tokio::test]
async fn a_well_behaved_server_still_connects() {
    let server = TestServer::start(Config::default()).await.unwrap();
    let client = Client::connect(
        &server.base_url(),
        Credential::password(ALICE, ALICE_PASSWORD),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    assert!(client.session().stalwart_jmap);
    assert!(client.password_state().await.unwrap().has_password);
    server.stop().await;
}

#[test]
fn errors_do_not_show_what_the_server_echoed() {
    // Stalwart echoes request bodies in `detail` and descriptions; Debug must not show them.
    let secret = "currentSecret\":\"hunter2-correct-horse";
    let errors = [
        Error::Request {
            status: 400,
            kind: "urn:ietf:params:jmap:error:notRequest".into(),
            detail: secret.into(),
        },
        Error::Unauthorized {
            detail: secret.into(),
        },
        Error::Method {
            kind: "invalidArguments".into(),
            description: Some(secret.into()),
        },
        Error::Set(mailseal_jmap::SetError {
            kind: "invalidPatch".into(),
            description: Some(secret.into()),
            properties: vec![],
            validation_errors: vec![],
            hint: None,
        }),
        Error::Protocol {
            detail: secret.into(),
        },
    ];
    for e in &errors {
        let debug = format!("{e:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains(e.code()), "{debug}");
    }
    assert!(!errors[0].to_string().contains("hunter2"));
}
