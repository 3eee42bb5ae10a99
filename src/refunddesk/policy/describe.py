"""A policy in words, and what changes between two versions of it.

`describe` renders every part of a policy that decides money or handling as short sentences
in English or Simplified Chinese: each exclusion, each rule (its place in the order,
conditions, window, quota, cap, funding, consumption, penalty, fee, handling, documents),
the destination of the money, the service times and the appeal window. `compare` pairs two
versions part by part (a rule by its id, an exclusion by its reason) and says which were
added, removed, changed or left alone, with the sentences before and after.

Like explain.py, which it builds on (its name tables and `condition_text`, `duration_text`,
`rule_name`, `reason_text`), this is pure: no Django, no clock. Admins read it to approve a
publication, so it must say every difference that changes an assessment: two policies whose
descriptions are equal assess alike, apart from texts shown to customers, which are
described too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from refunddesk.policy.durations import Duration
from refunddesk.policy.explain import (
    DESTINATIONS,
    FUNDINGS,
    LOCALES,
    METHODS,
    SCOPES,
    STARTS,
    UNITS,
    condition_text,
    duration_text,
    reason_text,
    rule_name,
)
from refunddesk.policy.money import format_amount
from refunddesk.policy.schema import (
    AmountCap,
    Conditions,
    Consumption,
    Exclusion,
    Fee,
    Policy,
    Quota,
    Rule,
    Window,
)

Status = Literal["added", "removed", "changed", "unchanged"]
Section = Literal["general", "exclusion", "rule", "destination", "sla", "appeals"]
SECTIONS: tuple[Section, ...] = ("general", "exclusion", "rule", "destination", "sla",
                                 "appeals")

# (English, Chinese) of every sentence; {placeholders} are filled in the reader's language.
TEXTS: dict[str, tuple[str, str]] = {
    "general.title": ("The policy", "政策概要"),
    "general.name": ("Name: {en} / {zh}.", "名称：{en} / {zh}。"),
    "general.clock": ("Time zone {zone}; business days on the {calendar} calendar.",
                      "时区 {zone}；工作日按 {calendar} 日历计算。"),
    "general.four_eyes": ("Refunds above {amounts} need a second staff member's confirmation.",
                          "退款超过 {amounts} 时，需第二位工作人员复核确认。"),
    "general.no_four_eyes": ("No refund needs a second staff member's confirmation.",
                             "退款无需第二位工作人员复核。"),
    "exclusion.title": ("Exclusion: {reason}", "排除：{reason}"),
    "exclusion.effect": ("Lines it matches are never refunded: {reason}.",
                         "符合条件的明细不予退款：{reason}。"),
    "conditions": ("Conditions: {conditions}.", "条件：{conditions}。"),
    "conditions.none": ("Conditions: none, every line.", "条件：无，适用于所有明细。"),
    "rule.title": ("Rule {position}: {name}", "规则 {position}：{name}"),
    "rule.position": ("Tried {position} of {count}: the first rule that applies decides.",
                      "按顺序第 {position} 条（共 {count} 条），由第一条适用的规则决定。"),
    "window": ("Window: {length} from {start}, {end}.", "期限：自{start}起 {length}，{end}。"),
    "window.calendar_days": (
        "Window: until the end of the day {length} after the date of {start}.",
        "期限：至{start}日期后 {length}当天结束。"),
    "window.inclusive": ("its last moment included", "含终点"),
    "window.exclusive": ("its last moment excluded", "不含终点"),
    "window.same_month": ("Only within the calendar month of {start}.",
                          "且仅限{start}所在的自然月内。"),
    "window.none": ("Window: none, any time.", "期限：无，任何时间均可。"),
    "quota": ("Quota: {count} {times} {scope} {period}.", "次数：{scope}{period}限 {count} 次。"),
    "quota.lifetime": ("At most {count} {times} {scope} in all.",
                       "{scope}累计最多 {count} 次。"),
    "quota.rules": ("Earlier refunds counted: those under {rules}.",
                    "计入次数的既往退款：{rules}。"),
    "quota.none": ("Quota: none, any number of times.", "次数：不限。"),
    "cap": ("Cap: at most {amounts} {period}.", "上限：{period}最多退 {amounts}。"),
    "cap.rules": ("Refunds counted towards the cap: those under {rules}.",
                  "计入上限的既往退款：{rules}。"),
    "funding": ("Refundable funding: {funding}.", "可退资金：{funding}。"),
    "consumption.none": ("Consumption: none is deducted.", "消耗：不扣除。"),
    "consumption.time_ratio": (
        "Consumption: {base} × time used ÷ the whole term, counted in whole {unit}s "
        "({rounding}), at least {minimum} once started.",
        "消耗：{base} × 已用时长 ÷ 总时长，按整{unit}计（{rounding}），开始后至少 {minimum} "
        "{unit}。"),
    "rounding.exact": ("rounded up", "向上取整"),
    "rounding.clock": ("on the clock: start truncated, end rounded up",
                       "按整点：开始向下取整，结束向上取整"),
    "consumption.usage": ("Consumption: the usage of {metric} at {price} a unit.",
                          "消耗：{metric} 用量 × 单价 {price}。"),
    "consumption.months_and_hours": (
        "Consumption: each whole month used at the monthly price ({base} ÷ months of the "
        "term), the rest by the hour at {hourly}.",
        "消耗：已用整月按月价（{base} ÷ 期限月数）计，其余按小时计，{hourly}。"),
    "hourly.price": ("{price} an hour", "每小时 {price}"),
    "hourly.monthly": ("the monthly price ÷ 720", "每小时为月价 ÷ 720"),
    "hourly.tier": ("{price} an hour up to hour {hours}", "第 {hours} 小时前每小时 {price}"),
    "hourly.tier_rest": ("{price} an hour after that", "此后每小时 {price}"),
    "base.amount_paid": ("the amount paid (vouchers included)", "实付金额（含代金券）"),
    "base.eligible": ("the refundable funding", "可退资金"),
    "base.lower_of_paid_and_current_price": (
        "the lower of the amount paid and today's price (which also caps the refund)",
        "实付金额与当前价格中的较低者（同时作为退款上限）"),
    "penalty": ("Penalty: consumption × {factor} while less than {under} is used.",
                "罚则：使用不足 {under}时，消耗按 {factor} 倍计。"),
    "fee": ("Handling fee: {percent}% of {base}.", "手续费：{base}的 {percent}%。"),
    "fee.bands": ("Handling fee of {base}, the first band that matches: {bands}.",
                  "手续费按{base}计，取第一个匹配的档位：{bands}。"),
    "fee.band": ("{percent}% {where}", "{where}：{percent}%"),
    "fee.band_term": ("for a term of {term}", "期限为 {term}时"),
    "fee.band_used": ("used up to {used}", "使用不超过 {used}时"),
    "fee.band_otherwise": ("otherwise {percent}%", "其他情况 {percent}%"),
    "fee.band_any": ("in any case", "任何情况下"),
    "fee.none": ("Handling fee: none.", "手续费：无。"),
    "fee_base.eligible": ("the refundable funding", "可退资金"),
    "fee_base.amount_paid": ("the amount paid", "实付金额"),
    "handling.approve": ("Handling: approved at once, without an agent.",
                         "处理：即时批准，无需客服审核。"),
    "handling.review": ("Handling: an agent reviews it before approval.",
                        "处理：经客服审核后批准。"),
    "handling.suggest": ("Handling: the amount is a suggestion; an agent decides.",
                         "处理：金额仅为建议，由客服决定。"),
    "documents": ("The customer supplies: {documents}.", "客户需提供：{documents}。"),
    "ends_service.at_period_end": (
        "A partial refund stops the service at the end of the period paid for.",
        "部分退款在已付费周期结束时停止服务。"),
    "ends_service.at_once": ("A partial refund stops the service at once.",
                             "部分退款立即停止服务。"),
    "customer_name": ("Customers read its name as: {en} / {zh}.",
                      "客户看到的名称：{en} / {zh}。"),
    "destination.title": ("Where the money goes", "退款去向"),
    "destination.cash": ("Cash goes back to {where}.", "现金退回{where}。"),
    "destination.fallback": ("When the method cannot take a refund: to {where}.",
                             "原支付方式无法退款时：退回{where}。"),
    "destination.invoiced": ("Cash of an invoiced order goes to {where}.",
                             "已开票订单的现金退回{where}。"),
    "destination.unavailable": ("Never refunded to: {methods}.", "不可原路退回的方式：{methods}。"),
    "destination.in_kind": ("Balance, gift credit and vouchers come back in kind.",
                            "余额、赠送金和代金券按原类型退回。"),
    "sla.title": ("Service times", "服务时限"),
    "sla.first_response": ("First response within {length}.", "首次响应时限 {length}。"),
    "sla.review": ("Decision within {length}.", "审核决定时限 {length}。"),
    "sla.payout": ("Payout to {method} within {length}.", "退款到{method}的时限 {length}。"),
    "sla.none": ("No service times are set.", "未设服务时限。"),
    "appeals.title": ("Appeals", "申诉"),
    "appeals.window": ("A rejected customer may appeal within {length}.",
                       "被拒绝的客户可在 {length}内申诉。"),
    "appeals.none": ("No deadline for appeals is set.", "未设申诉期限。"),
}

PERIODS = {
    "ever": ("ever", "累计"),
    "calendar_year": ("per calendar year", "每自然年"),
}
CAP_PERIODS = {"calendar_year": ("per calendar year", "每自然年")}
ORDINALS = ("1st", "2nd", "3rd")


@dataclass(frozen=True)
class Part:
    """One part of a policy in words: `key` pairs it with the same part of another version
    ("rule:five_day_no_reason", "exclusion:invoiced", "destination", …)."""

    key: str
    section: Section
    title: str
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class PartChange:
    key: str
    section: Section
    status: Status
    before: Part | None
    after: Part | None

    @property
    def title(self) -> str:
        part = self.after or self.before
        assert part is not None
        return part.title

    @property
    def removed_sentences(self) -> tuple[str, ...]:
        """Sentences of the version before that the version after does not say."""
        if self.before is None:
            return ()
        after = set(self.after.sentences) if self.after else set()
        return tuple(s for s in self.before.sentences if s not in after)

    @property
    def added_sentences(self) -> tuple[str, ...]:
        if self.after is None:
            return ()
        before = set(self.before.sentences) if self.before else set()
        return tuple(s for s in self.after.sentences if s not in before)


class _Words:
    """The sentences of one locale."""

    def __init__(self, locale: str, policy: Policy):
        if locale not in LOCALES:
            raise ValueError(f"locale: expected one of {', '.join(LOCALES)}")
        self.locale, self.policy = locale, policy
        self.zh = locale == "zh-Hans"

    def __call__(self, code: str, **params: object) -> str:
        english, chinese = TEXTS[code]
        return (chinese if self.zh else english).format(**params)

    def name(self, table: dict[str, tuple[str, str]], code: str) -> str:
        names = table.get(code)
        if names is None:
            return code
        return names[1] if self.zh else names[0]

    def join(self, items: Sequence[str]) -> str:
        return ("、" if self.zh else ", ").join(items)

    def clauses(self, items: Sequence[str]) -> str:
        return ("；" if self.zh else "; ").join(items)

    def duration(self, value: Duration) -> str:
        return duration_text(str(value), self.locale)

    def amounts(self, amounts: dict[str, int]) -> str:
        return " / ".join(f"{format_amount(minor, currency)} {currency}"
                          for currency, minor in sorted(amounts.items()))

    def rules(self, ids: Sequence[str]) -> str:
        return self.join([f"{rule_name(rule_id, self.locale, self.policy)} ({rule_id})"
                          for rule_id in ids])


def _number(value: Fraction) -> str:
    """An exact ratio from the file ("1.5", "10") as the decimal it was written as."""
    number = Decimal(value.numerator) / Decimal(value.denominator)
    return format(number.normalize(), "f")


def _conditions(words: _Words, when: Conditions) -> str:
    clauses = []
    # The order of the schema's table, as the explanation checks them.
    for name in Conditions.model_fields:
        value = getattr(when, name)
        if value is None:
            continue
        values = ",".join(value) if isinstance(value, list) else str(value).lower()
        clauses.append(condition_text(name, values, words.locale))
    if not clauses:
        return words("conditions.none")
    return words("conditions", conditions=words.clauses(clauses))


def _window(words: _Words, window: Window | None) -> list[str]:
    if window is None:
        return [words("window.none")]
    start = words.name(STARTS, window.start)
    if window.calendar_days:
        sentences = [words("window.calendar_days", length=words.duration(window.length),
                           start=start)]
    else:
        sentences = [words("window", length=words.duration(window.length), start=start,
                           end=words(f"window.{window.end}"))]
    if window.same_calendar_month:
        sentences.append(words("window.same_month", start=start))
    return sentences


def _times(count: int) -> str:
    return "time" if count == 1 else "times"


def _quota(words: _Words, quota: Quota | None, rule: Rule) -> list[str]:
    if quota is None:
        return [words("quota.none")]
    scope = words.name(SCOPES, quota.per)
    if quota.period == "rolling_months":
        period = (f"近 {quota.months} 个月" if words.zh
                  else f"in any {quota.months} months")
    else:
        period = words.name(PERIODS, quota.period)
    sentences = [words("quota", count=quota.count, times=_times(quota.count), scope=scope,
                       period=period)]
    if quota.lifetime_max is not None:
        sentences.append(words("quota.lifetime", count=quota.lifetime_max,
                               times=_times(quota.lifetime_max), scope=scope))
    counted = quota.rules or [rule.id]
    if counted != [rule.id]:
        sentences.append(words("quota.rules", rules=words.rules(counted)))
    return sentences


def _cap(words: _Words, cap: AmountCap | None, rule: Rule) -> list[str]:
    if cap is None:
        return []
    if cap.period == "rolling_months":
        period = (f"近 {cap.months} 个月内" if words.zh else f"in any {cap.months} months")
    else:
        period = words.name(CAP_PERIODS, cap.period)
    sentences = [words("cap", amounts=words.amounts(cap.amount), period=period)]
    counted = cap.rules or [rule.id]
    if counted != [rule.id]:
        sentences.append(words("cap.rules", rules=words.rules(counted)))
    return sentences


def _hourly(words: _Words, consumption: Consumption) -> str:
    if consumption.hourly_tiers:
        tiers = []
        for tier in consumption.hourly_tiers:
            price = words.amounts(tier.price)
            if tier.up_to_hours is None:
                tiers.append(words("hourly.tier_rest", price=price))
            else:
                tiers.append(words("hourly.tier", price=price, hours=tier.up_to_hours))
        return words.join(tiers)
    if consumption.hourly_price is not None:
        return words("hourly.price", price=words.amounts(consumption.hourly_price))
    return words("hourly.monthly")


def _consumption(words: _Words, consumption: Consumption) -> str:
    base = words(f"base.{consumption.base}")
    if consumption.method == "time_ratio":
        unit = words.name(UNITS, consumption.unit)
        return words("consumption.time_ratio", base=base, unit=unit,
                     rounding=words(f"rounding.{consumption.rounding}"),
                     minimum=consumption.minimum)
    if consumption.method == "usage":
        return words("consumption.usage", metric=consumption.metric,
                     price=words.amounts(consumption.unit_price or {}))
    if consumption.method == "months_and_hours":
        return words("consumption.months_and_hours", base=base,
                     hourly=_hourly(words, consumption))
    return words("consumption.none")


def _fee(words: _Words, fee: Fee | None) -> str:
    if fee is None:
        return words("fee.none")
    base = words(f"fee_base.{fee.base}")
    if not fee.bands:
        assert fee.percent is not None  # the schema requires percent or bands
        return words("fee", percent=_number(fee.percent), base=base)
    bands = []
    for band in fee.bands:
        where = [words("fee.band_term", term=words.duration(band.term))] if band.term else []
        if band.used_up_to is not None:
            where.append(words("fee.band_used", used=words.duration(band.used_up_to)))
        bands.append(words("fee.band", percent=_number(band.percent),
                           where=("，" if words.zh else ", ").join(where)
                           or words("fee.band_any")))
    if fee.percent is not None:
        bands.append(words("fee.band_otherwise", percent=_number(fee.percent)))
    return words("fee.bands", base=base, bands=words.clauses(bands))


def _rule(words: _Words, rule: Rule, position: int, count: int) -> Part:
    place = (ORDINALS[position - 1] if position <= len(ORDINALS) else f"{position}th")
    sentences = [
        words("rule.position", position=position if words.zh else place, count=count),
        _conditions(words, rule.when),
        *_window(words, rule.window),
        *_quota(words, rule.quota, rule),
        *_cap(words, rule.cap, rule),
        words("funding", funding=words.join([words.name(FUNDINGS, f) for f in rule.funding])),
        _consumption(words, rule.consumption),
    ]
    if rule.penalty is not None:
        sentences.append(words("penalty", factor=_number(rule.penalty.factor),
                               under=words.duration(rule.penalty.while_used_under)))
    sentences.append(_fee(words, rule.fee))
    sentences.append(words(f"handling.{rule.handling}"))
    if rule.documents:
        sentences.append(words("documents", documents=words.join(rule.documents)))
    sentences.append(words(f"ends_service.{rule.partial_refund_ends_service}"))
    if rule.explain is not None:
        sentences.append(words("customer_name", en=rule.explain.en, zh=rule.explain.zh_Hans))
    name = rule_name(rule.id, words.locale, words.policy)
    title = words("rule.title", position=position,
                  name=rule.id if name == rule.id else f"{name} ({rule.id})")
    return Part(f"rule:{rule.id}", "rule", title, tuple(sentences))


def _exclusion(words: _Words, exclusion: Exclusion) -> Part:
    reason = reason_text(exclusion.reason, words.locale, words.policy)
    sentences = [words("exclusion.effect", reason=reason), _conditions(words, exclusion.when)]
    if exclusion.explain is not None:
        sentences.append(words("customer_name", en=exclusion.explain.en,
                               zh=exclusion.explain.zh_Hans))
    return Part(f"exclusion:{exclusion.reason}", "exclusion",
                words("exclusion.title", reason=exclusion.reason), tuple(sentences))


def _general(words: _Words, policy: Policy) -> Part:
    sentences = [words("general.name", en=policy.name.en, zh=policy.name.zh_Hans),
                 words("general.clock", zone=policy.time_zone, calendar=policy.calendar)]
    if policy.four_eyes_above:
        sentences.append(words("general.four_eyes",
                               amounts=words.amounts(policy.four_eyes_above)))
    else:
        sentences.append(words("general.no_four_eyes"))
    return Part("general", "general", words("general.title"), tuple(sentences))


def _destination(words: _Words, policy: Policy) -> Part:
    destination = policy.destination
    sentences = [words("destination.cash", where=words.name(DESTINATIONS, destination.cash))]
    if destination.fallback is not None:
        sentences.append(words("destination.fallback",
                               where=words.name(DESTINATIONS, destination.fallback)))
    if destination.invoiced is not None:
        sentences.append(words("destination.invoiced",
                               where=words.name(DESTINATIONS, destination.invoiced)))
    if destination.unavailable_methods:
        sentences.append(words("destination.unavailable", methods=words.join(
            [words.name(METHODS, method) for method in destination.unavailable_methods])))
    sentences.append(words("destination.in_kind"))
    return Part("destination", "destination", words("destination.title"), tuple(sentences))


def _sla(words: _Words, policy: Policy) -> Part:
    sla = policy.sla
    sentences = []
    if sla.first_response is not None:
        sentences.append(words("sla.first_response", length=words.duration(sla.first_response)))
    if sla.review is not None:
        sentences.append(words("sla.review", length=words.duration(sla.review)))
    for method, length in sla.payout.items():
        sentences.append(words("sla.payout", method=words.name(METHODS, method),
                               length=words.duration(length)))
    return Part("sla", "sla", words("sla.title"),
                tuple(sentences) or (words("sla.none"),))


def _appeals(words: _Words, policy: Policy) -> Part:
    if policy.appeal_window is None:
        sentence = words("appeals.none")
    else:
        sentence = words("appeals.window", length=words.duration(policy.appeal_window))
    return Part("appeals", "appeals", words("appeals.title"), (sentence,))


def describe(policy: Policy, locale: str) -> list[Part]:
    """The policy in words, part by part, in the order of SECTIONS (exclusions and rules in
    the file's order, which is the order the engine tries them in)."""
    words = _Words(locale, policy)
    count = len(policy.rules)
    return [
        _general(words, policy),
        *[_exclusion(words, exclusion) for exclusion in policy.exclusions],
        *[_rule(words, rule, position, count)
          for position, rule in enumerate(policy.rules, start=1)],
        _destination(words, policy),
        _sla(words, policy),
        _appeals(words, policy),
    ]


def compare(before: Policy | None, after: Policy, locale: str) -> list[PartChange]:
    """Each part of `after` beside the same part of `before` (by key): added, changed or
    unchanged; parts only `before` has are removed and listed after their section's others.
    Without `before` (a first version) every part is added."""
    old = {part.key: part for part in describe(before, locale)} if before else {}
    new = describe(after, locale)
    new_keys = {part.key for part in new}
    changes: list[PartChange] = []
    for section in SECTIONS:
        for part in (p for p in new if p.section == section):
            previous = old.get(part.key)
            if previous is None:
                status: Status = "added"
            elif (previous.sentences, previous.title) == (part.sentences, part.title):
                status = "unchanged"
            else:
                status = "changed"
            changes.append(PartChange(part.key, section, status, previous, part))
        changes.extend(PartChange(part.key, section, "removed", part, None)
                       for part in old.values()
                       if part.section == section and part.key not in new_keys)
    return changes


def has_changes(changes: Sequence[PartChange]) -> bool:
    return any(change.status != "unchanged" for change in changes)
