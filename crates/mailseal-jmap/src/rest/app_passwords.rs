//! App passwords on 0.15. The client makes the secret (32 random characters), stores its
//! `$6$` hash under a name `base64(label$time)` and shows the secret once. Removal on the
//! server is a prefix match on `$app$<name>` (fixture 23: removing `k9` also removes
//! `k9-mail`), so exactly one name is removed by sending `<name>$`, and a name held by
//! several entries, which that would remove together, is refused.

use rand::Rng as _;
use rand::distributions::Alphanumeric;

use crate::account::app_credentials::{
    CreatedCredential, CredentialInfo, NewCredential, Permissions,
};
use crate::client::Client;
use crate::error::{Error, SetError};
use crate::secret::Secret;

use super::AUTH;
use super::actions::AuthAction;
use super::app_names;
use super::envelope::AuthInfo;
use super::sha512_crypt::hash_new;

/// Length of a generated app password (about 190 bits).
const SECRET_CHARS: usize = 32;

fn not_found(id: &str) -> Error {
    Error::Set(SetError {
        kind: "notFound".into(),
        description: Some(format!("there is no app password {id}")),
        properties: Vec::new(),
        validation_errors: Vec::new(),
        hint: Some("`mailseal account app-password list` shows them".into()),
    })
}

impl Client {
    /// [`Client::create_credential`] for an app password on a REST server.
    pub(crate) async fn rest_create_app_password(
        &self,
        new: &NewCredential,
    ) -> Result<CreatedCredential, Error> {
        if new.description.trim().is_empty() {
            return Err(Error::invalid("a description is required"));
        }
        if new.expires_at.is_some()
            || !new.allowed_ips.is_empty()
            || new.permissions != Permissions::Inherit
        {
            return Err(Error::NotAvailable {
                reason: "app passwords on this server (Stalwart before 0.16) cannot expire, be \
                         limited to addresses or have their own permissions; create it without \
                         those settings"
                    .into(),
            });
        }
        let created = mailseal_core::time::format_rfc3339(std::time::SystemTime::now())?;
        let name = app_names::encode(new.description.trim(), &created);
        let existing: AuthInfo = self.rest_get(AUTH).await?;
        if existing.app_passwords.iter().any(|n| n.starts_with(&name)) {
            return Err(Error::invalid(
                "an app password with this description was created this very second; wait a \
                 second and try again",
            ));
        }
        let secret = Secret::new(
            rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(SECRET_CHARS)
                .map(char::from)
                .collect::<String>(),
        );
        let hashed = Secret::new(hash_new(secret.expose().as_bytes()));
        let body = [AuthAction::AddAppPassword {
            name: &name,
            password: hashed.expose(),
        }];
        self.rest_post(AUTH, &body).await?;
        Ok(CreatedCredential { id: name, secret })
    }

    /// [`Client::list_credentials`] for app passwords on a REST server: the id is the stored
    /// name, the description and creation time are read from it.
    pub(crate) async fn rest_list_app_passwords(&self) -> Result<Vec<CredentialInfo>, Error> {
        let info: AuthInfo = self.rest_get(AUTH).await?;
        Ok(info
            .app_passwords
            .into_iter()
            .map(|name| {
                let (description, created_at) = app_names::decode(&name);
                CredentialInfo {
                    id: name,
                    description,
                    created_at,
                    expires_at: None,
                    allowed_ips: Vec::new(),
                    permissions: Permissions::Inherit,
                }
            })
            .collect())
    }

    /// [`Client::revoke_credential`] for an app password on a REST server: removes exactly
    /// the one named `id`.
    pub(crate) async fn rest_revoke_app_password(&self, id: &str) -> Result<(), Error> {
        if id.is_empty() || id.contains('$') {
            return Err(not_found(id));
        }
        let info: AuthInfo = self.rest_get(AUTH).await?;
        match info.app_passwords.iter().filter(|n| *n == id).count() {
            0 => return Err(not_found(id)),
            1 => {}
            n => {
                return Err(Error::NotAvailable {
                    reason: format!(
                        "{n} app passwords share the name {id}; the server can only remove \
                         them all at once, so none was removed (ask the administrator to remove \
                         the one you mean)"
                    ),
                });
            }
        }
        let exact = format!("{id}$");
        let body = [AuthAction::RemoveAppPassword { name: &exact }];
        self.rest_post(AUTH, &body).await.map(drop)
    }
}
