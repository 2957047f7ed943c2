import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "kvm: boots a guest on /dev/kvm (meson test suite 'kvm')")


def pytest_terminal_summary(terminalreporter):
    """One "SKIP: reason" line per skipped test, which scripts/test counts:
    meson sees one passing test, and a skip must not be counted as a pass."""
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        terminalreporter.write_line(f"SKIP: {report.nodeid}: {reason.removeprefix('Skipped: ')}")


@pytest.fixture
def tiny_bzimage():
    """The tiny test guest built by the project (x86_64 hosts only)."""
    path = os.environ.get("CVM_TINY_BZIMAGE", "")
    if not path:
        pytest.skip("CVM_TINY_BZIMAGE is not set: the tiny guest is built on x86_64 only")
    return path


@pytest.fixture
def cvm_launch():
    """The cvm-launch binary: the C++ API's own answers to compare with."""
    return os.environ["CVM_LAUNCH"]
