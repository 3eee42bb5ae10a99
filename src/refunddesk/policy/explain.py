"""Rendering assessment steps as sentences in Simplified Chinese or English.

A step holds a message code and parameters; numbers, amounts and times are formatted by one
language-independent function (Assessment.plain_steps), so both languages carry exactly
the same figures. Codes among the
parameters (rules, reasons, methods, destinations, units) are named in the reader's
language here. This catalogue is part of the pure policy domain: it must not depend on
Django's translation machinery, because assessments are rendered outside requests too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from refunddesk.policy.schema import Policy

LOCALES = ("en", "zh-Hans")

MESSAGES: dict[str, dict[str, str]] = {
    "order": {
        "en": "Order {order}, request made at {as_of}, assessed under policy {policy}.",
        "zh-Hans": "订单 {order}，申请时间 {as_of}，按退款政策 {policy} 评估。",
    },
    "line.excluded": {
        "en": "Line {line}: not refundable — {reason}.",
        "zh-Hans": "明细 {line}：不可退款——{reason}。",
    },
    "rule.no_start": {
        "en": "Line {line}: {rule} does not apply: the line has no start time.",
        "zh-Hans": "明细 {line}：{rule}不适用：该明细没有开始时间。",
    },
    "rule.window_closed": {
        "en": "Line {line}: {rule} does not apply: its window ({length} from {from}) "
              "ended at {end}.",
        "zh-Hans": "明细 {line}：{rule}不适用：其期限（自{from}起 {length}）已于 {end} 结束。",
    },
    "rule.month_passed": {
        "en": "Line {line}: {rule} does not apply: the request is not in the calendar month "
              "of {start}.",
        "zh-Hans": "明细 {line}：{rule}不适用：申请不在 {start} 所在的自然月内。",
    },
    "rule.quota_used": {
        "en": "Line {line}: {rule} does not apply: it may be used {count} {times} {scope} "
              "{period}, and {used} used it up.",
        "zh-Hans": "明细 {line}：{rule}不适用：{scope}{period}限 {count} 次，已用 {used} 次。",
    },
    "rule.quota_lifetime_used": {
        "en": "Line {line}: {rule} does not apply: it may be used at most {lifetime_max} "
              "{times} {scope} in all, and {lifetime} used it up.",
        "zh-Hans": "明细 {line}：{rule}不适用：{scope}累计最多 {lifetime_max} 次，"
                   "已用 {lifetime} 次。",
    },
    "rule.condition": {
        "en": "Line {line}: {rule} does not apply: {condition}.",
        "zh-Hans": "明细 {line}：{rule}不适用：{condition}。",
    },
    "rule.applies": {
        "en": "Line {line}: {rule} applies.",
        "zh-Hans": "明细 {line}：适用{rule}。",
    },
    "line.eligible": {
        "en": "Line {line}: refundable funding ({funding}) {eligible}; not refundable "
              "{kept}.",
        "zh-Hans": "明细 {line}：可退资金（{funding}）{eligible}；不退部分 {kept}。",
    },
    "line.not_started": {
        "en": "Line {line}: the service has not started: nothing is consumed and no fee "
              "applies.",
        "zh-Hans": "明细 {line}：服务尚未开始，不计消耗，不收手续费。",
    },
    "line.no_period": {
        "en": "Line {line}: the line has no service end, so its use cannot be prorated.",
        "zh-Hans": "明细 {line}：该明细没有服务结束时间，无法按时长折算。",
    },
    "consumed.time_ratio": {
        "en": "Line {line}: used {used} of {total} {unit}s; consumed = {base} × {used} / "
              "{total} = {consumed}.",
        "zh-Hans": "明细 {line}：已使用 {used}/{total} {unit}；已消耗 = {base} × {used} / "
                   "{total} = {consumed}。",
    },
    "consumed.time_ratio_penalty": {
        "en": "Line {line}: used {used} of {total} {unit}s, less than {under}, so × {factor}; "
              "consumed = {base} × {used} / {total} × {factor} = {consumed}.",
        "zh-Hans": "明细 {line}：已使用 {used}/{total} {unit}，不足 {under}，按 {factor} 倍计；"
                   "已消耗 = {base} × {used} / {total} × {factor} = {consumed}。",
    },
    "consumed.usage": {
        "en": "Line {line}: used {quantity} of {metric} at {price} each; consumed {consumed}.",
        "zh-Hans": "明细 {line}：{metric} 用量 {quantity}，单价 {price}；已消耗 {consumed}。",
    },
    "consumed.months_and_hours": {
        "en": "Line {line}: used {months} whole months and {hours} hours; consumed "
              "{consumed}.",
        "zh-Hans": "明细 {line}：已使用 {months} 个整月又 {hours} 小时；已消耗 {consumed}。",
    },
    "line.fee": {
        "en": "Line {line}: handling fee {percent}% of {base} = {fee}.",
        "zh-Hans": "明细 {line}：手续费 = {base} × {percent}% = {fee}。",
    },
    "line.refund": {
        "en": "Line {line}: refund = {eligible} − {consumed} consumed − {fee} fee = {refund}.",
        "zh-Hans": "明细 {line}：退款 = {eligible} − 已消耗 {consumed} − 手续费 {fee} = {refund}。",
    },
    "line.refund_rounded": {
        "en": "Line {line}: refund = {eligible} − {consumed} consumed − {fee} fee = {exact}, "
              "rounded half-up to {refund}.",
        "zh-Hans": "明细 {line}：退款 = {eligible} − 已消耗 {consumed} − 手续费 {fee} = {exact}，"
                   "四舍五入为 {refund}。",
    },
    "line.lower_price": {
        "en": "Line {line}: today's price is lower than the price paid, so at most {eligible} "
              "can come back.",
        "zh-Hans": "明细 {line}：当前价格低于购买价格，最多可退 {eligible}。",
    },
    "four_eyes": {
        "en": "The refund is above {threshold}: a second staff member must confirm it.",
        "zh-Hans": "退款金额超过 {threshold}，需由第二位工作人员复核确认。",
    },
    "line.refund_floored": {
        "en": "Line {line}: {consumed} consumed and {fee} fee use up {eligible}; refund "
              "{refund}.",
        "zh-Hans": "明细 {line}：已消耗 {consumed} 与手续费 {fee} 已抵尽 {eligible}，"
                   "退款按 {refund} 计算。",
    },
    "line.capped": {
        "en": "Line {line}: limited to {refund} by the cap of {cap} per {period}, of which "
              "{used} was used.",
        "zh-Hans": "明细 {line}：受{period}内 {cap} 的上限约束（已用 {used}），退款为 {refund}。",
    },
    "allocation": {
        "en": "{amount} of payment {payment} ({method}) goes back to {destination}.",
        "zh-Hans": "支付 {payment}（{method}）中的 {amount} 退回{destination}。",
    },
    "total": {
        "en": "Total refund: {total}.",
        "zh-Hans": "退款合计：{total}。",
    },
    "handling.approve": {
        "en": "Under this policy the refund is approved at once, without waiting for an agent.",
        "zh-Hans": "按此政策，退款即时批准，无需等待客服审核。",
    },
    "handling.review": {
        "en": "An agent reviews this request before the refund is approved.",
        "zh-Hans": "本申请需经客服审核后批准。",
    },
    "handling.suggest": {
        "en": "This amount is a suggestion; an agent decides the refund.",
        "zh-Hans": "该金额仅为建议，最终退款由客服决定。",
    },
    "handling.reject": {
        "en": "Nothing is refundable under this policy.",
        "zh-Hans": "根据该政策，本申请没有可退金额。",
    },
}

RULE_NAMES = {
    "five_day_no_reason": ("the five-day no-reason refund", "五天无理由退款"),
    "normal_refund": ("the standard refund of unused time", "普通自助退款"),
    "partial_refund": ("the partial refund of unused time", "按未使用时长部分退款"),
    "renewal_not_started": ("the refund of a renewal not yet started", "未开始续费周期退订"),
    "money_back": ("the 30-day money-back guarantee", "30 天无理由退款保证"),
    "after_window": ("the prorated refund after the guarantee", "保证期后按比例退款"),
}

REASONS = {
    "no_rule": ("no refund rule of the policy covers it", "政策中没有适用的退款规则"),
    "payg_not_refundable": ("pay-as-you-go resources are released, not refunded",
                            "按量计费资源直接释放，不支持退款"),
    "promotion_non_refundable": ("bought in a promotion that excludes refunds",
                                 "参与了不支持退款的促销活动"),
    "transferred": ("the resource was transferred from another account", "资源由其他账号转入"),
    "marketplace_image": ("it includes a marketplace image", "包含云市场镜像"),
    "domain_not_refundable": ("domain names are not refundable", "域名不支持退款"),
    "invoiced": ("an invoice has been issued for the order", "订单已开具发票"),
    "trial": ("it is a trial", "试用资源"),
    "renewal_not_refundable": (
        "renewals are not refundable; cancel auto-renewal before the renewal date",
        "续费订单不支持退款，请在续费日前关闭自动续费"),
    "app_store": ("it was bought through the App Store: ask Apple for the refund",
                  "通过 App Store 购买，请向 Apple 申请退款"),
    "google_play": ("it was bought through Google Play: ask Google Play for the refund",
                    "通过 Google Play 购买，请向 Google Play 申请退款"),
}

METHODS = {
    "alipay": ("Alipay", "支付宝"), "wechat_pay": ("WeChat Pay", "微信支付"),
    "card": ("card", "银行卡"), "paypal": ("PayPal", "PayPal"),
    "bank_transfer": ("bank transfer", "银行转账"), "balance": ("account balance", "账户余额"),
    "voucher": ("voucher", "代金券"), "gift": ("gift credit", "赠送金"),
    "app_store": ("App Store", "App Store"), "google_play": ("Google Play", "Google Play"),
}

DESTINATIONS = {
    "original": ("the original payment method", "原支付方式"),
    "balance": ("the account balance", "账户余额"),
    "gift": ("gift credit", "赠送金"),
    "voucher": ("voucher credit", "代金券"),
}

UNITS = {"second": ("second", "秒"), "hour": ("hour", "小时"), "day": ("day", "天")}
STARTS = {"placed_at": ("the order", "下单"), "service_start": ("the service start", "服务开始")}
FUNDINGS = {"cash": ("cash", "现金"), "balance": ("balance", "余额"),
            "gift": ("gift credit", "赠送金"), "voucher": ("vouchers", "代金券")}
SCOPES = {"product": ("for this product", "该产品"), "account": ("for the account", "该账户")}


def _name(table: dict[str, tuple[str, str]], code: str, locale: str) -> str:
    names = table.get(code)
    if names is None:
        return code
    return names[1] if locale == "zh-Hans" else names[0]


def render(code: str, plain: dict[str, Any], locale: str, policy: Policy | None = None) -> str:
    """One step as a sentence; `plain` are its parameters as Assessment.plain_steps gives."""
    if locale not in LOCALES:
        raise ValueError(f"locale: expected one of {', '.join(LOCALES)}")
    template = MESSAGES[code][locale]
    params: dict[str, Any] = dict(plain)
    zh = locale == "zh-Hans"
    if "rule" in params:
        params["rule"] = rule_name(params["rule"], locale, policy)
    if "reason" in params:
        params["reason"] = reason_text(params["reason"], locale, policy)
    for key, table in (("method", METHODS), ("destination", DESTINATIONS), ("unit", UNITS),
                       ("from", STARTS), ("per", SCOPES)):
        if key in params:
            params[key] = _name(table, params[key], locale)
    if "funding" in params:
        params["funding"] = ("、" if zh else ", ").join(
            _name(FUNDINGS, f.strip(), locale) for f in params["funding"].split(","))
    if code == "line.capped":
        period = params["period"]
        if period == "calendar_year":
            params["period"] = "本自然年" if zh else "calendar year"
        else:
            months = period.removesuffix("mo")
            params["period"] = f"近 {months} 个月" if zh else f"{months} months"
    for key in ("length", "under"):
        if params.get(key):
            params[key] = duration_text(params[key], locale)
    if code == "rule.condition":
        params["condition"] = condition_text(params["condition"], params["values"], locale)
    if code == "rule.quota_used":
        params["scope"] = params["per"]
        params["period"] = _period(params, zh)
        params["times"] = "time" if params["count"] == 1 else "times"
    if code == "rule.quota_lifetime_used":
        params["scope"] = params["per"]
        params["times"] = "time" if params["lifetime_max"] == 1 else "times"
    return template.format(**params)


DURATION_UNITS = {"s": ("second", "秒"), "h": ("hour", "小时"), "d": ("day", "天"),
                  "mo": ("month", "个月"), "y": ("year", "年"), "bd": ("business day", "个工作日")}


def duration_text(text: str, locale: str) -> str:
    """ "5d" → "5 days" / "5 天"."""
    count = int("".join(ch for ch in text if ch.isdigit()))
    unit = text[len(str(count)):]
    english, chinese = DURATION_UNITS[unit]
    if locale == "zh-Hans":
        return f"{count} {chinese}"
    return f"{count} {english}{'' if count == 1 else 's'}"


KINDS = {"new": ("new purchases", "新购"), "renewal": ("renewals", "续费"),
         "upgrade": ("upgrades", "升级")}
BILLINGS = {"prepaid": ("prepaid", "包年包月"), "payg": ("pay-as-you-go", "按量计费"),
            "one_time": ("one-time", "一次性")}


def condition_text(condition: str, values: str, locale: str) -> str:
    zh = locale == "zh-Hans"
    items = values.split(",")

    def names(table: dict[str, tuple[str, str]]) -> str:
        return ("、" if zh else ", ").join(_name(table, item, locale) for item in items)

    texts = {
        "kind": ("it is for " + names(KINDS) + " only", "仅适用于" + names(KINDS) + "订单"),
        "channel": (f"it is for orders through {values} only", f"仅适用于 {values} 渠道的订单"),
        "billing": ("it is for " + names(BILLINGS) + " lines only",
                    "仅适用于" + names(BILLINGS) + "的明细"),
        "category": (f"it is for {values} only", f"仅适用于 {values} 类产品"),
        "product": (f"it is for {values} only", f"仅适用于 {values}"),
        "flags_any": (f"it is for lines marked {values} only", f"仅适用于标记为 {values} 的明细"),
        "flags_none": (f"it is not for lines marked {values}", f"不适用于标记为 {values} 的明细"),
        "invoiced": (("it is for invoiced orders only", "仅适用于已开票订单") if values == "true"
                     else ("it is not for invoiced orders", "不适用于已开票订单")),
        "started": (("it is for services that have started", "仅适用于已开始的服务")
                    if values == "true" else
                    ("it is for services that have not started yet", "仅适用于尚未开始的服务")),
        "first_purchase": (
            ("it is for the account's first purchase of this product only",
             "仅适用于该账户首次购买此产品") if values == "true" else
            ("it is not for a first purchase", "不适用于首次购买")),
    }
    english, chinese = texts[condition]
    return chinese if zh else english


def _period(params: dict[str, Any], zh: bool) -> str:
    period = params["period"]
    text = {
        "ever": ("ever", "累计"),
        "calendar_year": ("this calendar year", "本自然年"),
        "rolling_months": (f"in the last {params['months']} months",
                           f"近 {params['months']} 个月"),
    }[period][1 if zh else 0]
    return text


def rule_name(code: str, locale: str, policy: Policy | None = None) -> str:
    if policy is not None:
        for rule in policy.rules:
            if rule.id == code and rule.explain is not None:
                return rule.explain.zh_Hans if locale == "zh-Hans" else rule.explain.en
    return _name(RULE_NAMES, code, locale)


def reason_text(code: str, locale: str, policy: Policy | None = None) -> str:
    if policy is not None:
        for exclusion in policy.exclusions:
            if exclusion.reason == code and exclusion.explain is not None:
                texts = exclusion.explain
                return texts.zh_Hans if locale == "zh-Hans" else texts.en
    return _name(REASONS, code, locale)
