//! What a person runs into, said in their words, against the test server on 127.0.0.1: a
//! wrong password told apart from a wrong two-factor code, inputs refused before anything is
//! sent (empty secrets, the same password again, an expiry in the past), and the real cause
//! when the server cannot be reached.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailseal_jmap::{
    Client, CodeProvider, ConnectOptions, Credential, CredentialKind, NewCredential, Secret,
    TotpEnrollment,
};
use mailseal_testserver::config::ALICE_PASSWORD;
use mailseal_testserver::{Config, TestServer};

const ALICE: &str = "alice@example.org";
const NEW_PASSWORD: &str = "a-brand-new Passphrase for alice 42";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn connect(server: &TestServer, credential: Credential) -> Client {
    Client::connect(&server.base_url(), credential, &ConnectOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_wrong_password_and_a_wrong_code_are_told_apart() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let alice = connect(&s, Credential::password(ALICE, ALICE_PASSWORD)).await;

    // Two-factor off: "Current secret is incorrect." means the password.
    let e = alice
        .change_password(
            &Secret::new("not the password"),
            &Secret::new(NEW_PASSWORD),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "jmap.wrong_password", "{e}");
    assert!(e.to_string().contains("password is not right"), "{e}");

    // Two-factor on: the same answer for a wrong code, told apart by checking the password.
    let enrollment = TotpEnrollment::new("Example", ALICE).unwrap();
    s.set_otp_url(ALICE, Some(enrollment.url().expose()))
        .unwrap();
    let enrollment = Arc::new(enrollment);
    let codes: Arc<dyn CodeProvider> = {
        let e = Arc::clone(&enrollment);
        Arc::new(move |_: &str| Some(Secret::new(e.code_at(now()).unwrap())))
    };
    let alice = connect(
        &s,
        Credential::password_and_code(ALICE, ALICE_PASSWORD, codes),
    )
    .await;
    let wrong_code = if enrollment.code_at(now()).unwrap() == "000000" {
        "111111"
    } else {
        "000000"
    };
    let e = alice
        .change_password(
            &Secret::new(ALICE_PASSWORD),
            &Secret::new(NEW_PASSWORD),
            Some(wrong_code),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "jmap.wrong_totp_code", "{e}");
    assert!(e.to_string().contains("authenticator"), "{e}");
    let right_code = enrollment.code_at(now()).unwrap();
    let e = alice
        .change_password(
            &Secret::new("not the password"),
            &Secret::new(NEW_PASSWORD),
            Some(&right_code),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "jmap.wrong_password", "{e}");
    s.stop().await;
}

#[tokio::test]
async fn inputs_are_refused_before_anything_is_sent() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let alice = connect(&s, Credential::password(ALICE, ALICE_PASSWORD)).await;

    // The same password again.
    let e = alice
        .change_password(&Secret::new(NEW_PASSWORD), &Secret::new(NEW_PASSWORD), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "jmap.invalid_input");
    assert!(e.to_string().contains("same"), "{e}");

    // An app password that would have expired at birth.
    let mut new = NewCredential::new("expired");
    new.expires_at = Some(SystemTime::now() - Duration::from_secs(60));
    let e = alice
        .create_credential(CredentialKind::AppPassword, &new)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "jmap.invalid_input");
    assert!(e.to_string().contains("in the past"), "{e}");
    assert!(
        alice
            .list_credentials(CredentialKind::AppPassword)
            .await
            .unwrap()
            .is_empty()
    );
    // A time RFC 3339 cannot show is an error too, not a panic.
    new.expires_at = Some(UNIX_EPOCH + Duration::from_secs(99_999 * 366 * 86_400));
    let e = alice
        .create_credential(CredentialKind::AppPassword, &new)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "input.time_out_of_range", "{e}");
    let url = s.base_url();
    s.stop().await;

    // Empty secrets: refused locally. The server is stopped, so a request would have failed
    // with a transport error instead.
    for credential in [
        Credential::password(ALICE, ""),
        Credential::AppPassword {
            user: ALICE.into(),
            secret: Secret::new(""),
        },
        Credential::ApiKey(Secret::new("  ")),
        Credential::password("", ALICE_PASSWORD),
    ] {
        let e = Client::connect(&url, credential, &ConnectOptions::default())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "jmap.invalid_input", "{e}");
        assert!(e.to_string().contains("empty"), "{e}");
    }
}

#[tokio::test]
async fn a_server_that_is_down_is_named_as_such() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let url = s.base_url();
    s.stop().await;
    let e = Client::connect(
        &url,
        Credential::password(ALICE, ALICE_PASSWORD),
        &ConnectOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "jmap.transport");
    let text = e.to_string();
    assert!(text.contains("connection refused"), "{text}");
    assert!(text.contains(url.trim_end_matches('/')), "{text}");
}
