"""The document kinds an agent asks for and the codes a policy rule may require are one list."""

from typing import get_args

from refunddesk.cases.document_kinds import DocumentKind
from refunddesk.policy.schema import DocumentCode


def test_a_policy_may_require_exactly_the_kinds_of_document_the_desk_has_slots_for():
    assert set(get_args(DocumentCode)) == set(DocumentKind.values)
