"""pcx-cc: a drop-in compiler driver that offloads serial loops to the GPU with OpenMP."""

import pluggy

__version__ = "0.1.0"

#: Mark plugin functions with this: ``@pcx_driver.hookimpl def pcx_plan(...)``.
hookimpl = pluggy.HookimplMarker("pcx")

__all__ = ["hookimpl", "__version__"]
