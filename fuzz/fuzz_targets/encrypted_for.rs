//! `encrypted_for` without a key. The first byte chooses how the rest is given: 0 as a whole
//! message (header split, Content-Type dispatch, base64 and multipart readers), 1 as the
//! DER/BER body of an `application/pkcs7-mime` message (the CMS head reader and RecipientInfo
//! decoding), 2 as the OpenPGP packets of a PGP/MIME message and 3 of an inline-PGP message
//! (Sequoia's packet parser up to the SEIPD header).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let message = match selector % 4 {
        0 => rest.to_vec(),
        1 => {
            let mut m = b"Subject: fuzz\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
            m.extend(mailseal_fuzz::base64_lines(rest, "\r\n").into_bytes());
            m
        }
        2 => format!(
            "Subject: fuzz\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\n{}-----END PGP MESSAGE-----\r\n\r\n--b--\r\n",
            mailseal_fuzz::base64_lines(rest, "\r\n")
        )
        .into_bytes(),
        _ => format!(
            "Subject: fuzz\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\n{}-----END PGP MESSAGE-----\r\n",
            mailseal_fuzz::base64_lines(rest, "\r\n")
        )
        .into_bytes(),
    };
    mailseal_fuzz::message::recipients_listed(&message);
});
