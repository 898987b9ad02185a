"""The privacy ledger page in the browser: a withdrawal list sent through its form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser: Any, server: str, server_token: str) -> Any:
    context = browser.new_context(base_url=server)
    context.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));"
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.problems = problems  # type: ignore[attr-defined]
    page.goto(f"/?token={server_token}")  # as the owner does: the token becomes a cookie
    yield page
    context.close()


def test_withdrawal_form_records_a_list(page: Any, tmp_path: Path) -> None:
    page.goto("/lineages")
    assert "No lineage yet" in page.inner_text("main")
    # a lineage comes into being with its first record: here, a first withdrawal via the API
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    answer = page.request.post(
        "/api/lineages/browser-cases/withdrawals",
        data={"ids": "first-id\n", "column": None},
        headers={"X-CSRF-Token": token},
    )
    assert answer.ok, answer.text()

    page.goto("/lineages")
    page.click("text=browser-cases")
    page.wait_for_selector("#withdraw-form")
    ids = tmp_path / "withdrawn.csv"
    ids.write_text("case_id,other\nA-1,x\nA-2,y\nfirst-id,z\n", encoding="utf-8")
    page.set_input_files("#withdraw-form input[name=ids]", str(ids))
    page.fill("#withdraw-form input[name=column]", "case_id")
    page.click("#withdraw-form button")
    page.wait_for_function(
        "() => document.getElementById('withdraw-message').textContent.includes('Recorded')"
    )
    assert "Recorded 2 new withdrawal(s)" in page.inner_text("#withdraw-message")
    assert page.evaluate("window.cspViolations") == []
    assert page.problems == []
