//! The actions of `POST /api/account/auth` (spec §4.2), serialized from borrowed text so
//! that secrets only ever land in the request body, which is wiped once sent.

use serde::Serialize;

/// One action; a request body is a non-empty array of them.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum AuthAction<'a> {
    /// Replace the password (send a hash: the server stores what it gets).
    SetPassword {
        /// The `$6$` hash.
        password: &'a str,
    },
    /// Store a TOTP URL (must start with lower-case `otpauth://`).
    EnableOtpAuth {
        /// The `otpauth://` URL.
        url: &'a str,
    },
    /// Remove every TOTP URL.
    DisableOtpAuth,
    /// Store `$app$<name>$<password>`.
    AddAppPassword {
        /// The name (no `$`).
        name: &'a str,
        /// The `$6$` hash of the app password.
        password: &'a str,
    },
    /// Remove the app passwords whose stored text starts with `$app$<name>`.
    RemoveAppPassword {
        /// The name followed by `$`, so that exactly that name matches.
        name: &'a str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names() {
        let body = [
            AuthAction::SetPassword { password: "$6$x" },
            AuthAction::DisableOtpAuth,
            AuthAction::RemoveAppPassword { name: "k9$" },
        ];
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"[{"type":"setPassword","password":"$6$x"},{"type":"disableOtpAuth"},{"type":"removeAppPassword","name":"k9$"}]"#
        );
    }
}
