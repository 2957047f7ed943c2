#!/bin/bash
# cvm-launch verify-report against a certificate chain and a signed report
# made by the openssl command line (the signature checks are OpenSSL's), in
# the layout of the SNP firmware ABI's ATTESTATION_REPORT: the VCEK chain,
# the signature, the measurement predicted for the launch, HOST_DATA and
# REPORT_DATA, and the refusals.
set -u
cli=$(realpath "$1")
vectors=${CVM_VECTORS_DIR:?}/sev
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
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

spec=(--mode snp --ovmf "$vectors/synthetic_fw.bin")
measurement=$("$cli" measure "${spec[@]}" | sed -n 's/^measurement: //p')
[[ ${#measurement} -eq 96 ]] || { echo "FAIL: no SNP measurement predicted"; exit 1; }

# The report: little-endian fields at the ABI's offsets, bytes [0, 0x2a0)
# signed by openssl with the VCEK key, r and s stored little-endian.
/usr/bin/python3 - "$measurement" <<'PY' || exit 1
import struct, subprocess, sys
m = bytes.fromhex(sys.argv[1])
r = bytearray(0x4a0)
struct.pack_into("<IIQ", r, 0, 2, 0, 0x30000)            # VERSION, GUEST_SVN, POLICY
struct.pack_into("<II", r, 0x30, 0, 1)                   # VMPL, SIGNATURE_ALGO
r[0x50:0x90] = b"\x22" * 64                               # REPORT_DATA
r[0x90:0xc0] = m                                          # MEASUREMENT
r[0xc0:0xe0] = b"\x11" * 32                               # HOST_DATA
r[0x1a0:0x1e0] = b"\x33" * 64                             # CHIP_ID
open("tbs", "wb").write(r[:0x2a0])
der = subprocess.run(["openssl", "dgst", "-sha384", "-sign", "vcek.key", "tbs"], capture_output=True, check=True).stdout
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
rv, sv = integers(der)
r[0x2a0:0x2a0 + 72] = rv.to_bytes(72, "little")
r[0x2e8:0x2e8 + 72] = sv.to_bytes(72, "little")
open("report.bin", "wb").write(r)
bad = bytearray(r); bad[0x90] ^= 1
open("changed.bin", "wb").write(bad)
open("short.bin", "wb").write(r[:1000])
PY

chain=(--vcek vcek.pem --ask ask.pem --ark ark.pem)
expect_exit() {  # expect_exit NAME CODE PATTERN ARGS...
    local name=$1 want=$2 pattern=$3 out rc
    shift 3
    out=$("$cli" verify-report "$@" 2>&1); rc=$?
    if [[ $rc -ne $want ]] || ! grep -qE -- "$pattern" <<<"$out"; then
        fail "$name: exit $rc (expected $want): $out"
    fi
}
expect_exit "a report of the predicted launch" 0 "^MATCH" --report report.bin "${chain[@]}" "${spec[@]}"
expect_exit "each step is named" 0 "the report is signed by the VCEK" --report report.bin "${chain[@]}" "${spec[@]}"
expect_exit "--expect and HOST_DATA, REPORT_DATA" 0 "^MATCH" --report report.bin "${chain[@]}" \
    --expect "sha384:$measurement" --host-data "$(printf '11%.0s' {1..32})" --report-data "$(printf '22%.0s' {1..64})"
expect_exit "another HOST_DATA" 3 "HOST_DATA is 1111.*not the expected" --report report.bin "${chain[@]}" \
    "${spec[@]}" --host-data "$(printf '12%.0s' {1..32})"
expect_exit "another launch" 3 "MEASUREMENT is .*not the expected" --report report.bin "${chain[@]}" \
    --mode snp --ovmf "$vectors/synthetic_fw.bin" --vcpus 2
expect_exit "a changed report" 3 "signature does not verify" --report changed.bin "${chain[@]}" "${spec[@]}"
expect_exit "another root" 3 "ASK certificate's signature does not verify with the ARK" --report report.bin \
    --vcek vcek.pem --ask ask.pem --ark other-ark.pem "${spec[@]}"
expect_exit "a chain out of order" 3 "VCEK certificate does not name the ASK" --report report.bin \
    --vcek vcek.pem --ask ark.pem --ark ark.pem "${spec[@]}"
expect_exit "a truncated report" 1 "short.bin: offset 0x0: report size" --report short.bin "${chain[@]}" "${spec[@]}"
out=$("$cli" verify-report --report report.bin "${chain[@]}" "${spec[@]}" --json)
/usr/bin/python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
assert j["match"] is True and j["policy"] == "0x30000" and j["measurement"] == sys.argv[1], j
assert j["host_data"] == "11" * 32 and len(j["checked"]) == 5 and not j["failures"], j
' "$measurement" <<<"$out" || fail "--json: $out"

[[ $failures -eq 0 ]] && echo "ok: verify-report, chain, signature, measurement, HOST_DATA, REPORT_DATA and refusals"
exit $((failures > 0))
