//! PGP/MIME (RFC 3156) with Sequoia: written by [`encrypt`] and read by [`decrypt`]; the
//! mirror of `smime`.

pub(crate) mod decrypt;
pub(crate) mod encrypt;
