"""The README is the user's reference: every setting and every command is documented."""

from pathlib import Path

from pcx_driver.cli import SUBCOMMANDS
from pcx_driver.config import BUILTIN_OPTIONS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_in_the_configuration_reference():
    missing = [o.flag for o in BUILTIN_OPTIONS if f"`{o.flag}` / `{o.env}`" not in README]
    assert missing == []


def test_every_pcx_command_is_shown():
    missing = [attr for _module, attr in SUBCOMMANDS if f"pcx {attr}" not in README]
    assert missing == []


def test_the_two_commands_are_make_targets():
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    for target in ("demo", "test"):
        assert f"make {target}" in README
        assert f"\n{target}:" in makefile
