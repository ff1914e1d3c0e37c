"""智能建议 on the intake page: the model's top categories, the place in the text, the unit; the
agent's final choice is stored beside what was suggested."""

from __future__ import annotations

import html
import json
import re

from sqlalchemy import select

from hotline.assist.models import ClassificationFeedback
from hotline.assist.suggest import clear_cache
from hotline.classification.model import TextClassifier, save
from hotline.tickets.models import Ticket
from tests.builders import ZHULV
from tests.classification.conftest import LEAK, generated


def _model_in(data_dir) -> None:
    rows = generated(8)
    save(TextClassifier().fit([r[0] for r in rows], [r[1] for r in rows]), data_dir, "category")
    clear_cache()


def test_the_leak_text_suggests_water_the_village_and_the_water_bureau(site, tmp_path):
    _model_in(tmp_path)
    agent, _ = site.signed_in("agent")
    r = agent.get("/agent/suggest", params={"content": LEAK})
    assert r.status_code == 200
    chips = re.findall(r'data-fill="category_code" data-value="([^"]+)"', r.text)
    assert len(chips) == 3 and chips[0].endswith("（0103）")  # 供水管网漏水 first
    assert f'data-fill="region" data-value="夏县裴介镇朱吕村（{ZHULV}）"' in r.text
    assert "夏县水利局" in r.text
    assert "%" in r.text  # the confidence is shown
    handler, _ = site.signed_in("handler_a")  # units do not register calls
    assert handler.get("/agent/suggest", params={"content": LEAK}).status_code == 403


def test_without_a_model_the_place_is_still_found_and_the_agent_is_told(site, tmp_path):
    clear_cache()
    agent, _ = site.signed_in("agent")
    r = agent.get("/agent/suggest", params={"content": "裴介镇朱吕村停水三天了"})
    assert r.status_code == 200 and "本服务器尚无分类模型" in r.text and f"（{ZHULV}）" in r.text
    # what to do, for a second machine without the first one's model files too
    assert "hotline model train" in r.text and "models/" in r.text and "HOTLINE_DATA_DIR）应放在共享存储上" in r.text
    assert "输入诉求内容后" in agent.get("/agent/suggest", params={"content": "  "}).text


def test_the_agents_choice_is_stored_beside_the_suggestion(site, tmp_path):
    _model_in(tmp_path)
    agent, csrf = site.signed_in("agent")
    fragment = agent.get("/agent/suggest", params={"content": LEAK}).text
    shown = html.unescape(re.search(r'name="suggested" form="intake-form" value="([^"]*)"', fragment).group(1))
    assert json.loads(shown)["top"][0]["code"] == "0103"
    form = {"csrf": csrf, "caller_phone": "13803590001", "kind": "help", "category_code": "0101",  # 停水: corrected
            "region": ZHULV, "urgency": "normal", "content": LEAK, "direct": "", "suggested": shown}
    r = agent.post("/agent/intake", data=form)
    assert r.status_code == 200 and "工单已登记" in r.text
    with site.db.transaction(write=False) as s:
        row = s.scalar(select(ClassificationFeedback))
        ticket = s.scalar(select(Ticket).where(Ticket.id == row.ticket_id))
        assert (row.suggested_label, row.chosen_label, ticket.category_code) == ("0103", "0101", "0101")


def test_the_kind_and_urgency_are_suggested_beside_the_category(site, tmp_path):
    """Trained kind and urgency models (as the demo and `hotline model train` make them): a gas smell
    suggests 特急, shown as pressing, a question 咨询 and 一般; a chip fills the form's select."""
    gas = ["家里燃气味道很大，可能漏气了", "楼道里一股煤气味，怕是燃气管道漏气", "燃气泄漏了，味道很重，请马上来人"]
    ask = ["我想问一下社保卡怎么补办", "请问公积金怎么提取", "咨询一下孩子入学需要什么材料"]
    complain = ["楼上装修噪音太大了，投诉一下", "饭店油烟太大，投诉", "工地夜间施工扰民，投诉"]
    texts = gas * 4 + ask * 4 + complain * 4
    kinds = ["help"] * 12 + ["consultation"] * 12 + ["complaint"] * 12
    urgency = ["emergency"] * 12 + ["normal"] * 24
    save(TextClassifier().fit(texts, kinds), tmp_path, "kind")
    save(TextClassifier().fit(texts, urgency), tmp_path, "urgency")
    clear_cache()
    agent, _ = site.signed_in("agent")
    r = agent.get("/agent/suggest", params={"content": "厨房燃气味道很大，是不是漏气了"})
    assert r.status_code == 200
    assert re.search(r'class="chip pressing" data-fill="urgency" data-value="emergency"', r.text), r.text
    assert re.search(r'data-fill="kind" data-value="help"[^>]*>求助', r.text)
    r = agent.get("/agent/suggest", params={"content": "请问社保卡补办需要什么材料"})
    assert re.search(r'data-fill="kind" data-value="consultation"[^>]*>咨询', r.text)
    assert re.search(r'class="chip" data-fill="urgency" data-value="normal"[^>]*>一般', r.text)
    assert "pressing" not in r.text
