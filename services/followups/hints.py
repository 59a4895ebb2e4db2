"""The next step after a follow-up: what to do, when, with which script, and why.

Pure: no database, no nameko, and no import of another service. It reads the
lead's stage and grade, the customer's traits (ids as the customers service
names them: ``nev_interest``, ``finance``, ``trade_in``, ``price_sensitive``,
``competitor:byd``, ``concern:range`` ...; ``test_drive`` when the lead asked
for one), the note just written (Chinese or English) and the outcome of the
last attempt, and picks a script from the library (``scripts.library()`` or a
store's ``scripts.merge``).

``next_step(...)`` returns::

    {"action": "call" | "wechat" | "sms" | "invitation" | "test_drive" | "quote",
     "in_days": int,            # 0 = today
     "script_id": str | None,   # a template of the library that fits the stage (None only when the
                                #   library has no template for the stage at all)
     "why": [str, ...],         # short reasons, each naming its evidence
     "values": {...},           # placeholders the evidence fills: concern, competitor
     "alternatives": [str, ...]}  # other scripts the evidence points to that fit the stage (at most 3)

Rules, first match wins (``cadence`` is the grade's: H 1, A 2, B 7, C 14,
N 1, O 30, F 30 days, else 3):

====  ======================================================  ==========  ===================  =====================================
 #    when                                                    action      in_days              script (situation, or id)
====  ======================================================  ==========  ===================  =====================================
 1    grade F (lost)                                          wechat      30                   reactivation
 2    stage after_sales or grade O, no outcome yet            call        1                    after_sales_delivery_care
      ... the note says the customer is satisfied             wechat      1                    after_sales_referral
      ... otherwise                                           wechat      30                   after_sales_maintenance_reminder
 3    last outcome ``refused``                                wechat      max(14, cadence)     nurture
 4    no answer twice or more in a row                        sms at      0                    unreachable (the channel's)
                                                              initial_
                                                              contact,
                                                              else wechat
 5    last outcome ``appointment`` (a visit/test drive set)   test_drive  0                    test_drive_confirmation
 6    a test drive done (outcome ``test_drive_done``, or      call        1                    after_test_drive
      the note: 试驾完 / 试驾过 / test drove ...)
 7    test-drive or visit interest (note: 试驾 / 到店 /        invitation  min(cadence, 2)      store_invitation
      test drive; trait ``test_drive``) at initial_contact,
      needs_confirmed or proposal
 8    a topic in the note, else in the traits, by priority:
      price (太贵, 优惠, 落地价, discount ...)                 quote at    cadence              objection_price
                                                              proposal/
                                                              negotiation,
                                                              else call
      competitor (比亚迪, Tesla, 别家 ...)                     call        cadence              objection_competitor
      waiting for a new model (等新款, facelift ...)           call        cadence              objection_new_model
      trade-in (置换, 旧车, trade-in ...)                      call        cadence              objection_trade_in_value
      finance (贷款, 月供, loan ...)                           as price    cadence              objection_financing
      concerns: range 续航, charging 充电, resale 保值,        wechat      0 from the note,     the concern's script
      space 空间, fuel economy 油耗, safety 安全,                          else cadence
      delivery 提车
      NEV interest (新能源, EV ...)                            wechat      as concerns          product_introduction (NEV)
 9    otherwise, by stage: initial_contact                    call        0 (not yet reached)  first_contact; needs_discovery once
                                                                          else cadence         reached
      needs_confirmed                                         call        cadence              product_introduction
      proposal                                                quote       cadence              quote_followup
      negotiation                                             call        cadence              quote_followup
====  ======================================================  ==========  ===================  =====================================

- No answer once (and not rule 1): whatever the rule, the action is ``call``
  again, today for grades H, A and N, else tomorrow.
- A topic's script is the first template of the library that fits the stage
  and ``addresses`` the topic's trait (``competitor:*`` answers any
  competitor; one of the topic's situation first), else the first of its situation; without one, the stage's
  default (rule 9), else any template of the stage.
- Reading the note: NFKC, case-insensitive; Chinese words as substrings,
  English ones on word boundaries. A mention is negated (and ignored) when
  its clause has a negation just before it (不 没 无 未, no/not/don't/never ...
  within 5 characters or 4 words) or a refusal just after it (不需要 算了 不用,
  not needed ...): "不需要贷款", "续航不用担心", "no trade-in". A-not-A questions
  (有没有优惠, 要不要贷款) and 不错/不过/不放心 negate nothing. Test-drive
  interest is negated only by a refusal (不想试驾), not by 没 (还没试驾 is an
  invitation); "想/预约 试驾了" is no test drive done.
- The note overrules the profile: a topic the note mentions only negated
  ("不需要贷款，全款") is not taken from the traits either.
- ``own_brands``: the store's brands (``["BYD", "比亚迪"]`` or ``["byd"]``): a
  mention of them is no competitor.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.followups import scripts as _scripts

ACTIONS = ("call", "wechat", "sms", "invitation", "test_drive", "quote")
OUTCOMES = ("reached", "no_answer", "refused", "appointment", "test_drive_done")
CADENCE_DAYS = {"H": 1, "A": 2, "B": 7, "C": 14, "N": 1, "O": 30, "F": 30}
DEFAULT_CADENCE = 3
PRESALE = ("initial_contact", "needs_confirmed", "proposal", "negotiation")
MAX_ALTERNATIVES = 3


@dataclass(frozen=True)
class Topic:
    key: str
    trait: str | None                    # the customers service's trait id with the same meaning
    situation: str                       # the fallback situation of its script
    label: dict                          # {"zh": ..., "en": ...}: for reasons and the {concern} value
    zh: tuple = ()
    en: tuple = ()
    exclude: tuple = ()                  # phrases (zh or en) in which a mention does not count
    concern: bool = False                # fills {concern}
    brand: str | None = None             # a competitor's trait suffix
    names: dict = field(default_factory=dict)  # a competitor's display names


def _concern(key, zh_label, en_label, zh, en, exclude=()):
    return Topic(key, f"concern:{key}", "concern", {"zh": zh_label, "en": en_label}, tuple(zh), tuple(en),
                 tuple(exclude), concern=True)


# Script topics in priority order (rule 8). The words follow the customers
# service's lexicon (services/customers/lexicon.yaml) without importing it.
TOPICS = (
    Topic("price", "price_sensitive", "objection_price", {"zh": "价格", "en": "price"},
          ("太贵", "贵了", "便宜", "优惠", "最低价", "底价", "砍价", "议价", "讲价", "折扣", "打折", "降价", "让利",
           "落地价", "裸车价", "多少钱", "报价", "预算有限", "性价比", "价格"),
          ("price", "discount", "too expensive", "expensive", "cheaper", "best price", "lowest price",
           "out the door", "otd", "quote", "on a budget", "tight budget", "rebate", "bargain", "negotiate"),
          ("价格理想", "price range", "budget range")),
    Topic("competitor", "competitor:*", "objection_competitor", {"zh": "竞品", "en": "competitor"},
          ("别家", "别的品牌", "其他品牌", "竞品", "隔壁店", "其他4s店", "别的4s店", "别的店"),
          ("another brand", "other brands", "another dealer", "other dealer", "competitor")),
    Topic("new_model", None, "objection_new_model", {"zh": "新款", "en": "new model"},
          ("等新款", "新款", "改款", "换代", "下一代", "中期改款", "观望", "再等等", "等等再买", "年底出新"),
          ("new model", "facelift", "next generation", "next year's model", "wait and see", "waiting for the new")),
    Topic("trade_in", "trade_in", "objection_trade_in_value", {"zh": "置换", "en": "trade-in"},
          ("置换", "以旧换新", "旧车", "二手车", "卖旧车", "换购", "评估价", "估价"),
          ("trade-in", "trade in", "part exchange", "old car", "sell my car", "appraisal", "valuation")),
    Topic("finance", "finance", "objection_financing", {"zh": "贷款", "en": "finance"},
          ("贷款", "车贷", "分期", "首付", "零首付", "月供", "免息", "低息", "贴息", "无息贷款", "利息", "按揭",
           "金融方案", "金融政策"),
          ("loan", "finance", "financing", "installment", "instalment", "down payment", "monthly payment", "apr",
           "interest rate", "lease", "leasing")),
    _concern("range", "续航", "range", ("续航", "续航里程", "里程焦虑", "跑不远", "掉电", "冬天续航"),
             ("range", "range anxiety", "driving range", "how far"),
             ("price range", "budget range", "range rover", "full range", "wide range", "range of")),
    _concern("charging", "充电", "charging",
             ("充电", "充电桩", "快充", "慢充", "超充", "换电", "补能", "家充", "没有充电桩", "没充电桩", "没地方充电",
              "没法充电", "装不了充电桩"),
             ("charging", "charger", "charge point", "supercharger", "wallbox", "battery swap", "no charger",
              "no home charger", "nowhere to charge")),
    _concern("resale", "保值", "resale value", ("保值", "保值率", "不保值", "残值", "贬值", "二手价", "掉价"),
             ("resale", "resale value", "residual value", "depreciation", "depreciate", "hold its value",
              "holds its value")),
    _concern("space", "空间", "space",
             ("空间", "后排", "后备箱", "尾箱", "储物", "第三排", "七座", "7座", "六座", "6座", "坐得下", "装得下"),
             ("space", "spacious", "trunk", "boot space", "legroom", "headroom", "third row", "seven seats",
              "7-seater", "seven-seater", "roomy"),
             ("砍价空间", "优惠空间", "议价空间", "降价空间", "parking space")),
    _concern("fuel_economy", "油耗", "fuel economy", ("油耗", "省油", "费油", "百公里油耗", "能耗", "电耗", "油费"),
             ("fuel consumption", "fuel economy", "fuel efficient", "fuel efficiency", "mpg", "gas mileage",
              "fuel cost")),
    _concern("safety", "安全", "safety",
             ("安全", "安全性", "不安全", "碰撞", "气囊", "安全气囊", "主动安全", "自燃", "电池安全", "碰撞测试"),
             ("safety", "safe", "crash test", "airbag", "ncap", "battery fire"), ("安全带", "seat belt")),
    _concern("delivery_time", "提车时间", "delivery time",
             ("提车", "交付", "等车", "交车", "现车", "多久能到", "什么时候到车"),
             ("delivery", "delivery time", "lead time", "wait time", "waiting time", "waiting list", "in stock")),
    Topic("nev", "nev_interest", "product_introduction", {"zh": "新能源", "en": "NEV"},
          ("新能源", "电车", "电动车", "纯电", "插混", "插电混动", "混动", "油电混合", "增程", "绿牌"),
          ("ev", "bev", "phev", "hev", "nev", "erev", "electric car", "electric vehicle", "plug-in hybrid",
           "hybrid", "new energy vehicle"),
          ("electric seat", "electric window", "electric tailgate", "electric mirror")),
)

# Competitor brands: trait suffix -> display names and words.
COMPETITORS = {
    "byd": ({"zh": "比亚迪", "en": "BYD"}, ("比亚迪", "秦plus", "宋plus", "元plus", "海豹", "海豚", "海鸥", "仰望", "腾势"),
            ("byd", "denza", "yangwang"), ()),
    "tesla": ({"zh": "特斯拉", "en": "Tesla"}, ("特斯拉",), ("tesla", "model 3", "model y", "model s", "model x"), ()),
    "nio": ({"zh": "蔚来", "en": "NIO"}, ("蔚来", "乐道"), ("nio", "onvo"), ()),
    "xpeng": ({"zh": "小鹏", "en": "XPeng"}, ("小鹏",), ("xpeng", "xiaopeng"), ()),
    "li_auto": ({"zh": "理想汽车", "en": "Li Auto"},
                ("理想汽车", "理想l6", "理想l7", "理想l8", "理想l9", "理想one", "理想mega"), ("li auto", "liauto"), ()),
    "aito": ({"zh": "问界", "en": "AITO"}, ("问界",), ("aito",), ()),
    "toyota": ({"zh": "丰田", "en": "Toyota"}, ("丰田", "凯美瑞", "卡罗拉", "汉兰达", "亚洲龙", "雷克萨斯"),
               ("toyota", "camry", "corolla", "rav4", "highlander", "lexus"), ()),
    "honda": ({"zh": "本田", "en": "Honda"}, ("本田", "雅阁", "思域", "冠道", "飞度", "艾力绅"),
              ("honda", "accord", "civic", "cr-v", "odyssey"), ()),
    "volkswagen": ({"zh": "大众", "en": "Volkswagen"},
                   ("大众", "帕萨特", "迈腾", "速腾", "朗逸", "途观", "途昂", "高尔夫", "探岳"),
                   ("volkswagen", "vw", "passat", "tiguan", "golf", "jetta", "id.4", "id.3"), ("大众化", "大众点评")),
    "bmw": ({"zh": "宝马", "en": "BMW"}, ("宝马",), ("bmw",), ()),
    "mercedes": ({"zh": "奔驰", "en": "Mercedes-Benz"}, ("奔驰", "梅赛德斯"), ("mercedes", "benz", "mercedes-benz"), ()),
    "audi": ({"zh": "奥迪", "en": "Audi"}, ("奥迪",), ("audi",), ()),
    "xiaomi": ({"zh": "小米汽车", "en": "Xiaomi"}, ("小米汽车", "小米su7", "小米yu7", "su7", "yu7"),
               ("xiaomi su7", "xiaomi yu7", "xiaomi ev", "su7", "yu7"), ()),
    "geely": ({"zh": "吉利", "en": "Geely"}, ("吉利", "领克", "极氪"), ("geely", "lynk", "zeekr"),
              ("图个吉利", "讨个吉利", "吉利的日子", "吉利日子", "吉利数字", "不吉利")),
    "changan": ({"zh": "长安", "en": "Changan"}, ("长安", "长安汽车", "深蓝", "阿维塔"), ("changan", "deepal", "avatr"),
                ("长安街", "西安")),
}

# Signals that are not script topics.
_DONE = (("试驾完", "试驾了", "已试驾", "试驾过", "试驾后", "刚试驾", "试驾结束", "试完车", "试过车", "开过了"),
         ("test drove", "test-drove", "test driven", "test-driven", "after the test drive", "took a test drive",
          "had a test drive", "did a test drive", "after test drive"))
_TEST_DRIVE = (("试驾", "试车", "试一下", "试试车", "开一下", "体验一下", "到店", "来店", "看车", "去店里", "店里看看"),
               ("test drive", "test-drive", "testdrive", "come in", "visit the store", "visit the showroom",
                "see the car", "drive it"))
_SATISFIED = (("满意", "好开", "很喜欢", "推荐朋友", "介绍朋友", "朋友也想买"),
              ("satisfied", "happy with", "love the car", "loves the car", "recommend", "referral"))

# Negation (see the module docstring).
_ZH_NEGATORS = ("不", "没", "无", "未")
_ZH_REFUSALS = ("不",)
_ZH_INTENT = ("想", "要", "准备", "打算", "预约", "约", "安排", "计划")
_EN_NEGATORS = ("no", "not", "don't", "dont", "doesn't", "didn't", "won't", "never", "without", "haven't",
                "hasn't", "isn't", "aren't", "wasn't", "nor")
_EN_REFUSALS = ("no", "not", "don't", "dont", "won't", "never")
_EN_INTENT = ("want", "wants", "would", "planning", "plan", "going", "will", "book", "booked", "schedule")
_AFTER = ("不需要", "不用", "不考虑", "算了", "没必要", "不感兴趣", "不要了",
          "not needed", "not required", "not necessary", "not interested", "no thanks", "not a concern",
          "not an issue")
_NOT_NEGATION = ("有没有", "是不是", "能不能", "要不要", "会不会", "需不需要", "考不考虑", "可不可以", "好不好", "行不行",
                 "够不够", "划不划算", "值不值", "不错", "不过", "不少", "不仅", "不但", "不管", "无论", "不知道", "不确定",
                 "不清楚", "不了解", "不太懂", "不放心", "不太放心", "不安", "未来", "差不多", "不好意思",
                 "not sure", "not only", "not just", "no matter", "no problem", "no doubt")
_CLAUSE_END = re.compile(r"[。，！？；,.!?;:\n\r…]|但是|但|可是|\bbut\b|\bhowever\b")
_ZH_WINDOW = 5
_EN_WINDOW = 4
_LATIN = "0-9a-z"
_EN_WORD = re.compile(r"[a-z']+")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")


def _is_latin(term: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-z .'\-]+", term))


def _term(term: str) -> str:
    term = _fold(term)
    body = r"[\s\-]*".join(re.escape(part) for part in re.split(r"[\s\-]+", term))
    if _is_latin(term):
        return rf"(?<![{_LATIN}]){body}(?:'?s)?(?![{_LATIN}])"
    return body


def _pattern(terms: Iterable[str]) -> re.Pattern:
    ordered = sorted({_fold(t) for t in terms}, key=lambda t: (-len(t), t))
    return re.compile("|".join(_term(t) for t in ordered) or "(?!)")


_NOT_NEGATION_RE = _pattern(_NOT_NEGATION)
_AFTER_RE = _pattern(_AFTER)


class _Note:
    """A note, folded, with the spans that negate nothing masked out."""

    def __init__(self, text: str):
        self.text = _fold(text)
        self.masked = _NOT_NEGATION_RE.sub(lambda m: "\x00" * len(m.group()), self.text)

    def _clause(self, start: int, end: int) -> tuple[int, int]:
        before = [m.end() for m in _CLAUSE_END.finditer(self.text, 0, start)]
        after = _CLAUSE_END.search(self.text, end)
        return (before[-1] if before else 0), (after.start() if after else len(self.text))

    def negated(self, start: int, end: int, zh_cues, en_cues) -> bool:
        first, last = self._clause(start, end)
        window = self.masked[max(first, start - _ZH_WINDOW):start]
        if any(cue in window for cue in zh_cues):
            return True
        words = _EN_WORD.findall(self.masked[first:start])[-_EN_WINDOW:]
        if any(word in en_cues for word in words):
            return True
        return bool(_AFTER_RE.search(self.masked[end:min(last, end + 12)]))

    def find(self, pattern: re.Pattern, exclude: re.Pattern | None = None, *, zh_cues=_ZH_NEGATORS,
             en_cues=_EN_NEGATORS) -> str | None:
        """The first mention that is not excluded nor negated, as written in the note."""
        spans = [m.span() for m in exclude.finditer(self.text)] if exclude else []
        for m in pattern.finditer(self.text):
            if any(s <= m.start() and m.end() <= e for s, e in spans):
                continue
            if self.negated(m.start(), m.end(), zh_cues, en_cues):
                continue
            return m.group().strip()
        return None

    def only_negated(self, pattern: re.Pattern, exclude: re.Pattern | None = None) -> bool:
        """Whether the note mentions ``pattern`` only negated ("不需要贷款"): the note overrules a trait."""
        spans = [m.span() for m in exclude.finditer(self.text)] if exclude else []
        mentions = [m for m in pattern.finditer(self.text)
                    if not any(s <= m.start() and m.end() <= e for s, e in spans)]
        return bool(mentions) and all(self.negated(m.start(), m.end(), _ZH_NEGATORS, _EN_NEGATORS)
                                      for m in mentions)


_TOPIC_RE = {t.key: (_pattern(t.zh + t.en), _pattern(t.exclude) if t.exclude else None) for t in TOPICS}
_BRAND_RE = {key: (_pattern(zh + en), _pattern(ex) if ex else None) for key, (_, zh, en, ex) in COMPETITORS.items()}
_DONE_RE = _pattern(_DONE[0] + _DONE[1])
_TEST_DRIVE_RE = _pattern(_TEST_DRIVE[0] + _TEST_DRIVE[1])
_SATISFIED_RE = _pattern(_SATISFIED[0] + _SATISFIED[1])
_TOPICS = {t.key: t for t in TOPICS}


@dataclass
class _Evidence:
    topic: Topic
    source: str            # "note" or "trait"
    word: str              # the note's word, or the trait id
    brand: str | None = None

    def reason(self) -> str:
        label = self.topic.label["en"]
        if self.brand:
            label = COMPETITORS[self.brand][0]["en"]
        if self.source == "note":
            return f"the note mentions {self.word} ({label})"
        return f"the profile has the trait {self.word} ({label})"


def _own(own_brands: Iterable[str]) -> set[str]:
    own = {_fold(b).strip() for b in own_brands or () if isinstance(b, str)}
    out = set()
    for key, (names, zh, en, _) in COMPETITORS.items():
        words = {key, _fold(names["zh"]), _fold(names["en"]), *(_fold(w) for w in zh + en)}
        if own & words:
            out.add(key)
    return out


def _from_note(note: _Note, own: set[str]) -> list[_Evidence]:
    found = []
    for topic in TOPICS:
        if topic.key == "competitor":
            for key, (pattern, exclude) in _BRAND_RE.items():
                if key in own:
                    continue
                word = note.find(pattern, exclude)
                if word:
                    found.append(_Evidence(topic, "note", word, key))
                    break
            else:
                word = note.find(*_TOPIC_RE["competitor"])
                if word:
                    found.append(_Evidence(topic, "note", word))
            continue
        word = note.find(*_TOPIC_RE[topic.key])
        if word:
            found.append(_Evidence(topic, "note", word))
    return found


def _from_traits(traits: Iterable[str], own: set[str]) -> list[_Evidence]:
    ids = []
    for trait in traits or ():
        if isinstance(trait, str) and trait.strip():
            ids.append(trait.strip().lower())
    found = []
    for topic in TOPICS:
        if topic.key == "competitor":
            hit = next((t for t in ids if t.startswith("competitor:") and t.split(":", 1)[1] not in own), None)
            if hit:
                brand = hit.split(":", 1)[1]
                found.append(_Evidence(topic, "trait", hit, brand if brand in COMPETITORS else None))
        elif topic.trait in ids:
            found.append(_Evidence(topic, "trait", topic.trait))
    return found


def _addresses(template: dict, trait: str | None, brand: str | None) -> bool:
    if trait is None:
        return False
    addresses = template.get("addresses") or ()
    if trait == "competitor:*":
        return "competitor:*" in addresses or (brand is not None and f"competitor:{brand}" in addresses)
    return trait in addresses


def _pick(library: list[dict], stage: str, *, situations: tuple[str, ...] = (), evidence: _Evidence | None = None,
          channel: str | None = None, template_id: str | None = None) -> dict | None:
    fitting = [t for t in library if _scripts.fits(t, stage)]

    def best(candidates):
        if channel:
            preferred = [t for t in candidates if channel in (t.get("channels") or ())]
            if preferred:
                return preferred[0]
        return candidates[0] if candidates else None

    if template_id:
        chosen = next((t for t in fitting if t.get("id") == template_id), None)
        if chosen:
            return chosen
    if evidence is not None:
        addressing = [t for t in fitting if _addresses(t, evidence.topic.trait, evidence.brand)]
        chosen = best([t for t in addressing if t.get("situation") in situations]) or best(addressing)
        if chosen:
            return chosen
    for situation in situations:
        chosen = best([t for t in fitting if t.get("situation") == situation])
        if chosen:
            return chosen
    return None


def _topic_script(library, stage, evidence: _Evidence) -> dict | None:
    return _pick(library, stage, evidence=evidence, situations=(evidence.topic.situation,))


def _topic_action(topic: Topic, stage: str) -> str:
    if topic.key in ("price", "finance"):
        return "quote" if stage in ("proposal", "negotiation") else "call"
    if topic.concern or topic.key == "nev":
        return "wechat"
    return "call"


_STAGE_DEFAULTS = {
    "initial_contact": ("call", ("first_contact", "needs_discovery")),
    "needs_confirmed": ("call", ("product_introduction", "needs_discovery", "store_invitation")),
    "proposal": ("quote", ("quote_followup", "store_invitation", "product_introduction")),
    "negotiation": ("call", ("quote_followup", "objection_price")),
    "after_sales": ("call", ("after_sales",)),
}


def next_step(stage: str, grade: str, traits: list[str] | None, notes: str | None, last_outcome: str | None,
              library: list[dict] | None = None, *, no_answers: int | None = None,
              own_brands: Iterable[str] = (), language: str = "zh") -> dict:
    """The suggested next step; see the module docstring for the rules.

    ``no_answers``: unanswered attempts in a row including the last (default:
    1 when ``last_outcome`` is ``no_answer``, else 0). ``own_brands``: the
    store's brands, never competitors. ``language`` ("zh" or "en"): of the
    ``values`` filled from the evidence. Raises ``ValueError`` for an unknown
    stage.
    """
    if stage not in _scripts.STAGES:
        raise ValueError(f"unknown stage {stage!r} (known: {', '.join(_scripts.STAGES)})")
    library = _scripts.library() if library is None else list(library)
    grade = (grade or "N").strip().upper() if isinstance(grade, str) else "N"
    outcome = last_outcome if last_outcome in OUTCOMES else None
    lang = "en" if str(language or "zh").lower().startswith("en") else "zh"
    streak = 0
    if outcome == "no_answer":
        streak = max(1, no_answers if type(no_answers) is int else 1)
    cadence = CADENCE_DAYS.get(grade, DEFAULT_CADENCE)
    own = _own(own_brands)
    note = _Note(notes if isinstance(notes, str) else "")
    from_note = _from_note(note, own)
    in_note = {e.topic.key for e in from_note}
    from_traits = [e for e in _from_traits(traits, own) if e.topic.key not in in_note
                   and not (e.topic.key != "competitor" and note.only_negated(*_TOPIC_RE[e.topic.key]))]
    evidence = from_note + from_traits
    trait_ids = {t.strip().lower() for t in traits or () if isinstance(t, str)}

    why: list[str] = []
    used: _Evidence | None = None
    template = None

    def cadence_reason(days: int) -> str:
        return f"grade {grade}: next contact in {days} day{'s' if days != 1 else ''}"

    if grade == "F":
        action, in_days = "wechat", 30
        template = _pick(library, stage, situations=("reactivation", "nurture"), channel="wechat")
        why.append("grade F (lost): a light touch in a month to win the customer back")
    elif stage == "after_sales" or grade == "O":
        satisfied = note.find(_SATISFIED_RE)
        if outcome is None:
            action, in_days = "call", 1
            template = _pick(library, stage, template_id="after_sales_delivery_care", situations=("after_sales",),
                             channel="call")
            why.append(f"stage {stage}, grade {grade}: call the day after delivery to check all is well")
        elif satisfied:
            action, in_days = "wechat", 1
            template = _pick(library, stage, template_id="after_sales_referral", situations=("after_sales",))
            why.append(f"the note says the customer is happy ({satisfied}): ask for a referral")
        else:
            action, in_days = "wechat", 30
            template = _pick(library, stage, template_id="after_sales_maintenance_reminder",
                             situations=("after_sales",), channel="wechat")
            why.append(f"stage {stage}: keep in touch; remind of the next service")
    elif outcome == "refused":
        action, in_days = "wechat", max(14, cadence)
        template = _pick(library, stage, situations=("nurture",), channel="wechat")
        why.append(f"last outcome refused: no pressure, a WeChat message in {in_days} days")
    elif streak >= 2:
        action = "sms" if stage == "initial_contact" else "wechat"
        in_days = 0
        template = _pick(library, stage, situations=("unreachable",), channel=action)
        why.append(f"no answer {streak} times in a row: leave a {'text' if action == 'sms' else 'WeChat'} "
                   "message instead of calling again")
    elif outcome == "appointment":
        action, in_days = "test_drive", 0
        template = _pick(library, stage, situations=("test_drive_confirmation", "store_invitation"))
        why.append("last outcome appointment: confirm the time, the address and the driving licence today")
    elif outcome == "test_drive_done" or note.find(_DONE_RE, zh_cues=_ZH_NEGATORS + _ZH_INTENT,
                                                  en_cues=_EN_NEGATORS + _EN_INTENT):
        action, in_days = "call", 1
        template = _pick(library, stage, situations=("after_test_drive",), channel="call")
        if outcome == "test_drive_done":
            why.append("last outcome test_drive_done: ask how it went the next day")
        else:
            word = note.find(_DONE_RE, zh_cues=_ZH_NEGATORS + _ZH_INTENT, en_cues=_EN_NEGATORS + _EN_INTENT)
            why.append(f"the note says the customer test drove ({word}): ask how it went the next day")
    else:
        action = in_days = None
        interest = note.find(_TEST_DRIVE_RE, zh_cues=_ZH_REFUSALS, en_cues=_EN_REFUSALS)
        if (interest or "test_drive" in trait_ids) and stage in ("initial_contact", "needs_confirmed", "proposal"):
            template = _pick(library, stage, situations=("store_invitation",))
            if template:
                action, in_days = "invitation", min(cadence, 2)
                source = f"the note mentions {interest}" if interest else "the lead asked for a test drive"
                why.append(f"stage {stage} and test-drive interest ({source}): invite the customer to the store")
        if template is None:
            for item in evidence:
                template = _topic_script(library, stage, item)
                if template:
                    used = item
                    action = _topic_action(item.topic, stage)
                    fresh = item.source == "note" and action == "wechat"
                    in_days = 0 if fresh else cadence
                    why.append(item.reason() + (": send the answer today, while the question is fresh"
                                                if fresh else ""))
                    break
        if template is None:
            action, situations = _STAGE_DEFAULTS[stage]
            if stage == "initial_contact" and outcome == "reached":
                situations = ("needs_discovery", "first_contact")
            template = _pick(library, stage, situations=situations, channel=action)
            in_days = 0 if stage == "initial_contact" and outcome is None else cadence
            why.append(f"stage {stage}, nothing more specific in the note or the profile"
                       + (": the customer has not been reached yet, call now" if in_days == 0 else ""))
        if in_days and in_days == cadence and streak != 1:
            why.append(cadence_reason(in_days))

    if streak == 1 and grade != "F":
        action = "call"
        in_days = 0 if grade in ("H", "A", "N") else 1
        why.append(f"no answer: call again {'later today' if in_days == 0 else 'tomorrow'}, at another time of day")

    if template is None:  # the stage's default, else anything for the stage
        _, situations = _STAGE_DEFAULTS[stage]
        template = _pick(library, stage, situations=situations) or next(
            (t for t in library if _scripts.fits(t, stage)), None)

    # other evidence: alternatives, and a reason each
    alternatives: list[str] = []
    chosen_id = template.get("id") if template else None
    for item in evidence:
        if item is used:
            continue
        other = _topic_script(library, stage, item)
        if other and other.get("id") != chosen_id and other["id"] not in alternatives:
            if len(alternatives) < MAX_ALTERNATIVES:
                alternatives.append(other["id"])
                why.append(f"also: {item.reason()} -> {other['id']}")

    values = {}
    concern = next((e for e in evidence if e.topic.concern), None)
    if concern:
        values["concern"] = concern.topic.label[lang]
    competitor = next((e for e in evidence if e.topic.key == "competitor" and e.brand), None)
    if competitor:
        values["competitor"] = COMPETITORS[competitor.brand][0][lang]

    return {"action": action, "in_days": int(in_days), "script_id": chosen_id, "why": why, "values": values,
            "alternatives": alternatives}
