"""The paraphrase set of ``bench/duplicates.py``: the same problem told by different callers, mixed
with different problems at the same place.

* :data:`GROUPS`: hand-written problems at real villages of 夏县 (codes of
  ``directory/data/regions.csv``), each told 3 to 5 times, in the words of different callers (an
  agent's record, a caller's own words, a short angry call, a web form). Several problems share a
  village and a leaf category on purpose (the hard negatives: the leak at the east well and no water
  at the school are both 供水 at 朱吕村 and are not the same problem).
* :data:`LONERS`: a new problem at a place where another one is open (same village, same category)
  and no earlier ticket on it: nothing should be offered.
* :func:`generated`: more groups from the demo text generator (``compose`` and ``paraphrase``) for
  volume, at random villages of the county, the same leaf category often reused in one village.

:func:`split` puts each group in ``dev`` or ``test`` by its key (a stable hash), so the threshold
chosen on ``dev`` is reported on ``test``.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

ZHULV, PEIJIE, DALV = "140828102207", "140828102200", "140828102201"
CHENGDONG, CHENGXI, NANGUAN = "140828100001", "140828100002", "140828100200"
ZHANGGUO, WUCUN = "140828101205", "140828101207"
SHUITOU, NANQIAO = "140828103200", "140828103201"


@dataclass(frozen=True)
class Group:
    key: str
    region_code: str
    category_code: str
    texts: tuple[str, ...]  # the first is the ticket already open; the others the later calls
    meta: tuple = ()  # generated: the template, so that no other problem is drawn from it there


def _g(key: str, region: str, category: str, *texts: str) -> Group:
    return Group(key, region, category, texts)


GROUPS: list[Group] = [
    # ---- 供水 at 朱吕村: four different problems, same village, mostly the same category
    _g("zhulv-east-valve", ZHULV, "0103",
       "夏县裴介镇朱吕村村东的供水闸阀井漏水了，整个供水站停水，附近几个村都没水吃，请尽快派人抢修。",
       "朱吕村东头那个阀门井一直往外冒水，供水站都停了，我们村和旁边村都没水了。",
       "来电人反映朱吕村村东供水闸阀井跑水严重，导致供水站停止供水，周边村庄吃水困难，要求尽快维修。",
       "村东边闸阀井漏水好几天了，水站停水，全村没水做饭，赶紧来人修一下！"),
    _g("zhulv-school-nowater", ZHULV, "0101",
       "朱吕村小学从前天开始停水，学生没水洗手，厕所也冲不了，希望尽快恢复供水。",
       "我是朱吕村小学的老师，学校这两天一直没有自来水，孩子们上厕所都成问题。",
       "来电人称朱吕村学校停水两天，师生饮水和如厕困难，请供水部门查明原因。"),
    _g("zhulv-west-burst", ZHULV, "0103",
       "朱吕村西头马路边的自来水主管道爆了，水漫到路面上，过往车辆都不好走。",
       "朱吕村村西公路旁边供水管子破裂，水流得满马路都是，车过不去。",
       "反映朱吕村西边路边水管爆裂，路面积水成河，请自来水公司抢修。",
       "村西大路边上的水管崩了，路上全是水，骑电动车差点滑倒。"),
    _g("zhulv-yellow-water", ZHULV, "0102",
       "朱吕村最近一周自来水发黄，有铁锈味，烧开后有沉淀，担心水质有问题。",
       "我们朱吕村的自来水这几天颜色黄黄的，还有股锈味，不敢喝。",
       "来电人反映朱吕村自来水浑浊发黄，有异味，请相关部门检测水质。"),
    # ---- 供电 at 裴介村
    _g("peijie-transformer", PEIJIE, "0201",
       "裴介村北头变压器昨晚冒烟后就停电了，到现在十几户还没来电，冰箱里的东西都坏了。",
       "裴介村村北的变压器烧了，昨天晚上开始停电，到现在都没修好。",
       "来电人称裴介村北边变压器烧毁，附近十多户停电一整夜，要求供电所尽快抢修。",
       "村北那台变压器冒烟以后我们这片就没电了，啥时候能来电？"),
    _g("peijie-low-voltage", PEIJIE, "0202",
       "裴介村南片这个月一到晚上电压就低，灯泡发暗，空调和水泵都带不动。",
       "我家在裴介村南边，晚上电压特别低，电饭锅做不熟饭，水泵也抽不上水。",
       "来电人反映裴介村村南晚间电压不稳偏低，家用电器无法正常使用，请供电部门处理。"),
    _g("peijie-pole-tilt", PEIJIE, "0203",
       "裴介村小学门口的电线杆被车撞歪了，电线垂得很低，孩子上下学很危险。",
       "裴介村学校大门口那根电杆歪了，线都快耷拉到地上了，太危险了。",
       "来电人称裴介村小学门前电杆倾斜，线路下垂，存在触电隐患，请尽快处理。"),
    _g("peijie-dangling-wire", PEIJIE, "0203",
       "裴介村东边麦地里有一根电线断了掉在地上，浇地的人不敢过去。",
       "裴介村村东地里电线断了落在田里，怕漏电伤人，请供电所来看看。",
       "我们村东头地里有根断的电线躺在地上，浇地都不敢下地了。"),
    # ---- 供暖 at 城东社区 (two buildings, same category)
    _g("chengdong-heating-3", CHENGDONG, "0302",
       "城东社区幸福小区3号楼暖气一直不热，室内只有十二度，老人孩子都冻感冒了。",
       "幸福小区三号楼的暖气片摸着是凉的，家里才十来度，找物业也没用。",
       "来电人反映城东幸福小区3号楼供暖温度不达标，室温仅12度左右，要求供热公司解决。",
       "3号楼暖气不热！交了取暖费屋里跟冰窖一样，到底管不管？"),
    _g("chengdong-heating-leak", CHENGDONG, "0302",
       "城东社区幸福小区7号楼地下室暖气管道漏水，热水流了一地，楼道里全是蒸汽。",
       "幸福小区7号楼地下室供暖管子破了，一直往外喷热水，楼道里雾气腾腾的。",
       "来电人称幸福小区七号楼地下室暖气管网破裂漏水，请供热单位尽快维修。"),
    _g("chengdong-garbage", CHENGDONG, "0501",
       "城东社区菜市场旁边的垃圾箱好几天没人清运，垃圾堆满了溢到路上，臭味很大。",
       "菜市场边上那个垃圾点都满出来了，好几天没人拉，苍蝇到处飞。",
       "来电人反映城东社区菜市场附近垃圾未及时清运，堆积外溢，影响环境卫生。",
       "菜市场门口垃圾堆成山了，环卫怎么不来拉？"),
    # ---- 噪声 at 城西社区 (three different sources)
    _g("chengxi-square-dance", CHENGXI, "0601",
       "城西社区文化广场每天晚上跳广场舞放音乐到十点多，声音特别大，影响休息。",
       "城西文化广场那边跳舞的音响太吵了，晚上十点还不停，孩子没法写作业。",
       "来电人反映城西社区广场舞音响音量过大、时间过晚，严重扰民，请相关部门协调。"),
    _g("chengxi-night-construction", CHENGXI, "0601",
       "城西社区锦绣花园旁边的工地半夜还在施工，搅拌车和打桩声吵得睡不着觉。",
       "锦绣花园边上那个工地晚上十二点还在打桩，轰隆隆的，一宿没睡好。",
       "来电人称锦绣花园附近建筑工地夜间违规施工，噪音扰民，请执法部门查处。",
       "半夜工地还在干活，锦绣花园这边的人都被吵醒了，有没有人管？"),
    _g("chengxi-bbq-noise", CHENGXI, "0601",
       "城西社区步行街那家烧烤店每天营业到凌晨两三点，客人喝酒划拳大声喧哗。",
       "步行街烧烤摊晚上客人吵吵闹闹到后半夜，楼上住户都睡不了。",
       "来电人反映步行街烧烤店夜间经营喧哗扰民至凌晨，要求处理。"),
    # ---- 道路 at 南关村
    _g("nanguan-pothole", NANGUAN, "0701",
       "南关村口通往县城的路上有个大坑，下雨积水看不见，已经有好几个骑电动车的摔倒了。",
       "南关村村口那条路中间塌了个大坑，雨天一积水根本看不出来，昨天又有人摔了。",
       "来电人反映南关村村口道路路面塌陷形成深坑，雨后积水，存在安全隐患，请尽快修补。",
       "村口路上那个坑啥时候填？又摔了一个骑车的老人！"),
    _g("nanguan-streetlight", NANGUAN, "0701",
       "南关村到县城这段路的路灯坏了一大半，晚上黑乎乎的，走路很不安全。",
       "南关村去县城的路晚上没有路灯，好多灯都不亮了，下夜班回家很害怕。",
       "来电人称南关村至县城道路路灯多处损坏不亮，夜间出行不便，请修复。"),
    _g("nanguan-wages", NANGUAN, "0801",
       "在南关村砖厂干了半年活，老板拖欠二十多个工人工资共计十五万元，一直不给。",
       "南关砖厂老板欠我们工钱半年了，二十几个人十几万块，找他就躲。",
       "来电人反映南关村砖厂拖欠农民工工资约15万元，涉及20余人，请劳动监察部门介入。",
       "砖厂不给发工资，我们二十多个工人过年都回不了家，求政府帮忙讨薪。"),
    _g("nanguan-wages-restaurant", NANGUAN, "0801",
       "我在南关村一家饭店当服务员，辞职已经两个月了，老板还欠我三千块钱工资不给。",
       "南关村那家饭店老板欠我三个月工资三千元，辞职后一直拖着不结。",
       "来电人称在南关村某饭店务工，离职后被拖欠工资3000元，请求帮助追讨。"),
    # ---- 张郭店村
    _g("zhangguo-road-broken", ZHANGGUO, "0704",
       "张郭店村到薛庄村的村道被大货车压坏了，到处是坑，下雨全是泥，孩子上学很难走。",
       "张郭店去薛庄的那条村路被拉土车压烂了，坑坑洼洼，雨天没法走。",
       "来电人反映张郭店村至薛庄村农村公路被重车碾压损毁严重，请交通部门修复。"),
    _g("zhangguo-bridge", ZHANGGUO, "0704",
       "张郭店村南边小河上的便桥桥面裂了，护栏也掉了，每天很多学生从这过。",
       "张郭店村南头那座小桥桥面开裂，栏杆也没了，娃们上学天天走，太危险。",
       "来电人称张郭店村南小河便桥桥面开裂、护栏缺失，存在安全隐患，要求维修。",
       "村南小桥都裂缝了栏杆也掉了，出了事谁负责？"),
    _g("zhangguo-straw-burning", ZHANGGUO, "0604",
       "张郭店村西边地里有人焚烧秸秆，烟很大，呛得人喘不过气，高速路上都看不清了。",
       "张郭店村西头有人在地里烧麦秸，浓烟滚滚，路上车都看不清。",
       "来电人反映张郭店村西农田有焚烧秸秆现象，烟雾较大，影响交通和空气。"),
    # ---- 吴村
    _g("wucun-pigfarm", WUCUN, "0603",
       "吴村东边养猪场把粪水直接排到河沟里，河水发黑发臭，夏天苍蝇蚊子特别多。",
       "吴村村东猪场的粪水往沟里排，整条沟都黑了，臭得开不了窗。",
       "来电人反映吴村东侧养殖场污水直排河沟，水体黑臭，请环保部门查处。",
       "养猪场天天往河里放粪水，臭死了，环保局管不管？"),
    _g("wucun-factory-smoke", WUCUN, "0602",
       "吴村北边的铸造厂晚上偷偷排黑烟，一股刺鼻的味道，晾的衣服都是黑点。",
       "吴村北头铸造厂一到晚上就冒黑烟，呛得嗓子疼，衣服都不敢晒外面。",
       "来电人称吴村北侧铸造企业夜间排放黑烟、气味刺鼻，请生态环境部门查处。"),
    _g("wucun-subsidy", WUCUN, "1202",
       "吴村今年的耕地地力保护补贴别的村都发了，我们村到现在还没到账，想问问怎么回事。",
       "我是吴村的，今年种地补贴还没收到，别的村早就发了。",
       "来电人咨询吴村耕地地力保护补贴未发放原因，其他村已到账。"),
    _g("wucun-wages-construction", WUCUN, "0801",
       "在吴村盖安置房的工地干活，包工头欠了我们八个人四万多工资，人跑了联系不上。",
       "吴村安置房工地的包工头欠我们工钱四万多块，现在电话也打不通了。",
       "来电人反映吴村安置房项目包工头拖欠8名工人工资4万余元后失联，请求介入。"),
    # ---- 水头村 / 南乔村
    _g("shuitou-school-fee", SHUITOU, "0902",
       "水头村中学这学期让每个学生交二百元资料费，说是自愿，其实不交就不给发书。",
       "水头中学又收资料费了，一个学生二百，不交不让领书，这不合理吧。",
       "来电人反映水头村中学以资料费名义向每名学生收取200元，变相强制收费。"),
    _g("shuitou-school-crossing", SHUITOU, "0903",
       "水头村中学门口没有斑马线也没有减速带，大车开得很快，学生放学过马路太危险。",
       "水头中学大门口的路车速太快，连个斑马线都没有，娃娃过马路提心吊胆。",
       "来电人建议在水头村中学门前道路设置人行横道和减速带，保障学生安全。"),
    _g("shuitou-food", SHUITOU, "1101",
       "在水头村一家超市买的牛奶过期了半个月还在卖，孩子喝了拉肚子。",
       "水头村那个超市卖过期牛奶，我家孩子喝完就拉肚子了。",
       "来电人反映水头村某超市销售过期乳制品，其子饮用后腹泻，要求查处。",
       "超市卖过期奶，过期半个月了还摆在货架上，市场监管的来查查吧。"),
    _g("nanqiao-nowater", NANQIAO, "0101",
       "南乔村已经停水三天了，也没有通知什么时候来水，村里老人只能去井里挑水。",
       "南乔村连着三天没水了，也没人说啥时候恢复，吃水全靠去别的村拉。",
       "来电人反映南乔村停水三天且无停水通知，群众生活用水困难，请尽快恢复供水。",
       "我们南乔村停水都三天了！到底什么时候来水？"),
    _g("nanqiao-water-fee", NANQIAO, "0104",
       "南乔村这个月水费一下涨到一百多块，平时才二十多，怀疑水表坏了。",
       "南乔村我家这个月水费比平时多了好几倍，一百多块，水表是不是有问题？",
       "来电人称南乔村本月水费异常偏高，疑似水表故障，要求核查。"),
    _g("nanqiao-stray-dogs", NANQIAO, "1301",
       "南乔村最近有一群野狗在村里乱窜，已经咬伤了两个小孩，晚上都不敢出门。",
       "南乔村好多流浪狗，前几天把邻居家孩子咬了，太吓人了。",
       "来电人反映南乔村流浪犬聚集伤人，已有两名儿童被咬伤，请相关部门处理。"),
    _g("dalv-heating-gas", DALV, "0301",
       "大吕村煤改气以后燃气管道一直没通气，冬天到了家里没法取暖。",
       "大吕村的天然气管子早就装好了，到现在都没通气，屋里冷得不行。",
       "来电人反映大吕村煤改气工程完工后迟迟未通气，群众冬季取暖困难。"),
    _g("dalv-gas-smell", DALV, "0301",
       "大吕村东街燃气管道附近有很浓的煤气味，怕是漏气了，请燃气公司赶紧来看。",
       "大吕村东街那边闻到一股煤气味，像是管子漏了，挺吓人的。",
       "来电人称大吕村东街燃气管线附近有明显燃气异味，疑似泄漏，请立即排查。",
       "东街煤气味特别大，是不是漏气了？快来人！"),
]

LONERS: list[Group] = [  # new problems where another one is open: nothing should be offered
    _g("zhulv-meter-fee", ZHULV, "0104", "朱吕村我家新装的水表开户要交八百块，问一下收费标准是多少。"),
    _g("zhulv-north-pipe", ZHULV, "0103", "朱吕村北头新修的水泥路下面水管渗水，路面鼓起来一个包。"),
    _g("peijie-power-bill", PEIJIE, "0204", "裴介村我家电费这两个月特别高，比去年多了一倍，想查一下电表。"),
    _g("peijie-outage-notice", PEIJIE, "0201", "裴介村明天要计划停电吗？我家要做手术的老人需要用制氧机。"),
    _g("chengdong-heating-fee", CHENGDONG, "0302", "城东社区幸福小区暖气费今年怎么涨价了，收费标准是什么？"),
    _g("chengxi-dog-barking", CHENGXI, "0601", "城西社区邻居家养的狗整夜叫个不停，说了好几次也不管。"),
    _g("nanguan-bus", NANGUAN, "0701", "南关村口的水泥路边排水沟堵了，下雨路面全是积水。"),
    _g("nanguan-social-insurance", NANGUAN, "0801", "南关村物流公司老板让我们签自愿放弃社保的协议，不签就扣工资。"),
    _g("wucun-dust", WUCUN, "0602", "吴村南边的石料厂粉尘很大，整天灰蒙蒙的，庄稼叶子上都是灰。"),
    _g("shuitou-canteen", SHUITOU, "1101", "水头村中学食堂的饭菜里吃出了虫子，学生好几个肚子疼。"),
    _g("nanqiao-low-pressure", NANQIAO, "0102", "南乔村这段时间水压太小了，二楼根本上不去水。"),
    _g("dalv-heating-price", DALV, "0301", "大吕村燃气开户费要三千多，这个价格合理吗？"),
]


def generated(n_groups: int, seed: int = 5) -> list[Group]:
    """``n_groups`` problems written by the demo generator, each told 2 to 4 times (``compose`` then
    ``paraphrase``), at 8 villages of 5 townships of 夏县; half of the categories drawn from the first
    12 leaves (water, power, heating), so different problems of one category meet in one village; a
    template is used once per township and category (the same template twice would be the same
    problem told twice, not a different one)."""
    from hotline.demo.texts import Place, compose, leaf_categories, paraphrase

    rng = random.Random(seed)
    villages = [(ZHULV, "裴介镇", "朱吕村"), (PEIJIE, "裴介镇", "裴介村"), (DALV, "裴介镇", "大吕村"),
                (NANGUAN, "瑶峰镇", "南关村"), (ZHANGGUO, "庙前镇", "张郭店村"), (WUCUN, "庙前镇", "吴村"),
                (SHUITOU, "水头镇", "水头村"), (NANQIAO, "水头镇", "南乔村")]
    out = []
    seen: set[tuple] = set()
    leaves = leaf_categories()
    for i in range(n_groups):
        for _ in range(500):  # one template (one kind of problem) once per township and category
            code, town, village = rng.choice(villages)
            place = Place("夏县", town, village)
            pool = leaves if i % 2 else leaves[:12]  # half from the first 12: water, power, heating
            first = compose(rng, place, category_code=rng.choice(pool), style=rng.choice(("agent", "citizen")))
            if (code[:9], first.category_code, first.meta[:2]) not in seen:
                seen.add((code[:9], first.category_code, first.meta[:2]))
                break
        else:
            break
        texts = [first.title + "。" + first.content]
        for _ in range(rng.randint(1, 3)):
            p = paraphrase(rng, first, place)
            texts.append(p.title + "。" + p.content)
        out.append(Group(f"gen-{i}", code, first.category_code, tuple(texts), first.meta[:2]))
    return out


def used_problems(n_groups: int, seed: int = 5) -> set[tuple]:
    """(village, category, template) of the generated problems: the distractors avoid them."""
    return {(g.region_code[:9], g.category_code, g.meta) for g in generated(n_groups, seed)}


def split(group: Group) -> str:
    """``dev`` or ``test``, stable by the group's key (about half each)."""
    return "dev" if zlib.crc32(group.key.encode()) % 2 == 0 else "test"
