#!/bin/bash
# verify-pdh-chain on real AMD chains (tests/vectors/sev/certs/PROVENANCE.md)
# and make-dh-cert checked with the openssl command line: the coordinates
# against `openssl ec -text` of the key, the self-signature with `openssl
# dgst -verify`, the header fields against the SEV API's values (appendix C,
# as sev-tool writes them). Every check here also has a case that must fail.
set -u
cli=$(realpath "$1")
certs=${CVM_VECTORS_DIR:?}/sev/certs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_exit() {  # expect_exit CODE DESCRIPTION -- command...
    local want=$1 what=$2; shift 3
    "$@" >out.txt 2>err.txt
    local got=$?
    [[ $got -eq $want ]] || { fail "$what: exit $got, expected $want"; cat out.txt err.txt; }
}
chain() {  # chain DIR [ROLE=FILE...]: the six options for DIR, some replaced
    local dir=$1; shift
    declare -A f=([pdh]=$dir/pdh.cert [pek]=$dir/pek.cert [oca]=$dir/oca.cert [cek]=$dir/cek.cert
                  [ask]=$dir/ask.cert [ark]=$dir/ark.cert)
    for kv in "$@"; do f[${kv%%=*}]=${kv#*=}; done
    echo --pdh "${f[pdh]}" --pek "${f[pek]}" --oca "${f[oca]}" --cek "${f[cek]}" --ask "${f[ask]}" --ark "${f[ark]}"
}
flip() {  # flip IN OUT OFFSET: a copy with one bit changed
    /usr/bin/python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[int(sys.argv[3],0)]^=1; open(sys.argv[2],"wb").write(b)' "$@"
}

for product in naples rome; do
    # shellcheck disable=SC2046
    expect_exit 0 "$product chain" -- "$cli" verify-pdh-chain $(chain "$certs/$product")
    [[ $(grep -c '^ok ' out.txt) -eq 7 ]] || fail "$product: expected 7 links, got: $(cat out.txt)"
    grep -q "^TRUSTED" out.txt || fail "$product: no TRUSTED line"
    # shellcheck disable=SC2046
    expect_exit 0 "$product chain --json" -- "$cli" verify-pdh-chain $(chain "$certs/$product") --json
    /usr/bin/python3 -c 'import json,sys; j=json.load(open("out.txt")); sys.exit(0 if j["trusted"] and not j["failures"] else 1)' \
        || fail "$product --json: $(cat out.txt)"

    # One bit of the PDH's signature (S, offset 0x414 + 8 + 72 + 3).
    flip "$certs/$product/pdh.cert" pdh-bad.cert 0x467
    # shellcheck disable=SC2046
    expect_exit 3 "$product corrupted PDH signature" -- "$cli" verify-pdh-chain $(chain "$certs/$product" pdh=pdh-bad.cert)
    grep -q "FAIL  the PDH certificate's SIG1 (offset 0x414" out.txt || fail "$product: PDH failure not named: $(cat out.txt)"
    [[ $(grep -c '^FAIL' out.txt) -eq 1 ]] || fail "$product: more than the PDH's link failed: $(cat out.txt)"
    # One bit of the ASK's key ID: signed by the ARK.
    flip "$certs/$product/ask.cert" ask-bad.cert 0x6
    # shellcheck disable=SC2046
    expect_exit 3 "$product corrupted ASK" -- "$cli" verify-pdh-chain $(chain "$certs/$product" ask=ask-bad.cert)
    grep -q "FAIL  the ASK certificate's signature" out.txt || fail "$product: ASK failure not named: $(cat out.txt)"
done

# Another product's ASK does not certify this CEK.
# shellcheck disable=SC2046
expect_exit 3 "naples chain with the rome ASK" -- "$cli" verify-pdh-chain $(chain "$certs/naples" ask="$certs/rome/ask.cert")
# Malformed or misplaced certificates: exit 1, naming file, offset, field.
# shellcheck disable=SC2046
expect_exit 1 "a PEK given as the PDH" -- "$cli" verify-pdh-chain $(chain "$certs/rome" pdh="$certs/rome/pek.cert")
grep -q "pek.cert: offset 0x8: PUB_KEY_USAGE: expected PDH (0x1003), found PEK (0x1002)" err.txt || fail "role: $(cat err.txt)"
head -c 576 "$certs/naples/ark.cert" > ark-short.cert
# shellcheck disable=SC2046
expect_exit 1 "a truncated ARK" -- "$cli" verify-pdh-chain $(chain "$certs/naples" ark=ark-short.cert)
grep -q "ark-short.cert: offset 0x0: AMD signing-key certificate size: expected 832 bytes" err.txt || fail "size: $(cat err.txt)"
flip "$certs/rome/oca.cert" oca-curve.cert 0x10
# shellcheck disable=SC2046
expect_exit 1 "an OCA on curve 3" -- "$cli" verify-pdh-chain $(chain "$certs/rome" oca=oca-curve.cert)
grep -q "offset 0x10: CURVE: expected 2 (P-384), found 3" err.txt || fail "curve: $(cat err.txt)"
expect_exit 2 "a missing option" -- "$cli" verify-pdh-chain --pdh "$certs/rome/pdh.cert"

# make-dh-cert: the owner's key made by openssl.
openssl ecparam -name secp384r1 -genkey -noout -out owner.pem 2>/dev/null || { echo "openssl ecparam failed"; exit 1; }
chmod 600 owner.pem
openssl ec -in owner.pem -pubout -out owner.pub 2>/dev/null
# The public point as openssl prints it: 04 || X || Y, big-endian.
point=$(openssl ec -in owner.pem -text -noout 2>/dev/null | sed -n '/^pub:/,/^ASN1 OID/p' | grep -v -e '^pub:' -e '^ASN1' | tr -d ' :\n')
[[ ${#point} -eq 194 && ${point:0:2} == 04 ]] || { echo "FAIL: cannot read the point from openssl ec -text: $point"; exit 1; }

check_cert() {  # check_cert FILE SIGNED: fields and coordinates against openssl's view of the key
    /usr/bin/python3 - "$1" "$2" "$point" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
signed = sys.argv[2] == "1"
point = sys.argv[3]
errors = []
if len(b) != 0x824: errors.append(f"size {len(b)}")
ver, = struct.unpack_from("<I", b, 0)
usage, algo, curve = struct.unpack_from("<III", b, 8)
# SEV API appendix C: version 1; usage PDH 0x1003; ECDH-SHA256 0x3; curve P-384 = 2.
if (ver, usage, algo, curve) != (1, 0x1003, 3, 2): errors.append(f"header {ver} {usage:#x} {algo:#x} {curve}")
qx, qy = b[0x14:0x14 + 72], b[0x5c:0x5c + 72]
# Little-endian in the certificate, big-endian in openssl's output.
if qx[:48][::-1].hex() != point[2:98] or qy[:48][::-1].hex() != point[98:]: errors.append("QX/QY differ from openssl's point")
if any(qx[48:]) or any(qy[48:]) or any(b[0xa4:0x414]): errors.append("non-zero padding")
s1 = struct.unpack_from("<II", b, 0x414); s2 = struct.unpack_from("<II", b, 0x61c)
if s2 != (0x1000, 0) or any(b[0x624:]): errors.append(f"slot 2 {s2}")
if signed:
    if s1 != (0x1002, 2): errors.append(f"slot 1 {s1}")  # sev-tool: usage PEK, ECDSA-SHA256
    r = int.from_bytes(b[0x41c:0x41c + 72], "little"); s = int.from_bytes(b[0x41c + 72:0x41c + 144], "little")
    def integer(v):
        d = v.to_bytes((v.bit_length() + 8) // 8, "big")  # a leading zero keeps it positive
        return b"\x02" + bytes([len(d)]) + d
    body = integer(r) + integer(s)
    open("sig.der", "wb").write(b"\x30" + bytes([len(body)]) + body)
    open("tbs.bin", "wb").write(b[:0x414])
elif s1 != (0x1000, 0) or any(b[0x41c:0x61c]):
    errors.append(f"slot 1 {s1} in an unsigned certificate")
if errors:
    print("; ".join(errors)); sys.exit(1)
PY
}

expect_exit 0 "make-dh-cert" -- "$cli" make-dh-cert --key owner.pem --out godh.cert --api 0.22
check_cert godh.cert 1 || fail "make-dh-cert: the certificate does not match openssl's key"
[[ $(head -c 6 godh.cert | tail -c 2 | od -An -tu1 | tr -s ' ') == " 0 22" ]] || fail "API version bytes"
openssl dgst -sha256 -verify owner.pub -signature sig.der tbs.bin >/dev/null 2>&1 \
    || fail "openssl does not verify the self-signature"
# The same check refuses a changed body: it can fail.
flip tbs.bin tbs-bad.bin 0x20
openssl dgst -sha256 -verify owner.pub -signature sig.der tbs-bad.bin >/dev/null 2>&1 \
    && fail "openssl verified the self-signature over a changed body"
# And the comparison with openssl's point refuses another key.
openssl ecparam -name secp384r1 -genkey -noout -out other.pem 2>/dev/null; chmod 600 other.pem
"$cli" make-dh-cert --key other.pem --out other.cert >/dev/null 2>&1
check_cert other.cert 1 >/dev/null && fail "another key's certificate matched this key's point"

expect_exit 0 "make-dh-cert --unsigned from the public key" -- "$cli" make-dh-cert --key owner.pub --out godh-u.cert --unsigned
check_cert godh-u.cert 0 || fail "--unsigned: the certificate does not match openssl's key"
expect_exit 1 "a self-signed certificate from a public key" -- "$cli" make-dh-cert --key owner.pub --out x.cert
openssl ecparam -name prime256v1 -genkey -noout -out p256.pem 2>/dev/null; chmod 600 p256.pem
expect_exit 1 "a P-256 key" -- "$cli" make-dh-cert --key p256.pem --out x.cert
grep -q "P-384" err.txt || fail "P-256 refusal does not name P-384: $(cat err.txt)"
chmod 666 owner.pem
expect_exit 1 "a key others can replace" -- "$cli" make-dh-cert --key owner.pem --out x.cert
expect_exit 2 "make-dh-cert --api 1" -- "$cli" make-dh-cert --key owner.pub --unsigned --out x.cert --api 1

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
