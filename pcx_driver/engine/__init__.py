"""The rule engine: source model, analysis, data plan and rewrite.

Analysis half (this package's ``source``, ``semantics``, ``loops``, ``access``,
``dependence``, ``scalars``, ``calls`` and ``analysis`` modules): the entry point is
``pcx_driver.engine.analysis.analyse_unit(unit) -> UnitAnalysis``.  One engine serves C and
C++: the same code walks tree-sitter-c and tree-sitter-cpp trees (their node types agree
for everything the analysis reads; the few C++-only node types are handled in place).
"""
