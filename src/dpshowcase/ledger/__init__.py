"""The privacy ledger: lineages of releases, their cumulative loss, caps, withdrawals.

* :mod:`.composition` — adding up the releases' zCDP (via the accounting module);
* :mod:`.model` and :mod:`.store` — the SQLite ledger and its transactions;
* :mod:`.withdrawal` — withdrawn ids as keyed hashes, dropped from later releases;
* :mod:`.recorder` — the release pipeline's hook (reserve → build → commit → rename).
"""

from dpshowcase.ledger.composition import CumulativeLoss, ReleaseLoss, cumulative_loss
from dpshowcase.ledger.store import Ledger, default_ledger_path

__all__ = ["CumulativeLoss", "Ledger", "ReleaseLoss", "cumulative_loss", "default_ledger_path"]
