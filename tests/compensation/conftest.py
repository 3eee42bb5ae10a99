import pytest


@pytest.fixture(autouse=True)
def in_english_and_mail_in_memory(settings, tmp_path):
    # The messages these tests match are the English source strings (zh-hans is the site's
    # default language); nothing lands in var/.
    from django.utils import translation

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with translation.override("en"):
        yield
