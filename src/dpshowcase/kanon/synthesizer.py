"""The shape every "full" k-anonymity synthesizer shares.

These synthesizers follow synthetic-data-showcase: they read the sensitive records
(they are protection mechanisms, not post-processing) and emit only records whose whole
set of attributes is held by at least k sensitive records — so every combination in
them, of any length, describes at least k people. Their single-attribute counts are
then brought to the released counts (:mod:`.consolidate`).

``fit(data)`` checks its input and remembers it; ``sample()`` returns
:class:`~dpshowcase.kanon.records.Records` over the data's attribute index.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Self

import numpy as np

from dpshowcase.data.encode import SensitiveData
from dpshowcase.errors import InputError, ParameterError
from dpshowcase.kanon.protect import check_k
from dpshowcase.kanon.records import Records, shuffled
from dpshowcase.privacy.noise import check_seed
from dpshowcase.progress import Progress


class KAnonymousSynthesizer(ABC):
    """Synthetic records each held, as a whole, by at least ``k`` sensitive records."""

    name: ClassVar[str]
    """The mode's name on the command line."""

    def __init__(self, k: int, *, seed: int | None = None) -> None:
        check_k(k)
        self.k = k
        self.seed = check_seed(seed)
        self._data: SensitiveData | None = None

    def fit(self, data: SensitiveData) -> Self:
        """Remember the encoded sensitive records to synthesize from."""
        if not isinstance(data, SensitiveData):
            raise ParameterError(
                f"The {self.name} synthesizer takes encoded sensitive data (see "
                f"dpshowcase.data.prepare), not {type(data).__name__}."
            )
        if data.n_records == 0:
            raise InputError("The data has no records; there is nothing to synthesize.")
        self._data = data
        return self

    def sample(self, progress: Progress | None = None) -> Records:
        """Synthetic records (in random order) over the data's attribute index."""
        if self._data is None:
            raise ParameterError("Call fit(data) before sample().")
        rng = np.random.default_rng(self.seed)
        notify = progress or (lambda stage, step, steps: None)
        records = self._sample(self._data, rng, notify)
        return shuffled(records, rng)

    @abstractmethod
    def _sample(
        self, data: SensitiveData, rng: np.random.Generator, notify: Progress
    ) -> Records:
        """The synthetic records, in any order."""
