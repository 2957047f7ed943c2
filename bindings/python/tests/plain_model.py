"""The plain backend's software measurement, written here from its documented
encoding (libcvm/plan/software_measurement.hpp) with hashlib, independently
of libcvm: each operation is encoded, hashed with SHA-256, and extended into
a chain M_0 = 32 zero bytes, M_i = SHA-256(M_{i-1} || event_i)."""
import hashlib
import struct


def _str(text):
    data = text.encode()
    return struct.pack("<I", len(data)) + data


def encode(op):
    """The bytes whose SHA-256 is the event of one cvm.Plan operation."""
    out = op.kind.encode() + b"\0"
    if op.kind == "create-vm":
        out += struct.pack("<I", len(op.config))
        for key, value in op.config:
            out += _str(key) + _str(value)
    elif op.kind == "add-memory":
        out += struct.pack("<QQB", op.gpa, op.size, int(op.confidential))
    elif op.kind == "load-data":
        out += struct.pack("<QQB", op.gpa, op.size, int(op.measured))
        if op.measured:
            out += hashlib.sha256(op.data).digest()
        if op.page_type:
            out += _str(op.page_type)
    elif op.kind == "create-vcpus":
        out += struct.pack("<I", op.count)
    elif op.kind == "set-registers":
        out += struct.pack("<II", op.vcpu, len(op.registers))
        for name, value in op.registers.items():
            out += _str(name) + struct.pack("<Q", value)
    elif op.kind != "finalize":
        raise ValueError(f"unknown operation {op.kind}")
    return out


def encode_file(op, name, data):
    """A file a device serves (fw_cfg's kernel, initrd, ...): like loaded data."""
    return (b"device-file\0" + _str(op.device) + _str(name) + struct.pack("<Q", len(data))
            + hashlib.sha256(data).digest())


def events(plan):
    # Devices are no events: the tables that describe them are loaded data;
    # the files a device serves are, one each.
    out = []
    for op in plan.operations:
        if op.kind == "add-device":
            out += [hashlib.sha256(encode_file(op, name, data)).digest() for name, data in op.files]
        else:
            out.append(hashlib.sha256(encode(op)).digest())
    return out


def measurement(plan):
    chain = bytes(32)
    for event in events(plan):
        chain = hashlib.sha256(chain + event).digest()
    return chain.hex()
