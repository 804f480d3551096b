//! S/MIME (RFC 8551): CMS (Auth)EnvelopedData written by [`encrypt`] and opened by
//! [`decrypt`]; the mirror of `pgp`.

pub(crate) mod decrypt;
pub(crate) mod encrypt;
pub(crate) mod envelope;
mod recipient_info;
