"""wommsim's browser UI: ``python -m wommsim.ui`` serves it (Solara pages over the Mesa model).

Modules: :mod:`~wommsim.ui.app` (the pages and their shared settings),
:mod:`~wommsim.ui.params` (controls from the configuration schema),
:mod:`~wommsim.ui.models` (the model with a cached network),
:mod:`~wommsim.ui.layout` (seeded, cached network layouts and samples),
:mod:`~wommsim.ui.draw` (the matplotlib drawings), :mod:`~wommsim.ui.assets` (Solara's
browser assets from the npm registry, for offline use). Importing this package does not
import Solara: :mod:`~wommsim.ui.__main__` configures Solara before it starts.
"""
