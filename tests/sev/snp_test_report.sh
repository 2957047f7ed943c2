#!/bin/bash
# Makes, in directory $1, a certificate chain and an SNP attestation report
# of measurement $2 (hex) with the openssl command line (with $3 and $4,
# ID_KEY_DIGEST and AUTHOR_KEY_DIGEST with FLAGS.AUTHOR_KEY_EN set, and
# report-no-author.bin with the ID key's digest alone), in the layout of the
# SNP firmware ABI's ATTESTATION_REPORT: ark.pem, ask.pem, vcek.pem (and
# other-ark.pem, an unrelated root), report.bin (HOST_DATA 0x11..,
# REPORT_DATA 0x22.., CHIP_ID 0x33..), changed.bin (one bit of MEASUREMENT
# flipped after signing) and short.bin. The signatures are OpenSSL's, so
# the tests that read these files judge libcvm's parser and checks, not
# its cryptography.
set -u
cd "$1" || exit 1
measurement=$2 id_digest=${3:-} author_digest=${4:-}
quiet() { "$@" >/dev/null 2>&1 || { echo "setup step failed: $*"; exit 1; }; }

# A chain shaped as AMD's: RSA-PSS/SHA-384 ARK (self-signed) and ASK, an
# ECDSA P-384 VCEK.
pss=(-sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48)
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout ark.key -out ark.pem -subj /CN=ARK-test -days 2 "${pss[@]}"
quiet openssl req -newkey rsa:2048 -nodes -keyout ask.key -out ask.csr -subj /CN=ASK-test
quiet openssl x509 -req -in ask.csr -CA ark.pem -CAkey ark.key -set_serial 2 -out ask.pem -days 2 "${pss[@]}"
quiet openssl ecparam -name secp384r1 -genkey -noout -out vcek.key
quiet openssl req -new -key vcek.key -out vcek.csr -subj /CN=VCEK-test
quiet openssl x509 -req -in vcek.csr -CA ask.pem -CAkey ask.key -set_serial 3 -out vcek.pem -days 2 "${pss[@]}"
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other-ark.pem -subj /CN=ARK-test -days 2 "${pss[@]}"

# The report: little-endian fields at the ABI's offsets, bytes [0, 0x2a0)
# signed by openssl with the VCEK key, r and s stored little-endian.
/usr/bin/python3 - "$measurement" "$id_digest" "$author_digest" <<'PY' || exit 1
import struct, subprocess, sys
m, id_digest, author_digest = sys.argv[1], sys.argv[2], sys.argv[3]
# ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
def integers(d):
    assert d[0] == 0x30
    i = 2 if d[1] < 0x80 else 2 + (d[1] & 0x7f)
    out = []
    while i < len(d):
        assert d[i] == 0x02
        n = d[i + 1]
        out.append(int.from_bytes(d[i + 2:i + 2 + n], "big"))
        i += 2 + n
    return out
def report(author):
    r = bytearray(0x4a0)
    struct.pack_into("<IIQ", r, 0, 2, 0, 0x30000)            # VERSION, GUEST_SVN, POLICY
    struct.pack_into("<II", r, 0x30, 0, 1)                   # VMPL, SIGNATURE_ALGO
    struct.pack_into("<I", r, 0x48, 1 if author else 0)      # FLAGS: AUTHOR_KEY_EN
    r[0x50:0x90] = b"\x22" * 64                               # REPORT_DATA
    r[0x90:0xc0] = bytes.fromhex(m)                           # MEASUREMENT
    r[0xc0:0xe0] = b"\x11" * 32                               # HOST_DATA
    if id_digest: r[0xe0:0x110] = bytes.fromhex(id_digest)    # ID_KEY_DIGEST
    if author: r[0x110:0x140] = bytes.fromhex(author_digest)  # AUTHOR_KEY_DIGEST
    r[0x1a0:0x1e0] = b"\x33" * 64                             # CHIP_ID
    open("tbs", "wb").write(r[:0x2a0])
    der = subprocess.run(["openssl", "dgst", "-sha384", "-sign", "vcek.key", "tbs"], capture_output=True,
                         check=True).stdout
    rv, sv = integers(der)
    r[0x2a0:0x2a0 + 72] = rv.to_bytes(72, "little")
    r[0x2e8:0x2e8 + 72] = sv.to_bytes(72, "little")
    return r
r = report(bool(author_digest))
open("report.bin", "wb").write(r)
bad = bytearray(r); bad[0x90] ^= 1
open("changed.bin", "wb").write(bad)
open("short.bin", "wb").write(r[:1000])
if author_digest: open("report-no-author.bin", "wb").write(report(False))
PY

