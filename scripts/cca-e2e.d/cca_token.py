#!/usr/bin/python3
"""Reads Arm CCA attestation tokens out of a console log written by cca-e2e.

    cca_token.py LOG            one JSON object per realm run found in LOG
    cca_token.py --file TOKEN   the claims of one binary token

The realm's /init prints its token between the lines
"CCA-E2E-TOKEN-BEGIN <name>" and "CCA-E2E-TOKEN-END <name>" as hex bytes
(busybox od), and the host's /init prints what `cvm-launch run --json` wrote
between "CCA-E2E-RUN-BEGIN <name>" and "CCA-E2E-RUN-END <name> rc=<n>".

Token layout (RMM 1.0, Arm CCA Security Model / RMM specification): CBOR tag
399 around a map whose key 44241 holds the realm token and 44234 the
platform token, each a COSE_Sign1 (tag 18: protected, unprotected, payload,
signature). The realm token's payload is a map of claims: 10 challenge,
44235 personalization value, 44236 measurement algorithm, 44237 public key,
44238 RIM, 44239 the four REMs, 44240 public key hash algorithm. Signatures
are not checked: the point here is the RIM the RMM measured.
"""

import json
import re
import sys

TAG_CCA_TOKEN = 399
KEY_PLATFORM = 44234
KEY_REALM = 44241
CLAIMS = {10: "challenge", 44235: "personalization", 44236: "hash_algorithm", 44237: "public_key",
          44238: "rim", 44239: "rems", 44240: "public_key_hash_algorithm"}


class Tagged:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


class Reader:
    """Just enough CBOR (RFC 8949) for tokens: definite lengths only."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError(f"CBOR item runs past the end ({len(self.data)} bytes) at offset {self.pos}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def argument(self, info):
        if info < 24:
            return info
        if info in (24, 25, 26, 27):
            return int.from_bytes(self.take(1 << (info - 24)), "big")
        raise ValueError(f"unsupported CBOR length encoding {info} at offset {self.pos - 1}")

    def item(self):
        head = self.take(1)[0]
        major, info = head >> 5, head & 0x1F
        if major == 7:
            if info in (20, 21):
                return info == 21
            if info == 22:
                return None
            if info in (25, 26, 27):
                self.take(1 << (info - 24))
                return float("nan")
            raise ValueError(f"unsupported CBOR simple value {info} at offset {self.pos - 1}")
        n = self.argument(info)
        if major == 0:
            return n
        if major == 1:
            return -1 - n
        if major == 2:
            return bytes(self.take(n))
        if major == 3:
            return self.take(n).decode("utf-8")
        if major == 4:
            return [self.item() for _ in range(n)]
        if major == 5:
            out = {}
            for _ in range(n):
                key = self.item()
                out[key] = self.item()
            return out
        return Tagged(n, self.item())  # major 6


def decode(data):
    reader = Reader(data)
    value = reader.item()
    if reader.pos != len(data):
        raise ValueError(f"{len(data) - reader.pos} bytes after the CBOR item")
    return value


def cose_payload(value, what):
    if isinstance(value, bytes):
        value = decode(value)
    if isinstance(value, Tagged) and value.tag == 18:
        value = value.value
    if not (isinstance(value, list) and len(value) == 4 and isinstance(value[2], bytes)):
        raise ValueError(f"the {what} token is not a COSE_Sign1")
    return decode(value[2])


def jsonable(value):
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Tagged):
        return {"tag": value.tag, "value": jsonable(value.value)}
    return value


def realm_claims(token):
    top = decode(token)
    if not (isinstance(top, Tagged) and top.tag == TAG_CCA_TOKEN and isinstance(top.value, dict)):
        raise ValueError("not a CCA token (CBOR tag 399 around a map)")
    if KEY_REALM not in top.value:
        raise ValueError("the CCA token has no realm token (key 44241)")
    claims = cose_payload(top.value[KEY_REALM], "realm")
    out = {name: jsonable(claims[key]) for key, name in CLAIMS.items() if key in claims}
    out["token_bytes"] = len(token)
    out["has_platform_token"] = KEY_PLATFORM in top.value
    return out


def parse_log(text):
    runs = {}
    lines = text.replace("\r", "").split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r".*CCA-E2E-(TOKEN|RUN)-BEGIN (\S+)", lines[i])
        if not m:
            i += 1
            continue
        kind, name = m.group(1), m.group(2)
        body, i = [], i + 1
        while i < len(lines) and not re.match(rf".*CCA-E2E-{kind}-END {re.escape(name)}\b", lines[i]):
            body.append(lines[i])
            i += 1
        end = lines[i] if i < len(lines) else ""
        run = runs.setdefault(name, {"name": name})
        if kind == "TOKEN":
            hexdigits = "".join(re.findall(r"\b[0-9a-f]{2}\b", " ".join(l for l in body if re.fullmatch(r"[0-9a-f ]+", l.strip()))))
            try:
                run["token"] = realm_claims(bytes.fromhex(hexdigits))
            except ValueError as e:
                run["token_error"] = str(e)
        else:
            rc = re.search(r"rc=(\d+)", end)
            run["run_exit"] = int(rc.group(1)) if rc else None
            text_json = "\n".join(body)
            start = text_json.find("{")
            try:
                run["run"] = json.loads(text_json[start:text_json.rfind("}") + 1]) if start >= 0 else None
            except json.JSONDecodeError as e:
                run["run_error"] = f"cvm-launch run --json output unreadable: {e}"
        i += 1
    return list(runs.values())


def main(argv):
    if len(argv) == 3 and argv[1] == "--file":
        with open(argv[2], "rb") as f:
            print(json.dumps(realm_claims(f.read()), indent=2))
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], "r", errors="replace") as f:
        print(json.dumps(parse_log(f.read()), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
