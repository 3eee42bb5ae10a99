"""Who the demo customers are: names, e-mail addresses and phone numbers that look real.

E-mail domains are only example.com/.cn/.org (reserved for documentation), so a demo
database can never mail a real person. Western phone numbers are from the ranges kept for
fiction (+1 555-01xx, +44 20 7946 0xxx); China has no such range, so +86 mobiles are random.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

# (surname, pinyin, weight): roughly how common the surname is.
SURNAMES = (
    ("王", "wang", 9), ("李", "li", 9), ("张", "zhang", 8), ("刘", "liu", 7), ("陈", "chen", 6),
    ("杨", "yang", 4), ("黄", "huang", 3), ("赵", "zhao", 3), ("吴", "wu", 3), ("周", "zhou", 3),
    ("徐", "xu", 2), ("孙", "sun", 2), ("马", "ma", 2), ("朱", "zhu", 2), ("胡", "hu", 2),
    ("郭", "guo", 2), ("何", "he", 2), ("高", "gao", 2), ("林", "lin", 2), ("罗", "luo", 2),
    ("郑", "zheng", 1), ("梁", "liang", 1), ("谢", "xie", 1), ("宋", "song", 1),
    ("唐", "tang", 1), ("韩", "han", 1), ("冯", "feng", 1), ("邓", "deng", 1), ("曹", "cao", 1),
    ("彭", "peng", 1), ("曾", "zeng", 1), ("肖", "xiao", 1), ("田", "tian", 1), ("董", "dong", 1),
    ("袁", "yuan", 1), ("潘", "pan", 1), ("蒋", "jiang", 1), ("蔡", "cai", 1), ("余", "yu", 1),
    ("杜", "du", 1), ("叶", "ye", 1), ("程", "cheng", 1), ("苏", "su", 1), ("魏", "wei", 1),
    ("吕", "lyu", 1), ("丁", "ding", 1), ("沈", "shen", 1), ("欧阳", "ouyang", 1),
)
GIVEN_NAMES = (
    ("芳", "fang"), ("雷", "lei"), ("静", "jing"), ("伟", "wei"), ("敏", "min"), ("磊", "lei"),
    ("洋", "yang"), ("艳", "yan"), ("勇", "yong"), ("军", "jun"), ("杰", "jie"), ("娟", "juan"),
    ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"),
    ("平", "ping"), ("刚", "gang"), ("丽", "li"), ("强", "qiang"), ("鹏", "peng"),
    ("晨", "chen"), ("婷", "ting"), ("浩然", "haoran"), ("子涵", "zihan"), ("欣怡", "xinyi"),
    ("梓萱", "zixuan"), ("宇轩", "yuxuan"), ("思远", "siyuan"), ("雨桐", "yutong"),
    ("佳怡", "jiayi"), ("俊杰", "junjie"), ("婷婷", "tingting"), ("建华", "jianhua"),
    ("志强", "zhiqiang"), ("海燕", "haiyan"), ("晓东", "xiaodong"), ("丽娜", "lina"),
    ("文博", "wenbo"), ("嘉欣", "jiaxin"), ("一鸣", "yiming"), ("诗涵", "shihan"),
    ("建国", "jianguo"), ("晓明", "xiaoming"), ("红梅", "hongmei"), ("国强", "guoqiang"),
    ("雪", "xue"), ("博", "bo"), ("颖", "ying"), ("琳", "lin"), ("昊", "hao"), ("凯", "kai"),
    ("倩", "qian"), ("梦琪", "mengqi"), ("天宇", "tianyu"), ("雅静", "yajing"), ("志伟", "zhiwei"),
)
FIRST_NAMES = (
    "Emma", "Olivia", "Ava", "Sophia", "Isabella", "Mia", "Charlotte", "Amelia", "Harper",
    "Grace", "Chloe", "Lucy", "Hannah", "Sarah", "Laura", "Anna", "Julia", "Nina", "Maria",
    "Sofia", "Liam", "Noah", "Oliver", "James", "Lucas", "Henry", "Ethan", "Daniel", "Matthew",
    "David", "Samuel", "Jack", "Thomas", "Ryan", "Adam", "Leo", "Max", "Felix", "Jonas",
    "Mateo", "Arjun", "Priya", "Yuki", "Kenji", "Ines", "Lars", "Elena", "Marco",
)
LAST_NAMES = (
    "Wilson", "Smith", "Johnson", "Brown", "Taylor", "Anderson", "Thomas", "Martin",
    "Thompson", "Garcia", "Martinez", "Robinson", "Clark", "Lewis", "Walker", "Hall", "Allen",
    "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
    "Mitchell", "Roberts", "Carter", "Schmidt", "Fischer", "Rossi", "Bianchi", "Dubois",
    "Moreau", "Jensen", "Nielsen", "Kowalski", "Novak", "Silva", "Santos", "Tanaka", "Sato",
    "Kim", "Park", "Nguyen", "Singh", "Patel", "Larsen",
)
CHINESE_MAIL_DOMAINS = (("example.com", 50), ("example.cn", 35), ("example.org", 15))
ENGLISH_MAIL_DOMAINS = (("example.com", 60), ("example.org", 40))


@dataclass(eq=False)
class Person:
    """An account of the merchant's billing system, before it is written anywhere."""

    external_id: str
    name: str
    email: str
    phone: str
    is_chinese: bool
    created_at: datetime | None = None

    def facts(self, created_at: str) -> dict[str, str]:
        """The order-facts account object, `created_at` already written out."""
        facts = {"id": self.external_id, "email": self.email, "name": self.name}
        if self.phone:
            facts["phone"] = self.phone
        facts["created_at"] = created_at
        return facts


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class People:
    """Makes people one at a time, never giving two of them the same e-mail address."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._emails: set[str] = set()

    def make(self, external_id: str, *, is_chinese: bool) -> Person:
        if is_chinese:
            name, local, domains, phone = self._chinese()
        else:
            name, local, domains, phone = self._english()
        return Person(external_id, name, self._unique(local, domains), phone, is_chinese)

    def _chinese(self) -> tuple[str, str, tuple[tuple[str, int], ...], str]:
        rng = self.rng
        surname, surname_py, _ = rng.choices(SURNAMES, weights=[s[2] for s in SURNAMES])[0]
        given, given_py = rng.choice(GIVEN_NAMES)
        year = rng.randint(1968, 2004)
        local = rng.choice((
            f"{given_py}.{surname_py}",
            f"{surname_py}{given_py}",
            f"{surname_py}.{given_py}{rng.randint(1, 99)}",
            f"{surname_py[0]}{given_py}{year}",
            f"{given_py}{surname_py}{year % 100:02d}",
        ))
        phone = ""
        if rng.random() < 0.55:
            phone = (f"+86 1{rng.choice('3589')}{rng.randint(0, 9)} "
                     f"{rng.randint(0, 9999):04d} {rng.randint(0, 9999):04d}")
        return surname + given, local, CHINESE_MAIL_DOMAINS, phone

    def _english(self) -> tuple[str, str, tuple[tuple[str, int], ...], str]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = rng.choice((
            f"{first}.{last}", f"{first}{last[0]}", f"{first[0]}{last}",
            f"{first}.{last}{rng.randint(1, 99)}",
        )).lower()
        phone = ""
        if rng.random() < 0.3:
            phone = rng.choice((
                f"+1 202 555 01{rng.randint(0, 99):02d}",
                f"+44 20 7946 0{rng.randint(0, 999):03d}",
            ))
        return f"{first} {last}", local, ENGLISH_MAIL_DOMAINS, phone

    def _unique(self, local: str, domains: tuple[tuple[str, int], ...]) -> str:
        email = f"{local}@{_weighted(self.rng, domains)}"
        while email in self._emails:
            email = f"{local}{self.rng.randint(2, 999)}@{_weighted(self.rng, domains)}"
        self._emails.add(email)
        return email
