"""Subcommands of ``pcx``, one module each; ``pcx_driver.cli`` registers them."""
