# The example orders of the case tests, and their messages in English (autouse).
from tests.cases.conftest import in_english, order, two_line_order  # noqa: F401
