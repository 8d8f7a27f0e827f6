"""CUDA to OpenMP offload translation (issue 5).

``translate_source(unit: SourceUnit) -> CudaTranslation`` is the whole public API; the
driver calls it for ``.cu`` inputs and ``pcx translate`` for source-to-source output.
"""

from pcx_driver.cuda.translate import CudaTranslation, translate_source

__all__ = ["CudaTranslation", "translate_source"]
