#!/bin/bash
# cvm-launch against the public SEV vectors: every row of golden.tsv through
# `measure --json` (digests, and the expected errors with a non-zero exit),
# then the guest owner's verify-measurement and make-secret, checked with
# the openssl command line from the documented formulas.
set -u
cli=$(realpath "$1")
vectors=${CVM_VECTORS_DIR:?}/sev
source "$(dirname "$0")/../support/vectors.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

declare -A fw=([FW_DEB12]=OVMF-deb12.fd [FW_AMDSEV_SUFFIX]=ovmf_AmdSev_suffix.bin [FW_SYN]=synthetic_fw.bin)
declare -A tech=([sev]=amd-sev [seves]=amd-sev-es [snp]=amd-sev-snp)
# The rows of a firmware that is an absent external input are skipped, one
# SKIP line for each such firmware.
declare -A fw_path
for symbol in "${!fw[@]}"; do
    need_vector "sev/${fw[$symbol]}" "the golden.tsv rows of $symbol" && fw_path[$symbol]=$(vector_path "sev/${fw[$symbol]}")
done
rows=0
while IFS=$'\t' read -r firmware mode vcpus vcpu_type inputs expected; do
    [[ $firmware == \#* || $firmware == firmware ]] && continue
    rows=$((rows + 1))
    [[ -n ${fw_path[$firmware]:-} ]] || continue
    args=(measure --json --tech "${tech[$mode]}" --firmware "${fw_path[$firmware]}")
    [[ $vcpus != - ]] && args+=(--vcpus "$vcpus")
    [[ $vcpu_type != - ]] && args+=(--vcpu-type "$vcpu_type")
    [[ $inputs != none ]] && args+=(--kernel "$vectors/kernel.bin")
    [[ $inputs == K_SYN+I+C ]] && args+=(--initrd "$vectors/initrd.bin" --cmdline 'console=ttyS0 root=/dev/vda')
    out=$("$cli" "${args[@]}" 2>"$tmp/err"); rc=$?
    if [[ $expected == ERROR:* ]]; then
        message=${expected#ERROR: Error: }
        [[ $rc -ne 0 ]] || fail "$firmware $mode $vcpus $inputs: exit 0, expected an error"
        grep -qF "$message" "$tmp/err" || fail "$firmware $mode $vcpus $inputs: error '$(cat "$tmp/err")' lacks '$message'"
    else
        got=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["measurement"])' <<<"$out")
        [[ $rc -eq 0 && $got == "$expected" ]] || fail "$firmware $mode $vcpus $inputs: got '$got' (exit $rc), expected $expected"
    fi
done < "$vectors/golden.tsv"
[[ $rows -eq 40 ]] || fail "read $rows rows of golden.tsv, expected 40"

# README 4.1 (b): the LAUNCH_MEASURE blob of FW_SYN/sev/K_SYN+I+C with TIK 00..0f.
printf '000102030405060708090a0b0c0d0e0f' | xxd -r -p > "$tmp/tik"
blob=cb29014d14420b574d027a193760be7ad8a1670841553869a99f7660a99a583ba0a1a2a3a4a5a6a7a8a9aaabacadaeaf
spec=(--tech amd-sev --firmware "$vectors/synthetic_fw.bin" --kernel "$vectors/kernel.bin"
      --initrd "$vectors/initrd.bin" --cmdline 'console=ttyS0 root=/dev/vda')
"$cli" verify-measurement "${spec[@]}" --measurement $blob --tik-file "$tmp/tik" --api 1.55 --build 21 >/dev/null \
    || fail "verify-measurement rejected the README 4.1(b) blob"
"$cli" verify-measurement "${spec[@]}" --measurement $blob --tik-file "$tmp/tik" --api 1.55 --build 22 >/dev/null 2>&1
rc=$?; [[ $rc -eq 3 ]] || fail "verify-measurement: a blob for another firmware build exited $rc, expected 3 (mismatch)"
"$cli" verify-measurement --tech amd-sev --firmware "$vectors/synthetic_fw.bin" --measurement $blob \
    --tik-file "$tmp/tik" --api 1.55 --build 21 >/dev/null 2>&1 \
    && fail "verify-measurement accepted a blob for another launch (no kernel)"

# make-secret: AES-128-CTR and the header HMAC, recomputed with openssl.
printf '101112131415161718191a1b1c1d1e1f' | xxd -r -p > "$tmp/tek"
head -c 32 /dev/urandom > "$tmp/secret"
iv=303132333435363738393a3b3c3d3e3f
"$cli" make-secret --measurement $blob --tek-file "$tmp/tek" --tik-file "$tmp/tik" --secret-file "$tmp/secret" \
    --iv $iv --header-out "$tmp/header" --secret-out "$tmp/cipher" >/dev/null || fail "make-secret failed"
openssl enc -d -aes-128-ctr -K 101112131415161718191a1b1c1d1e1f -iv $iv -in "$tmp/cipher" -out "$tmp/plain"
cmp -s "$tmp/plain" "$tmp/secret" || fail "make-secret ciphertext does not decrypt to the secret"
{ printf '0100000000'; printf $iv; printf '2000000020000000'; xxd -p -c 256 "$tmp/cipher" | tr -d '\n'
  printf '%s' "${blob:0:64}"; } | xxd -r -p > "$tmp/mac-input"
mac=$(openssl dgst -sha256 -mac HMAC -macopt hexkey:000102030405060708090a0b0c0d0e0f "$tmp/mac-input" | awk '{print $NF}')
header=$(xxd -p -c 256 "$tmp/header")
[[ $header == "00000000$iv$mac" ]] || fail "make-secret header $header, expected 00000000$iv$mac"

# owner-reply: the owner end of a launch's round trip answers the same
# blob's request with the packet openssl computed above; another firmware
# build or policy is refused (exit 3); malformed requests are errors (1).
request() { printf '{"technology":"amd-sev","measure":"%s","api_major":1,"api_minor":55,"build":%s,"policy":%s,"secret_gpa":8441856,"secret_size":4096}\n' "$blob" "$1" "$2"; }
reply=$(request 21 1 | "$cli" owner-reply "${spec[@]}" --tik-file "$tmp/tik" --tek-file "$tmp/tek" \
        --secret-file "$tmp/secret" --iv $iv); rc=$?
[[ $rc -eq 0 ]] || fail "owner-reply refused the README 4.1(b) launch (exit $rc): $reply"
expected_reply="{\"action\":\"inject\",\"header\":\"00000000$iv$mac\",\"secret\":\"$(xxd -p -c 256 "$tmp/cipher")\"}"
[[ $reply == "$expected_reply" ]] || fail "owner-reply printed $reply, expected $expected_reply"
reply=$(request 22 1 | "$cli" owner-reply "${spec[@]}" --tik-file "$tmp/tik" 2>/dev/null); rc=$?
[[ $rc -eq 3 && $reply == '{"action":"abort",'* ]] || fail "owner-reply, another build: exit $rc, $reply"
reply=$(request 21 5 | "$cli" owner-reply "${spec[@]}" --tik-file "$tmp/tik" 2>/dev/null); rc=$?
[[ $rc -eq 3 && $reply == *'policy 0x5'* ]] || fail "owner-reply, another policy: exit $rc, $reply"
reply=$(request 21 1 | "$cli" owner-reply "${spec[@]}" --tik-file "$tmp/tik"); rc=$?
[[ $rc -eq 0 && $reply == '{"action":"finish"}' ]] || fail "owner-reply without a secret: exit $rc, $reply"
echo '{"technology":"amd-sev","measure":"00","api_major":1,"api_minor":55,"build":21,"policy":1}' | "$cli" owner-reply "${spec[@]}" --tik-file "$tmp/tik" >/dev/null 2>"$tmp/err"
rc=$?; [[ $rc -eq 1 ]] && grep -qF "'measure' holds 1 bytes, expected 48" "$tmp/err" \
    || fail "owner-reply, malformed request: exit $rc, $(cat "$tmp/err")"
# A technology without the round trip refuses an owner before anything runs.
"$cli" run --tech amd-sev-snp --firmware "$vectors/synthetic_fw.bin" --owner-command true >/dev/null 2>"$tmp/err"
rc=$?; [[ $rc -eq 1 ]] && grep -qF "has no guest-owner round trip" "$tmp/err" \
    || fail "run --tech amd-sev-snp --owner-command: exit $rc, $(cat "$tmp/err")"

# The reference tool's own command lines (README: sev-snp-measure.py --mode
# ... --ovmf ... --append ...) give the same digests: the FW_SYN rows again
# through the flag names sev-snp-measure users type.
alias_rows=0
while IFS=$'\t' read -r firmware mode vcpus vcpu_type inputs expected; do
    [[ $firmware == FW_SYN && $expected != ERROR:* ]] || continue
    alias_rows=$((alias_rows + 1))
    args=(measure --mode "$mode" --ovmf "$vectors/synthetic_fw.bin" --output-format hex)
    [[ $mode != sev ]] && args+=(--vmm-type QEMU)  # SEV has no VMSA, so no VMM model
    [[ $vcpus != - ]] && args+=(--vcpus "$vcpus")
    [[ $vcpu_type != - ]] && args+=(--vcpu-type "$vcpu_type")
    [[ $inputs != none ]] && args+=(--kernel "$vectors/kernel.bin")
    [[ $inputs == K_SYN+I+C ]] && args+=(--initrd "$vectors/initrd.bin" --append 'console=ttyS0 root=/dev/vda')
    got=$("$cli" "${args[@]}" 2>&1 | sed -n 's/^measurement: //p')
    [[ $got == "$expected" ]] || fail "sev-snp-measure flags, $mode $vcpus $inputs: got '$got', expected $expected"
done < "$vectors/golden.tsv"
[[ $alias_rows -gt 0 ]] || fail "no FW_SYN row was run through the sev-snp-measure flags"

# --mode snp:ovmf-hash (README 4.3), in hex and in base64.
ovmf_hash=9b94e92bac1b1123017f07a6e8d06b98fada040e141553735c05f2df3033b340c52989d1af2916c8108dbc528739793f
got=$("$cli" measure --mode snp:ovmf-hash --ovmf "$vectors/synthetic_fw.bin")
[[ $got == "$ovmf_hash" ]] || fail "snp:ovmf-hash of FW_SYN: got '$got', expected $ovmf_hash"
got=$("$cli" measure --mode snp:ovmf-hash --ovmf "$vectors/synthetic_fw.bin" --output-format base64)
[[ $got == "$(printf %s $ovmf_hash | xxd -r -p | base64 -w0)" ]] || fail "snp:ovmf-hash in base64: got '$got'"

# --dump-vmsa writes the pages sev-snp-measure --dump-vmsa wrote (README table).
for mode in seves snp; do
    (cd "$tmp" && rm -f vmsa*.bin && "$cli" measure --mode $mode --vcpus 2 --vcpu-type EPYC-v4 \
        --ovmf "$vectors/synthetic_fw.bin" --dump-vmsa >/dev/null) || fail "--dump-vmsa $mode failed"
    cmp -s "$tmp/vmsa0.bin" "$vectors/vmsa_${mode}_epyc-v4_bsp.bin" || fail "--dump-vmsa $mode: vmsa0.bin differs"
    cmp -s "$tmp/vmsa1.bin" "$vectors/vmsa_${mode}_epyc-v4_ap.bin" || fail "--dump-vmsa $mode: vmsa1.bin differs"
done

# Contradictions are usage errors (exit 2), with one JSON object under --json.
"$cli" measure --mode snp --tech amd-sev --ovmf "$vectors/synthetic_fw.bin" >/dev/null 2>&1
rc=$?; [[ $rc -eq 2 ]] || fail "--mode with --tech exited $rc, expected 2"
out=$("$cli" measure --mode snp --ovmf "$vectors/synthetic_fw.bin" --vmm gce --vmm-type ec2 --json 2>/dev/null)
rc=$?; [[ $rc -eq 2 ]] || fail "--vmm with --vmm-type exited $rc, expected 2"
/usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["exit"] == 2 and j["error"]' <<<"$out" ||
    fail "--json gave no error object: $out"
"$cli" measure --tech amd-sev --firmware "$vectors/synthetic_fw.bin" --padded >/dev/null 2>&1
rc=$?; [[ $rc -eq 2 ]] || fail "--padded for an SEV digest exited $rc, expected 2"

[[ $failures -eq 0 ]] && echo "ok: $rows golden rows, $alias_rows through sev-snp-measure's flags, snp:ovmf-hash, --dump-vmsa, verify-measurement, make-secret, owner-reply"
exit $((failures > 0))
