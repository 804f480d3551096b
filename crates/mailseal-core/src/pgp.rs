//! PGP/MIME (RFC 3156) with Sequoia: written by [`encrypt`], read by [`decrypt`], its
//! recipients listed by [`addressees`]; the mirror of `smime`.

pub(crate) mod addressees;
mod armor;
mod cfb;
pub(crate) mod decrypt;
pub(crate) mod encrypt;
mod open;
mod pkesk;
mod seipd;
