"""What a reader caches on: which detection results, and which casework, a store holds now.

The two change at different times and for different reasons: results with a detection run
(or a false-positive decision, applied to them at once) and with newly loaded records;
casework with every analyst's decision, queue action, batch or export. A page built only
from results stays valid while analysts work, so the dashboard keys each cache on the
part it reads (``dashboard.data``).
"""

from __future__ import annotations

from ..engines import Engine


def results_version(engine: Engine) -> tuple:
    """The results revision (``Engine.results_version``) and the stored record counts (a load changes them)."""
    return engine.results_version(), tuple(engine.counts().values())


def casework_version(engine: Engine) -> tuple[int, ...]:
    """Each ledger's next sequence number (``Engine.ledger_version``): every append changes it."""
    return engine.ledger_version()
