#!/bin/bash
# cvm-launch verify-report against a certificate chain and a signed report
# made by the openssl command line (the signature checks are OpenSSL's), in
# the layout of the SNP firmware ABI's ATTESTATION_REPORT: the VCEK chain,
# the signature, the measurement predicted for the launch, HOST_DATA and
# REPORT_DATA, and the refusals.
set -u
cli=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
vectors=${CVM_VECTORS_DIR:?}/sev
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

spec=(--mode snp --ovmf "$vectors/synthetic_fw.bin")
measurement=$("$cli" measure "${spec[@]}" | sed -n 's/^measurement: //p')
[[ ${#measurement} -eq 96 ]] || { echo "FAIL: no SNP measurement predicted"; exit 1; }
"$here/snp_test_report.sh" "$tmp" "$measurement" || exit 1

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
