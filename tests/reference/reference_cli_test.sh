#!/bin/bash
# cvm-launch measure --reference-format against values other tools published:
# the SNP launch digest sev-snp-measure computed (tests/vectors/sev/golden.tsv)
# and the realm RIMs cca-realm-measurements computed (tests/arm-cca/cli-vectors
# #8 and #13). Each document is read with independent readers (python3's
# cbor2, json and base64), never with libcvm's.
#   reference_cli_test.sh CVM_LAUNCH
set -u
cli=$(realpath "$1")
sev=${CVM_VECTORS_DIR:?}/sev
cca=${CVM_VECTORS_DIR:?}/cca
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
py() { /usr/bin/python3 -c "$@"; }

# golden.tsv: FW_SYN snp 1 EPYC-v4 K_SYN+I+C (sev-snp-measure's value).
snp_digest=$(awk -F'\t' '$1=="FW_SYN" && $2=="snp" && $3=="1" && $5=="K_SYN+I+C" {print $6}' "$sev/golden.tsv")
[[ ${#snp_digest} -eq 96 ]] || fail "golden.tsv has no FW_SYN snp 1 K_SYN+I+C row"
snp=(measure --tech amd-sev-snp --firmware "$sev/synthetic_fw.bin" --vcpus 1 --vcpu-type EPYC-v4
     --kernel "$sev/kernel.bin" --initrd "$sev/initrd.bin" --cmdline 'console=ttyS0 root=/dev/vda')
host_data=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

# CoRIM, SNP: the profile and mkeys of Veraison's SEVSNP scheme.
"$cli" "${snp[@]}" --opt policy=0x1b0102 --opt host-data=$host_data --reference-format corim --output "$tmp/snp.cbor" \
    || fail "snp corim: exit $?"
py '
import sys, cbor2
digest, host = bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
doc = cbor2.loads(open(sys.argv[1], "rb").read())
assert doc.tag == 501, doc.tag
assert doc.value[3] == cbor2.CBORTag(32, "tag:amd.com,2024:snp-corim-profile"), doc.value[3]
comid = cbor2.loads(doc.value[1][0].value)
assert doc.value[1][0].tag == 506
env, ms = comid[4][0][0]
# 1.3.6.1.4.1.3704.3.1 in BER: 1.3 -> 0x2b, 3704 -> 0x9c 0x78 (base 128).
oid = bytes([0x2b, 6, 1, 4, 1, 0x9c, 0x78, 3, 1])
assert env == {0: {0: cbor2.CBORTag(111, oid)}, 1: cbor2.CBORTag(560, digest)}, env
want = [{0: 2, 1: {4: cbor2.CBORTag(560, (0x1b0102).to_bytes(8, "big"))}},
        {0: 641, 1: {2: [[7, digest]]}},
        {0: 642, 1: {4: cbor2.CBORTag(560, host)}}]
assert ms == want, ms
' "$tmp/snp.cbor" "$snp_digest" "$host_data" || fail "snp corim: the document is not the expected one"

# Trustee, SNP: the names of its default policy; the policy 0x1b0102 is ABI
# 1.2, SMT allowed (bit 16), single socket (bit 20).
out=$("$cli" "${snp[@]}" --opt policy=0x1b0102 --reference-format trustee) || fail "snp trustee: exit $?"
py '
import sys, json, base64
message = json.loads(sys.argv[1])
assert list(message) == ["version", "type", "payload"], message
assert message["version"] == "0.1.0" and message["type"] == "sample", message
payload = json.loads(base64.b64decode(message["payload"], validate=True))
assert payload == {"snp_launch_measurement": [sys.argv[2]], "snp_guest_abi_major": 1, "snp_guest_abi_minor": 2,
                   "snp_smt_allowed": True, "snp_single_socket": True}, payload
' "$out" "$snp_digest" || fail "snp trustee: the message is not the expected one"

# Realms: cca-realm-measurements' RIMs of vectors #8 (SHA-256) and #13 (SHA-512).
rim8=cbf533a94009dfa6b83016a89b428d1d910fb3593856bb386d7b2bd07a1bc834
rim13=3175b3c0c201081ad410defe6c32e145fd77ff03e63518a9f00831b12b6ec2070f743f43f0ff3290902ecebd4e6bea8d5926dca19dc1a06fb8d51d551a4a2b79
hostcaps=(--num-bps 6 --num-wps 6)
realm8=(measure --tech arm-cca --layout qemu --hash sha256 --vcpus 2 --memory 1G --ipa-bits 52 "${hostcaps[@]}"
        --firmware "$cca/firmware")
realm13=(measure --tech arm-cca --layout qemu --hash sha512 --vcpus 2 --memory 1G --ipa-bits 52 "${hostcaps[@]}"
         --firmware "$cca/firmware")
rpv=00112233445566778899aabbccddeeff

"$cli" "${realm8[@]}" --rpv $rpv --reference-format corim --output "$tmp/realm.cbor" || fail "realm corim: exit $?"
py '
import sys, cbor2
rim, rpv = bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3]).ljust(64, b"\0")
doc = cbor2.loads(open(sys.argv[1], "rb").read())
assert doc.tag == 501 and doc.value[3] == cbor2.CBORTag(32, "tag:arm.com,2025:cca_realm#1.0.0"), doc
comid = cbor2.loads(doc.value[1][0].value)
env, ms = comid[4][0][0]
assert env == {0: {0: cbor2.CBORTag(560, rim)}}, env
assert ms == [{0: "cca.rim", 1: {2: [[1, rim]]}}, {0: "cca.rpv", 1: {4: cbor2.CBORTag(560, rpv)}}], ms
assert len(comid[1][0]) == 16
' "$tmp/realm.cbor" $rim8 $rpv || fail "realm corim: the document is not the expected one"
"$cli" "${realm13[@]}" --reference-format corim | py '
import sys, cbor2
doc = cbor2.loads(sys.stdin.buffer.read())
ms = cbor2.loads(doc.value[1][0].value)[4][0][0][1]
assert ms[0] == {0: "cca.rim", 1: {2: [[8, bytes.fromhex(sys.argv[1])]]}}, ms[0]
' $rim13 || fail "realm corim sha512: cca.rim is not [8, RIM]"

# Trustee, realm: the RIM in standard base64 under the CCA policy's name.
out=$("$cli" "${realm13[@]}" --reference-format trustee) || fail "realm trustee: exit $?"
py '
import sys, json, base64
payload = json.loads(base64.b64decode(json.loads(sys.argv[1])["payload"], validate=True))
assert payload == {"cca.realm.cca-realm-initial-measurement": [base64.b64encode(bytes.fromhex(sys.argv[2])).decode()]}, payload
' "$out" $rim13 || fail "realm trustee: the payload is not the expected one"

# keybroker: {"reference-values": [base64 RIM]} for a SHA-256 realm; a
# SHA-512 realm is refused (its grammar takes 32-byte RIMs).
out=$("$cli" "${realm8[@]}" --reference-format keybroker) || fail "realm keybroker: exit $?"
py '
import sys, json, base64
assert json.loads(sys.argv[1]) == {"reference-values": [base64.b64encode(bytes.fromhex(sys.argv[2])).decode()]}
' "$out" $rim8 || fail "realm keybroker: the file is not the expected one"
"$cli" "${realm13[@]}" --reference-format keybroker >/dev/null 2>"$tmp/err"; rc=$?
[[ $rc -eq 1 ]] && grep -q '32-byte RIMs; this realm.s RIM is sha512' "$tmp/err" \
    || fail "keybroker with a SHA-512 realm: exit $rc, '$(cat "$tmp/err")'"

# What a format cannot carry is an error naming it; contradictions are usage errors.
"$cli" "${snp[@]}" --reference-format keybroker >/dev/null 2>"$tmp/err"; rc=$?
[[ $rc -eq 1 ]] && grep -q 'keybroker-demo takes realm RIMs only (arm-cca), not amd-sev-snp' "$tmp/err" \
    || fail "keybroker with SNP: exit $rc, '$(cat "$tmp/err")'"
"$cli" measure --tech amd-sev --firmware "$sev/synthetic_fw.bin" --reference-format trustee >/dev/null 2>"$tmp/err"; rc=$?
[[ $rc -eq 1 ]] && grep -q 'Trustee has no reference values for amd-sev' "$tmp/err" \
    || fail "trustee with amd-sev: exit $rc, '$(cat "$tmp/err")'"
for bad in "--json" "--output-format base64" "--padded"; do
    # shellcheck disable=SC2086
    "$cli" "${realm8[@]}" --reference-format corim $bad >/dev/null 2>&1; rc=$?
    [[ $rc -eq 2 ]] || fail "--reference-format with $bad: exit $rc, expected 2 (usage)"
done
"$cli" "${realm8[@]}" --output "$tmp/x" >/dev/null 2>&1; rc=$?
[[ $rc -eq 2 && ! -e $tmp/x ]] || fail "--output without --reference-format: exit $rc, expected 2"
"$cli" "${realm8[@]}" --reference-format swid >/dev/null 2>&1; rc=$?
[[ $rc -eq 2 ]] || fail "--reference-format swid: exit $rc, expected 2"

# The generic CoMID: SEV (sev-snp-measure's digest of golden.tsv's FW_SYN sev K_SYN+I+C row).
sev_digest=$(awk -F'\t' '$1=="FW_SYN" && $2=="sev" && $5=="K_SYN+I+C" {print $6; exit}' "$sev/golden.tsv")
"$cli" measure --tech amd-sev --firmware "$sev/synthetic_fw.bin" --kernel "$sev/kernel.bin" --initrd "$sev/initrd.bin" \
    --cmdline 'console=ttyS0 root=/dev/vda' --reference-format corim | py '
import sys, cbor2
doc = cbor2.loads(sys.stdin.buffer.read())
assert 3 not in doc.value, "a profile for SEV"
env, ms = cbor2.loads(doc.value[1][0].value)[4][0][0]
assert env == {0: {1: "Advanced Micro Devices", 2: "SEV"}}, env
assert ms == [{0: "measurement", 1: {2: [[1, bytes.fromhex(sys.argv[1])]]}}], ms
' "$sev_digest" || fail "sev corim: the document is not the expected one"

[[ $failures -eq 0 ]] && echo "reference-values CLI: all checks passed"
exit $((failures > 0))
