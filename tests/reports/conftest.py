"""Reports tests log staff in like the console's tests, and keep export files in a
temporary media folder."""

from tests.console.conftest import make_staff, media_in_tmp, staff_client  # noqa: F401
