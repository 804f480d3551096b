//! S/MIME (RFC 8551): CMS (Auth)EnvelopedData written by [`encrypt`], opened by
//! [`decrypt`], its recipients listed by [`addressees`]; the mirror of `pgp`.

pub(crate) mod addressees;
pub(crate) mod decrypt;
pub(crate) mod encrypt;
pub(crate) mod envelope;
mod recipient_info;
