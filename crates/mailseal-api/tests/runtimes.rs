//! The facade's account calls from every kind of caller: awaited on a current-thread tokio
//! runtime, awaited on a multi-thread one, blocked on from inside a runtime's worker, and
//! blocked on from a plain thread. None may start a runtime inside a runtime (tokio panics
//! on that), and all must reach the same test server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mailseal_api::{AccountSession, ConnectOptions, ErrorKind, block_on};
use mailseal_testserver::config::ALICE_PASSWORD;
use mailseal_testserver::{Config, TestServer};

const ALICE: &str = "alice@example.org";

fn options() -> Option<ConnectOptions> {
    Some(ConnectOptions {
        timeout_seconds: 10,
        ..ConnectOptions::default()
    })
}

#[tokio::test(flavor = "current_thread")]
async fn awaited_on_a_current_thread_runtime() {
    // The server runs on this same single thread: the facade must not block it.
    let server = TestServer::start(Config::default()).await.unwrap();
    let alice = AccountSession::connect_password(
        server.base_url(),
        ALICE.into(),
        ALICE_PASSWORD.into(),
        options(),
    )
    .await
    .unwrap();
    assert!(!alice.totp_enabled().await.unwrap());
    assert!(!alice.availability().await.unwrap().server_too_old);
    let err = AccountSession::connect_password(
        server.base_url(),
        ALICE.into(),
        "not her password".into(),
        options(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_on_from_inside_a_runtime_worker() {
    let server = TestServer::start(Config::default()).await.unwrap();
    let url = server.base_url();
    // block_on waits on a channel: no nested runtime, no panic, even on a worker thread.
    let alice = block_on(AccountSession::connect_password(
        url.clone(),
        ALICE.into(),
        ALICE_PASSWORD.into(),
        options(),
    ))
    .unwrap();
    let session = alice.clone();
    assert!(!block_on(async move { session.totp_enabled().await }).unwrap());
    // And awaited on the same runtime, after that.
    assert_eq!(alice.list_app_passwords().await.unwrap(), Vec::new());
    server.stop().await;
}

#[test]
fn blocked_on_from_a_plain_thread() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(TestServer::start(Config::default())).unwrap();
    let url = server.base_url();
    let handle = std::thread::spawn(move || {
        let alice = block_on(AccountSession::connect_password(
            url,
            ALICE.into(),
            ALICE_PASSWORD.into(),
            options(),
        ))
        .unwrap();
        block_on(async move { alice.encryption_settings().await }).unwrap()
    });
    let settings = handle.join().unwrap();
    assert!(!settings.enabled);
    rt.block_on(server.stop());
}
