#!/usr/bin/python3
"""Checks that libcvm.so exports exactly the C functions of cvm.h.

The dynamic symbol table (nm -D) must hold every function the header
declares and nothing else: no C++ symbol, no stray helper. Each export must
carry a version node from the linker version script, and the script must
list the same names, so a new function cannot be exported unversioned.

usage: exported_symbols_check.py LIBCVM_SO CVM_H LIBCVM_MAP
"""
import re
import subprocess
import sys


def header_functions(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # comments name functions too
    return set(re.findall(r"^CVM_API\b[^;(]*?\b(cvm_\w+)\s*\(", text, flags=re.M))


def script_symbols(path):
    text = re.sub(r"/\*.*?\*/", "", open(path, encoding="utf-8").read(), flags=re.S)
    return set(re.findall(r"\b(cvm_\w+)\s*;", text)), set(re.findall(r"^(LIBCVM_[\w.]+)\s*\{", text, flags=re.M))


def exported(library):
    out = subprocess.run(["nm", "-D", "--defined-only", library], check=True, capture_output=True, text=True).stdout
    symbols = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        kind, name = fields[1], fields[2]
        if kind == "A":  # the version node's own definition, e.g. LIBCVM_0
            continue
        base, _, version = name.partition("@")
        symbols[base] = version.lstrip("@")
    return symbols


def main():
    library, header, script = sys.argv[1:4]
    declared = header_functions(header)
    listed, nodes = script_symbols(script)
    symbols = exported(library)
    problems = []
    if len(declared) < 10:
        problems.append(f"found only {len(declared)} functions in {header}: the header parser is broken")
    for name in sorted(set(symbols) - declared):
        problems.append(f"exported but not declared in cvm.h: {name}")
    for name in sorted(declared - set(symbols)):
        problems.append(f"declared in cvm.h but not exported: {name}")
    for name in sorted(declared ^ listed):
        problems.append(f"cvm.h and the version script disagree about {name}")
    for name, version in sorted(symbols.items()):
        if version not in nodes:
            problems.append(f"{name} carries version '{version}', expected one of {sorted(nodes)}")
    for problem in problems:
        print(problem)
    print(f"{len(symbols)} exported symbols, {len(declared)} declared functions, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
