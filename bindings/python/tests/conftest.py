import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "kvm: boots a guest on /dev/kvm (meson test suite 'kvm')")


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
