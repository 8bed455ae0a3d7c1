"""What `make lab` sets up, read from the commands make would run (`make -n`): torch's build,
the CPU threads, and JupyterLab's settings (checked with a real server too)."""

import json
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """`make ARGS` in the repository with a clean environment (no MAKEFLAGS from a `make test` around us)."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **(env or {})}
    out = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=clean, capture_output=True,
                         text=True, timeout=120)
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


def dry_run(tmp_path: Path, *args: str, env: dict | None = None) -> list[str]:
    """The commands of `make -n lab ARGS` for a venv not made yet, backslash-continued lines joined."""
    text = make("-n", "lab", f"VENV={tmp_path / 'venv'}", *args, env=env).stdout
    return text.replace("\\\n", " ").splitlines()


def command(lines: list[str], needle: str) -> tuple[dict, list[str]]:
    """The environment assignments in front of the program of the line with ``needle``, and its arguments."""
    words = shlex.split(next(line for line in lines if needle in line))
    at = next(i for i, word in enumerate(words) if "/bin/" in word)
    return dict(word.split("=", 1) for word in words[:at]), words[at + 1:]


def test_the_default_install_is_the_package_alone_and_torch_cpu_comes_first(tmp_path):
    lines = dry_run(tmp_path)
    installs = [line for line in lines if "pip install" in line]
    assert len(installs) == 1 and installs[0].endswith("-e '.[dev]'"), installs
    assert "download.pytorch.org" not in "\n".join(lines)  # CI's path: one index, as before

    lines = dry_run(tmp_path, "TORCH=cpu")
    installs = [line for line in lines if "pip install" in line]
    assert len(installs) == 2, installs
    assert "--index-url https://download.pytorch.org/whl/cpu torch torchvision" in installs[0]
    assert installs[1].endswith("-e '.[dev]'")
    # The build has its own stamp, made before the package's: a later plain `make` keeps it.
    touched = [line.split()[-1] for line in lines if line.startswith("touch ")]
    assert touched == [str(tmp_path / "venv" / ".torch-cpu"), next(t for t in touched if ".installed-" in t)]


def test_torch_cpu_in_a_venv_holding_a_cuda_build_says_to_start_afresh(tmp_path):
    """pip keeps an installed torch whatever its build: the stamp's check says so (pip faked here)."""
    import torch

    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\nif [ "$1 $2" = "-m pip" ]; then echo "$@" >> "{tmp_path}/pip.log"; exit 0; fi\n'
                      f'exec {shlex.quote(sys.executable)} "$@"\n')
    python.chmod(0o755)
    out = make(f"VENV={venv}", str(venv / ".torch-cpu"), check=False)
    assert "--index-url https://download.pytorch.org/whl/cpu torch torchvision" in (tmp_path / "pip.log").read_text()
    if torch.version.cuda is None:  # this torch is a CPU build: the stamp is made
        assert out.returncode == 0 and (venv / ".torch-cpu").exists(), out.stderr
    else:
        assert out.returncode != 0 and not (venv / ".torch-cpu").exists()
        assert f"(CUDA {torch.version.cuda}), not the cpu build" in out.stderr
        assert "make clean-venv && make lab TORCH=cpu" in out.stderr


@pytest.mark.parametrize("env, args, threads", [({}, (), "1"), ({"OMP_NUM_THREADS": "3"}, (), "3"),
                                                ({"OMP_NUM_THREADS": "3"}, ("THREADS=4",), "4")])
def test_make_lab_gives_torch_one_thread_unless_told_otherwise(tmp_path, env, args, threads):
    lines = dry_run(tmp_path, *args, env=env)
    assert command(lines, "/bin/jupyter lab")[0] == {"OMP_NUM_THREADS": threads}
    assert command(lines, "-m nbhelpers doctor")[0] == {"OMP_NUM_THREADS": threads}  # doctor reports what the lab gets


def test_torch_takes_the_thread_count_and_nbhelpers_leaves_it_alone():
    script = ("import torch; before = torch.get_num_threads(); import nbhelpers; "
              "from nbhelpers.cli import thread_lines; print(before, torch.get_num_threads()); print(*thread_lines())")
    for wanted in ("1", "2"):
        env = {**os.environ, "OMP_NUM_THREADS": wanted, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        counts, text = out.stdout.split("\n", 1)
        assert counts == f"{wanted} {wanted}", "import nbhelpers changed torch's thread count"
        assert f"CPU threads: {wanted} (OMP_NUM_THREADS={wanted})" in text and "thread policy: one" in text
        assert "-> outside make lab" not in text


def lab_command(tmp_path: Path, *args: str) -> tuple[dict, list[str]]:
    return command(dry_run(tmp_path, *args), "/bin/jupyter lab")


def test_make_lab_turns_the_jupyter_news_prompt_off(tmp_path):
    from jupyterlab.commands import get_app_dir

    _, args = lab_command(tmp_path)
    settings = [a.split("=", 1)[1] for a in args if a.startswith("--LabApp.app_settings_dir=")]
    assert len(settings) == 1, args
    overrides = json.loads((ROOT / settings[0] / "overrides.json").read_text())
    plugin = "@jupyterlab/apputils-extension:notification"
    assert overrides == {plugin: {"fetchNews": "false"}}
    # The installed JupyterLab knows that plugin, setting and value ("false" is "Never"; "none" asks).
    schema = json.loads((Path(get_app_dir()) / "schemas" / plugin.replace(":", "/")).with_suffix(".json").read_text())
    assert {"const": "false", "title": "Never"} in schema["properties"]["fetchNews"]["oneOf"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(url: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url, method="PUT" if body else "GET", data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else {}


def test_the_lab_make_lab_starts_serves_news_off_and_keeps_the_learners_own_change(tmp_path):
    """A real JupyterLab with make lab's arguments, then a port, a token and throw-away folders."""
    (tmp_path / "work").mkdir()
    env, args = lab_command(tmp_path, f"MINE={tmp_path / 'work'}")
    port, token = free_port(), secrets.token_hex(16)
    args += ["--no-browser", f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             f"--LabApp.user_settings_dir={tmp_path / 'user-settings'}",
             f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"]
    env = {**os.environ, **env, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    url = f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/apputils-extension:notification"
    with open(tmp_path / "lab.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "jupyter", *args], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (tmp_path / "lab.log").read_text()[-3000:]
            try:
                answer = api(url, token)
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "lab.log").read_text()[-3000:]
                time.sleep(0.5)
        assert answer["schema"]["properties"]["fetchNews"]["default"] == "false"
        assert answer["settings"] == {}  # nothing of the learner's: the default rules, and it says never
        api(url, token, {"raw": json.dumps({"fetchNews": "true"})})  # the learner turns news on in Settings
        answer = api(url, token)
        assert answer["settings"] == {"fetchNews": "true"}, "the learner's own setting did not take"
        assert (tmp_path / "user-settings").exists(), "the learner's setting went somewhere else"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
