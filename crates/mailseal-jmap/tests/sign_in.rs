//! Signing in that survives two-factor authentication, against the Stalwart-compatible test
//! server over real HTTP on 127.0.0.1: OAuth with password and code, refresh, revocation on
//! password change, the device grant, and `password$code` on 0.15.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use mailseal_jmap::{
    AsyncCodeProvider, Client, CodeProvider, ConnectOptions, Credential, DeviceSignIn, OAuthTokens,
    Secret, SignInMethod, TotpEnrollment, approve_device,
};
use mailseal_testserver::config::{ALICE_PASSWORD, OAuthConfig};
use mailseal_testserver::{Config, CredentialSeed, TestServer};

const ALICE: &str = "alice@example.org";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A code provider that answers from a TOTP enrollment (or a fixed wrong code) and counts
/// how often it was asked.
struct Codes {
    enrollment: Option<TotpEnrollment>,
    asked: AtomicUsize,
}

impl Codes {
    fn new(enrollment: Option<TotpEnrollment>) -> Arc<Codes> {
        Arc::new(Codes {
            enrollment,
            asked: AtomicUsize::new(0),
        })
    }

    fn asked(&self) -> usize {
        self.asked.load(Ordering::SeqCst)
    }
}

impl CodeProvider for Codes {
    fn totp_code(&self, user: &str) -> Option<Secret> {
        assert_eq!(user, ALICE);
        self.asked.fetch_add(1, Ordering::SeqCst);
        Some(Secret::new(match &self.enrollment {
            Some(e) => e.code_at(now()).unwrap(),
            None => "000000".to_owned(),
        }))
    }
}

/// A server where alice has TOTP on; returns it with her enrollment.
async fn server_with_totp(oauth: OAuthConfig) -> (TestServer, TotpEnrollment) {
    let server = TestServer::start(Config {
        oauth,
        ..Config::default()
    })
    .await
    .unwrap();
    let enrollment = TotpEnrollment::new("Example", ALICE).unwrap();
    server
        .set_otp_url(ALICE, Some(enrollment.url().expose()))
        .unwrap();
    (server, enrollment)
}

fn with_codes(codes: &Arc<Codes>) -> Credential {
    let provider: Arc<dyn CodeProvider> = Arc::clone(codes) as Arc<dyn CodeProvider>;
    Credential::password_and_code(ALICE, ALICE_PASSWORD, provider)
}

async fn connect(
    server: &TestServer,
    credential: Credential,
) -> Result<Client, mailseal_jmap::Error> {
    Client::connect(&server.base_url(), credential, &ConnectOptions::default()).await
}

#[tokio::test]
async fn enabling_totp_moves_a_password_session_to_oauth_and_it_stays_signed_in() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let alice = connect(&s, Credential::password(ALICE, ALICE_PASSWORD))
        .await
        .unwrap();
    assert_eq!(alice.sign_in_method(), SignInMethod::Password);
    assert!(alice.oauth_tokens().is_none());

    let password = Secret::new(ALICE_PASSWORD);
    let enrollment = TotpEnrollment::new("Example", ALICE).unwrap();
    let code = enrollment.code_at(now()).unwrap();
    alice
        .enable_totp(&password, &enrollment, &code, None)
        .await
        .unwrap();
    assert_eq!(s.otp_url(ALICE).as_deref(), Some(enrollment.url().expose()));
    assert_eq!(alice.sign_in_method(), SignInMethod::OAuth);
    assert!(s.oauth_active_tokens(ALICE) >= 1);

    // Basic with the password is now refused (402), but this session carries on.
    let err = connect(&s, Credential::password(ALICE, ALICE_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.totp_required");
    assert!(alice.totp_enabled().await.unwrap());

    // ... and can turn two-factor authentication off again.
    let code = enrollment.code_at(now()).unwrap();
    alice.disable_totp(&password, &code).await.unwrap();
    assert!(s.otp_url(ALICE).is_none());
    assert!(!alice.totp_enabled().await.unwrap());
    s.stop().await;
}

#[tokio::test]
async fn enabling_totp_saves_nothing_when_the_session_cannot_move_to_oauth() {
    let s = TestServer::start(Config {
        oauth: OAuthConfig {
            enabled: false,
            ..OAuthConfig::default()
        },
        ..Config::default()
    })
    .await
    .unwrap();
    let alice = connect(&s, Credential::password(ALICE, ALICE_PASSWORD))
        .await
        .unwrap();
    let password = Secret::new(ALICE_PASSWORD);
    let enrollment = TotpEnrollment::new("Example", ALICE).unwrap();
    let code = enrollment.code_at(now()).unwrap();
    let err = alice
        .enable_totp(&password, &enrollment, &code, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.not_available", "{err}");
    assert!(err.to_string().contains("app password"), "{err}");
    assert!(s.otp_url(ALICE).is_none(), "nothing was saved");
    assert_eq!(alice.sign_in_method(), SignInMethod::Password);
    assert!(
        !alice.totp_enabled().await.unwrap(),
        "the session still works"
    );

    // A session on an app password is not affected by two-factor authentication.
    let (_, secret) = s
        .add_app_password(ALICE, CredentialSeed::default())
        .unwrap();
    let app = connect(
        &s,
        Credential::AppPassword {
            user: ALICE.into(),
            secret: Secret::new(secret),
        },
    )
    .await
    .unwrap();
    app.enable_totp(&password, &enrollment, &code, None)
        .await
        .unwrap();
    assert_eq!(app.sign_in_method(), SignInMethod::AppPassword);
    assert!(app.totp_enabled().await.unwrap());
    s.stop().await;
}

#[tokio::test]
async fn password_and_code_signs_in_through_oauth_when_the_server_asks() {
    let (s, enrollment) = server_with_totp(OAuthConfig::default()).await;

    // Without a code provider the caller hears why.
    let err = connect(&s, Credential::password(ALICE, ALICE_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.totp_required");

    // A wrong code is refused as wrong credentials, and asked for once.
    let wrong = Codes::new(None);
    let err = connect(&s, with_codes(&wrong)).await.unwrap_err();
    assert_eq!(err.code(), "jmap.unauthorized");
    assert_eq!(wrong.asked(), 1);
    assert_eq!(s.oauth_active_tokens(ALICE), 0);

    let codes = Codes::new(Some(enrollment));
    let alice = connect(&s, with_codes(&codes)).await.unwrap();
    assert_eq!(alice.sign_in_method(), SignInMethod::OAuth);
    assert_eq!(codes.asked(), 1);
    assert_eq!(alice.session().account_id, "c");
    assert!(alice.totp_enabled().await.unwrap());
    let tokens = alice.oauth_tokens().unwrap();
    assert_eq!(tokens.user(), ALICE);
    assert!(tokens.refresh_token().is_some());
    assert!(tokens.expires_at() > SystemTime::now());
    assert!(!format!("{tokens:?}").contains(tokens.access_token().expose()));
    assert!(!format!("{:?}", alice.credential()).contains(ALICE_PASSWORD));
    s.stop().await;
}

/// An async provider: answers after yielding to the executor, as a dialog would, on a
/// single-threaded runtime where blocking would hang.
struct Dialog(TotpEnrollment, AtomicUsize);

impl AsyncCodeProvider for Dialog {
    fn totp_code<'a>(
        &'a self,
        user: &'a str,
    ) -> std::pin::Pin<Box<dyn Future<Output = Option<Secret>> + Send + 'a>> {
        Box::pin(async move {
            assert_eq!(user, ALICE);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            self.1.fetch_add(1, Ordering::SeqCst);
            Some(Secret::new(self.0.code_at(now()).unwrap()))
        })
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_async_code_provider_is_awaited_on_the_callers_executor() {
    let (s, enrollment) = server_with_totp(OAuthConfig::default()).await;
    let dialog = Arc::new(Dialog(enrollment, AtomicUsize::new(0)));
    let provider: Arc<dyn AsyncCodeProvider> = Arc::clone(&dialog) as Arc<dyn AsyncCodeProvider>;
    let alice = connect(
        &s,
        Credential::password_and_code(ALICE, ALICE_PASSWORD, provider),
    )
    .await
    .unwrap();
    assert_eq!(alice.sign_in_method(), SignInMethod::OAuth);
    assert_eq!(dialog.1.load(Ordering::SeqCst), 1);
    assert!(alice.totp_enabled().await.unwrap());
    s.stop().await;
}

#[tokio::test]
async fn saved_tokens_restore_and_refresh_by_themselves() {
    let (s, enrollment) = server_with_totp(OAuthConfig {
        // Shorter than the client's refresh margin: every request refreshes first.
        access_token_ttl_secs: 30,
        ..OAuthConfig::default()
    })
    .await;
    let codes = Codes::new(Some(enrollment));
    let password = Secret::new(ALICE_PASSWORD);
    let provider: Arc<dyn CodeProvider> = codes.clone();
    let tokens = Client::sign_in(
        &s.base_url(),
        ALICE,
        &password,
        Some(provider.into()),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();

    let saved = tokens.to_json();
    let restored = OAuthTokens::from_json(saved.expose()).unwrap();
    assert_eq!(restored, tokens);
    let alice = connect(&s, Credential::OAuth(restored)).await.unwrap();
    assert_eq!(alice.sign_in_method(), SignInMethod::OAuth);
    assert!(alice.totp_enabled().await.unwrap());
    let now_tokens = alice.oauth_tokens().unwrap();
    assert_ne!(
        now_tokens.access_token(),
        tokens.access_token(),
        "the access token was refreshed"
    );
    assert_eq!(now_tokens.refresh_token(), tokens.refresh_token());
    assert_eq!(codes.asked(), 1, "refreshing needs no code");
    s.stop().await;
}

#[tokio::test]
async fn an_access_token_the_server_calls_expired_is_refreshed_after_401() {
    let (s, enrollment) = server_with_totp(OAuthConfig::default()).await;
    let codes = Codes::new(Some(enrollment));
    let alice = connect(&s, with_codes(&codes)).await.unwrap();
    let before = alice.oauth_tokens().unwrap();

    // Two hours later for the server: the access token is expired, the refresh token is not.
    s.set_clock_offset(7200);
    assert!(alice.totp_enabled().await.unwrap());
    let after = alice.oauth_tokens().unwrap();
    assert_ne!(after.access_token(), before.access_token());
    assert_eq!(codes.asked(), 1);
    s.stop().await;
}

#[tokio::test]
async fn after_a_password_change_the_client_signs_in_again_with_the_new_password() {
    let (s, enrollment) = server_with_totp(OAuthConfig::default()).await;
    let codes = Codes::new(Some(enrollment.clone()));
    let alice = connect(&s, with_codes(&codes)).await.unwrap();
    let old_tokens = alice.oauth_tokens().unwrap();

    let new_password = Secret::new("a-brand-new Passphrase for alice 42");
    let code = enrollment.code_at(now()).unwrap();
    alice
        .change_password(&Secret::new(ALICE_PASSWORD), &new_password, Some(&code))
        .await
        .unwrap();
    assert_eq!(s.password(ALICE).as_deref(), Some(new_password.expose()));
    assert_eq!(
        s.oauth_active_tokens(ALICE),
        0,
        "the server revoked every token"
    );

    // The next request gets a generic 401; the client signs in again by itself.
    assert!(alice.totp_enabled().await.unwrap());
    assert_eq!(alice.sign_in_method(), SignInMethod::OAuth);
    assert_eq!(codes.asked(), 2, "the new sign-in asked for a code");
    let new_tokens = alice.oauth_tokens().unwrap();
    assert_ne!(new_tokens.access_token(), old_tokens.access_token());
    assert_eq!(
        alice.credential().password_of().map(|(_, p)| p.clone()),
        Some(new_password)
    );

    // A session that holds only tokens cannot do that, and says so.
    let token_only = connect(&s, Credential::OAuth(new_tokens)).await.unwrap();
    let code = enrollment.code_at(now()).unwrap();
    alice
        .change_password(
            &Secret::new("a-brand-new Passphrase for alice 42"),
            &Secret::new("and another Passphrase for alice 43"),
            Some(&code),
        )
        .await
        .unwrap();
    let err = token_only.totp_enabled().await.unwrap_err();
    assert_eq!(err.code(), "jmap.sign_in_required", "{err}");
    assert!(err.to_string().contains("password"));
    s.stop().await;
}

#[tokio::test]
async fn device_sign_in_approved_with_password_and_code() {
    let (s, enrollment) = server_with_totp(OAuthConfig {
        device_interval_secs: 1,
        ..OAuthConfig::default()
    })
    .await;
    let options = ConnectOptions::default();
    let flow = DeviceSignIn::start(&s.base_url(), ALICE, &options)
        .await
        .unwrap();
    assert_eq!(flow.user_code().len(), 9);
    assert!(flow.verification_uri().starts_with(&s.base_url()));
    assert!(flow.poll().await.unwrap().is_none(), "not approved yet");

    // Without a code the approval is refused before anything is approved.
    let err = approve_device(
        &s.base_url(),
        ALICE,
        &Secret::new(ALICE_PASSWORD),
        flow.user_code(),
        None,
        &options,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "jmap.sign_in_required");

    let codes = Codes::new(Some(enrollment));
    let provider: Arc<dyn CodeProvider> = codes.clone();
    approve_device(
        &s.base_url(),
        ALICE,
        &Secret::new(ALICE_PASSWORD),
        flow.user_code(),
        Some(provider.into()),
        &options,
    )
    .await
    .unwrap();
    let tokens = flow.wait().await.unwrap();
    let alice = connect(&s, Credential::OAuth(tokens)).await.unwrap();
    assert!(alice.totp_enabled().await.unwrap());
    // The device code is spent.
    let err = flow.poll().await.unwrap_err();
    assert_eq!(err.code(), "jmap.oauth.expired_token");
    s.stop().await;
}

#[tokio::test]
async fn stalwart_0_15_gets_password_dollar_code_over_basic() {
    let s = TestServer::start(Config::v0_15()).await.unwrap();
    let enrollment = TotpEnrollment::new("Example", ALICE).unwrap();
    s.set_otp_url(ALICE, Some(enrollment.url().expose()))
        .unwrap();
    let codes = Codes::new(Some(enrollment));
    let alice = connect(&s, with_codes(&codes)).await.unwrap();
    assert_eq!(alice.sign_in_method(), SignInMethod::PasswordWithCode);
    assert_eq!(codes.asked(), 1);
    assert_eq!(alice.session().username, ALICE);
    assert_eq!(s.oauth_active_tokens(ALICE), 0, "no OAuth on this path");
    s.stop().await;
}
