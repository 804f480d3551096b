//! The state file: which account and key a run belongs to, which copies are under way, and
//! which messages are done. It is written before every step that changes the account, as a
//! new file that replaces the old one by a rename, so that it is never half written.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The format version written.
const VERSION: u32 = 1;

/// A copy that identifies itself: what the encrypted copy of one original looks like on
/// the server (its size is the upload's length, its `receivedAt` and `Message-ID` the
/// original's), and the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Copy {
    /// The copy's id, once the import answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    /// Its size in bytes.
    pub(crate) size: u64,
    /// The SHA-256 of its bytes, hex.
    pub(crate) sha256: String,
    /// The original's `receivedAt`.
    pub(crate) received_at: String,
    /// The original's `Message-ID`s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message_id: Option<Vec<String>>,
}

/// The state of a job for one account and key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct State {
    version: u32,
    /// The server's origin.
    pub(crate) server: String,
    /// The account's id.
    pub(crate) account_id: String,
    /// The user name.
    pub(crate) username: String,
    /// The SHA-256 of the configured key as stored on the server, hex.
    pub(crate) key: String,
    /// Copies imported or about to be, by original id; the original still exists.
    #[serde(default)]
    pub(crate) pending: BTreeMap<String, Copy>,
    /// Copies that replaced their original, by original id.
    #[serde(default)]
    pub(crate) done: BTreeMap<String, Copy>,
}

/// A state and the file it lives in.
#[derive(Debug)]
pub(crate) struct StateFile {
    path: PathBuf,
    pub(crate) state: State,
}

fn state_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::StateFile {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

impl StateFile {
    /// Opens the state at `path` for this account and key, or starts a new one. A state of
    /// another server, account or key is refused: its entries mean nothing here.
    pub(crate) fn open(
        path: &Path,
        server: &str,
        account_id: &str,
        username: &str,
        key: &str,
    ) -> Result<StateFile, Error> {
        let fresh = State {
            version: VERSION,
            server: server.to_owned(),
            account_id: account_id.to_owned(),
            username: username.to_owned(),
            key: key.to_owned(),
            pending: BTreeMap::new(),
            done: BTreeMap::new(),
        };
        let state = match std::fs::read(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => fresh,
            Err(e) => return Err(state_error(path, format!("cannot read it: {e}"))),
            Ok(bytes) => {
                let state: State = serde_json::from_slice(&bytes).map_err(|e| {
                    state_error(path, format!("it is not a mailseal state file ({e})"))
                })?;
                if state.version != VERSION {
                    return Err(state_error(
                        path,
                        format!(
                            "it has format version {}, this mailseal reads {VERSION}",
                            state.version
                        ),
                    ));
                }
                if state.server != server
                    || state.account_id != account_id
                    || state.username != username
                {
                    return Err(state_error(
                        path,
                        format!(
                            "it belongs to {} on {} (account {}), not to {username} on {server}: \
                             give each account its own state file",
                            state.username, state.server, state.account_id
                        ),
                    ));
                }
                if state.key != key {
                    if !state.pending.is_empty() {
                        return Err(state_error(
                            path,
                            "the key configured on the server changed while copies were under \
                             way; switch back to the earlier key and run again to finish them",
                        ));
                    }
                    State {
                        key: key.to_owned(),
                        ..state
                    }
                } else {
                    state
                }
            }
        };
        Ok(StateFile {
            path: path.to_owned(),
            state,
        })
    }

    /// Writes the state: to a new file beside the old one, flushed to disk, then renamed over
    /// it (and the directory flushed), so that a crash leaves the old state or the new one.
    pub(crate) fn save(&self) -> Result<(), Error> {
        let bytes = serde_json::to_vec_pretty(&self.state)
            .map_err(|e| state_error(&self.path, format!("cannot encode it: {e}")))?;
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            if let Ok(d) = std::fs::File::open(dir) {
                // Directories cannot be opened for syncing on every platform; best effort.
                let _ = d.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            state_error(&self.path, format!("cannot write it: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(id: Option<&str>) -> Copy {
        Copy {
            id: id.map(str::to_owned),
            size: 10,
            sha256: "ab".into(),
            received_at: "2026-11-22T06:07:13Z".into(),
            message_id: Some(vec!["m@example.net".into()]),
        }
    }

    #[test]
    fn a_state_survives_a_save_and_refuses_other_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.json");
        let mut s = StateFile::open(&path, "http://127.0.0.1:1", "c", "alice", "k1").unwrap();
        s.state.pending.insert("m1".into(), copy(None));
        s.state.done.insert("m0".into(), copy(Some("m9")));
        s.save().unwrap();
        let again = StateFile::open(&path, "http://127.0.0.1:1", "c", "alice", "k1").unwrap();
        assert_eq!(again.state, s.state);
        // Nothing but the state file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let e = StateFile::open(&path, "http://127.0.0.1:1", "d", "bob", "k1").unwrap_err();
        assert_eq!(e.code(), "jmap.state_file");
        assert!(e.to_string().contains("own state file"), "{e}");
        let e = StateFile::open(&path, "http://127.0.0.1:1", "c", "alice", "k2").unwrap_err();
        assert!(e.to_string().contains("key"), "{e}");

        std::fs::write(&path, b"{not json").unwrap();
        let e = StateFile::open(&path, "http://127.0.0.1:1", "c", "alice", "k1").unwrap_err();
        assert!(e.to_string().contains("not a mailseal state file"), "{e}");
    }
}
