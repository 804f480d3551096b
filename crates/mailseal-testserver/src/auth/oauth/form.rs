//! `application/x-www-form-urlencoded` bodies, which the OAuth endpoints read whatever the
//! `Content-Type` says (so a JSON body is one odd key and no known parameter).

use std::collections::HashMap;

/// Decoded form parameters; of a repeated name the first value counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormData(HashMap<String, String>);

impl FormData {
    /// Parses a body (`+` is a space, `%XX` a byte; invalid UTF-8 is replaced).
    pub fn parse(body: &[u8]) -> Self {
        let mut map = HashMap::new();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let name = decode(parts.next().unwrap_or_default());
            let value = decode(parts.next().unwrap_or_default());
            map.entry(name).or_insert(value);
        }
        Self(map)
    }

    /// A parameter; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let high = raw.get(i + 1).copied().and_then(hex);
                let low = raw.get(i + 2).copied().and_then(hex);
                if let (Some(h), Some(l)) = (high, low) {
                    out.push(h << 4 | l);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_recorded_bodies() {
        let form = FormData::parse(
            b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&scope=openid+offline_access&x=&y",
        );
        assert_eq!(
            form.get("grant_type"),
            Some("urn:ietf:params:oauth:grant-type:device_code")
        );
        assert_eq!(form.get("scope"), Some("openid offline_access"));
        assert_eq!(form.get("x"), None);
        assert_eq!(form.get("y"), None);
        let json = FormData::parse(br#"{"grant_type": "authorization_code"}"#);
        assert_eq!(json.get("grant_type"), None);
        assert_eq!(decode(b"100%"), "100%");
    }
}
