//! Local delivery with encryption at rest (`TestServer::deliver`) and the administrator's
//! view of the delivery queue (`x:QueuedMessage`), beyond what fixture 12 replays: an RSA
//! S/MIME certificate and an OpenPGP key store the message, an EC certificate queues it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use mailseal_testserver::config::{ADMIN_PASSWORD, ALICE_PASSWORD};
use mailseal_testserver::delivery::{EncryptionMethod, StoredEncryption};
use mailseal_testserver::directory::{EncryptionAtRest, EncryptionSettings};
use mailseal_testserver::ids::decode_id;
use mailseal_testserver::{Config, Delivery, Error, PublicKeySeed, TestServer};
use serde_json::{Value, json};

const ALICE: &str = "alice@example.org";
const ADMIN: &str = "admin@example.org";
const MESSAGE: &[u8] =
    b"From: sender@example.net\r\nTo: alice@example.org\r\nSubject: hi\r\n\r\nHello.\r\n";
/// 2027-01-01T00:00:00Z, when the fixture keys are valid.
const NOW: u64 = 1_798_761_600;

fn key(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/stalwart-0.16.19/keys")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn basic(user: &str, secret: &str) -> String {
    let raw = format!("{user}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

async fn start() -> TestServer {
    let server = TestServer::start(Config::default()).await.unwrap();
    server.freeze_clock(UNIX_EPOCH + Duration::from_secs(NOW));
    server
}

/// Uploads `key_file` for alice and turns encryption at rest on with it; returns the key id.
fn encrypt_with(
    server: &TestServer,
    key_file: &str,
    wrap: fn(EncryptionSettings) -> EncryptionAtRest,
) -> String {
    let id = server
        .add_public_key(
            ALICE,
            PublicKeySeed {
                key: key(key_file),
                description: key_file.to_owned(),
                email_addresses: vec![ALICE.to_owned()],
                id: None,
            },
        )
        .unwrap();
    server
        .set_encryption_at_rest(
            ALICE,
            wrap(EncryptionSettings {
                public_key: decode_id(&id),
                ..EncryptionSettings::default()
            }),
        )
        .unwrap();
    id
}

async fn jmap(server: &TestServer, auth: &str, calls: Value) -> Value {
    let body =
        json!({"using": ["urn:ietf:params:jmap:core", "urn:stalwart:jmap"], "methodCalls": calls});
    let response = reqwest::Client::new()
        .post(format!("{}/jmap/", server.base_url()))
        .header("Authorization", auth)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    body["methodResponses"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_encryption_the_message_is_stored_as_received() {
    let server = start().await;
    let outcome = server
        .deliver(ALICE, "sender@example.net", MESSAGE)
        .unwrap();
    let Delivery::Stored {
        account_id,
        encryption,
        ..
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(account_id, "c");
    assert_eq!(encryption, None);
    let stored = server.stored_messages(ALICE);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].message, MESSAGE);
    assert_eq!(stored[0].return_path, "sender@example.net");
    assert_eq!(stored[0].size, MESSAGE.len() as u64);
    assert!(server.queued_messages().is_empty());
    assert!(server.stored_messages(ADMIN).is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rsa_certificate_stores_the_message() {
    let server = start().await;
    let key_id = encrypt_with(&server, "smime-rsa3072.crt.pem", EncryptionAtRest::Aes128);
    let outcome = server
        .deliver(ALICE, "sender@example.net", MESSAGE)
        .unwrap();
    let expected = StoredEncryption {
        method: EncryptionMethod::Smime,
        algorithm: "Aes128".to_owned(),
        public_key: key_id,
    };
    assert!(
        matches!(&outcome, Delivery::Stored { encryption: Some(e), .. } if *e == expected),
        "{outcome:?}"
    );
    assert_eq!(server.stored_messages(ALICE)[0].encryption, Some(expected));
    assert!(server.queued_messages().is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rsa_leaf_with_its_ca_stores_the_message() {
    let server = start().await;
    let id = server
        .add_public_key(
            ALICE,
            PublicKeySeed {
                key: key("smime-rsa3072.crt.pem") + &key("ca.crt.pem"),
                description: "chain".to_owned(),
                ..PublicKeySeed::default()
            },
        )
        .unwrap();
    server
        .set_encryption_at_rest(
            ALICE,
            EncryptionAtRest::Aes256Gcm(EncryptionSettings {
                public_key: decode_id(&id),
                ..EncryptionSettings::default()
            }),
        )
        .unwrap();
    let outcome = server.deliver(ALICE, "s@example.net", MESSAGE).unwrap();
    assert!(matches!(outcome, Delivery::Stored { .. }), "{outcome:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openpgp_key_stores_the_message() {
    let server = start().await;
    for (file, n) in [("pgp-rsa3072.pub.asc", 1), ("pgp-25519.pub.asc", 2)] {
        let key_id = encrypt_with(&server, file, EncryptionAtRest::Aes256);
        let outcome = server
            .deliver(ALICE, "sender@example.net", MESSAGE)
            .unwrap();
        let Delivery::Stored {
            encryption: Some(encryption),
            ..
        } = outcome
        else {
            panic!("{file}: {outcome:?}");
        };
        assert_eq!(encryption.method, EncryptionMethod::OpenPgp);
        assert_eq!(encryption.algorithm, "Aes256");
        assert_eq!(encryption.public_key, key_id);
        assert_eq!(server.stored_messages(ALICE).len(), n);
    }
    assert!(server.queued_messages().is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ec_certificate_queues_the_message_until_the_admin_destroys_it() {
    let server = start().await;
    encrypt_with(&server, "smime-p256.crt.pem", EncryptionAtRest::Aes128);
    let outcome = server
        .deliver("Alice@Example.org", "sender@m1.example.net", MESSAGE)
        .unwrap();
    let Delivery::Queued {
        queue_id,
        blob_id,
        reason,
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(queue_id.len(), 12, "{queue_id}");
    assert_eq!(
        reason,
        "Failed to parse public key: public key error: ASN.1 error: unexpected ASN.1 DER tag: \
         expected SEQUENCE, got OCTET STRING"
    );
    assert!(server.stored_messages(ALICE).is_empty());
    let queue = server.queued_messages();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].message, MESSAGE);
    assert_eq!(queue[0].retry_count, 1);

    // The administrator's view, exactly in the recorded shape.
    let admin = basic(ADMIN, ADMIN_PASSWORD);
    let r = jmap(
        &server,
        &admin,
        json!([
            ["x:QueuedMessage/query", {}, "q"],
            ["x:QueuedMessage/get", {"#ids": {"resultOf": "q", "name": "x:QueuedMessage/query", "path": "/ids"}}, "g"]
        ]),
    )
    .await;
    assert_eq!(
        r[0][1],
        json!({"accountId": "b", "queryState": "n", "canCalculateChanges": true, "position": 0, "ids": [queue_id]})
    );
    let expected = json!({
        "createdAt": "2027-01-01T00:00:00Z",
        "nextRetry": "2027-01-01T00:02:00Z",
        "nextNotify": "2027-01-02T00:00:00Z",
        "blobId": blob_id,
        "returnPath": "sender@m1.example.net",
        "recipients": {
            "alice@example.org": {
                "retryCount": 1,
                "retryDue": "2027-01-01T00:02:00Z",
                "notifyCount": 0,
                "notifyDue": "2027-01-02T00:00:00Z",
                "expires": {"expiresAt": "2027-01-04T00:00:00Z", "@type": "Ttl"},
                "queueName": "local",
                "status": {
                    "errorType": "unexpectedResponse",
                    "errorMessage": null,
                    "errorCommand": "RCPT TO:<alice@example.org>",
                    "responseHostname": "localhost",
                    "responseCode": 451,
                    "responseEnhanced": "4.3.0",
                    "responseMessage": "Transient server failure.",
                    "@type": "TemporaryFailure"
                },
                "flags": {},
                "orcpt": null
            }
        },
        "receivedFromIp": "127.0.0.1",
        "receivedViaPort": 10025,
        "flags": {"unauthenticated": true},
        "envId": null,
        "priority": 0,
        "size": MESSAGE.len(),
        "id": queue_id,
    });
    assert_eq!(
        r[1][1],
        json!({"accountId": "b", "list": [expected], "notFound": []})
    );

    // A second message queues too; the newest comes first.
    let second = server
        .deliver(ALICE, "sender@m2.example.net", b"Subject: 2\r\n\r\n2\r\n")
        .unwrap();
    let Delivery::Queued {
        queue_id: second_id,
        ..
    } = second
    else {
        panic!("{second:?}");
    };
    let r = jmap(&server, &admin, json!([["x:QueuedMessage/query", {}, "q"]])).await;
    assert_eq!(r[0][1]["ids"], json!([second_id, queue_id]));

    // Alice may not look at the queue.
    let alice = basic(ALICE, ALICE_PASSWORD);
    let r = jmap(
        &server,
        &alice,
        json!([
            ["x:QueuedMessage/query", {}, "q"],
            ["x:QueuedMessage/get", {"ids": null}, "g"],
            ["x:QueuedMessage/set", {"destroy": [queue_id]}, "d"]
        ]),
    )
    .await;
    for (i, call_id) in ["q", "g", "d"].into_iter().enumerate() {
        assert_eq!(r[i][0], "error");
        assert_eq!(r[i][1]["type"], "forbidden");
        assert_eq!(r[i][2], call_id);
    }
    assert_eq!(
        r[2][1]["description"],
        "You are not authorized to create, update or destroy objects of this type"
    );
    assert_eq!(server.queued_messages().len(), 2);

    // The admin destroys both; a second destroy and a get answer notFound.
    let r = jmap(
        &server,
        &admin,
        json!([["x:QueuedMessage/set", {"destroy": [queue_id, second_id]}, "d"]]),
    )
    .await;
    assert_eq!(
        r[0][1],
        json!({"accountId": "b", "destroyed": [queue_id, second_id]})
    );
    let r = jmap(
        &server,
        &admin,
        json!([
            ["x:QueuedMessage/set", {"destroy": [queue_id]}, "d"],
            ["x:QueuedMessage/get", {"ids": [queue_id]}, "g"]
        ]),
    )
    .await;
    assert_eq!(r[0][1]["notDestroyed"][&queue_id]["type"], "notFound");
    assert_eq!(
        r[1][1],
        json!({"accountId": "b", "list": [], "notFound": [queue_id]})
    );
    assert!(server.queued_messages().is_empty());
    assert!(server.stored_messages(ALICE).is_empty());

    // With encryption off again, delivery works.
    server
        .set_encryption_at_rest(ALICE, EncryptionAtRest::Disabled)
        .unwrap();
    let outcome = server.deliver(ALICE, "s@example.net", MESSAGE).unwrap();
    assert!(matches!(
        outcome,
        Delivery::Stored {
            encryption: None,
            ..
        }
    ));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_recipients_are_refused() {
    let server = start().await;
    let err = server
        .deliver("nobody@example.org", "s@example.net", MESSAGE)
        .unwrap_err();
    assert!(matches!(err, Error::UnknownUser(_)), "{err}");
    let err = server
        .deliver("alice@elsewhere.example", "s@example.net", MESSAGE)
        .unwrap_err();
    assert!(matches!(err, Error::UnknownUser(_)), "{err}");
    server.stop().await;
}
