"""pcx-cc: a drop-in compiler driver that offloads serial loops to the GPU with OpenMP."""

__version__ = "0.1.0"

__all__ = ["hookimpl", "__version__"]


def __getattr__(name: str) -> "pluggy.HookimplMarker":  # noqa: F821
    """``hookimpl`` -- mark plugin functions with it: ``@pcx_driver.hookimpl def pcx_plan(...)``.

    Created on first use so that importing the package does not import pluggy: pcx-cc's
    pass-through path must start as fast as the compiler it wraps.
    """
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker("pcx")
        globals()["hookimpl"] = marker
        return marker
    raise AttributeError(f"module 'pcx_driver' has no attribute {name!r}")
