//! Blob uploads and downloads (RFC 8620 §6.1–§6.2) through the session's `uploadUrl` and
//! `downloadUrl` templates, on the server's own origin only, with the client's sign-in.

use bytes::Bytes;
use serde::Deserialize;
use url::Url;

use crate::client::Client;
use crate::error::Error;

/// What the server answers to an upload.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Uploaded {
    /// The new blob's id (to give to `Email/import`).
    pub(crate) blob_id: String,
}

/// A template variable's value, percent-encoded for a URL.
fn encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl Client {
    /// The URL of `template` (a session URL template) with its variables filled in, refused
    /// unless it is on the server's origin.
    fn template_url(
        &self,
        template: Option<&str>,
        what: &str,
        vars: &[(&str, &str)],
    ) -> Result<Url, Error> {
        let template =
            template.ok_or_else(|| Error::protocol(format!("the session has no {what}")))?;
        let mut text = template.to_owned();
        for (name, value) in vars {
            text = text.replace(&format!("{{{name}}}"), &encoded(value));
        }
        let base = self.api_url().clone();
        self.server().resolve(&base, &text, what)
    }

    /// Uploads `data` as a blob of `content_type` for the signed-in account.
    pub(crate) async fn upload(&self, data: Bytes, content_type: &str) -> Result<Uploaded, Error> {
        let session = self.session();
        let url = self.template_url(
            session.upload_url.as_deref(),
            "uploadUrl",
            &[("accountId", &session.account_id)],
        )?;
        let value = self
            .send(&url, |http, url| {
                Ok(http
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(data.clone()))
            })
            .await?;
        serde_json::from_value(value).map_err(|e| Error::protocol(format!("upload answer: {e}")))
    }

    /// Downloads the blob `blob_id` of the signed-in account, as `content_type`.
    pub(crate) async fn download(&self, blob_id: &str, content_type: &str) -> Result<Bytes, Error> {
        let session = self.session();
        let url = self.template_url(
            session.download_url.as_deref(),
            "downloadUrl",
            &[
                ("accountId", &session.account_id),
                ("blobId", blob_id),
                ("name", "message.eml"),
                ("type", content_type),
            ],
        )?;
        self.send_bytes(&url, |http, url| Ok(http.get(url))).await
    }
}

#[cfg(test)]
mod tests {
    use super::encoded;

    #[test]
    fn template_values_are_percent_encoded() {
        assert_eq!(encoded("message/rfc822"), "message%2Frfc822");
        assert_eq!(encoded("c1/../x"), "c1%2F..%2Fx");
    }
}
