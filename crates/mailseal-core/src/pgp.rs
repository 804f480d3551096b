//! PGP/MIME (RFC 3156) with Sequoia: written by [`encrypt`] and read by [`decrypt`]; the
//! mirror of `smime`.

mod armor;
pub(crate) mod decrypt;
pub(crate) mod encrypt;
mod pkesk;
mod seipd;
