//! The fuzz bytes as the DER/BER body of an `application/pkcs7-mime` message: the BER reader,
//! RecipientInfo handling, key transport / agreement and content decryption.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|der: &[u8]| {
    let mut message = b"Subject: fuzz\r\nMIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    message.extend(mailseal_fuzz::base64_lines(der, "\r\n").into_bytes());
    mailseal_fuzz::message::decrypt_both(&message);
});
