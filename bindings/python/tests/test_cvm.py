"""The Python module against the C++ API (through cvm-launch), against an
independent computation of the plain measurement, and its error reporting."""
import _thread
import errno
import hashlib
import json
import os
import re
import subprocess
import tempfile
import threading
import time

import pytest

import cvm
import plain_model


def synthetic_bzimage(payload=4096):
    """A minimal bzImage: 4 setup sectors, boot protocol 2.15, 64-bit entry."""
    image = bytearray(5 * 512 + payload)
    image[0x1F1] = 4
    image[0x1FE:0x200] = (0xAA55).to_bytes(2, "little")
    image[0x200:0x202] = b"\xeb\x6a"
    image[0x202:0x206] = b"HdrS"
    image[0x206:0x208] = (0x020F).to_bytes(2, "little")
    image[0x211] = 0x01
    image[0x22C:0x230] = (0x7FFFFFFF).to_bytes(4, "little")
    image[0x230:0x234] = (0x200000).to_bytes(4, "little")
    image[0x234] = 1
    image[0x236:0x238] = (0x3).to_bytes(2, "little")
    image[0x238:0x23C] = (2047).to_bytes(4, "little")
    image[0x258:0x260] = (0x1000000).to_bytes(8, "little")
    image[0x260:0x264] = (0x10000).to_bytes(4, "little")
    for i in range(5 * 512, len(image)):
        image[i] = (i * 7) & 0xFF
    return bytes(image)


def cpp_measure(cvm_launch, *args):
    out = subprocess.run([cvm_launch, "measure", "--json", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_version_and_technologies():
    assert re.fullmatch(r"\d+\.\d+\.\d+", cvm.__version__)
    names = [t.name for t in cvm.technologies()]
    assert "plain" in names
    assert len(names) == len(set(names))
    for technology in cvm.technologies():
        assert technology.summary
        for option in technology.options:
            assert option.name and (not option.choices or not option.default or option.default in option.choices)


def test_spec_keywords_round_trip():
    spec = cvm.Spec("plain", memory="64M", vcpus=3, cmdline="quiet", kernel=synthetic_bzimage(),
                    options={}, images=[cvm.Image("initrd", b"\x01" * 100, measured=False)])
    assert spec.technology == "plain"
    assert spec.memory == 64 << 20
    assert spec.vcpus == 3
    assert spec.cmdline == "quiet"
    assert [(i.role, i.size, i.measured) for i in spec.images] == [("kernel", 4096 + 2560, True), ("initrd", 100, False)]
    spec.memory = 1 << 27
    spec.add_image("blob", b"\x02" * 8, gpa=0x5000)
    assert spec.memory == 1 << 27 and spec.images[-1].gpa == 0x5000


def test_plain_matches_the_cpp_api(tiny_bzimage, cvm_launch):
    cmdline = "console=ttyS0 python"
    expected = cpp_measure(cvm_launch, "--tech", "plain", "--memory", "128M", "--vcpus", "2", "--cmdline", cmdline,
                           "--kernel", tiny_bzimage)
    measurement = cvm.measure(technology="plain", memory="128M", vcpus=2, cmdline=cmdline, kernel=tiny_bzimage)
    assert measurement.technology == expected["technology"]
    assert measurement.algorithm == expected["algorithm"]
    assert measurement.hex == expected["measurement"]
    assert measurement.registers == expected.get("registers", {})
    # cvm-launch adds what a verifier matches beside the value (the launch's
    # configuration) and says how it printed the value.
    cli_only = {key: expected.pop(key) for key in ("config", "encoding")}
    assert cli_only["encoding"] == "hex" and cli_only["config"]["arch"] == "x86_64"
    assert json.loads(measurement.to_json()) == expected
    # Same spec, built three ways.
    spec = cvm.Spec("plain", memory=128 << 20, vcpus=2, cmdline=cmdline, kernel=tiny_bzimage)
    assert cvm.measure(spec) == measurement
    assert cvm.measure(cvm.plan(spec)) == measurement


def riscv_image():
    """A RISC-V Image header (Documentation/arch/riscv/boot-image-header.rst) before patterned bytes."""
    image = bytearray((i * 11) & 0xFF for i in range(3 * 4096 + 321))
    image[:64] = bytes(64)
    image[0:4] = (0x6F).to_bytes(4, "little")
    image[8:16] = (0x200000).to_bytes(8, "little")
    image[16:24] = (0x300000).to_bytes(8, "little")
    image[32:36] = (2).to_bytes(4, "little")
    image[48:56] = b"RISCV\0\0\0"
    image[56:60] = b"RSC\x05"
    return bytes(image)


def test_registers_of_a_multi_register_technology_match_the_cpp_api(cvm_launch):
    if "riscv-cove" not in {t.name for t in cvm.technologies()}:
        pytest.skip("riscv-cove is not compiled in")
    with tempfile.NamedTemporaryFile() as kernel:
        kernel.write(riscv_image())
        kernel.flush()
        expected = cpp_measure(cvm_launch, "--tech", "riscv-cove", "--memory", "256M", "--cmdline", "console=hvc0",
                               "--kernel", kernel.name)
        measurement = cvm.measure(technology="riscv-cove", memory="256M", cmdline="console=hvc0", kernel=kernel.name)
    assert len(expected["registers"]) > 1
    assert measurement.registers == expected["registers"]
    assert list(measurement.registers) == list(expected["registers"])
    assert (measurement.algorithm, measurement.hex) == (expected["algorithm"], expected["measurement"])


def test_plain_matches_the_documented_model():
    with tempfile.NamedTemporaryFile() as kernel:
        kernel.write(synthetic_bzimage(9000))
        kernel.flush()
        plan = cvm.plan(technology="plain", memory="64M", vcpus=2, cmdline="a b c", kernel=kernel.name,
                        initrd=bytes(range(256)) * 3)
        measurement = cvm.measure(plan)
    assert measurement.hex == plain_model.measurement(plan)
    assert measurement.digest == bytes.fromhex(measurement.hex)
    assert [e.digest for e in plan.events()] == plain_model.events(plan)
    assert all(e.hex == e.digest.hex() for e in plan.events())


def test_event_log_equals_the_cpp_one_and_reads_back(tiny_bzimage, cvm_launch):
    args = dict(technology="plain", memory="128M", cmdline="console=ttyS0 log", kernel=tiny_bzimage)
    plan = cvm.plan(**args)
    log = plan.event_log()
    with tempfile.NamedTemporaryFile() as out:
        cpp_measure(cvm_launch, "--tech", "plain", "--memory", "128M", "--cmdline", "console=ttyS0 log",
                    "--kernel", tiny_bzimage, "--event-log", out.name)
        assert log == open(out.name, "rb").read()
    # The header as the TCG PC Client spec lays it out: PCR 0, EV_NO_ACTION,
    # a zero SHA-1 digest, then the Spec ID event.
    assert log[0:8] == bytes(4) + (3).to_bytes(4, "little")
    assert log[8:28] == bytes(20)
    assert log[32:48] == b"Spec ID Event03\0"
    parsed = cvm.read_event_log(log)
    assert parsed.banks == ["sha256"]
    assert parsed.used_size == len(log)
    assert b"plain" in parsed.vendor_info
    assert len(parsed) == len(parsed.events) > 0
    assert all(set(e.digests) <= {"sha256"} for e in parsed.events)
    assert cvm.plan(**args).event_log(banks=["sha256", "sha384"]) != log
    with pytest.raises(cvm.Error, match="offset"):
        cvm.read_event_log(log[:-1])


def test_verify_event_log_as_the_cli_does(tiny_bzimage, cvm_launch):
    args = dict(technology="plain", memory="128M", cmdline="console=ttyS0 verify", kernel=tiny_bzimage)
    plan = cvm.plan(**args)
    log, expected = plan.event_log(), cvm.measure(**args)
    with tempfile.NamedTemporaryFile("w", suffix=".sums") as sums:
        sums.write(f"{hashlib.sha256(open(tiny_bzimage, 'rb').read()).hexdigest()}  {tiny_bzimage}\n")
        sums.flush()
        verdict = cvm.verify_event_log(log, sums.name, expected.digest)
        assert verdict["match"] and verdict["technology"] == "plain" and not verdict["failures"]
        assert verdict["replayed"] == expected.hex
        assert cvm.verify_event_log(log, sums.name, expected.hex)["match"]
        # The same verdict as the command line's.
        with tempfile.NamedTemporaryFile(suffix=".log") as log_file:
            log_file.write(log)
            log_file.flush()
            cli = subprocess.run([cvm_launch, "log", "verify", log_file.name, "--images", sums.name,
                                  "--expect", expected.hex, "--json"], capture_output=True, text=True, check=True)
        assert json.loads(cli.stdout) == verdict
        other = bytearray(expected.digest)
        other[0] ^= 1
        mismatch = cvm.verify_event_log(log, sums.name, bytes(other))
        assert not mismatch["match"] and mismatch["failures"]
    with pytest.raises(cvm.Error, match="offset"):
        cvm.verify_event_log(log[:-1], "/dev/null", expected.digest)


def test_plan_operations_are_python_objects():
    kernel = synthetic_bzimage()
    plan = cvm.plan(technology="plain", memory="64M", kernel=kernel, initrd=b"\x5a" * 3000)
    kinds = [op.kind for op in plan]
    assert kinds[0] == "create-vm" and kinds[-1] == "finalize"
    assert kinds.count("create-vcpus") == 1
    assert len(plan) == len(plan.operations) == len(kinds)
    loads = {op.label: op for op in plan.operations if isinstance(op, cvm.LoadData)}
    assert loads["kernel"].gpa == 0x100000
    assert loads["kernel"].data == kernel[5 * 512:]
    assert loads["initrd"].data == b"\x5a" * 3000
    assert loads["initrd"].source == "initrd buffer"
    memory = [op for op in plan.operations if isinstance(op, cvm.AddMemory)]
    assert sum(op.size for op in memory) == 64 << 20
    registers = next(op for op in plan.operations if isinstance(op, cvm.SetRegisters)).registers
    assert registers["rip"] == 0x100000 + 0x200
    assert json.loads(plan.to_json())["technology"] == "plain"
    assert f"{len(plan)} operations" in plan.to_text()


def test_path_and_bytes_give_the_same_measurement():
    image = synthetic_bzimage()
    with tempfile.NamedTemporaryFile() as kernel:
        kernel.write(image)
        kernel.flush()
        from_path = cvm.measure(technology="plain", kernel=kernel.name)
        from_pathlike = cvm.measure(technology="plain", kernel=__import__("pathlib").Path(kernel.name))
    assert from_path == from_pathlike == cvm.measure(technology="plain", kernel=bytearray(image))
    assert from_path != cvm.measure(technology="plain", kernel=image, cmdline="x")


def test_errors_are_oserrors():
    assert issubclass(cvm.Error, OSError)
    with pytest.raises(OSError) as missing:
        cvm.Spec("plain", kernel="/nonexistent/bzImage")
    assert isinstance(missing.value, cvm.Error)
    assert missing.value.errno == errno.ENOENT
    assert missing.value.where == "/nonexistent/bzImage"
    assert "/nonexistent/bzImage" in str(missing.value)  # the located message, not "[Errno 2] ..."


def test_errors_carry_file_offset_and_errno():
    with pytest.raises(cvm.Error) as bad:
        cvm.measure(technology="plain", kernel=b"\0" * 4096)
    assert bad.value.where == "kernel buffer"
    assert bad.value.offset == 0x1FE
    assert bad.value.errno == 0
    assert "expected 0xaa55" in str(bad.value) and "offset 0x1fe" in str(bad.value)

    with pytest.raises(cvm.Error) as missing:
        cvm.Spec("plain", kernel="/nonexistent/bzImage")
    assert missing.value.errno == errno.ENOENT
    assert "/nonexistent/bzImage" in str(missing.value)

    with pytest.raises(cvm.Error, match="unknown technology 'nope'.*plain"):
        cvm.measure(technology="nope", kernel=synthetic_bzimage())
    with pytest.raises(cvm.Error, match="has no option 'policy'"):
        cvm.measure(technology="plain", kernel=synthetic_bzimage(), options={"policy": "1"})
    with pytest.raises(cvm.Error, match="unknown spec argument 'kernal'"):
        cvm.measure(technology="plain", kernal="x")
    with pytest.raises(cvm.Error, match="gpa is for blobs only"):
        cvm.Image("kernel", b"x", gpa=0x1000)
    with pytest.raises(cvm.Error, match="unknown image role"):
        cvm.Image("bios", b"x")
    with pytest.raises(cvm.Error, match="expected a path or bytes"):
        cvm.Image("kernel", 42)
    assert issubclass(cvm.Error, Exception)


@pytest.mark.kvm
def test_launch_boots_the_tiny_guest(tiny_bzimage):
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("/dev/kvm is not usable")
    with tempfile.TemporaryFile() as console:
        result = cvm.launch(technology="plain", memory="128M", vcpus=2, cmdline="console=ttyS0 python",
                            kernel=tiny_bzimage, console=console, timeout=30)
        console.seek(0)
        output = console.read().decode(errors="replace")
    assert (result.reason, result.code) == ("power-off", 0), result.detail + output
    assert "tiny: cpus=2\n" in output and "tiny: done\n" in output and "tiny: error" not in output


@pytest.mark.kvm
def test_ctrl_c_stops_a_launch_cleanly(tiny_bzimage):
    """A guest that never stops by itself ("tiny.stay") and a SIGINT while it
    runs: cvm.launch() stops every vCPU and raises KeyboardInterrupt."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("/dev/kvm is not usable")
    fds_before = sorted(os.listdir("/proc/self/fd"))
    with tempfile.TemporaryFile() as console:
        def interrupt_when_done():
            for _ in range(3000):
                console.seek(0)
                if b"tiny: done" in os.pread(console.fileno(), 1 << 16, 0):
                    break
                time.sleep(0.01)
            _thread.interrupt_main()
        interrupter = threading.Thread(target=interrupt_when_done)
        interrupter.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            cvm.launch(technology="plain", memory="128M", vcpus=2, cmdline="console=ttyS0 tiny.stay",
                       kernel=tiny_bzimage, console=console, timeout=60)
        interrupter.join()
        assert time.monotonic() - started < 30, "the launch ran until its timeout"
        assert b"tiny: done" in os.pread(console.fileno(), 1 << 16, 0)
    assert sorted(os.listdir("/proc/self/fd")) == fds_before


@pytest.mark.kvm
def test_launch_reports_a_missing_device(tiny_bzimage):
    with pytest.raises(cvm.Error) as missing:
        cvm.launch(technology="plain", kernel=tiny_bzimage, device="/nonexistent/kvm")
    assert missing.value.errno == errno.ENOENT


# The SEV vectors' README 4.1(b): the LAUNCH_MEASURE blob of FW_SYN with
# K_SYN+I+C under TIK 00..0f (API 1.55, build 21, policy 1), and that row's
# launch digest from golden.tsv (sev-snp-measure).
SEV_BLOB = "cb29014d14420b574d027a193760be7ad8a1670841553869a99f7660a99a583ba0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
SEV_DIGEST = bytes.fromhex("6bb8e4821dfc8c07af6eb44653af6f3115864d5715148759da099606e80fdd3b")


def sev_request(build=21, policy=1):
    return {"technology": "amd-sev", "measure": SEV_BLOB, "api_major": 1, "api_minor": 55, "build": build,
            "policy": policy, "secret_gpa": 0x80D000, "secret_size": 4096}


def test_sev_owner_reply_is_checked_with_openssl_and_hmac(tmp_path):
    import hmac
    tik, tek = bytes(range(16)), bytes(range(0x10, 0x20))
    secret = b"the owner's disk key, 32 bytes!!"
    reply = cvm.sev_owner_reply(sev_request(), SEV_DIGEST, 1, tik, tek=tek, secret=secret)
    assert reply["action"] == "inject"
    header, cipher = bytes.fromhex(reply["header"]), bytes.fromhex(reply["secret"])
    assert len(header) == 52 and len(cipher) == 32
    (tmp_path / "cipher").write_bytes(cipher)
    plain = subprocess.run(["openssl", "enc", "-d", "-aes-128-ctr", "-K", tek.hex(), "-iv", header[4:20].hex(),
                            "-in", str(tmp_path / "cipher")], check=True, capture_output=True).stdout
    assert plain == secret
    lengths = (32).to_bytes(4, "little") * 2
    message = b"\x01" + header[:20] + lengths + cipher + bytes.fromhex(SEV_BLOB[:64])
    assert header[20:] == hmac.new(tik, message, "sha256").digest()
    # Another build or policy: a refusal with its reason; no secret: finish.
    assert cvm.sev_owner_reply(sev_request(build=22), SEV_DIGEST, 1, tik)["action"] == "abort"
    assert "policy 0x5" in cvm.sev_owner_reply(sev_request(policy=5), SEV_DIGEST, 1, tik)["reason"]
    assert cvm.sev_owner_reply(json.dumps(sev_request()), SEV_DIGEST, 1, tik) == {"action": "finish"}
    with pytest.raises(cvm.Error, match="the owner request lacks 'api_major'"):
        cvm.sev_owner_reply({"technology": "amd-sev"}, SEV_DIGEST, 1, tik)


def test_an_owner_on_a_technology_without_the_round_trip_is_refused():
    called = []
    with pytest.raises(cvm.Error, match="no guest-owner round trip"):
        cvm.launch(technology="plain", kernel=synthetic_bzimage(), owner=lambda request: called.append(request))
    assert called == []


def test_sev_pdh_chain_of_a_real_platform(tmp_path):
    # AMD's Naples ARK/ASK and a real platform's chain (virtee/sev test data,
    # tests/vectors/sev/certs/PROVENANCE.md).
    vectors = os.environ["CVM_VECTORS_DIR"]
    certs = {name: os.path.join(vectors, "sev", "certs", "naples", name + ".cert")
             for name in ("pdh", "pek", "oca", "cek", "ask", "ark")}
    report = cvm.sev_verify_pdh_chain(**certs)
    assert report["trusted"] and report["failures"] == []
    cli = json.loads(subprocess.run([os.environ["CVM_LAUNCH"], "verify-pdh-chain", "--json"] +
                                    [f"--{k}={v}" for k, v in certs.items()], capture_output=True, text=True).stdout)
    assert report == cli
    pek = bytearray(open(certs["pek"], "rb").read())
    pek[0x624] ^= 1  # signature 2's R (the CEK's signature)
    (tmp_path / "pek.cert").write_bytes(bytes(pek))
    report = cvm.sev_verify_pdh_chain(**{**certs, "pek": str(tmp_path / "pek.cert")})
    assert not report["trusted"] and report["failures"]


def test_sev_owner_dh_certificate_holds_the_point_openssl_prints(tmp_path):
    key = tmp_path / "owner.pem"
    subprocess.run(["openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", str(key)], check=True)
    der = subprocess.run(["openssl", "ec", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    point = der[-97:]
    assert point[0] == 4
    cert = cvm.sev_owner_dh_certificate(key.read_text(), self_sign=False, api_major=1, api_minor=55)
    assert len(cert) == 0x824
    assert cert[0x14:0x14 + 48][::-1] == point[1:49]
    assert cert[0x5C:0x5C + 48][::-1] == point[49:97]
    assert cert[4:6] == bytes([1, 55])


def test_snp_id_block_of_sev_snp_measures_published_test():
    # virtee/sev-snp-measure's tests/test_id_block.py (tests/vectors/sev/idblock/PROVENANCE.md).
    keys = os.path.join(os.environ["CVM_VECTORS_DIR"], "sev", "idblock")
    ld = bytes.fromhex("076f052d08bda7a700aa2a608c5caa6b00ebad297b6d68a85a45b1e669a558b6"
                       "7e1b91d284a301fe63c4fa0750467eed")
    out = cvm.snp_sign_id_block(ld, 0x30000, open(os.path.join(keys, "id_key_test.pem")).read(),
                                author_key_pem=open(os.path.join(keys, "author_key_test.pem")).read())
    assert out["id_block"] == ld + bytes(32) + (1).to_bytes(4, "little") + bytes(4) + (0x30000).to_bytes(8, "little")
    assert out["id_key_digest"].hex() == ("870b7e35c53f8a72d0d322f75ab2af8262792aaf6579622ce4131c3f21f289e7"
                                          "7cb0560a5e3b90b3932e674ec709cb14")
    assert out["author_key_digest"].hex() == ("63111c34bbfc0a4938f9a009bd074980d8172323e61599c9fd336da8673248e1"
                                              "dca98d0be8f76376a106b8afd4c0a057")
    assert len(out["id_auth"]) == 4096
    with pytest.raises(cvm.Error):
        cvm.snp_sign_id_block(ld, 0x30000, "not a key")


HERE = os.path.dirname(os.path.abspath(__file__))


def test_snp_verify_report_as_the_cli_does(tmp_path, cvm_launch):
    # A chain and a report signed by the openssl command line
    # (tests/sev/snp_test_report.sh), of the launch predicted here.
    fw = os.path.join(os.environ["CVM_VECTORS_DIR"], "sev", "synthetic_fw.bin")
    m = cvm.measure(technology="amd-sev-snp", firmware=fw)
    subprocess.run([os.path.join(HERE, "..", "..", "..", "tests", "sev", "snp_test_report.sh"), str(tmp_path),
                    m.hex], check=True, capture_output=True)
    chain = {k: str(tmp_path / f"{k}.pem") for k in ("vcek", "ask", "ark")}
    report = (tmp_path / "report.bin").read_bytes()
    got = cvm.snp_verify_report(report, measurement=bytes.fromhex(m.hex), host_data=b"\x11" * 32, **chain)
    cli = json.loads(subprocess.run([cvm_launch, "verify-report", "--json", "--report", str(tmp_path / "report.bin"),
                                     "--vcek", chain["vcek"], "--ask", chain["ask"], "--ark", chain["ark"],
                                     "--mode", "snp", "--ovmf", fw, "--host-data", "11" * 32],
                                    capture_output=True, text=True).stdout)
    assert got["match"] and got == cli
    changed = cvm.snp_verify_report((tmp_path / "changed.bin").read_bytes(), measurement=bytes.fromhex(m.hex), **chain)
    assert not changed["match"] and changed["failures"]
    other = cvm.snp_verify_report(report, measurement=bytes(48), **chain)
    assert not other["match"] and any("MEASUREMENT" in f for f in other["failures"])
    with pytest.raises(cvm.Error):
        cvm.snp_verify_report((tmp_path / "short.bin").read_bytes(), measurement=bytes(48), **chain)


def test_reference_values_as_the_cli_writes_them(cvm_launch):
    fw = os.path.join(os.environ["CVM_VECTORS_DIR"], "cca", "firmware")
    args = dict(technology="arm-cca", firmware=fw, memory="1G", vcpus=2, options={"layout": "qemu", "hash": "sha256"})
    cli = subprocess.run([cvm_launch, "measure", "--tech", "arm-cca", "--firmware", fw, "--memory", "1G", "--vcpus", "2",
                          "--layout", "qemu", "--hash", "sha256", "--reference-format", "keybroker"],
                         check=True, capture_output=True).stdout
    assert cvm.reference_values(format="keybroker", **args) == cli
    assert json.loads(cvm.reference_values(format="keybroker", **args))["reference-values"]
    with pytest.raises(cvm.Error):
        cvm.reference_values(format="keybroker", technology="amd-sev-snp",
                             firmware=os.path.join(os.environ["CVM_VECTORS_DIR"], "sev", "synthetic_fw.bin"))


def test_sev_make_session_unwraps_with_the_keys_it_returns(tmp_path):
    import hmac
    pdh = open(os.path.join(os.environ["CVM_VECTORS_DIR"], "sev", "certs", "rome", "pdh.cert"), "rb").read()
    key = tmp_path / "owner.pem"
    subprocess.run(["openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", str(key)], check=True)
    out = cvm.sev_make_session(pdh, key.read_text(), policy=1)
    assert len(out["session"]) == 128 and len(out["tik"]) == 16 and len(out["tek"]) == 16
    # POLICY_MAC = HMAC-SHA256(TIK, policy) closes the blob.
    assert out["session"][96:] == hmac.new(out["tik"], (1).to_bytes(4, "little"), "sha256").digest()
