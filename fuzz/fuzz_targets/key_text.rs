//! Text with arbitrary BEGIN/END blocks: a structured input (built with `arbitrary`) of up to
//! eight blocks, each with text before it, a label from the list mailseal-core classifies (or
//! a random one), a body (random bytes in base64, raw bytes, or the body of one of the public
//! example keys), LF or CRLF line ends, an optional armor header, and a matching, mismatched or
//! missing END line, and quoting (indented or mail-quoted lines, as in a reply); then trailing
//! text. Covers the block scanner, label classification, the private-key / mixed-format /
//! not-a-key refusals and multi-certificate selection.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

const ALICE_CRT: &str = include_str!("../../examples/keys/alice.crt.pem");
const CA_CRT: &str = include_str!("../../examples/keys/ca.crt.pem");
const ALICE_PGP: &str = include_str!("../../examples/keys/alice.pub.asc");

/// Most blocks a single input is turned into.
const MAX_BLOCKS: usize = 8;

#[derive(Debug, Arbitrary)]
struct TextInput<'a> {
    blocks: Vec<Block<'a>>,
    trailer: &'a [u8],
}

#[derive(Debug, Arbitrary)]
struct Block<'a> {
    before: &'a [u8],
    label: Label<'a>,
    end: End<'a>,
    header: Header<'a>,
    body: Body<'a>,
    crlf: bool,
    /// Spaces after the BEGIN line's dashes (the scanner trims them).
    trailing_space: bool,
    /// What stands before each line of the block, BEGIN to END.
    quote: Quote,
}

/// Prefixes of the lines of a block pasted into mail or a web page.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Quote {
    None,
    /// `> ` before each line, `>` alone on empty ones (as mail programs write it).
    Mail,
    /// `> > `: a quote within a quote.
    Nested,
    /// Four spaces.
    Indented,
    /// A tab.
    Tab,
}

impl Quote {
    /// The prefix of a line with text, and that of an empty line.
    fn prefixes(self) -> (&'static str, &'static str) {
        match self {
            Quote::None => ("", ""),
            Quote::Mail => ("> ", ">"),
            Quote::Nested => ("> > ", "> >"),
            Quote::Indented => ("    ", ""),
            Quote::Tab => ("\t", "\t"),
        }
    }
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Label<'a> {
    Certificate,
    X509Certificate,
    TrustedCertificate,
    Pkcs7,
    Cms,
    PgpPublicKeyBlock,
    PgpPrivateKeyBlock,
    PgpSecretKeyBlock,
    PgpMessage,
    PgpSignature,
    PgpSignedMessage,
    PrivateKey,
    EncryptedPrivateKey,
    RsaPrivateKey,
    EcPrivateKey,
    OpensshPrivateKey,
    Pkcs12,
    PublicKey,
    RsaPublicKey,
    CertificateRequest,
    X509Crl,
    PgpArmoredFile,
    Random(&'a str),
}

impl Label<'_> {
    fn text(&self) -> &str {
        match self {
            Label::Certificate => "CERTIFICATE",
            Label::X509Certificate => "X509 CERTIFICATE",
            Label::TrustedCertificate => "TRUSTED CERTIFICATE",
            Label::Pkcs7 => "PKCS7",
            Label::Cms => "CMS",
            Label::PgpPublicKeyBlock => "PGP PUBLIC KEY BLOCK",
            Label::PgpPrivateKeyBlock => "PGP PRIVATE KEY BLOCK",
            Label::PgpSecretKeyBlock => "PGP SECRET KEY BLOCK",
            Label::PgpMessage => "PGP MESSAGE",
            Label::PgpSignature => "PGP SIGNATURE",
            Label::PgpSignedMessage => "PGP SIGNED MESSAGE",
            Label::PrivateKey => "PRIVATE KEY",
            Label::EncryptedPrivateKey => "ENCRYPTED PRIVATE KEY",
            Label::RsaPrivateKey => "RSA PRIVATE KEY",
            Label::EcPrivateKey => "EC PRIVATE KEY",
            Label::OpensshPrivateKey => "OPENSSH PRIVATE KEY",
            Label::Pkcs12 => "PKCS12",
            Label::PublicKey => "PUBLIC KEY",
            Label::RsaPublicKey => "RSA PUBLIC KEY",
            Label::CertificateRequest => "CERTIFICATE REQUEST",
            Label::X509Crl => "X509 CRL",
            Label::PgpArmoredFile => "PGP ARMORED FILE",
            Label::Random(s) => s,
        }
    }
}

#[derive(Debug, Arbitrary)]
enum End<'a> {
    Matching,
    Other(Label<'a>),
    Missing,
}

#[derive(Debug, Arbitrary)]
enum Header<'a> {
    /// Body right after the BEGIN line (PEM style).
    None,
    /// A blank line after the BEGIN line (armor style).
    Blank,
    /// An armor header line, then a blank line.
    Line(&'a str),
}

#[derive(Debug, Arbitrary)]
enum Body<'a> {
    /// Random bytes, base64 encoded in 64-column lines.
    Base64(&'a [u8]),
    /// Random bytes as they are.
    Raw(&'a [u8]),
    /// The base64 lines of one of the public example keys.
    Example(Example),
    /// The same, cut after some lines.
    TruncatedExample(Example, u8),
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Example {
    AliceCertificate,
    CaCertificate,
    AliceOpenPgp,
}

impl Example {
    /// The base64 lines between the boundary lines (armor headers and blank line dropped).
    fn lines(self) -> Vec<&'static str> {
        let text = match self {
            Example::AliceCertificate => ALICE_CRT,
            Example::CaCertificate => CA_CRT,
            Example::AliceOpenPgp => ALICE_PGP,
        };
        text.lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty() && !l.starts_with("-----") && !l.contains(": "))
            .collect()
    }
}

impl TextInput<'_> {
    fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for block in self.blocks.iter().take(MAX_BLOCKS) {
            block.render(&mut out);
        }
        out.extend_from_slice(self.trailer);
        out
    }
}

impl Block<'_> {
    fn render(&self, out: &mut Vec<u8>) {
        let eol = if self.crlf { "\r\n" } else { "\n" };
        out.extend_from_slice(self.before);
        if !self.before.is_empty() && !self.before.ends_with(b"\n") {
            out.extend_from_slice(eol.as_bytes());
        }
        let mut block = Vec::new();
        self.render_block(&mut block, eol);
        let (text, empty) = self.quote.prefixes();
        for line in block.split_inclusive(|b| *b == b'\n') {
            let blank = line == b"\n" || line == b"\r\n";
            out.extend_from_slice(if blank { empty } else { text }.as_bytes());
            out.extend_from_slice(line);
        }
    }

    /// The block from its BEGIN line to its END line.
    fn render_block(&self, out: &mut Vec<u8>, eol: &str) {
        let label = self.label.text();
        out.extend_from_slice(format!("-----BEGIN {label}-----").as_bytes());
        if self.trailing_space {
            out.extend_from_slice(b"  ");
        }
        out.extend_from_slice(eol.as_bytes());
        match self.header {
            Header::None => {}
            Header::Blank => out.extend_from_slice(eol.as_bytes()),
            Header::Line(h) => out.extend_from_slice(format!("{h}{eol}{eol}").as_bytes()),
        }
        match &self.body {
            Body::Base64(bytes) => {
                out.extend_from_slice(mailseal_fuzz::base64_lines(bytes, eol).as_bytes());
            }
            Body::Raw(bytes) => {
                out.extend_from_slice(bytes);
                out.extend_from_slice(eol.as_bytes());
            }
            Body::Example(ex) => {
                for line in ex.lines() {
                    out.extend_from_slice(format!("{line}{eol}").as_bytes());
                }
            }
            Body::TruncatedExample(ex, keep) => {
                for line in ex.lines().into_iter().take(usize::from(*keep)) {
                    out.extend_from_slice(format!("{line}{eol}").as_bytes());
                }
            }
        }
        let end = match &self.end {
            End::Matching => Some(label),
            End::Other(other) => Some(other.text()),
            End::Missing => None,
        };
        if let Some(end) = end {
            out.extend_from_slice(format!("-----END {end}-----{eol}").as_bytes());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = TextInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    mailseal_fuzz::exercise(&input.render());
});
