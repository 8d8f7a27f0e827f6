"""The stages of one ``pcx-cc``/``pcx-c++`` command, which ``pcx_driver.driver.Driver``
runs in order over the command's ``Invocation``: ``settings`` (settings and plugins),
``sources`` (what to compile for each source), ``rewritten`` (the compile of the
rewritten text, and the fallback to the original), ``outputs`` (kept sources, remarks,
report); ``compilers`` runs the real compiler, ``state`` holds what they share."""
