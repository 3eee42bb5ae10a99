"""The policy file format (TOML) and its validation.

A policy is data: ordered rules with conditions, windows, quotas, refundable funding,
consumption, penalties, fees, exclusions, destination and handling. Every parameter of the
published provider policies is a setting here, so a merchant edits a file, not code.
Errors name the key at fault: `rules[1].window.length: expected a duration like "5d"…`.
docs/policies.md documents every key.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from refunddesk.policy.business_days import business_calendar
from refunddesk.policy.durations import Duration, DurationError, Unit
from refunddesk.policy.money import MoneyError, check_currency, parse_amount

Funding = Literal["cash", "balance", "gift", "voucher"]
Locale = Literal["en", "zh-Hans"]


class PolicyError(ValueError):
    """A policy file that cannot be used; `problems` are "path: message" strings."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _duration(*allowed: Unit) -> Any:
    def parse(value: object) -> Duration:
        if isinstance(value, Duration):
            return value
        try:
            return Duration.parse(value, allowed=allowed)
        except DurationError as error:
            raise PydanticCustomError("duration", str(error)) from None

    return BeforeValidator(parse)


ExactDuration = Annotated[Duration, _duration("s", "h", "d")]
WindowLength = Annotated[Duration, _duration("s", "h", "d", "mo", "y")]
BusinessDuration = Annotated[Duration, _duration("h", "d", "bd")]


def _ratio(value: object) -> Fraction:
    """A decimal string ("1.5", "10") as an exact fraction."""
    if isinstance(value, Fraction):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("decimal", 'expected a decimal number in quotes, like "1.5"')
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise PydanticCustomError("decimal", 'expected a decimal number in quotes, like "1.5"'
                                  ) from None
    if not number.is_finite() or number < 0:
        raise PydanticCustomError("decimal", "expected a non-negative decimal number")
    return Fraction(number)


Ratio = Annotated[Fraction, BeforeValidator(_ratio)]


def _amounts(value: object) -> dict[str, int]:
    """{currency: "50000.00"} → {currency: minor units}."""
    if not isinstance(value, dict) or not value:
        raise PydanticCustomError("amounts", 'expected a table of amounts by currency, like '
                                  '{ CNY = "50000.00" }')
    amounts = {}
    for currency, text in value.items():
        try:
            amounts[check_currency(currency)] = parse_amount(text, currency)
        except MoneyError as error:
            raise PydanticCustomError("amounts", f"{currency}: {error}") from None
    return amounts


AmountsByCurrency = Annotated[dict[str, int], BeforeValidator(_amounts)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Conditions(Strict):
    """All given conditions must hold (AND); a list means any of its values (OR)."""

    kind: list[Literal["new", "renewal", "upgrade"]] | None = None
    channel: list[Literal["direct", "app_store", "google_play", "reseller"]] | None = None
    billing: list[Literal["prepaid", "payg", "one_time"]] | None = None
    category: list[str] | None = None
    product: list[str] | None = None
    flags_any: list[str] | None = None
    flags_none: list[str] | None = None
    invoiced: bool | None = None
    first_purchase: bool | None = None
    started: bool | None = None


class Texts(Strict):
    """Text a merchant writes for their own reason codes, in both languages."""

    en: str
    zh_Hans: str = Field(alias="zh-Hans")


class Exclusion(Strict):
    reason: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    when: Conditions
    explain: Texts | None = None


class Window(Strict):
    start: Literal["placed_at", "service_start"]
    length: WindowLength
    end: Literal["inclusive", "exclusive"] = "inclusive"
    calendar_days: bool = False
    same_calendar_month: bool = False

    @model_validator(mode="after")
    def _calendar_days_need_days(self) -> Window:
        if self.calendar_days and self.length.unit != "d":
            raise PydanticCustomError("window", "calendar_days needs a length in days, like "
                                      '"7d"')
        return self


class Quota(Strict):
    count: Annotated[int, Field(ge=1)]
    per: Literal["product", "account"] = "product"
    period: Literal["ever", "calendar_year", "rolling_months"] = "ever"
    months: Annotated[int, Field(ge=1)] | None = None
    lifetime_max: Annotated[int, Field(ge=1)] | None = None
    rules: list[str] | None = None  # which earlier refunds count; default: this rule's

    @model_validator(mode="after")
    def _months_go_with_rolling(self) -> Quota:
        if (self.period == "rolling_months") != (self.months is not None):
            raise PydanticCustomError("quota", 'months is set exactly when period is '
                                      '"rolling_months"')
        return self


class AmountCap(Strict):
    amount: AmountsByCurrency
    period: Literal["calendar_year", "rolling_months"] = "rolling_months"
    months: Annotated[int, Field(ge=1)] | None = None
    rules: list[str] | None = None

    @model_validator(mode="after")
    def _months_go_with_rolling(self) -> AmountCap:
        if (self.period == "rolling_months") != (self.months is not None):
            raise PydanticCustomError("cap", 'months is set exactly when period is '
                                      '"rolling_months"')
        return self


class HourlyTier(Strict):
    up_to_hours: Annotated[int, Field(ge=1)] | None = None  # None: every hour after
    price: AmountsByCurrency


class Consumption(Strict):
    method: Literal["none", "time_ratio", "usage", "months_and_hours"] = "none"
    # time_ratio: used = elapsed in `unit`, rounded up, at least `minimum` once started.
    unit: Literal["second", "hour", "day"] = "day"
    minimum: Annotated[int, Field(ge=0)] = 1
    # "exact": elapsed time rounded up to whole units. "clock": start and request time
    # truncated to the unit's boundary and the service end rounded up to one, then whole
    # units counted (Huawei's published method: "按小时向前取整").
    rounding: Literal["exact", "clock"] = "exact"
    # What the time ratio applies to: the line's amount paid (vouchers included), the
    # eligible amount (the refundable funding), or the lower of the amount paid and the
    # line's `current_price` (which then also caps what can come back).
    base: Literal["amount_paid", "eligible", "lower_of_paid_and_current_price"] = (
        "amount_paid")
    # usage: quantity of `metric` × unit_price.
    metric: str | None = None
    unit_price: AmountsByCurrency | None = None
    # months_and_hours: whole months at the line's monthly price (base / term months),
    # the rest of the time by the hour: at hourly_price, or by tiers, or monthly / 720.
    hourly_price: AmountsByCurrency | None = None
    hourly_tiers: list[HourlyTier] = []

    @model_validator(mode="after")
    def _method_settings(self) -> Consumption:
        if self.method == "usage" and (self.metric is None or self.unit_price is None):
            raise PydanticCustomError("consumption", "usage consumption needs metric and "
                                      "unit_price")
        # A setting the chosen method ignores is a mistake in the file, not a no-op.
        given = self.model_fields_set
        for method, keys in METHOD_SETTINGS.items():
            misplaced = sorted(k for k in keys & given if method != self.method
                               and k not in METHOD_SETTINGS.get(self.method, set()))
            if misplaced:
                raise PydanticCustomError(
                    "consumption", f"{', '.join(misplaced)} only applies to method "
                    f'"{method}", not "{self.method}"')
        return self


METHOD_SETTINGS = {
    "time_ratio": {"unit", "minimum", "rounding"},
    "usage": {"metric", "unit_price"},
    "months_and_hours": {"hourly_price", "hourly_tiers"},
}


class Penalty(Strict):
    factor: Ratio
    while_used_under: WindowLength


class FeeBand(Strict):
    term: Annotated[Duration, _duration("mo", "y")] | None = None
    used_up_to: WindowLength | None = None
    percent: Ratio


class Fee(Strict):
    base: Literal["eligible", "amount_paid"] = "eligible"
    percent: Ratio | None = None
    bands: list[FeeBand] = []

    @model_validator(mode="after")
    def _percent_or_bands(self) -> Fee:
        if self.percent is None and not self.bands:
            raise PydanticCustomError("fee", "give percent, bands, or both (percent is then "
                                      "the rate when no band matches)")
        return self


BASE_METHODS = ("time_ratio", "months_and_hours")


# The material a rule may require, by the codes the desk's document kinds use
# (cases/document_kinds.py): a code no upload slot knows would ask customers for nothing.
DocumentCode = Literal["payment_proof", "identity_document", "account_verification",
                       "usage_records", "problem_evidence", "invoice_return", "other"]


class Rule(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    when: Conditions = Conditions()
    window: Window | None = None
    quota: Quota | None = None
    # The most that refunds under this rule may return over a period (Azure: 50,000 USD
    # per rolling 12 months); earlier refunds count with their `amount`.
    cap: AmountCap | None = None
    # Which funding of the line comes back. Vouchers listed here come back as voucher
    # credit, gift as gift credit: never as cash.
    funding: Annotated[list[Funding], Field(min_length=1)]
    consumption: Consumption = Consumption()
    penalty: Penalty | None = None
    fee: Fee | None = None
    # approve: at once · review: an agent decides · suggest: the amount is only a suggestion
    handling: Literal["approve", "review", "suggest"] = "review"
    documents: list[DocumentCode] = []
    # When a partial refund of a prepaid line stops its service (service_end.py): at once,
    # or at the end of the period it paid for. A whole refund always stops it at once.
    partial_refund_ends_service: Literal["at_once", "at_period_end"] = "at_once"
    explain: Texts | None = None

    @model_validator(mode="after")
    def _settings_the_method_uses(self) -> Rule:
        method = self.consumption.method
        if self.penalty is not None and method != "time_ratio":
            raise PydanticCustomError("rule", f'penalty only applies to consumption method '
                                      f'"time_ratio", not "{method}"')
        if "base" in self.consumption.model_fields_set and method not in BASE_METHODS:
            raise PydanticCustomError("rule", f'consumption.base only applies to methods '
                                      f'"time_ratio" and "months_and_hours", not "{method}"')
        return self


class Destination(Strict):
    cash: Literal["original", "balance"] = "original"
    fallback: Literal["balance"] | None = None
    invoiced: Literal["original", "balance"] | None = None
    unavailable_methods: list[str] = []


class Sla(Strict):
    first_response: BusinessDuration | None = None
    review: BusinessDuration | None = None
    payout: dict[str, BusinessDuration] = {}


class Policy(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    version: Annotated[int, Field(ge=1)]
    name: Texts
    time_zone: str = "Asia/Shanghai"
    calendar: str = "CN"
    exclusions: list[Exclusion] = []
    rules: Annotated[list[Rule], Field(min_length=1)]
    destination: Destination = Destination()
    four_eyes_above: AmountsByCurrency | None = None
    appeal_window: WindowLength | None = None
    sla: Sla = Sla()

    @field_validator("rules")
    @classmethod
    def _rule_ids_unique(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise PydanticCustomError("rules", f'rule id "{rule.id}" appears twice')
            seen.add(rule.id)
        return rules

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("time_zone", f'unknown time zone "{name}"') from None
        return name

    @field_validator("calendar")
    @classmethod
    def _known_calendar(cls, code: str) -> str:
        try:
            business_calendar(code)
        except ValueError:
            raise PydanticCustomError(
                "calendar", f'unknown business calendar "{code}": use "CN" (mainland China), '
                '"none" (Monday to Friday) or an ISO 3166 country code such as "US"') from None
        return code

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


def _path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not part.startswith("function-") and part not in ("list", "dict"):
            path += f".{part}" if path else part
    return path


BOUNDS = {
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
}

MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown key",
    "string_type": "expected a string",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "model_type": "expected a table",
    "too_short": "must not be empty",
}


def _problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        kind = item["type"]
        if kind == "literal_error":
            allowed = item.get("ctx", {}).get("expected", "")
            message = "expected one of " + allowed.replace(" or ", ", ").replace("'", '"')
        elif kind in BOUNDS:
            message = BOUNDS[kind].format(**item.get("ctx", {}))
        elif kind == "string_pattern_mismatch":
            message = "use lower-case letters, digits and _ (ids) or - (policy ids)"
        else:
            message = MESSAGES.get(kind, item["msg"])
        path = _path(tuple(item["loc"]))
        problems.append(f"{path}: {message}" if path else message)
    return problems


def policy_from_dict(data: dict[str, Any]) -> Policy:
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        raise PolicyError(_problems(error)) from None


def policy_from_toml(text: str) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError([f"not valid TOML: {error}"]) from None
    except RecursionError:  # arrays or tables nested thousands deep
        raise PolicyError(["not valid TOML: nested too deeply"]) from None
    return policy_from_dict(data)
