//! Entry points for the cargo-fuzz targets (feature `fuzzing`), not part of the API.

use crate::{Error, PrivateKey};

/// A reader's plaintext, or its error.
pub type Reading = Result<Vec<u8>, Error>;

/// The plaintext (or error) of an OpenPGP message from our own reader and from Sequoia's,
/// or `None` when our reader declines the message (it then goes to Sequoia alone).
pub fn openpgp_readers(data: &[u8], key: &PrivateKey) -> Option<(Reading, Reading)> {
    crate::pgp::decrypt::both_readers(data, key)
}
