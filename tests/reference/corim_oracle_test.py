#!/usr/bin/python3
"""libcvm's CoRIM writers against CoRIMs Veraison generated (tests/vectors/reference/README.md).

    corim_oracle_test.py CORIM_ENCODE VECTORS_DIR

Each oracle is decoded with cbor2 (an independent CBOR decoder); its values
(ids, RIM, REMs, RPV; SNP measurement and policy) are fed to libcvm's writer
through corim-encode, and the document libcvm writes is decoded and compared
with the oracle: the whole document for the realm, the environment and the
measurements libcvm writes for SNP (the oracle also has TCB values a launch
prediction cannot know).
"""
import subprocess
import sys

import cbor2

encoder, vectors = sys.argv[1], sys.argv[2]
failures = 0


def check(what, ok, detail=""):
    global failures
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else ": " + detail))
    failures += 0 if ok else 1


def load(path):
    with open(path, "rb") as f:
        return cbor2.loads(f.read())


def comid_of(corim):
    """The unsigned-corim-map's first CoMID, decoded."""
    tags = corim.value[1]
    assert tags[0].tag == 506, "the first tag is not a CoMID"
    return cbor2.loads(tags[0].value)


def encode(*args):
    out = subprocess.run([encoder, *args], capture_output=True, check=True)
    return cbor2.loads(out.stdout)




# The realm oracle: veraison/corim profiles/cca/testcases/cca-realm-valid.cbor.
theirs = load(f"{vectors}/reference/cca-realm-valid.cbor")
their_comid = comid_of(theirs)
triple = their_comid[4][0][0]
measurements = {m[0]: m[1] for m in triple[1]}
rim = measurements["cca.rim"][2][0][1]
rems = [measurements[f"cca.rem{i}"][2][0][1] for i in range(4)]
rpv = measurements["cca.rpv"][4].value
ours = encode("realm", theirs.value[0], their_comid[1][0].hex(), rim.hex(), rpv.hex(), *[r.hex() for r in rems])
check("realm: CoRIM tag 501", ours.tag == 501 and theirs.tag == 501)
check("realm: unsigned-corim-map equal apart from the CoMID bytes",
      {k: v for k, v in ours.value.items() if k != 1} == {k: v for k, v in theirs.value.items() if k != 1},
      f"{ours.value} vs {theirs.value}")
check("realm: the CoMID equals the oracle's", comid_of(ours) == their_comid, f"{comid_of(ours)} vs {their_comid}")
check("realm: profile", ours.value[3] == cbor2.CBORTag(32, "tag:arm.com,2025:cca_realm#1.0.0"), str(ours.value.get(3)))

# Without REMs (what a launch prediction gives): the same minus the four REMs.
ours = encode("realm", theirs.value[0], their_comid[1][0].hex(), rim.hex(), rpv.hex())
keys = [m[0] for m in comid_of(ours)[4][0][0][1]]
check("realm without REMs: cca.rim and cca.rpv only", keys == ["cca.rim", "cca.rpv"], str(keys))

# The SNP oracle: veraison/services scheme/sevsnp/test/corim/corim-sevsnp-valid.cbor.
theirs = load(f"{vectors}/reference/corim-sevsnp-valid.cbor")
their_comid = comid_of(theirs)
env, their_ms = their_comid[4][0][0]
their_ms = {m[0]: m for m in their_ms}
measurement = their_ms[641][1][2][0][1]
policy = int.from_bytes(their_ms[2][1][4].value, "big")
ours = encode("snp", theirs.value[0], their_comid[1][0].hex(), measurement.hex(), f"{policy:x}")
our_comid = comid_of(ours)
our_env, our_ms = our_comid[4][0][0]
check("snp: profile", ours.value[3] == theirs.value[3], f"{ours.value.get(3)} vs {theirs.value[3]}")
check("snp: corim-id", ours.value[0] == theirs.value[0])
check("snp: environment (class-id OID, instance = measurement)", our_env == env, f"{our_env} vs {env}")
check("snp: the OID is 1.3.6.1.4.1.3704.3.1",
      env[0][0] == cbor2.CBORTag(111, bytes([0x2b, 6, 1, 4, 1, 0x9c, 0x78, 3, 1])), str(env[0][0]))
check("snp: mkeys written", [m[0] for m in our_ms] == [2, 641], str([m[0] for m in our_ms]))
for m in our_ms:
    check(f"snp: mkey {m[0]} equals the oracle's", m == their_ms[m[0]], f"{m} vs {their_ms[m[0]]}")
# HOST_DATA: mkey 642, raw bytes like the oracle's other raw values.
host_data = bytes(range(32))
ours = encode("snp", "x", "00" * 16, measurement.hex(), f"{policy:x}", host_data.hex())
last = comid_of(ours)[4][0][0][1][-1]
check("snp: HOST_DATA as mkey 642 tagged bytes",
      last == {0: 642, 1: {4: cbor2.CBORTag(560, host_data)}}, str(last))
ours = encode("snp", "x", "00" * 16, measurement.hex(), f"{policy:x}", "00" * 32)
check("snp: all-zero HOST_DATA omitted", [m[0] for m in comid_of(ours)[4][0][0][1]] == [2, 641])

print(f"{failures} failure(s)")
sys.exit(1 if failures else 0)
