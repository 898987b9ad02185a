"""Bad inputs of issue 13 through the web app: HTTP 400 with the library's sentence."""

from __future__ import annotations

import pytest


def test_a_seed_of_2_to_the_64_is_400_not_500(client, demo_bytes):
    dataset = client.send_upload(demo_bytes).json()
    for seed in (2**63, 2**64):
        response = client.api(
            "POST", f"/api/datasets/{dataset['id']}/runs", json={"epsilon": 4, "seed": seed}
        )
        assert response.status_code == 400, response.text
        assert "seed must be a whole number from 0 to 2^63 - 1" in response.json()["detail"]
    assert client.get("/api/runs").json() == []  # refused before a job was queued


@pytest.mark.parametrize("size", [128 * 1024 + 1, 200_000])
def test_a_cell_over_128_kib_is_400_and_nothing_is_kept(client, size):
    content = ("a,b\n" + "x,y\n" * 30 + "Z" * size + ",y\n").encode()
    response = client.send_upload(content)
    assert response.status_code == 400, response.text
    assert f"has a cell of {size:,} bytes in column 'a'" in response.json()["detail"]
    assert client.get("/api/datasets").json() == []
