"""Writes the seeds of the `key_text` fuzz target.

`key_text` decodes its input with the `arbitrary` crate, so a useful seed is not a text file
but the bytes `arbitrary` turns into the wanted structure. This encodes that structure in the
byte format of arbitrary 1.5 (enum variant: little-endian u32 scaled to the variant count;
bool: low bit of a byte; Vec: a "continue" bool before each element; byte and string
slices: their length taken from the end of the input). If the `arbitrary` version or the
`TextInput` type in fuzz_targets/key_text.rs changes, regenerate and check the seeds.

Usage: python3 fuzz/tools/key_text_seeds.py fuzz/seeds/key_text
"""
import struct, sys

LABELS = ["CERTIFICATE","X509 CERTIFICATE","TRUSTED CERTIFICATE","PKCS7","CMS","PGP PUBLIC KEY BLOCK",
 "PGP PRIVATE KEY BLOCK","PGP SECRET KEY BLOCK","PGP MESSAGE","PGP SIGNATURE","PGP SIGNED MESSAGE",
 "PRIVATE KEY","ENCRYPTED PRIVATE KEY","RSA PRIVATE KEY","EC PRIVATE KEY","OPENSSH PRIVATE KEY","PKCS12",
 "PUBLIC KEY","RSA PUBLIC KEY","CERTIFICATE REQUEST","X509 CRL","PGP ARMORED FILE","RANDOM"]
EXAMPLES = ["alice-crt","ca-crt","alice-pgp"]
QUOTES = ["none","mail","nested","indented","tab"]

def variant(k, count):
    v = (k * 2**32 + count - 1) // count
    assert (v * count) >> 32 == k
    return struct.pack('<I', v)

class Enc:
    def __init__(self): self.ops = []
    def front(self, b): self.ops.append(('f', bytes(b)))
    def slice(self, b): self.ops.append(('l', len(b))); self.front(b)
    def bool(self, x): self.front([1 if x else 0])
    def enum(self, k, n): self.front(variant(k, n))
    def label(self, name):
        if name in LABELS[:-1]: self.enum(LABELS.index(name), len(LABELS))
        else: self.enum(len(LABELS)-1, len(LABELS)); self.slice(name.encode())
    def build(self, trailer=b''):
        fronts = b''.join(b for k, b in self.ops if k == 'f') + trailer
        lens = [n for k, n in self.ops if k == 'l']
        widths = [1] * len(lens)
        while True:
            total = len(fronts) + sum(widths)
            # simulate consumption order to find the remaining length at each length read
            consumed_f = 0; consumed_b = 0; new = []; li = 0; chunks = []
            for k, v in self.ops:
                if k == 'f': consumed_f += len(v); continue
                rem = total - consumed_f - consumed_b
                w = 1 if rem <= 256 else 2 if rem <= 65537 else 4
                new.append(w); consumed_b += w
                assert v <= rem - w, (v, rem, w)
                chunks.append(v.to_bytes(w, 'big'))
            if new == widths: break
            widths = new
        return fronts + b''.join(reversed(chunks))

def block(e, label, body, end='match', header='none', crlf=False, before=b'', trailing_space=False,
          quote='none'):
    e.bool(True)                 # another block follows
    e.slice(before)
    e.label(label)
    if end == 'match': e.enum(0, 3)
    elif end == 'missing': e.enum(2, 3)
    else: e.enum(1, 3); e.label(end)
    if header == 'none': e.enum(0, 3)
    elif header == 'blank': e.enum(1, 3)
    else: e.enum(2, 3); e.slice(header.encode())
    kind, arg = body
    if kind == 'b64': e.enum(0, 4); e.slice(arg)
    elif kind == 'raw': e.enum(1, 4); e.slice(arg)
    elif kind == 'example': e.enum(2, 4); e.enum(EXAMPLES.index(arg), 3)
    else: e.enum(3, 4); e.enum(EXAMPLES.index(arg[0]), 3); e.front([arg[1]])
    e.bool(crlf); e.bool(trailing_space); e.enum(QUOTES.index(quote), len(QUOTES))

def seed(blocks, trailer=b''):
    e = Enc()
    for b in blocks: block(e, **b)
    e.bool(False)
    return e.build(trailer)

out = sys.argv[1] if len(sys.argv) > 1 else 'fuzz/seeds/key_text'
seeds = {
 'alice-crt': [dict(label='CERTIFICATE', body=('example','alice-crt'))],
 'chain-crlf-text-around': [dict(label='CERTIFICATE', body=('example','alice-crt'), crlf=True, before=b'Bag Attributes\r\n    localKeyID: 01\r\n'),
                            dict(label='CERTIFICATE', body=('example','ca-crt'), crlf=True, before=b'subject=CN = CA\r\n')],
 'alice-pgp': [dict(label='PGP PUBLIC KEY BLOCK', body=('example','alice-pgp'), header='Comment: alice', crlf=True)],
 'mixed-pgp-x509': [dict(label='PGP PUBLIC KEY BLOCK', body=('example','alice-pgp'), header='blank'),
                    dict(label='CERTIFICATE', body=('example','alice-crt'))],
 'cert-then-private-key': [dict(label='CERTIFICATE', body=('example','alice-crt')),
                           dict(label='PRIVATE KEY', body=('b64', b'\x30\x03\x02\x01\x00'))],
 'signed-message': [dict(label='PGP SIGNED MESSAGE', body=('raw', b'Hash: SHA256'), end='missing', header='blank'),
                    dict(label='PGP SIGNATURE', body=('truncated', ('alice-pgp', 3)), header='blank')],
 'alice-pgp-quoted': [dict(label='PGP PUBLIC KEY BLOCK', body=('example','alice-pgp'), header='blank', quote='mail',
                           before=b'On Monday, Alice wrote:\n> my key:\n')],
 'alice-pgp-nested-crlf': [dict(label='PGP PUBLIC KEY BLOCK', body=('example','alice-pgp'), header='Comment: a',
                                quote='nested', crlf=True)],
 'alice-pgp-indented': [dict(label='PGP PUBLIC KEY BLOCK', body=('example','alice-pgp'), header='blank', quote='indented',
                             trailing_space=True)],
 'alice-pgp-armored-file': [dict(label='PGP ARMORED FILE', body=('example','alice-pgp'), header='blank')],
 'alice-crt-quoted-then-private': [dict(label='CERTIFICATE', body=('example','alice-crt'), quote='mail'),
                                   dict(label='PRIVATE KEY', body=('b64', b'\x30\x03\x02\x01\x00'), quote='tab')],
}
for name, blocks in seeds.items():
    open(f'{out}/{name}', 'wb').write(seed(blocks, b'-- \nsent from my phone\n'))
