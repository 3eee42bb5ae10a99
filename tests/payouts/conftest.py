# The example orders of the case tests.
from tests.cases.conftest import order, two_line_order  # noqa: F401
