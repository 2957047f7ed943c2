#!/bin/bash
# cvm-launch snp-id-block, run/plan --id-block --id-auth and verify-report
# --id-key-pub/--author-key-pub, judged by outside oracles only:
# sev-snp-measure's published ID block and key digests for its test keys
# (tests/vectors/sev/idblock/PROVENANCE.md), its golden launch digest
# (golden.tsv), the openssl command line for every signature (R and S taken
# from the ABI's offsets, DER-encoded here) and for QX/QY, sha384sum for the
# key digests over bytes assembled here from openssl's output.
set -u
cli=$(realpath "$1")
vectors=${CVM_VECTORS_DIR:?}/sev
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
quiet() { "$@" >/dev/null 2>&1 || { echo "setup step failed: $*"; exit 1; }; }

# --- sev-snp-measure's published vector ---
cp "$vectors/idblock/id_key_test.pem" "$vectors/idblock/author_key_test.pem" . && chmod 600 ./*.pem
pub_ld=076f052d08bda7a700aa2a608c5caa6b00ebad297b6d68a85a45b1e669a558b67e1b91d284a301fe63c4fa0750467eed
pub_block=${pub_ld}$(printf '0%.0s' {1..64})01000000000000000000030000000000
pub_id_digest=870b7e35c53f8a72d0d322f75ab2af8262792aaf6579622ce4131c3f21f289e77cb0560a5e3b90b3932e674ec709cb14
pub_author_digest=63111c34bbfc0a4938f9a009bd074980d8172323e61599c9fd336da8673248e1dca98d0be8f76376a106b8afd4c0a057
out=$("$cli" snp-id-block --id-key id_key_test.pem --author-key author_key_test.pem --launch-digest "$pub_ld" \
      --id-block-out pub-block.bin --id-auth-out pub-auth.bin 2>&1) || fail "published vector: $out"
[[ $(od -An -v -tx1 pub-block.bin | tr -d ' \n') == "$pub_block" ]] || fail "the published ID block differs"
grep -q "ID_KEY_DIGEST      $pub_id_digest" <<<"$out" || fail "published ID key digest: $out"
grep -q "AUTHOR_KEY_DIGEST  $pub_author_digest" <<<"$out" || fail "published author key digest: $out"

# --- fresh keys, the digest of a spec, checked with openssl ---
quiet openssl ecparam -name secp384r1 -genkey -noout -out id.pem
quiet openssl ecparam -name secp384r1 -genkey -noout -out author.pem
quiet openssl ecparam -name prime256v1 -genkey -noout -out p256.pem
chmod 600 id.pem author.pem p256.pem
quiet openssl ec -in id.pem -pubout -out id.pub
quiet openssl ec -in author.pem -pubout -out author.pub
# sev-snp-measure's digest of FW_SYN, SNP, 1 vCPU, EPYC-v4, no kernel.
golden=$(awk -F'\t' '$1=="FW_SYN" && $2=="snp" && $3=="1" && $4=="EPYC-v4" && $5=="none" {print $6}' "$vectors/golden.tsv")
[[ ${#golden} -eq 96 ]] || { echo "FAIL: no golden digest"; exit 1; }
spec=(--tech amd-sev-snp --firmware "$vectors/synthetic_fw.bin")
out=$("$cli" snp-id-block --id-key id.pem --author-key author.pem "${spec[@]}" --family-id "$(printf 'a5%.0s' {1..16})" \
      --image-id "$(printf '5a%.0s' {1..16})" --guest-svn 9 --id-block-out block.bin --id-auth-out auth.bin --json 2>&1) \
    || fail "snp-id-block for a spec: $out"
# The public key structure as the ABI lays it out, from openssl's own
# printout of the key: CURVE 2, QX and QY little-endian in 72-byte fields.
keystruct() {  # keystruct KEY.pem OUT
    /usr/bin/python3 - "$1" "$2" <<'PY'
import re, subprocess, sys
text = subprocess.run(["openssl", "ec", "-in", sys.argv[1], "-noout", "-text"], capture_output=True, text=True, check=True).stdout
point = bytes.fromhex(re.sub(r"[\s:]", "", re.search(r"pub:\n((?:\s+[0-9a-f:]+\n)+)", text).group(1)))
assert point[0] == 4 and len(point) == 97
x, y = point[1:49], point[49:]
s = (2).to_bytes(4, "little") + x[::-1] + bytes(24) + y[::-1] + bytes(24)
open(sys.argv[2], "wb").write(s + bytes(0x404 - len(s)))
PY
}
keystruct id.pem id.struct && keystruct author.pem author.struct || exit 1
id_digest=$(sha384sum id.struct | cut -c1-96)
author_digest=$(sha384sum author.struct | cut -c1-96)
printf '%s' "$out" >made.json
/usr/bin/python3 - "$golden" "$id_digest" "$author_digest" <<'PY' || fail "snp-id-block --json: $out"
import json, sys
j = json.load(open("made.json"))
assert j["launch_digest"] == sys.argv[1] and j["policy"] == "0x30000" and j["guest_svn"] == 9, j
assert j["id_key_digest"] == sys.argv[2] and j["author_key_digest"] == sys.argv[3] and j["author_key_en"] is True, j
PY
# Fields at the ABI's offsets, the keys where openssl says they are, and
# the signatures as DER for openssl dgst -verify.
/usr/bin/python3 - "$golden" <<'PY' || fail "ID block / ID auth layout"
import struct, sys
b = open("block.bin", "rb").read(); a = open("auth.bin", "rb").read()
assert len(b) == 0x60 and len(a) == 0x1000
assert b[0:48].hex() == sys.argv[1], "LD"
assert b[0x30:0x40] == b"\xa5" * 16 and b[0x40:0x50] == b"\x5a" * 16, "FAMILY_ID, IMAGE_ID"
assert struct.unpack_from("<IIQ", b, 0x50) == (1, 9, 0x30000), "VERSION, GUEST_SVN, POLICY"
assert struct.unpack_from("<II", a, 0) == (1, 1), "ID_KEY_ALGO, AUTH_KEY_ALGO"
assert a[0x240:0x644] == open("id.struct", "rb").read(), "ID_KEY"
assert a[0x880:0xc84] == open("author.struct", "rb").read(), "AUTHOR_KEY"
assert a[8:0x40] == bytes(0x38) and a[0x644:0x680] == bytes(0x3c) and a[0xc84:] == bytes(0x37c), "reserved"
def der_int(v):
    raw = v.to_bytes((v.bit_length() + 8) // 8, "big")  # a leading zero keeps it positive
    return b"\x02" + bytes([len(raw)]) + raw
def der_sig(at):
    r = int.from_bytes(a[at:at + 72], "little"); s = int.from_bytes(a[at + 72:at + 144], "little")
    assert a[at + 144:at + 0x200] == bytes(0x200 - 144)
    body = der_int(r) + der_int(s)
    return b"\x30" + bytes([len(body)]) + body
open("block.sig", "wb").write(der_sig(0x40))
open("idkey.sig", "wb").write(der_sig(0x680))
open("idkey.bin", "wb").write(a[0x240:0x644])
bad = bytearray(b); bad[0x54] ^= 1
open("block-changed.bin", "wb").write(bad)
PY
openssl dgst -sha384 -verify id.pub -signature block.sig block.bin | grep -q "Verified OK" \
    || fail "openssl: ID_BLOCK_SIG does not verify with the ID key"
openssl dgst -sha384 -verify author.pub -signature idkey.sig idkey.bin | grep -q "Verified OK" \
    || fail "openssl: ID_KEY_SIG does not verify with the author key"
if openssl dgst -sha384 -verify id.pub -signature block.sig block-changed.bin >/dev/null 2>&1; then
    fail "openssl verified a changed ID block"
fi
if openssl dgst -sha384 -verify author.pub -signature block.sig block.bin >/dev/null 2>&1; then
    fail "openssl verified the ID block with the author key"
fi

# --- the launch takes them; refusals name the cause ---
"$cli" plan "${spec[@]}" --id-block block.bin --id-auth auth.bin >plan.txt 2>&1 || fail "plan with the ID block: $(cat plan.txt)"
grep -q "id-block" plan.txt || fail "the plan does not carry the ID block"
expect_error() {  # expect_error NAME CODE PATTERN ARGS...
    local name=$1 want=$2 pattern=$3 out rc
    shift 3
    out=$("$cli" "$@" 2>&1); rc=$?
    if [[ $rc -ne $want ]] || ! grep -qE -- "$pattern" <<<"$out"; then fail "$name: exit $rc (expected $want): $out"; fi
}
expect_error "an ID block for another launch" 1 "BAD_MEASUREMENT" plan "${spec[@]}" --vcpus 2 --id-block block.bin --id-auth auth.bin
expect_error "a changed ID block" 1 "ID_BLOCK_SIG does not verify" plan "${spec[@]}" --id-block block-changed.bin --id-auth auth.bin
expect_error "an ID block alone" 1 "go together" plan "${spec[@]}" --id-block block.bin
expect_error "a truncated ID auth" 1 "4096" plan "${spec[@]}" --id-block block.bin --id-auth idkey.bin
expect_error "a P-256 key" 1 "P-384" snp-id-block --id-key p256.pem --launch-digest "$golden" --id-block-out x --id-auth-out y
expect_error "a short family ID" 2 "16 bytes|expected 16" snp-id-block --id-key id.pem --launch-digest "$golden" \
    --family-id 00 --id-block-out x --id-auth-out y

# --- verify-report checks the report's key digests ---
# Reports as the firmware makes them for this launch (tests/sev/snp_test_report.sh,
# signed by openssl): ID_KEY_DIGEST at 0xe0, AUTHOR_KEY_DIGEST at 0x110
# (sha384sum's values), FLAGS bit 0 AUTHOR_KEY_EN; one without the author key.
"$here/snp_test_report.sh" "$PWD" "$golden" "$id_digest" "$author_digest" || exit 1
chain=(--vcek vcek.pem --ask ask.pem --ark ark.pem --expect "$golden")
expect_error "the report's key digests" 0 "ID_KEY_DIGEST is the expected" verify-report --report report.bin "${chain[@]}" \
    --id-key-pub id.pub --author-key-pub author.pub
expect_error "a private key works as well" 0 "AUTHOR_KEY_DIGEST is the expected" verify-report --report report.bin \
    "${chain[@]}" --id-key-pub id.pem --author-key-pub author.pub
expect_error "another ID key" 3 "ID_KEY_DIGEST is .*not the expected" verify-report --report report.bin "${chain[@]}" \
    --id-key-pub author.pub
expect_error "no author key at launch" 3 "AUTHOR_KEY_EN .* is clear" verify-report --report report-no-author.bin \
    "${chain[@]}" --id-key-pub id.pub --author-key-pub author.pub
expect_error "not a key" 1 "not a PEM" verify-report --report report.bin "${chain[@]}" --id-key-pub block.bin

[[ $failures -eq 0 ]] && echo "ok: snp-id-block (published vector, openssl-verified signatures and keys), plan refusals, verify-report key digests"
exit $((failures > 0))
