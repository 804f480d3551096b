//! Messages: the MIME header split, detection of encrypted mail, the options, and the
//! entry points [`encrypt`](crate::encrypt), [`decrypt`](crate::decrypt) and
//! [`encrypted_for`](crate::encrypted_for), which hand the body to `smime` or `pgp`.

pub(crate) mod addressees;
pub(crate) mod decrypt;
pub(crate) mod detect;
pub(crate) mod encrypt;
pub(crate) mod mime;
pub(crate) mod options;
pub(crate) mod recipient_id;
pub(crate) mod streams;
