"""Evaluation figures: hand-checked arithmetic, the JSON shape, reading files."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from hotline.classification import evaluate as ev
from hotline.classification.model import ModelError

DEV = Path(os.environ.get("HOTLINE_TEDDY_DIR", Path(__file__).resolve().parents[3] / "shared" / "data" / "teddy2020c")) \
    / "messages_labeled_dev.csv"


def test_macro_f1_by_hand():
    # truth: a a a b b c ; predicted: a a b b c c
    # a: tp 2, predicted 2, support 3 -> p 1, r 2/3, f1 0.8
    # b: tp 1, predicted 2, support 2 -> p .5, r .5, f1 .5
    # c: tp 1, predicted 2, support 1 -> p .5, r 1, f1 2/3
    r = ev.scores(list("aaabbc"), list("aabbcc"))
    assert r["labels"] == ["a", "b", "c"]
    assert r["n"] == 6
    assert r["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3, abs=1e-4)
    assert r["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert r["per_class"]["a"] == {"precision": 1.0, "recall": 0.6667, "f1": 0.8, "support": 3, "predicted": 2}
    assert r["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_class_never_predicted_scores_zero_not_error():
    r = ev.scores(["a", "b"], ["a", "a"])
    assert r["per_class"]["b"]["precision"] == 0.0 and r["per_class"]["b"]["f1"] == 0.0
    assert r["macro_f1"] == pytest.approx((2 / 3 + 0) / 2, abs=1e-4)


def test_report_is_a_table_with_every_class():
    text = ev.report(ev.scores(["城乡建设", "交通运输", "交通运输"], ["城乡建设", "交通运输", "城乡建设"]))
    assert "macro-F1" in text and "城乡建设" in text and "交通运输" in text and "混淆矩阵" in text


def test_cross_validation_on_generated_set(small_set):
    texts = [r[0] for r in small_set if r[1][:2] in ("01", "02", "05", "07")]
    labels = [r[1][:2] for r in small_set if r[1][:2] in ("01", "02", "05", "07")]
    r = ev.cross_validate(texts, labels, folds=4)
    assert r["n"] == len(texts) and r["folds"] == 4
    assert sum(map(sum, r["confusion"])) == len(texts)
    assert r["macro_f1"] >= 0.8


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_reading_files_reports_what_is_wrong(tmp_path):
    with pytest.raises(ModelError, match="缺少列：label"):
        ev.read_labelled(_write(tmp_path / "a.csv", ["text", "category"], [["停水", "01"]]))
    with pytest.raises(ModelError, match="空文件"):
        ev.read_labelled(_write(tmp_path / "b.csv", [], []))
    with pytest.raises(ModelError, match="没有可用"):
        ev.read_labelled(_write(tmp_path / "c.csv", ["text", "label"], [["", "01"]]))
    with pytest.raises(ModelError, match="文件不存在"):
        ev.read_labelled(tmp_path / "missing.csv")
    with pytest.raises(ModelError, match="是目录"):
        ev.read_labelled(tmp_path)
    (tmp_path / "f.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    with pytest.raises(ModelError, match="旧版 Excel"):
        ev.read_labelled(tmp_path / "f.xls")
    (tmp_path / "g.xlsx").write_text("text,label\n停水,01\n", encoding="utf-8")  # a CSV named .xlsx
    with pytest.raises(ModelError, match="不是有效的 Excel"):
        ev.read_labelled(tmp_path / "g.xlsx")
    (tmp_path / "h.csv").write_bytes("text,label\n来电人反映停水三天,城乡建设\n".encode("utf-16"))
    with pytest.raises(ModelError, match="不是 UTF-8 或 GBK 编码的 CSV"):
        ev.read_labelled(tmp_path / "h.csv")
    (tmp_path / "i.csv").write_bytes("text,label\n来电人反映停水三天,城乡建设\n".encode("gbk"))  # Excel's CSV in China
    assert ev.read_labelled(tmp_path / "i.csv") == (["来电人反映停水三天"], ["城乡建设"])
    texts, labels = ev.read_labelled(_write(tmp_path / "e.csv", ["id", "label", "text"], [["1", "01", "停水了"]]))
    assert (texts, labels) == (["停水了"], ["01"])


def test_files_are_read_by_their_content_not_their_name(tmp_path):
    """A temporary file without a suffix (a decrypted test set, say) reads as what it is."""
    _write(tmp_path / "plain", ["text", "label", "text_kind"], [["停水了\n三天", "01", "raw"], ["路灯不亮", "07", ""]])
    assert ev.read_table(tmp_path / "plain") == (["停水了\n三天", "路灯不亮"], ["01", "07"], ["raw", ""])
    assert ev.read_labelled(_write(tmp_path / "d.txt", ["text", "label"], [["停水", "01"]])) == (["停水"], ["01"])
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["text", "label"])
    wb.active.append(["没电了", "02"])
    wb.save(tmp_path / "book")
    assert ev.read_table(tmp_path / "book") == (["没电了"], ["02"], None)


@pytest.mark.skipif(not DEV.is_file(), reason=f"real messages not available ({DEV} is absent: ../shared)")
def test_real_messages_two_fold_macro_f1():
    texts, labels = ev.read_labelled(DEV)
    r = ev.cross_validate(texts, labels, folds=2)
    assert r["n"] == len(texts) > 8000
    assert r["macro_f1"] >= 0.90, r["macro_f1"]


def test_near_duplicates_share_a_group_and_a_fold():
    twins = ["A小区3号楼电梯坏了一个月没人修，老人上下楼很困难", "A小区3号楼的电梯坏了一个月没有人修，老人上下楼困难"]
    others = ["学校食堂饭菜价格太贵", "公交车站牌被撞坏了", "工地拖欠农民工工资三个月",
              "医院挂号排队时间太长", "河道里有人倾倒垃圾", "景区门票乱涨价"]
    from hotline.classification.model import TextClassifier

    docs = TextClassifier.prepare(twins + others)
    g = ev.near_duplicate_groups(docs)
    assert g[0] == g[1], "a message and its near copy are one group"
    assert len(set(g[2:].tolist())) == len(others) and g[0] not in set(g[2:].tolist())


def test_cross_validation_keeps_copies_out_of_their_own_test(small_set):
    # every message twice: a random split tests most copies against their twin, the grouped split none
    rows = [r for r in small_set if r[1][:2] in ("01", "02", "05", "07")]
    texts = [r[0] for r in rows] * 2
    labels = [r[1][:2] for r in rows] * 2
    from hotline.classification.model import TextClassifier

    g = ev.near_duplicate_groups(TextClassifier.prepare(texts))
    assert all(g[i] == g[i + len(rows)] for i in range(len(rows)))
    grouped = ev.cross_validate(texts, labels, folds=4, near_duplicates_together=True)
    assert grouped["near_duplicates_together"] is True and grouped["n"] == len(texts)
    assert sum(map(sum, grouped["confusion"])) == len(texts)
    assert "近似重复留言同折" in ev.report(grouped)
