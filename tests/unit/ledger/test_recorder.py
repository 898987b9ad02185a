"""The pipeline's hook: withdrawals by the schema's subject id, reservation, datasheet."""

from __future__ import annotations

import polars as pl
import pytest

from dpshowcase.errors import ParameterError
from dpshowcase.ledger.recorder import LineageRecorder
from dpshowcase.ledger.store import Ledger
from dpshowcase.privacy.accounting import DpParameters

FRAME = pl.DataFrame(
    {"person": ["p1", "p1", "p2", "p3"], "gender": ["F", "F", "M", "F"], "age": [1, 2, 3, 4]}
)


def recorder(tmp_path, id_column=None):
    return LineageRecorder(
        "cases",
        ledger=tmp_path / "l.db",
        id_column=id_column,
        source="cases.csv",
        output=tmp_path / "out",
    )


def test_every_row_of_a_withdrawn_subject_goes(tmp_path):
    with Ledger.open(tmp_path / "l.db") as book:
        book.withdraw("cases", ["p1"])
    hook = recorder(tmp_path)
    kept = hook.drop_withdrawn(FRAME, "person")
    hook.close()
    assert kept["person"].to_list() == ["p2", "p3"]
    assert "person" in kept.columns  # the schema's subject id: prepare merges by it


def test_an_id_column_that_is_not_the_subject_id_is_dropped(tmp_path):
    hook = recorder(tmp_path, id_column="person")
    kept = hook.drop_withdrawn(FRAME, None)
    hook.close()
    assert kept.columns == ["gender", "age"]
    assert kept.height == 4


def test_withdrawals_without_an_id_column_refuse_the_release(tmp_path):
    with Ledger.open(tmp_path / "l.db") as book:
        book.withdraw("cases", ["p9"])
    hook = recorder(tmp_path)
    with pytest.raises(ParameterError, match="subject ids"):
        hook.drop_withdrawn(FRAME, None)
    hook.close()


def test_datasheet_states_the_cumulative_loss_including_itself(tmp_path):
    params = DpParameters(epsilon=1.0, delta=1e-6, reporting_length=2)
    for round_ in (1, 2):
        hook = recorder(tmp_path)
        hook.drop_withdrawn(FRAME, "person")
        plan = hook.reserve_dp(params, privacy_unit="subject", seeded=False)
        sheet = hook.datasheet()
        manifest = hook.manifest()
        hook.close()
        plural = "" if round_ == 1 else "s"
        assert f"over {round_} DP release{plural}" in sheet
        assert manifest["cumulative"]["releases"] == round_
    assert plan.epsilon == 1.0
    assert "honoured" in sheet
    assert "What cannot be undone" in sheet
    # the datasheet never says how many withdrew
    assert "withdrawal(s)" not in sheet
