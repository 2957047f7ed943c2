#!/usr/bin/env bash
# cvm-launch make-session against the openssl command line and Python's
# hmac: the session blob for a real platform's PDH (AMD Naples, from the
# vectors) is unwrapped with keys derived outside libcvm, from the formulas
# of the SEV API (LAUNCH_START session, SP 800-108 KDF in counter mode with
# HMAC-SHA256, little-endian counter and length), and must hold the TEK and
# TIK make-session wrote; its MACs are recomputed too.
set -uo pipefail
cli=$1
vectors=${CVM_VECTORS_DIR:?}/sev
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

openssl ecparam -name secp384r1 -genkey -noout -out "$tmp/owner.pem" 2>/dev/null
chmod 600 "$tmp/owner.pem"
"$cli" make-session --pdh "$vectors/certs/naples/pdh.cert" --key "$tmp/owner.pem" --policy 0x5 \
    --session-out "$tmp/session" --tik-out "$tmp/tik" --tek-out "$tmp/tek" >/dev/null || fail "make-session failed"
[[ $(stat -c %a "$tmp/tik") == 600 && $(stat -c %a "$tmp/tek") == 600 ]] || fail "the transport key files are not mode 600"
[[ $(stat -c %s "$tmp/session") == 128 ]] || fail "the session blob is not 128 bytes"

# The PDH's public key as openssl reads it: QX and QY are little-endian in
# 72-byte fields at 0x14 and 0x5c (SEV API, certificate format).
/usr/bin/python3 - "$vectors/certs/naples/pdh.cert" "$tmp/pdh.der" <<'PY'
import sys
c = open(sys.argv[1], "rb").read()
x, y = c[0x14:0x14 + 48][::-1], c[0x5C:0x5C + 48][::-1]
spki = bytes.fromhex("3076301006072a8648ce3d020106052b81040022036200") + b"\x04" + x + y
open(sys.argv[2], "wb").write(spki)
PY
openssl pkey -pubin -inform DER -in "$tmp/pdh.der" -out "$tmp/pdh.pem" 2>/dev/null || fail "openssl cannot read the PDH's point"
openssl pkeyutl -derive -inkey "$tmp/owner.pem" -peerkey "$tmp/pdh.pem" -out "$tmp/z" 2>/dev/null || fail "openssl ECDH failed"

out=$(/usr/bin/python3 - "$tmp" <<'PY'
import hmac, subprocess, sys
d = sys.argv[1]
z = open(f"{d}/z", "rb").read()
s = open(f"{d}/session", "rb").read()
tik, tek = open(f"{d}/tik", "rb").read(), open(f"{d}/tek", "rb").read()
def kdf(key, label, context):
    msg = (1).to_bytes(4, "little") + label + b"\0" + context + (128).to_bytes(4, "little")
    return hmac.new(key, msg, "sha256").digest()[:16]
nonce, wrapped, wrap_iv, wrap_mac, policy_mac = s[0:16], s[16:48], s[48:64], s[64:96], s[96:128]
master = kdf(z, b"sev-master-secret", nonce)
kek, kik = kdf(master, b"sev-kek", b""), kdf(master, b"sev-kik", b"")
open(f"{d}/wrapped", "wb").write(wrapped)
plain = subprocess.run(["openssl", "enc", "-d", "-aes-128-ctr", "-K", kek.hex(), "-iv", wrap_iv.hex(), "-in", f"{d}/wrapped"],
                       check=True, capture_output=True).stdout
problems = []
if plain != tek + tik: problems.append("the wrapped keys are not TEK || TIK")
if wrap_mac != hmac.new(kik, wrapped, "sha256").digest(): problems.append("WRAP_MAC")
if policy_mac != hmac.new(tik, (5).to_bytes(4, "little"), "sha256").digest(): problems.append("POLICY_MAC")
print("; ".join(problems) or "ok")
PY
)
[[ $out == ok ]] || fail "make-session: $out"
# Another role's certificate is refused as the PDH, by name.
"$cli" make-session --pdh "$vectors/certs/naples/pek.cert" --key "$tmp/owner.pem" --session-out "$tmp/s2" \
    --tik-out "$tmp/t2" --tek-out "$tmp/e2" >/dev/null 2>"$tmp/err" && fail "a PEK was taken as the PDH"
grep -qF "pek.cert" "$tmp/err" || fail "the refusal does not name the file: $(cat "$tmp/err")"
echo "ok: make-session's blob unwrapped with openssl ECDH and AES-CTR and the SEV KDF in Python"
