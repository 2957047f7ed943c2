"""Every public vector of every technology compiled into the module, through
the Python module: tests/capi/public_vectors.json lists them (the SEV rows
come from sev/golden.tsv itself). The C ABI checks the same list in
tests/capi/capi_vectors_test.cpp, and the C++ API in each backend's tests."""
import csv
import json
import os

import pytest

import cvm

VECTORS = os.environ.get("CVM_VECTORS_DIR", "")
EXTERNAL = os.environ.get("CVM_EXTERNAL_VECTORS_DIR", "")
CASES_FILE = os.environ.get("CVM_BINDING_VECTORS", "")


def load_cases():
    if not CASES_FILE:
        return []
    spec = json.load(open(CASES_FILE, encoding="utf-8"))
    cases = list(spec["cases"])
    sev = spec["sev_golden"]
    with open(os.path.join(VECTORS, sev["file"]), encoding="utf-8") as table:
        rows = [line for line in table if not line.startswith("#")]
    for row in csv.DictReader(rows, delimiter="\t"):
        images = [["firmware", sev["firmware"][row["firmware"]]]]
        if row["inputs"] != "none":
            images.append(["kernel", sev["kernel"]])
        if row["inputs"] == "K_SYN+I+C":
            images.append(["initrd", sev["initrd"]])
        options = {} if row["vcpu_type"] == "-" else {"vcpu-type": row["vcpu_type"]}
        cases.append({
            "name": "sev " + " ".join(row[k] for k in ("firmware", "mode", "vcpus", "vcpu_type", "inputs")),
            "technology": sev["technology"][row["mode"]],
            "memory": sev["memory"],
            "vcpus": 1 if row["vcpus"] == "-" else int(row["vcpus"]),
            "options": options,
            "images": images,
            "cmdline": sev["cmdline"] if row["inputs"] == "K_SYN+I+C" else "",
            "expected": row["digest_or_error"],
        })
    return cases


def image_path(listed):
    """The project's vector file, else the external input scripts/fetch-vectors
    fetched (tests/vectors/external.tsv); "$NAME" names an environment variable
    holding the path. Skips the test, naming the file, when it is absent."""
    if listed.startswith("$"):
        path = os.environ.get(listed[1:], "")
        assert path, f"{listed} is not set in the environment"
    else:
        path = os.path.join(VECTORS, listed)
        if not os.path.exists(path):
            path = os.path.join(EXTERNAL, listed)
    if not os.path.exists(path):
        pytest.skip(f"{os.path.basename(path)} is an external input (tests/vectors/external.tsv) that is not at "
                    f"{os.path.dirname(path)}: scripts/fetch-vectors fetches it")
    return path


CASES = load_cases()


def test_the_vector_list_is_there():
    assert CASES_FILE, "CVM_BINDING_VECTORS is not set"
    assert len(CASES) >= 15 + 40


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_public_vector(case):
    if case["technology"] not in {t.name for t in cvm.technologies()}:
        pytest.skip(f"{case['technology']} is not compiled in")
    spec = cvm.Spec(case["technology"], memory=case["memory"], vcpus=case["vcpus"], cmdline=case.get("cmdline", ""),
                    options=case["options"])
    for role, path in [(role, image_path(path)) for role, path in case["images"]]:
        spec.add_image(role, path)
    expected = case["expected"]
    if expected.startswith("ERROR: "):
        message = expected.removeprefix("ERROR: ").removeprefix("Error: ")
        with pytest.raises(cvm.Error) as refused:
            cvm.measure(spec)
        assert message in str(refused.value)
    else:
        assert cvm.measure(spec).hex == expected


def runtime_extend_rows():
    if not CASES_FILE:
        return []
    return json.load(open(CASES_FILE, encoding="utf-8"))["runtime_extend"]


@pytest.mark.parametrize("row", runtime_extend_rows(), ids=lambda row: row["name"])
def test_runtime_extend_rule(row):
    technologies = {t.name: t for t in cvm.technologies()}
    if row["technology"] not in technologies:
        pytest.skip(f"{row['technology']} is not compiled in")
    technology = technologies[row["technology"]]
    old, value = bytes.fromhex(row["old"]), bytes.fromhex(row["value"])
    if row["expected"].startswith("ERROR: "):
        with pytest.raises(cvm.Error) as refused:
            technology.runtime_extend(old, value)
        assert row["expected"].removeprefix("ERROR: ") in str(refused.value)
    else:
        assert technology.runtime_extend(old, value).hex() == row["expected"]
