from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from refunddesk.policy.money import is_known_currency


def validate_currency(value: str) -> None:
    if not is_known_currency(value):
        raise ValidationError(
            _("%(value)s is not an ISO 4217 currency code."), params={"value": value}
        )
