"""libcvm: launch plans, launch measurement predictions and launches of confidential VMs on KVM."""
import os
from typing import Callable, Dict, Iterator, Optional, Union

__version__: str

_Data = Union[str, os.PathLike, bytes, bytearray, memoryview]
_Size = Union[int, str]

class Error(Exception):
    """A libcvm failure: malformed input, unknown technology or option, an
    unsupported configuration, or a refused system call."""
    message: str
    errno: int
    where: str
    offset: Optional[int]

class Option:
    """A technology option a Spec may set in `options`."""
    @property
    def name(self) -> str: ...
    @property
    def help(self) -> str: ...
    @property
    def default(self) -> str: ...
    @property
    def choices(self) -> list[str]: ...

class Technology:
    """A technology compiled into libcvm."""
    @property
    def name(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def options(self) -> list[Option]: ...
    def runtime_extend(self, old_value: bytes, value: bytes) -> bytes:
        """A running guest's extend of a measurement register (CCA REM, CoVE runtime register)."""
        ...

def technologies() -> list[Technology]:
    """Every technology compiled into libcvm, e.g. 'plain'."""

class Image:
    """An image of a Spec: role 'kernel', 'initrd', 'firmware', 'dtb' or 'blob'.
    A path is mapped, never copied; bytes are copied once."""
    def __init__(self, role: str, data: _Data, measured: bool = True, gpa: Optional[int] = None) -> None: ...
    @property
    def role(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def measured(self) -> bool: ...
    @property
    def gpa(self) -> Optional[int]: ...

class Spec:
    """What the VM should be, before any layout decision."""
    def __init__(self, technology: str = "plain", *, memory: _Size = ..., vcpus: int = 1,
                 cmdline: str = "", options: Optional[dict[str, str]] = None,
                 kernel: Optional[_Data] = None, initrd: Optional[_Data] = None,
                 firmware: Optional[_Data] = None, dtb: Optional[_Data] = None,
                 images: Optional[list[Image]] = None) -> None: ...
    technology: str
    memory: int
    vcpus: int
    cmdline: str
    options: dict[str, str]
    @property
    def images(self) -> list[Image]: ...
    def add_image(self, role: str, data: _Data, measured: bool = True, gpa: Optional[int] = None) -> None: ...

class CreateVm:
    kind: str
    config: list[tuple[str, str]]  # the backend's configuration as (name, value) text, in its order

class AddMemory:
    kind: str
    gpa: int
    size: int
    confidential: bool
    label: str

class LoadData:
    kind: str
    gpa: int
    size: int
    data: bytes
    source: str
    measured: bool
    label: str
    page_type: str

class CreateVcpus:
    kind: str
    count: int

class SetRegisters:
    kind: str
    vcpu: int
    registers: dict[str, int]

class AddDevice:
    kind: str
    device: str
    regions: list[tuple[str, int, int]]
    interrupt: Optional[int]
    files: list[tuple[str, bytes]]  # what the device serves the guest (fw_cfg: kernel, initrd, ...)

class Finalize:
    kind: str

Operation = Union[CreateVm, AddMemory, LoadData, CreateVcpus, SetRegisters, AddDevice, Finalize]

class PlanEvent:
    """One measured step of a plan."""
    kind: str
    description: str
    digest: bytes
    hex: str

class Plan:
    """The ordered operations a launch performs."""
    @property
    def technology(self) -> str: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def operations(self) -> list[Operation]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Operation]: ...
    def events(self) -> list[PlanEvent]: ...
    def event_log(self, banks: Optional[list[str]] = None) -> bytes:
        """The plan's TCG crypto-agile event log (default bank: the plan's algorithm)."""
    def to_text(self) -> str: ...
    def to_json(self) -> str: ...

class LogEvent:
    """One TCG_PCR_EVENT2 record of an event log."""
    index: int
    offset: int
    pcr_index: int
    type: int
    type_name: str
    digests: dict[str, bytes]
    data: bytes

class EventLog:
    """A parsed TCG crypto-agile event log."""
    events: list[LogEvent]
    banks: list[str]
    vendor_info: bytes
    used_size: int
    def __len__(self) -> int: ...
    def to_json(self) -> str: ...

def read_event_log(data: bytes, padded: bool = False, name: str = "event log") -> EventLog:
    """Parses a TCG crypto-agile event log strictly; raises Error naming the offset of any violation."""

def verify_event_log(data: bytes, images: str, expected: Union[bytes, str], padded: bool = False) -> dict[str, object]:
    """Verifies a log as `cvm-launch log verify` does; returns {'technology', 'match', 'replayed', 'expected',
    'registers', 'checked', 'failures'}."""

def plan(spec: Optional[Spec] = None, **spec_arguments: object) -> Plan:
    """Applies the technology's layout rules to a Spec or to Spec keyword arguments."""

class Measurement:
    """A predicted launch measurement."""
    @property
    def technology(self) -> str: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def hex(self) -> str: ...
    @property
    def digest(self) -> bytes: ...
    @property
    def registers(self) -> dict[str, str]: ...
    def to_json(self) -> str: ...

def measure(spec: Union[Spec, Plan, None] = None, **spec_arguments: object) -> Measurement:
    """Predicts the launch measurement without any hardware; raises Error for any
    configuration the model does not fully understand."""

class RunResult:
    """How a launched guest stopped."""
    @property
    def reason(self) -> str: ...
    @property
    def code(self) -> int: ...
    @property
    def detail(self) -> str: ...

def launch(spec: Union[Spec, Plan, None] = None, *, console: object = None, timeout: Optional[float] = None,
           device: str = "/dev/kvm",
           owner: Union[Callable[[Dict[str, object]], Union[Dict[str, object], str]], str, int, None] = None,
           **spec_arguments: object) -> RunResult:
    """Boots the plan (or spec) on KVM until the guest stops. `owner` (AMD SEV/SEV-ES): the guest
    owner's round trip between LAUNCH_MEASURE and LAUNCH_FINISH, as a callable, a command or a socket fd."""

def sev_owner_reply(request: Union[Dict[str, object], str], launch_digest: bytes, policy: int, tik: bytes,
                    tek: Optional[bytes] = None, secret: bytes = b"") -> Dict[str, object]:
    """The guest owner's reply to an SEV launch's round-trip request: 'inject', 'finish' or 'abort'."""

def sev_verify_pdh_chain(pdh: str, pek: str, oca: str, cek: str, ask: str, ark: str) -> Dict[str, object]:
    """Checks an SEV platform's PDH certificate chain up to the ARK: {'trusted', 'pdh', 'checked', 'failures'}."""

def sev_owner_dh_certificate(key_pem: str, self_sign: bool = True, api_major: int = 0, api_minor: int = 0) -> bytes:
    """The guest owner's Diffie-Hellman certificate for LAUNCH_START, SEV format."""

def snp_sign_id_block(launch_digest: bytes, policy: int, id_key_pem: str, author_key_pem: Optional[str] = None,
                      family_id: bytes = b"", image_id: bytes = b"", guest_svn: int = 0) -> Dict[str, Optional[bytes]]:
    """The SNP ID block and ID auth for SNP_LAUNCH_FINISH, with the key digests the report carries."""

def sev_make_session(pdh_cert: bytes, owner_key_pem: str, policy: int = 1) -> Dict[str, bytes]:
    """The LAUNCH_START session for a platform's PDH and fresh transport keys: {'session', 'tik', 'tek'}."""

def snp_verify_report(report: bytes, vcek: str, ask: str, ark: str, measurement: bytes,
                      host_data: Optional[bytes] = None, report_data: Optional[bytes] = None,
                      id_key_digest: Optional[bytes] = None, author_key_digest: Optional[bytes] = None) -> Dict[str, object]:
    """Checks an SEV-SNP attestation report as cvm-launch verify-report --json does."""

def reference_values(spec: Union[Spec, Plan, None] = None, *, format: str = "corim", **spec_arguments: object) -> bytes:
    """The predicted launch as reference values for a verifier service (corim, trustee or keybroker)."""
