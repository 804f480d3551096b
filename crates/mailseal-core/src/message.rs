//! Messages: the MIME header split, detection of encrypted mail, the options, and the two
//! entry points [`encrypt`](crate::encrypt) and [`decrypt`](crate::decrypt), which hand the
//! body to `smime` or `pgp`.

pub(crate) mod decrypt;
pub(crate) mod detect;
pub(crate) mod encrypt;
pub(crate) mod mime;
pub(crate) mod options;
pub(crate) mod streams;
