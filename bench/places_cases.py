"""The labelled place set: hand-written cases and cases written by the demo's text generator.

Hand-written cases give the expected place as a path of short names ("夏县/裴介镇/朱吕村") so that no
code is typed by hand; ``None`` means the text names no place (or none surely). A name shared by
several regions with nothing to tell them apart expects their common region (周家庄村 → 尧都区).

Generated cases: ``hotline.demo.texts.compose`` writes a request about a place the way the demo
does (the county, township and village short names, in the generator's own mixes: full chain, town
and village, village alone, town and road number...), so the expected code is the place it was given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hotline.demo import texts
from hotline.directory.loader import read_csv
from hotline.directory.reference import Snapshot

HAND: list[tuple[str, str | None]] = [
    # the examples
    ("夏县裴介镇朱吕村村东的供水闸阀井漏水了", "夏县/裴介镇/朱吕村"),
    ("裴介镇朱吕村停水", "夏县/裴介镇/朱吕村"),
    # full chains, varied phrasing
    ("来电人反映夏县庙前镇吴村的自来水已经三天没来了", "夏县/庙前镇/吴村"),
    ("我是黎城县西井镇岭头村的村民，村里的路灯坏了一个多月", "黎城县/西井镇/岭头村"),
    ("尧都区屯里镇沟上村垃圾没人清运", "尧都区/屯里镇/沟上村"),
    ("山西省运城市夏县禹王镇郭里村有人在河道里采砂", "夏县/禹王镇/郭里村"),
    ("临汾市尧都区乔李镇南麻村小麦补贴没发放", "尧都区/乔李镇/南麻村"),
    # township and village, no county
    ("水头镇洛沱湾村的桥塌了一半", "夏县/水头镇/洛沱湾村"),
    ("埝掌镇东下冯村有人焚烧秸秆，烟很大", "夏县/埝掌镇/东下冯村"),
    ("西仵镇赵店村低保评定不公平", "黎城县/西仵镇/赵店村"),
    ("在一平垣乡赤河村，山上有人乱砍树", "尧都区/一平垣乡/赤河村"),
    # village alone (unique, 3+ characters)
    ("朱吕村村东的闸阀井漏水", "夏县/裴介镇/朱吕村"),
    ("洛沱湾村的路面塌陷了", "夏县/水头镇/洛沱湾村"),
    ("火巷道村的自来水浑浊发黄", "黎城县/东阳关镇/火巷道村"),
    ("核桃凹村通往镇上的班车停了", "尧都区/一平垣乡/核桃凹村"),
    # committee full names and bare stems next to a parent
    ("朱吕村委会门口的路灯不亮", "夏县/裴介镇/朱吕村"),
    ("朱吕村民委员会不给开证明", "夏县/裴介镇/朱吕村"),
    ("裴介朱吕村那边停水了", "夏县/裴介镇/朱吕村"),
    ("黎侯镇鼓楼社区居委会门前积水", "黎城县/黎侯镇/鼓楼社区"),
    # township only
    ("夏县瑶峰镇中街小区3号楼楼道灯坏了", "夏县/瑶峰镇"),
    ("裴介镇政府附近的路口红绿灯不亮", "夏县/裴介镇"),
    ("祁家河乡的信号很差，打不通电话", "夏县/祁家河乡"),
    ("稷山县翟店镇的集市占道经营", "稷山县/翟店镇"),
    ("风陵渡镇有货车超载", "芮城县/风陵渡镇"),
    ("解州镇关帝庙门口停车乱收费", "盐湖区/解州镇"),
    ("我在解放路街道办事处门口等了一上午没人办事", "尧都区/解放路街道"),
    # county only, with and without suffix
    ("夏县县城的出租车不打表", "夏县"),
    ("盐湖区解放路123号的饭店油烟扰民", "盐湖区"),
    ("盐湖这边的公交车太少了", "盐湖区"),
    ("永济的冬季供暖什么时候开始", "永济市"),
    ("河津市人社局的电话一直没人接", "河津市"),
    ("我想咨询一下新绛县的医保报销政策", "新绛县"),
    ("绛县城区有一段路的井盖丢了", "绛县"),
    ("闻喜县城东边的工地夜间施工", "闻喜县"),
    # 2-character village names: only with a parent
    ("胡张乡王村的自来水管爆了", "夏县/胡张乡/王村"),
    ("黎侯镇陈村的学校门口车太多", "黎城县/黎侯镇/陈村"),
    ("瑶峰镇陈村停电了", "夏县/瑶峰镇/陈村"),
    ("庙前镇西村的水渠堵了", "夏县/庙前镇/西村"),
    # the same village name in two townships: decided by the town or the county mentioned
    ("水头镇西张村的路灯不亮", "夏县/水头镇/西张村"),
    ("段店乡西张村的路灯不亮", "尧都区/段店乡/西张村"),
    ("夏县新庄村的村民反映饮水困难", "夏县/祁家河乡/新庄村"),
    ("黎城县新庄村的村民反映饮水困难", "黎城县/西井镇/新庄村"),
    ("尧都区河南村的麦地被淹", "尧都区/金殿镇/河南村"),
    # shared names with nothing to decide: the common region, or nothing
    ("周家庄村的路灯坏了", "尧都区"),
    ("岭上村的小学没有暖气", "尧都区"),
    ("西张村的路灯不亮", None),
    ("河南村的麦地被淹了", None),
    # no place, and words that look like places
    ("我想咨询一下养老保险怎么续交", None),
    ("全村停水三天了，请尽快处理", None),
    ("小区门口的超市卖过期食品", None),
    ("东西村口都堆满了垃圾", None),
    ("新华书店旁边的路灯坏了", None),
    ("反映一下，单位拖欠工资两个月了", None),
    ("河南来的货车在路边乱停", None),
    # distractors around a real place
    ("鑫福超市在夏县瑶峰镇南关村，卖的猪肉有问题", "夏县/瑶峰镇/南关村"),
    ("从运城市区开车到夏县泗交镇窑头村的路被冲断了", "夏县/泗交镇/窑头村"),
    ("夏县水利局不管裴介镇大吕村的机井", "夏县/裴介镇/大吕村"),
]


@dataclass(frozen=True)
class Case:
    text: str
    expected: str | None  # region code
    source: str  # "hand" or "generated"


def reference_snapshot() -> Snapshot:
    """The shipped region tree (what ``hotline init`` loads) as a reference snapshot."""
    regions = {r["code"]: (r["short_name"], int(r["level"]), r["parent_code"] or None) for r in read_csv("regions.csv")}
    return Snapshot(0.0, None, [], regions=regions)  # type: ignore[arg-type]


def _by_path(snap: Snapshot) -> dict[str, str]:
    """'夏县/裴介镇/朱吕村' (and '夏县/裴介镇', '夏县') -> code."""
    out: dict[str, str] = {}
    for code, (_name, level, _parent) in snap.regions.items():
        if level < 3:
            continue
        names, c = [], code
        while c is not None and snap.regions[c][1] >= 3:
            names.append(snap.regions[c][0])
            c = snap.regions[c][2]
        out["/".join(reversed(names))] = code
    return out


def hand_cases(snap: Snapshot) -> list[Case]:
    paths = _by_path(snap)
    return [Case(text, paths[path] if path else None, "hand") for text, path in HAND]


def generated_cases(snap: Snapshot, n: int, seed: int = 5) -> list[Case]:
    """``n`` demo request texts, each about a place drawn over every township and village."""
    rng = random.Random(seed)
    regions = snap.regions
    places: list[tuple[str, texts.Place]] = []
    for code, (name, level, parent) in regions.items():
        if level == 4 and parent is not None:
            places.append((code, texts.Place(regions[parent][0], name, None)))
        elif level == 5 and parent is not None:
            town = regions[parent]
            if town[2] is not None:
                places.append((code, texts.Place(regions[town[2]][0], town[0], name)))
    places.sort()
    out = []
    for _ in range(n):
        code, place = rng.choice(places)
        text = texts.compose(rng, place, style=rng.choice(texts.STYLES))
        out.append(Case(text.content, code, "generated"))
    return out
