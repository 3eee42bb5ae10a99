"""The reports page's filters: a range of days (a preset or two dates) in the viewer's time
zone, and what to narrow the figures to. Bad values are form errors, never a 500."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refunddesk.billing.models import Product
from refunddesk.cases import permissions as case_permissions
from refunddesk.cases.models import Channel
from refunddesk.console.queue_forms import currency_choices
from refunddesk.policy.presets import preset_ids
from refunddesk.reports import permissions as report_permissions
from refunddesk.reports.filters import MAX_DAYS, ReportFilters, preset_range

VERSION_SHAPE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}@[0-9]{1,6}$")

PRESET_CHOICES = [
    ("today", _("Today")), ("7d", _("Last 7 days")), ("this_month", _("This month")),
    ("last_month", _("Last month")), ("custom", _("Custom")),
]


def policy_choices() -> list[tuple[str, Any]]:
    from refunddesk.policies.models import PolicyVersion

    ids = set(preset_ids()) | set(PolicyVersion.objects.values_list("policy_id", flat=True))
    return [("", _("Any policy")), *((policy, policy) for policy in sorted(ids))]


class ReportFilterForm(forms.Form):
    preset = forms.ChoiceField(label=_("Range"), required=False, choices=PRESET_CHOICES)
    start = forms.DateField(label=pgettext_lazy("first day of a range", "From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": _("Enter a day like 2026-11-01.")})
    end = forms.DateField(label=pgettext_lazy("last day of a range", "To"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}),
                          error_messages={"invalid": _("Enter a day like 2026-11-30.")})
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.order_by("code"),
        to_field_name="code", empty_label=_("Any product"),
        error_messages={"invalid_choice": _("There is no product with this code.")})
    policy = forms.ChoiceField(label=_("Policy"), required=False, error_messages={
        "invalid_choice": _("There is no policy %(value)s.")})
    version = forms.CharField(label=_("Policy version"), required=False, max_length=72,
                              help_text=_("Like tencent-cloud@2"))
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("Any channel")), *Channel.choices])
    currency = forms.ChoiceField(label=_("Currency"), required=False, error_messages={
        "invalid_choice": _("%(value)s is not a currency the desk knows.")})
    agent = forms.ChoiceField(label=_("Staff member"), required=False, error_messages={
        "invalid_choice": _("There is no staff member %(value)s who decides cases.")})
    tz = forms.CharField(label=_("Time zone"), required=False, max_length=64)

    def __init__(self, data: Any, *, viewer: Any, **kwargs: Any):
        # The range's select shows what is shown: this month on the bare address, "Custom"
        # when only days were given.
        data = data.copy()
        if not data.get("preset"):
            data["preset"] = "custom" if data.get("start") or data.get("end") else "this_month"
        super().__init__(data, **kwargs)
        self.viewer = viewer
        policy, currency, agent = (self.fields[name] for name in ("policy", "currency", "agent"))
        # Each declared so above.
        assert isinstance(policy, forms.ChoiceField)
        assert isinstance(currency, forms.ChoiceField)
        assert isinstance(agent, forms.ChoiceField)
        policy.choices = policy_choices()
        currency.choices = currency_choices(self.data.get("currency", ""))
        if report_permissions.sees_whole_desk(viewer):
            deciders = case_permissions.staff_with("decide_case")
            agent.choices = [("", _("Everyone")), *(
                (str(user.pk), user.get_username()) for user in deciders)]
        else:
            # An agent's figures are always their own (reports/permissions.py narrows them):
            # whatever the address says about another staff member is not read.
            del self.fields["agent"]
        self.fields["tz"].initial = timezone.get_current_timezone_name()

    def clean_version(self) -> str:
        version: str = self.cleaned_data["version"].strip()
        if version and not VERSION_SHAPE.match(version):
            raise forms.ValidationError(_("A policy version is the policy's id, @ and its "
                                          "number, like tencent-cloud@2."))
        return version

    def clean_tz(self) -> ZoneInfo:
        name = self.cleaned_data["tz"].strip() or timezone.get_current_timezone_name()
        if name not in available_timezones() and name != "UTC":
            raise forms.ValidationError(_("%(zone)s is not a time zone like Asia/Shanghai.")
                                        % {"zone": name})
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(_("%(zone)s is not a time zone like Asia/Shanghai.")
                                        % {"zone": name}) from None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        tz = data.get("tz")
        if tz is None:
            return data
        today = timezone.now().astimezone(tz).date()
        start, end = data.get("start"), data.get("end")
        preset = data.get("preset") or "this_month"
        if preset != "custom":
            data["start"], data["end"] = preset_range(preset, today)
            return data
        if "start" in self.errors or "end" in self.errors:
            return data
        if start is None or end is None:
            raise forms.ValidationError(_("A custom range needs both its first and last day."))
        if end < start:
            raise forms.ValidationError(_("The range ends before it begins."))
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(_("A range is at most %(days)s days.")
                                        % {"days": MAX_DAYS})
        return data

    def filters(self) -> ReportFilters:
        data = self.cleaned_data
        product = data.get("product")
        return ReportFilters(
            start=data["start"], end=data["end"], tz=data["tz"],
            product=product.code if product else "", policy=data["policy"],
            version=data["version"], channel=data["channel"], currency=data["currency"],
            agent_id=int(data["agent"]) if data.get("agent") else None)
