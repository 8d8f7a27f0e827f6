"""pcx-llm: an LLM proposes offload rewrites for the nests pcx-cc's rule engine refused.

The plugin (``pcx_llm.plugin``) implements ``pcx_propose_rewrite``; ``pcx tune`` splices
each proposal into the nest's byte range, builds it and runs the correctness gate
(``pcx_driver.tune.proposals``).  Only gate-passed text is kept.
"""

__version__ = "0.1.0"
