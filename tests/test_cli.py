"""`python -m nbhelpers doctor` tells versions, device and why, data and what to do."""

import subprocess
import sys


def test_doctor_reports_versions_device_and_data():
    out = subprocess.run([sys.executable, "-m", "nbhelpers", "doctor"], capture_output=True, text=True,
                         env={"NBH_DEVICE": "cpu", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "torch" in text and "Device:" in text and "NBH_DEVICE=cpu is set" in text
    assert "fashion-mnist" in text.lower() and "Data:" in text


def test_unknown_command_fails_with_usage():
    out = subprocess.run([sys.executable, "-m", "nbhelpers", "doctr"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "invalid choice" in out.stderr
