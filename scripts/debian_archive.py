"""Verified downloads of Debian packages of any suite and architecture.

Debian 12 hosts can install only Debian 12's packages with apt, but the
riscv64 cross sysroot and the riscv64 nested-boot payload need Debian 13
(trixie), which is the first release with riscv64. This module reads the
archive directly and trusts nothing it has not checked:

  1. InRelease, checked with gpgv against debian-archive-keyring (Debian 12's
     keyring carries the trixie keys); only the signed text is read.
  2. main/binary-ARCH/Packages.xz, checked against InRelease's SHA256.
  3. Each .deb (the highest version the index lists), checked against the
     index's SHA256 and size, and kept in a cache directory for later runs.

Used by scripts/riscv64-sysroot and scripts/fetch-debs.
"""

import functools
import hashlib
import lzma
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

MIRROR = os.environ.get("LIBCVM_DEBIAN_MIRROR", "http://deb.debian.org/debian")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class ArchiveError(Exception):
    pass


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.read()
    except OSError as e:
        raise ArchiveError(f"cannot download {url}: {e}") from e


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def field(text, name):
    m = re.search(rf"^{name}: (.*)$", text, re.M)
    return m.group(1) if m else "?"


def signed_release(suite, log=lambda msg: None):
    """InRelease's text, only after gpgv has accepted its signature."""
    with tempfile.TemporaryDirectory(prefix="debian-archive-") as work:
        inrelease = os.path.join(work, "InRelease")
        with open(inrelease, "wb") as f:
            f.write(fetch(f"{MIRROR}/dists/{suite}/InRelease"))
        plain = os.path.join(work, "Release")
        r = subprocess.run(["gpgv", "--keyring", KEYRING, "--output", plain, inrelease],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise ArchiveError(f"InRelease of {suite} is not validly signed by a key in {KEYRING}:\n{r.stderr}")
        signers = re.findall(r'Good signature from "([^"]+)"', r.stderr)
        log(f"InRelease of {suite} signed by: {'; '.join(signers)}")
        with open(plain, encoding="utf-8") as f:
            return f.read()


def release_sha256(release, path):
    m = re.search(r"^SHA256:\n((?: .*\n)+)", release, re.M)
    if not m:
        raise ArchiveError("InRelease has no SHA256 section")
    for line in m.group(1).splitlines():
        digest, size, name = line.split()
        if name == path:
            return digest, int(size)
    raise ArchiveError(f"InRelease does not list {path}")


def compare_versions(a, b):
    if a == b:
        return 0
    lt = subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0
    return -1 if lt else 1


class Index:
    """The signed package index of one suite and architecture."""

    def __init__(self, suite, arch, log=lambda msg: None):
        self.suite, self.arch = suite, arch
        self.release = signed_release(suite, log)
        path = f"main/binary-{arch}/Packages.xz"
        digest, size = release_sha256(self.release, path)
        data = fetch(f"{MIRROR}/dists/{suite}/{path}")
        if sha256(data) != digest or len(data) != size:
            raise ArchiveError(f"{path}: SHA256 or size differs from InRelease")
        self.stanzas = {}
        for block in lzma.decompress(data).decode("utf-8").split("\n\n"):
            fields = {}
            for line in block.splitlines():
                if line and not line[0].isspace() and ":" in line:
                    k, v = line.split(":", 1)
                    fields[k] = v.strip()
            if "Package" in fields:
                self.stanzas.setdefault(fields["Package"], []).append(fields)

    def describe(self):
        return (f"Debian {field(self.release, 'Version')} ({self.suite}) {self.arch}, "
                f"InRelease of {field(self.release, 'Date')}")

    def newest(self, package):
        """The stanza of the package's highest version in the index."""
        if package not in self.stanzas:
            raise ArchiveError(f"not in the {self.suite} {self.arch} index: {package}")
        return sorted(self.stanzas[package], key=functools.cmp_to_key(
            lambda a, b: compare_versions(a["Version"], b["Version"])))[-1]

    def first_dependency(self, package, pattern):
        """The first package named in `package`'s Depends that matches the
        regular expression (a metapackage's versioned kernel, say)."""
        depends = self.newest(package).get("Depends", "")
        for alternative in re.split(r"[,|]", depends):
            name = alternative.strip().split(" ")[0]
            if re.fullmatch(pattern, name):
                return name
        raise ArchiveError(f"{package} depends on nothing matching {pattern} (Depends: {depends})")

    def download(self, stanza, cache):
        """The path of the .deb in `cache`, downloaded and checked if it is
        not there already with the index's SHA256."""
        os.makedirs(cache, exist_ok=True)
        path = os.path.join(cache, os.path.basename(stanza["Filename"]))
        if os.path.exists(path):
            with open(path, "rb") as f:
                if sha256(f.read()) == stanza["SHA256"]:
                    return path
        data = fetch(f"{MIRROR}/{stanza['Filename']}")
        if sha256(data) != stanza["SHA256"] or len(data) != int(stanza["Size"]):
            raise ArchiveError(f"{stanza['Filename']}: SHA256 or size differs from the signed index")
        with open(path + ".part", "wb") as f:
            f.write(data)
        os.replace(path + ".part", path)
        return path


def manifest_line(stanza):
    return f"{stanza['Package']} {stanza['Version']} {stanza['Architecture']} sha256:{stanza['SHA256']}"


def die(prog, msg):
    print(f"{prog}: error: {msg}", file=sys.stderr)
    sys.exit(1)
