"""The rules of reports and moderation, without a server."""

import pytest

from townhall.domain import moderation as rules
from townhall.domain.errors import Conflict, Forbidden, Invalid
from townhall.domain.moderation import ReportReason, ReportState, TargetType


def test_the_reasons_are_the_ones_the_api_documents() -> None:
    assert [reason.value for reason in ReportReason] == [
        "spam",
        "harassment",
        "hate",
        "violence",
        "sexual",
        "self_harm",
        "misinformation",
        "other",
    ]


def test_a_note_is_trimmed_optional_and_at_most_a_thousand_characters() -> None:
    assert rules.check_note(None) == ""
    assert rules.check_note("  spam bot  ") == "spam bot"
    assert rules.check_note("x" * 1000) == "x" * 1000
    with pytest.raises(Invalid) as too_long:
        rules.check_note("x" * 1001)
    assert too_long.value.code == "note_too_long"


@pytest.mark.parametrize("target_type", list(TargetType))
def test_nobody_reports_their_own_account_post_or_space(target_type: TargetType) -> None:
    with pytest.raises(Invalid):
        rules.check_reportable(7, target_type, owner_id=7)
    rules.check_reportable(7, target_type, owner_id=8)


def test_only_admins_moderate() -> None:
    with pytest.raises(Forbidden) as refused:
        rules.check_admin(False)
    assert refused.value.code == "admin_only"
    rules.check_admin(True)


@pytest.mark.parametrize("state", [ReportState.RESOLVED, ReportState.DISMISSED])
def test_a_closed_report_cannot_be_closed_again(state: ReportState) -> None:
    with pytest.raises(Conflict):
        rules.check_open(state)
    rules.check_open(ReportState.OPEN)


def test_an_admin_cannot_suspend_themselves_or_another_admin() -> None:
    with pytest.raises(Invalid):
        rules.check_suspendable(1, 1, target_is_admin=True)
    with pytest.raises(Conflict):
        rules.check_suspendable(1, 2, target_is_admin=True)
    rules.check_suspendable(1, 2, target_is_admin=False)
    rules.check_suspendable(None, 2, target_is_admin=False)  # the townhall command


def test_a_suspended_account_gets_no_new_session() -> None:
    with pytest.raises(Forbidden) as refused:
        rules.check_not_suspended(True)
    assert refused.value.code == "account_suspended"
    rules.check_not_suspended(False)
