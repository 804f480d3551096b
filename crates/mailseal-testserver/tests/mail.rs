//! Mail over JMAP as fixture 15 shows it (`Mailbox/*`, `Email/*`, `Thread/get`, uploads,
//! downloads), the upload quota and expiry, and every fault action as a client sees it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::{Duration, Instant};

use mailseal_testserver::config::{ALICE_PASSWORD, UploadLimits};
use mailseal_testserver::{Config, FaultAction, FaultPoint, TestServer};
use serde_json::{Value, json};

const ALICE: &str = "alice@example.org";
const USING: [&str; 2] = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"];

fn message(n: usize, message_id: Option<&str>) -> Vec<u8> {
    let mut text = format!(
        "From: Sender <sender@example.net>\r\nTo: Alice <alice@example.org>\r\n\
         Subject: Test message {n}\r\n"
    );
    if let Some(id) = message_id {
        text.push_str(&format!("Message-ID: <{id}>\r\n"));
    }
    text.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\nHello number ");
    text.push_str(&n.to_string());
    text.push_str(".\r\n");
    text.into_bytes()
}

struct Client {
    server: TestServer,
    http: reqwest::Client,
}

impl Client {
    async fn start(uploads: UploadLimits) -> Self {
        let server = TestServer::start(Config {
            uploads,
            ..Config::default()
        })
        .await
        .unwrap();
        Self {
            server,
            http: reqwest::Client::new(),
        }
    }

    async fn default() -> Self {
        Self::start(UploadLimits::default()).await
    }

    async fn try_jmap(&self, calls: Value) -> Result<reqwest::Response, reqwest::Error> {
        self.http
            .post(format!("{}/jmap/", self.server.base_url()))
            .basic_auth(ALICE, Some(ALICE_PASSWORD))
            .json(&json!({"using": USING, "methodCalls": calls}))
            .send()
            .await
    }

    /// The method responses of a request.
    async fn jmap(&self, calls: Value) -> Vec<Value> {
        let response = self.try_jmap(calls).await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["methodResponses"].as_array().unwrap().clone()
    }

    /// The arguments of the only response.
    async fn call(&self, name: &str, args: Value) -> Value {
        let responses = self.jmap(json!([[name, args, "0"]])).await;
        responses[0][1].clone()
    }

    async fn try_upload(
        &self,
        bytes: &[u8],
        content_type: &str,
    ) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!("{}/jmap/upload/c/", self.server.base_url()))
            .basic_auth(ALICE, Some(ALICE_PASSWORD))
            .header("Content-Type", content_type)
            .body(bytes.to_vec())
            .send()
            .await
    }

    async fn upload(&self, bytes: &[u8]) -> String {
        let response = self.try_upload(bytes, "message/rfc822").await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["accountId"], "c");
        assert_eq!(body["type"], "message/rfc822");
        assert_eq!(body["size"], bytes.len());
        body["blobId"].as_str().unwrap().to_owned()
    }

    async fn try_download(&self, blob_id: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .get(format!(
                "{}/jmap/download/c/{blob_id}/message.eml?accept=message%2Frfc822",
                self.server.base_url()
            ))
            .basic_auth(ALICE, Some(ALICE_PASSWORD))
            .send()
            .await
    }

    async fn import(&self, blob_id: &str, mailbox_ids: Value, keywords: Value) -> Value {
        self.call(
            "Email/import",
            json!({"accountId": "c", "emails": {"i": {
                "blobId": blob_id, "mailboxIds": mailbox_ids, "keywords": keywords,
                "receivedAt": "2026-11-22T06:07:13Z"}}}),
        )
        .await
    }

    fn deliver(&self, n: usize, message_id: Option<&str>) -> String {
        self.server
            .deliver(ALICE, "sender@example.net", &message(n, message_id))
            .unwrap();
        self.server.emails(ALICE).last().unwrap().id.clone()
    }
}

#[tokio::test]
async fn a_delivered_message_is_served_in_inbox() {
    let client = Client::default().await;
    let id = client.deliver(1, Some("one@example.net"));
    let query = client
        .call(
            "Email/query",
            json!({"accountId": "c", "filter": {"inMailbox": "a"}}),
        )
        .await;
    assert_eq!(query["ids"], json!([id]));
    let get = client
        .call(
            "Email/get",
            json!({"accountId": "c", "ids": [id, "zzzzzz"], "properties": [
                "blobId", "threadId", "mailboxIds", "keywords", "size", "messageId", "subject",
                "preview", "hasAttachment", "header:Content-Type:asRaw", "header:Message-ID",
                "header:X-Missing", "header:Subject:asText"]}),
        )
        .await;
    let email = &get["list"][0];
    let raw = [
        b"Delivered-To: alice@example.org\r\n".as_slice(),
        &message(1, Some("one@example.net")),
    ]
    .concat();
    assert_eq!(email["id"], json!(id));
    assert_eq!(email["mailboxIds"], json!({"a": true}));
    assert_eq!(email["keywords"], json!({}));
    assert_eq!(email["size"], json!(raw.len()));
    assert_eq!(email["messageId"], json!(["one@example.net"]));
    assert_eq!(email["subject"], "Test message 1");
    assert_eq!(email["preview"], "Hello number 1.\n");
    assert_eq!(email["hasAttachment"], false);
    assert_eq!(
        email["header:Content-Type:asRaw"],
        " text/plain; charset=utf-8"
    );
    assert_eq!(email["header:Message-ID"], " <one@example.net>");
    assert_eq!(email["header:X-Missing"], Value::Null);
    assert_eq!(email["header:Subject:asText"], "Test message 1");
    assert_eq!(get["notFound"], json!(["zzzzzz"]));

    let download = client
        .try_download(email["blobId"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "message/rfc822");
    assert_eq!(download.bytes().await.unwrap().as_ref(), raw.as_slice());
}

#[tokio::test]
async fn import_makes_a_copy_with_new_ids_and_the_uploaded_bytes() {
    let client = Client::default().await;
    let original = client.deliver(1, Some("same@example.net"));
    let archive = client.server.add_mailbox(ALICE, "Archive").unwrap();
    let copy_bytes = [message(1, Some("same@example.net")).as_slice(), b"X"].concat();
    let upload = client.upload(&copy_bytes).await;
    let keywords = json!({"$seen": true, "golden-custom": true});
    let imported = client
        .import(
            &upload,
            json!({"a": true, archive.clone(): true}),
            keywords.clone(),
        )
        .await;
    let created = &imported["created"]["i"];
    let copy = created["id"].as_str().unwrap();
    assert_ne!(created["blobId"], json!(upload));
    assert!(created["blobId"].as_str().unwrap().starts_with('c'));
    assert_eq!(created["size"], json!(copy_bytes.len()));
    assert_ne!(imported["oldState"], imported["newState"]);
    let original_thread = client.server.emails(ALICE)[0].thread_id.clone();
    assert_eq!(created["threadId"], json!(original_thread));

    let get = client
        .call("Email/get", json!({"accountId": "c", "ids": [copy], "properties": ["mailboxIds", "keywords", "receivedAt"]}))
        .await;
    assert_eq!(
        get["list"][0]["mailboxIds"],
        json!({"a": true, archive: true})
    );
    assert_eq!(get["list"][0]["keywords"], keywords);
    assert_eq!(get["list"][0]["receivedAt"], "2026-11-22T06:07:13Z");
    let download = client
        .try_download(created["blobId"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        download.bytes().await.unwrap().as_ref(),
        copy_bytes.as_slice()
    );

    let thread = client
        .call(
            "Thread/get",
            json!({"accountId": "c", "ids": [original_thread]}),
        )
        .await;
    assert_eq!(thread["list"][0]["emailIds"], json!([original, copy]));

    // No de-duplication: the same blob makes a third e-mail with yet another blob id.
    let again = client.import(&upload, json!({"a": true}), json!({})).await;
    assert_ne!(again["created"]["i"]["id"], created["id"]);
    assert_ne!(again["created"]["i"]["blobId"], created["blobId"]);
    assert_eq!(client.server.emails(ALICE).len(), 3);
    let snapshot = client.server.emails(ALICE);
    assert_eq!(snapshot[1].raw, copy_bytes);
}

#[tokio::test]
async fn import_errors_are_answered_per_entry_as_recorded() {
    let client = Client::default().await;
    let upload = client.upload(&message(1, None)).await;
    let text = {
        let response = client
            .try_upload(b"just some text, not a message\r\n", "text/plain")
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["type"], "text/plain");
        body["blobId"].as_str().unwrap().to_owned()
    };
    let mut missing = upload.clone().into_bytes();
    missing[10] = if missing[10] == b'a' { b'b' } else { b'a' };
    let missing = String::from_utf8(missing).unwrap();
    let result = client
        .call(
            "Email/import",
            json!({"accountId": "c", "emails": {
                "missingBlob": {"blobId": missing, "mailboxIds": {"a": true}},
                "malformedBlobId": {"blobId": "not-a-blob-id", "mailboxIds": {"a": true}},
                "missingMailbox": {"blobId": upload, "mailboxIds": {"zzzzzz": true}},
                "oneMissingMailbox": {"blobId": upload, "mailboxIds": {"a": true, "zzzzzz": true}},
                "noMailbox": {"blobId": upload, "mailboxIds": {}},
                "notAMessage": {"blobId": text, "mailboxIds": {"a": true}},
                "good": {"blobId": upload, "mailboxIds": {"a": true}},
            }}),
        )
        .await;
    let not_created = &result["notCreated"];
    assert_eq!(
        not_created["missingBlob"],
        json!({"type": "blobNotFound", "description": format!("BlobId {missing} not found.")})
    );
    assert_eq!(
        not_created["malformedBlobId"],
        json!({"type": "invalidProperties", "description": "Invalid blob id.", "properties": ["blobId"]})
    );
    let no_such = json!({"type": "invalidProperties", "description": "Mailbox zzzzzz does not exist.", "properties": ["mailboxIds"]});
    assert_eq!(not_created["missingMailbox"], no_such);
    assert_eq!(not_created["oneMissingMailbox"], no_such);
    assert_eq!(
        not_created["noMailbox"],
        json!({"type": "invalidProperties", "description": "Message must belong to at least one mailbox.", "properties": ["mailboxIds"]})
    );
    assert_eq!(
        not_created["notAMessage"],
        json!({"type": "invalidEmail", "description": "Blob does not contain a valid RFC 5322 message."})
    );
    assert_eq!(result["created"].as_object().unwrap().len(), 1);
    assert_eq!(client.server.emails(ALICE).len(), 1);
}

#[tokio::test]
async fn destroy_is_final() {
    let client = Client::default().await;
    let id = client.deliver(1, None);
    let blob = client.server.emails(ALICE)[0].blob_id.clone();
    let destroyed = client
        .call("Email/set", json!({"accountId": "c", "destroy": [id]}))
        .await;
    assert_eq!(destroyed["destroyed"], json!([id]));
    let get = client
        .call("Email/get", json!({"accountId": "c", "ids": [id]}))
        .await;
    assert_eq!(get["notFound"], json!([id]));
    let again = client
        .call("Email/set", json!({"accountId": "c", "destroy": [id]}))
        .await;
    assert_eq!(
        again["notDestroyed"],
        json!({id.clone(): {"type": "notFound"}})
    );
    assert_eq!(again["oldState"], again["newState"]);
    let download = client.try_download(&blob).await.unwrap();
    assert_eq!(download.status(), 404);
    assert_eq!(
        download.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = download.json().await.unwrap();
    assert_eq!(
        body,
        json!({"type": "about:blank", "status": 404, "title": "Not Found",
               "detail": "The requested resource does not exist on this server."})
    );
    let trash = client
        .call(
            "Mailbox/get",
            json!({"accountId": "c", "ids": ["b"], "properties": ["totalEmails"]}),
        )
        .await;
    assert_eq!(trash["list"][0]["totalEmails"], 0);
}

#[tokio::test]
async fn import_results_cannot_be_referred_to_and_search_sees_imports_after_the_request() {
    let client = Client::default().await;
    client.deliver(1, Some("ref@example.net"));
    let upload = client.upload(&message(1, Some("ref@example.net"))).await;
    let responses = client
        .jmap(json!([
            ["Email/import", {"accountId": "c", "emails": {"enc1": {"blobId": upload, "mailboxIds": {"a": true}}}}, "i"],
            ["Email/get", {"accountId": "c", "#ids": {"resultOf": "i", "name": "Email/import", "path": "/created/enc1/id"}}, "g"],
            ["Email/query", {"accountId": "c", "filter": {"subject": "Test message 1"}}, "s"],
            ["Email/query", {"accountId": "c", "filter": {"inMailbox": "a"}}, "m"],
        ]))
        .await;
    assert_eq!(
        responses[1],
        json!(["error", {"type": "invalidResultReference", "description": "Result reference to i#Email/import not found."}, "g"])
    );
    assert_eq!(responses[2][1]["ids"].as_array().unwrap().len(), 1);
    assert_eq!(responses[3][1]["ids"].as_array().unwrap().len(), 2);
    let later = client
        .call(
            "Email/query",
            json!({"accountId": "c", "filter": {"subject": "Test message 1"}}),
        )
        .await;
    assert_eq!(later["ids"].as_array().unwrap().len(), 2);
    for filter in [
        json!({"header": ["Message-ID", "<ref@example.net>"]}),
        json!({"header": ["Message-ID", "ref@example.net"]}),
        json!({"header": ["Message-ID"]}),
    ] {
        let result = client
            .call("Email/query", json!({"accountId": "c", "filter": filter}))
            .await;
        assert_eq!(result["ids"], json!([]));
    }
}

#[tokio::test]
async fn queries_filter_sort_and_page() {
    let client = Client::default().await;
    let inbox = client.server.mailbox_id(ALICE, "inbox").unwrap();
    let mut ids = Vec::new();
    for n in 0..30 {
        let keywords: &[&str] = if n % 2 == 0 { &["$seen"] } else { &[] };
        ids.push(
            client
                .server
                .add_email(
                    ALICE,
                    &message(n, None),
                    &[&inbox],
                    keywords,
                    1_800_000_000 + i64::try_from(n).unwrap(),
                )
                .unwrap(),
        );
    }
    let page = client
        .call(
            "Email/query",
            json!({"accountId": "c", "sort": [{"property": "receivedAt", "isAscending": false}],
                   "position": 10, "limit": 5, "calculateTotal": true}),
        )
        .await;
    let expected: Vec<&String> = ids.iter().rev().skip(10).take(5).collect();
    assert_eq!(page["ids"], json!(expected));
    assert_eq!(page["total"], 30);
    assert_eq!(page["position"], 10);
    assert!(page["queryState"].as_str().unwrap().starts_with('s'));

    let window = client
        .call(
            "Email/query",
            json!({"accountId": "c", "filter": {"operator": "AND", "conditions": [
                {"after": "2027-01-15T08:00:05Z"}, {"before": "2027-01-15T08:00:10Z"}, {"notKeyword": "$seen"}]},
                "sort": [{"property": "receivedAt", "isAscending": true}]}),
        )
        .await;
    // 1_800_000_000 is 2027-01-15T08:00:00Z: received 5..9 and unseen are 5, 7, 9.
    assert_eq!(window["ids"], json!([ids[5], ids[7], ids[9]]));

    let anchored = client
        .call(
            "Email/query",
            json!({"accountId": "c", "anchor": ids[3], "anchorOffset": 1, "limit": 2}),
        )
        .await;
    assert_eq!(anchored["ids"], json!([ids[4], ids[5]]));
    let unsupported = client
        .jmap(json!([["Email/query", {"accountId": "c", "filter": {"nope": 1}}, "0"]]))
        .await;
    assert_eq!(unsupported[0][1]["type"], "unsupportedFilter");
}

#[tokio::test]
async fn get_and_import_respect_the_object_limits() {
    let client = Client::default().await;
    let ids: Vec<String> = (0..501).map(|n| format!("b{n}")).collect();
    let get = client
        .jmap(json!([["Email/get", {"accountId": "c", "ids": ids}, "0"]]))
        .await;
    assert_eq!(get[0][1]["type"], "requestTooLarge");
    let emails: serde_json::Map<String, Value> = (0..501)
        .map(|n| {
            (
                format!("e{n}"),
                json!({"blobId": "x", "mailboxIds": {"a": true}}),
            )
        })
        .collect();
    let import = client
        .jmap(json!([["Email/import", {"accountId": "c", "emails": emails}, "0"]]))
        .await;
    assert_eq!(import[0][1]["type"], "requestTooLarge");
}

#[tokio::test]
async fn email_set_updates_keywords_and_mailboxes() {
    let client = Client::default().await;
    let id = client.deliver(1, None);
    let archive = client.server.add_mailbox(ALICE, "Archive").unwrap();
    let result = client
        .call(
            "Email/set",
            json!({"accountId": "c", "update": {
                id.clone(): {"keywords/$seen": true, "mailboxIds": {"a": true, archive.clone(): true}},
                "zzzzzz": {"keywords": {}}}}),
        )
        .await;
    assert_eq!(result["updated"], json!({id.clone(): null}));
    assert_eq!(result["notUpdated"]["zzzzzz"]["type"], "notFound");
    let snapshot = &client.server.emails(ALICE)[0];
    assert_eq!(snapshot.keywords, vec!["$seen"]);
    assert_eq!(snapshot.mailbox_ids, vec!["a".to_owned(), archive.clone()]);
    let bad = client
        .call(
            "Email/set",
            json!({"accountId": "c", "update": {id.clone(): {"mailboxIds": {}}}}),
        )
        .await;
    assert_eq!(bad["notUpdated"][&id]["type"], "invalidProperties");
    let counts = client
        .call("Mailbox/get", json!({"accountId": "c", "ids": ["a", archive], "properties": ["totalEmails", "unreadEmails"]}))
        .await;
    assert_eq!(counts["list"][0]["totalEmails"], 1);
    assert_eq!(counts["list"][0]["unreadEmails"], 0);
}

#[tokio::test]
async fn mailboxes_are_created_and_destroyed() {
    let client = Client::default().await;
    let mailboxes = client
        .call(
            "Mailbox/get",
            json!({"accountId": "c", "properties": ["name", "role"]}),
        )
        .await;
    let names: Vec<&str> = mailboxes["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Inbox",
            "Deleted Items",
            "Junk Mail",
            "Drafts",
            "Sent Items"
        ]
    );
    let created = client
        .call(
            "Mailbox/set",
            json!({"accountId": "c", "create": {"arch": {"name": "Archive"}}}),
        )
        .await;
    assert_eq!(created["created"], json!({"arch": {"id": "f"}}));
    let archive = client.server.mailbox_id(ALICE, "archive").unwrap();
    assert_eq!(archive, "f");
    let inbox = client.server.mailbox_id(ALICE, "inbox").unwrap();
    client
        .server
        .add_email(ALICE, &message(1, None), &[&archive], &[], 0)
        .unwrap();
    client
        .server
        .add_email(ALICE, &message(2, None), &[&archive, &inbox], &[], 0)
        .unwrap();
    let refused = client
        .call("Mailbox/set", json!({"accountId": "c", "destroy": ["f"]}))
        .await;
    assert_eq!(refused["notDestroyed"]["f"]["type"], "mailboxHasEmail");
    let destroyed = client
        .call(
            "Mailbox/set",
            json!({"accountId": "c", "destroy": ["f"], "onDestroyRemoveEmails": true}),
        )
        .await;
    assert_eq!(destroyed["destroyed"], json!(["f"]));
    let left = client.server.emails(ALICE);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].mailbox_ids, vec!["a"]);
    let query = client
        .call(
            "Mailbox/query",
            json!({"accountId": "c", "filter": {"role": "inbox"}}),
        )
        .await;
    assert_eq!(query["ids"], json!(["a"]));
}

#[tokio::test]
async fn mail_methods_need_the_mail_capability() {
    let client = Client::default().await;
    let response = client
        .http
        .post(format!("{}/jmap/", client.server.base_url()))
        .basic_auth(ALICE, Some(ALICE_PASSWORD))
        .json(&json!({"using": ["urn:ietf:params:jmap:core"], "methodCalls": [["Email/query", {}, "0"]]}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["methodResponses"][0][1]["type"], "unknownMethod");
}

fn small_limits() -> UploadLimits {
    UploadLimits {
        max_upload_size: 1000,
        max_upload_count: 3,
        upload_quota: 2000,
        upload_ttl_ms: 2000,
    }
}

#[tokio::test]
async fn the_upload_quota_refuses_with_429_until_the_window_ends() {
    let client = Client::start(small_limits()).await;
    for _ in 0..3 {
        client.upload(&message(1, None)).await;
    }
    let refused = client
        .try_upload(&message(1, None), "message/rfc822")
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "2");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body,
        json!({"type": "about:blank", "status": 429, "title": "Quota exceeded",
               "detail": "You have exceeded the blob upload quota of 3 files or 2000 bytes."})
    );
    client.server.set_clock_offset(3);
    client.upload(&message(1, None)).await;
    // Bytes count too: 2000 bytes per window.
    client.server.set_clock_offset(6);
    client.upload(&[b'x'; 999]).await;
    client.upload(&[b'x'; 999]).await;
    let over = client
        .try_upload(&[b'x'; 3], "message/rfc822")
        .await
        .unwrap();
    assert_eq!(over.status(), 429);
    // Too large for maxUploadSize.
    let large = client
        .try_upload(&[b'x'; 1001], "message/rfc822")
        .await
        .unwrap();
    assert_eq!(large.status(), 400);
    let body: Value = large.json().await.unwrap();
    assert_eq!(body["type"], "urn:ietf:params:jmap:error:limit");
    assert_eq!(body["limit"], "maxSizeUpload");
}

#[tokio::test]
async fn an_upload_not_imported_in_time_expires() {
    let client = Client::start(small_limits()).await;
    let upload = client.upload(&message(1, None)).await;
    assert_eq!(client.try_download(&upload).await.unwrap().status(), 200);
    client.server.set_clock_offset(3);
    let result = client.import(&upload, json!({"a": true}), json!({})).await;
    assert_eq!(result["notCreated"]["i"]["type"], "blobNotFound");
    assert_eq!(client.try_download(&upload).await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_status_fault_answers_without_acting() {
    let client = Client::default().await;
    client.server.inject_fault(
        FaultPoint::Method("Email/import".to_owned()),
        0,
        FaultAction::Status {
            status: 503,
            retry_after: Some(7),
        },
        1,
    );
    let upload = client.upload(&message(1, None)).await;
    let calls = json!([["Email/import", {"accountId": "c", "emails": {"i": {"blobId": upload, "mailboxIds": {"a": true}}}}, "0"]]);
    let response = client.try_jmap(calls.clone()).await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "7");
    assert!(client.server.emails(ALICE).is_empty());
    // Only once: the next one goes through.
    assert_eq!(client.try_jmap(calls).await.unwrap().status(), 200);
    assert_eq!(client.server.emails(ALICE).len(), 1);
    let point = FaultPoint::Method("Email/import".to_owned());
    assert_eq!(client.server.request_count(&point), 2);
    assert_eq!(client.server.request_count(&FaultPoint::Upload), 1);
}

#[tokio::test]
async fn drop_before_closes_the_connection_and_does_nothing() {
    let client = Client::default().await;
    client
        .server
        .inject_fault(FaultPoint::Upload, 1, FaultAction::DropBefore, 1);
    client.upload(&message(1, None)).await;
    let err = client
        .try_upload(&message(2, None), "message/rfc822")
        .await
        .unwrap_err();
    assert!(!err.is_status(), "{err:?}");
    client.upload(&message(3, None)).await;
    assert_eq!(client.server.request_count(&FaultPoint::Upload), 3);
}

#[tokio::test]
async fn drop_after_acts_then_closes_the_connection() {
    let client = Client::default().await;
    let upload = client.upload(&message(1, None)).await;
    client.server.inject_fault(
        FaultPoint::Method("Email/import".to_owned()),
        0,
        FaultAction::DropAfter,
        1,
    );
    let calls = json!([["Email/import", {"accountId": "c", "emails": {"i": {"blobId": upload, "mailboxIds": {"a": true}}}}, "0"]]);
    let err = client.try_jmap(calls).await.unwrap_err();
    assert!(!err.is_status(), "{err:?}");
    assert_eq!(
        client.server.emails(ALICE).len(),
        1,
        "the import was carried out"
    );
    // The server still answers other requests.
    let query = client.call("Email/query", json!({"accountId": "c"})).await;
    assert_eq!(query["ids"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn delay_and_over_quota_faults() {
    let client = Client::default().await;
    let id = client.deliver(1, None);
    let blob = client.server.emails(ALICE)[0].blob_id.clone();
    client.server.inject_fault(
        FaultPoint::Download,
        0,
        FaultAction::Delay(Duration::from_millis(300)),
        1,
    );
    let start = Instant::now();
    assert_eq!(client.try_download(&blob).await.unwrap().status(), 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
    client
        .server
        .inject_fault(FaultPoint::Upload, 0, FaultAction::OverQuota, 2);
    for _ in 0..2 {
        let refused = client
            .try_upload(&message(1, None), "message/rfc822")
            .await
            .unwrap();
        assert_eq!(refused.status(), 429);
        assert_eq!(refused.headers()["retry-after"], "3600");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(
            body["detail"],
            "You have exceeded the blob upload quota of 1000 files or 50000000 bytes."
        );
    }
    client.upload(&message(1, None)).await;
    client
        .server
        .inject_fault(FaultPoint::Session, 0, FaultAction::DropBefore, 1);
    let session = client
        .http
        .get(format!("{}/jmap/session", client.server.base_url()))
        .basic_auth(ALICE, Some(ALICE_PASSWORD))
        .send()
        .await;
    assert!(session.is_err());
    client.server.inject_fault(
        FaultPoint::AnyJmap,
        0,
        FaultAction::Status {
            status: 500,
            retry_after: None,
        },
        1,
    );
    assert_eq!(client.try_jmap(json!([])).await.unwrap().status(), 500);
    client.server.inject_fault(
        FaultPoint::AnyJmap,
        0,
        FaultAction::Status {
            status: 500,
            retry_after: None,
        },
        5,
    );
    client.server.clear_faults();
    let get = client
        .call("Email/get", json!({"accountId": "c", "ids": [id]}))
        .await;
    assert_eq!(get["list"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn thousands_of_seeded_emails_are_fast() {
    let client = Client::default().await;
    let start = Instant::now();
    for n in 0..3000 {
        client
            .server
            .add_email(
                ALICE,
                &message(n, Some(&format!("m{n}@example.net"))),
                &["a"],
                &[],
                0,
            )
            .unwrap();
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let query = client
        .call(
            "Email/query",
            json!({"accountId": "c", "calculateTotal": true, "limit": 10}),
        )
        .await;
    assert_eq!(query["total"], 3000);
    assert!(
        client
            .server
            .add_email(ALICE, b"no header", &["a"], &[], 0)
            .is_err()
    );
    assert!(
        client
            .server
            .add_email(ALICE, &message(1, None), &["zz"], &[], 0)
            .is_err()
    );
}

#[tokio::test]
async fn admin_server_settings_show_the_recorded_defaults() {
    let client = Client::default().await;
    let response = client
        .http
        .post(format!("{}/jmap/", client.server.base_url()))
        .basic_auth(
            "admin@example.org",
            Some(mailseal_testserver::config::ADMIN_PASSWORD),
        )
        .json(
            &json!({"using": ["urn:ietf:params:jmap:core", "urn:stalwart:jmap"], "methodCalls": [
            ["x:Jmap/get", {"ids": ["singleton"]}, "j"]]}),
        )
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["methodResponses"][0][1]["list"][0],
        json!({"id": "singleton", "maxUploadSize": 50_000_000, "maxUploadCount": 1000,
               "uploadQuota": 50_000_000, "uploadTtl": 3_600_000})
    );
    let alice = client
        .jmap(json!([["x:Email/get", {"ids": ["singleton"]}, "e"]]))
        .await;
    assert_eq!(alice[0][1]["type"], "forbidden");
}
