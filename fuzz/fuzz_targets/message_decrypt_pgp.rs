//! The fuzz bytes as the OpenPGP packets of a PGP/MIME message: the multipart split, Sequoia's
//! message parser, PKESK handling and the MDC / AEAD checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|packets: &[u8]| {
    let armored = mailseal_fuzz::base64_lines(packets, "\r\n");
    let message = format!(
        "Subject: fuzz\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\n{armored}-----END PGP MESSAGE-----\r\n\r\n--b--\r\n"
    );
    mailseal_fuzz::message::decrypt_both(message.as_bytes());
});
