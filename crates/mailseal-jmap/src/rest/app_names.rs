//! App-password names on 0.15 (spec §4.1): the server does not interpret them; the web admin
//! stores standard base64 of `<label>$<RFC 3339 time>` and shows names that do not decode
//! verbatim. Names never contain `$` (the server splits stored entries at the first `$`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The name for `label` created at `created` (RFC 3339).
pub(crate) fn encode(label: &str, created: &str) -> String {
    STANDARD.encode(format!("{label}${created}"))
}

/// The label and creation time of a name, or the name itself and `None`.
pub(crate) fn decode(name: &str) -> (String, Option<String>) {
    STANDARD
        .decode(name)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            text.rsplit_once('$')
                .map(|(label, time)| (label.to_owned(), Some(time.to_owned())))
        })
        .unwrap_or_else(|| (name.to_owned(), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_admin_names_round_trip() {
        // Fixture 22's name.
        let name = "VGh1bmRlcmJpcmQkMjAyNi0wMy0wMVQxMDowMDowMCswMDowMA==";
        assert_eq!(
            decode(name),
            (
                "Thunderbird".into(),
                Some("2026-03-01T10:00:00+00:00".into())
            )
        );
        assert_eq!(encode("Thunderbird", "2026-03-01T10:00:00+00:00"), name);
        assert_eq!(decode("k9-mail"), ("k9-mail".into(), None));
        assert!(!encode("a$b", "t").contains('$'));
    }
}
