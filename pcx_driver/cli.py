"""``pcx``: the command-line front end (pcx-cc and pcx-c++ live in ``pcx_driver.driver``)."""

from __future__ import annotations

import importlib

import click

from pcx_driver import __version__

# (module, command attribute) for each subcommand; each lives in its own module.
SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("pcx_driver.commands.plugins", "plugins"),
    ("pcx_driver.commands.doctor", "doctor"),
    ("pcx_driver.commands.explain", "explain"),
    ("pcx_driver.commands.translate", "translate"),
    ("pcx_driver.commands.tune", "tune"),
    ("pcx_driver.commands.tune", "report"),
    ("pcx_driver.commands.trust", "trust"),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pcx")
def main() -> None:
    """pcx: offload serial C, C++ and CUDA loops to GPUs with OpenMP.

    \b
    Compile through the drop-in drivers:
        CC=pcx-cc make          CXX=pcx-c++ make
        cmake -DCMAKE_C_COMPILER=pcx-cc ..
    \b
    Then, with this command:
        pcx tune --build make --run "./app 512"   gate, profile and cache validated plans
        pcx translate app.cu -o app.c              CUDA to OpenMP offload
        pcx doctor                                 what compilers and targets work here
        pcx trust [DIR]                            let DIR's pcx.toml run programs, write files
    """


for _module, _attr in SUBCOMMANDS:
    main.add_command(getattr(importlib.import_module(_module), _attr))
