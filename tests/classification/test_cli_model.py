"""``hotline model train / eval / list / activate`` on temporary CSV and XLSX files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from hotline.cli.main import cli
from tests.classification.conftest import generated


def run(data_dir: Path, *args: str, db: str | None = None):
    runner = CliRunner(env={"HOTLINE_DATA_DIR": str(data_dir), "HOTLINE_DATABASE_URL": db})
    return runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    """A database set up by ``hotline init``: the category codes a file's labels are checked against."""
    data = tmp_path_factory.mktemp("model-db")
    assert run(data, "init").exit_code == 0
    return f"sqlite:///{data / 'hotline.db'}"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("model-cli")
    rows = [r for r in generated(6, seed=3) if r[1][:2] in ("01", "02", "05", "06")]
    test = [r for r in generated(3, seed=4) if r[1][:2] in ("01", "02", "05", "06")]
    train_csv = d / "train.csv"
    with train_csv.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "label", "note"])
        for i, r in enumerate(rows):
            w.writerow([i, r[0], r[1][:2], "ignored"])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["label", "text"])
    for r in test:
        ws.append([r[1][:2], r[0]])
    test_xlsx = d / "test.xlsx"
    wb.save(test_xlsx)
    bad = d / "bad.csv"
    bad.write_text("text,category\n停水了,01\n", encoding="utf-8")
    one = d / "one.csv"
    one.write_text("text,label\n停水了,01\n没水了,01\n", encoding="utf-8")
    return {"train": train_csv, "test": test_xlsx, "bad": bad, "one": one, "dir": d, "n_test": len(test)}


def test_train_from_csv_then_list(tmp_path, files, db):
    r = run(tmp_path, "model", "train", "--file", str(files["train"]), "--name", "category", db=db)
    assert r.exit_code == 0, r.output
    assert "版本 1" in r.output and "已启用" in r.output
    r = run(tmp_path, "model", "train", "--file", str(files["train"]), db=db)
    assert "版本 2" in r.output
    listed = json.loads(run(tmp_path, "model", "list", "--json").output)
    assert [(m["name"], m["version"], m["active"]) for m in listed] == [("category", 1, False), ("category", 2, True)]
    assert listed[0]["labels"] == ["01", "02", "05", "06"]


def test_eval_train_csv_on_xlsx_json(files):
    r = run(files["dir"], "model", "eval", "--train", str(files["train"]), "--data", str(files["test"]), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["n"] == files["n_test"] == 15 * 3  # 15 leaves under 01, 02, 05, 06; 3 texts each
    assert set(out["per_class"]) == {"01", "02", "05", "06"}
    assert sum(v["support"] for v in out["per_class"].values()) == out["n"]
    assert sum(map(sum, out["confusion"])) == out["n"]
    assert out["macro_f1"] >= 0.85


def test_eval_cross_validation_text_report(files):
    r = run(files["dir"], "model", "eval", "--train", str(files["train"]), "--folds", "3")
    assert r.exit_code == 0, r.output
    assert "macro-F1" in r.output and "3 折交叉验证" in r.output and "混淆矩阵" in r.output
    r = run(files["dir"], "model", "eval", "--train", str(files["train"]), "--folds", "3", "--near-duplicates-together")
    assert r.exit_code == 0, r.output
    assert "3 折交叉验证（近似重复留言同折）" in r.output


@pytest.mark.parametrize("folds", ["0", "1", "-3"])
def test_eval_refuses_fewer_than_two_folds_as_given(files, folds):
    """--folds 0 is not the default 5: it is refused, naming what was given."""
    r = run(files["dir"], "model", "eval", "--train", str(files["train"]), "--folds", folds)
    assert r.exit_code == 2 and f"错误：折数至少为 2（收到 {folds}）" in r.output


@pytest.mark.parametrize("which, message", [("bad", "缺少列：label"), ("one", "只有一个类别")])
def test_actionable_errors(tmp_path, files, which, message, db):
    r = run(tmp_path, "model", "train", "--file", str(files[which]), "--force", db=db)
    assert r.exit_code == 2
    assert "错误：" in r.output and message in r.output


def test_train_needs_a_source(tmp_path):
    r = run(tmp_path, "model", "train")
    assert r.exit_code == 2 and "--from-db" in r.output


@pytest.mark.parametrize("extra", [["--folds", "3"], ["--folds", "0"], ["--near-duplicates-together"]])
def test_eval_on_a_test_file_refuses_cross_validation_options(files, extra):
    r = run(files["dir"], "model", "eval", "--train", str(files["train"]), "--data", str(files["test"]), *extra)
    assert r.exit_code == 2
    assert "错误：" in r.output and "不能同时使用" in r.output


def test_eval_reads_the_test_set_from_a_pipe_or_standard_input(files, tmp_path):
    """``--data <(decrypt ...)`` and ``--data -``: the same figures as from the file itself."""
    import os
    import threading

    wb = openpyxl.load_workbook(files["test"])
    rows = list(wb.active.iter_rows(values_only=True))
    body = "text,label\n" + "".join(f'"{text}",{label}\n' for label, text in rows[1:])
    from_file = json.loads(run(files["dir"], "model", "eval", "--train", str(files["train"]),
                               "--data", str(files["test"]), "--json").output)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    feeder = threading.Thread(target=lambda: fifo.write_text(body, encoding="utf-8"))
    feeder.start()
    r = run(files["dir"], "model", "eval", "--train", str(files["train"]), "--data", str(fifo), "--json")
    feeder.join(timeout=10)
    assert r.exit_code == 0, r.output
    piped = json.loads(r.output)
    assert (piped["n"], piped["macro_f1"]) == (from_file["n"], from_file["macro_f1"]) == (files["n_test"], from_file["macro_f1"])
    runner = CliRunner(env={"HOTLINE_DATA_DIR": str(files["dir"]), "HOTLINE_DATABASE_URL": None})
    r = runner.invoke(cli, ["model", "eval", "--train", str(files["train"]), "--data", "-", "--json"],
                      input=body.encode("utf-8"), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["macro_f1"] == from_file["macro_f1"]


def _write(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    return path


def test_a_tiny_file_is_refused_unless_forced_and_replaces_nothing(tmp_path, files, db):
    """9 rows of 3 labels once became the model agents saw at once (停水 99% for a streetlight)."""
    assert run(tmp_path, "model", "train", "--file", str(files["train"]), db=db).exit_code == 0
    rows = [(t, c[:2]) for t, c, _, _ in generated(1, seed=5) if c[:2] in ("01", "02", "05")][:9]
    tiny = _write(tmp_path / "tiny.csv", rows)
    r = run(tmp_path, "model", "train", "--file", str(tiny), db=db)
    assert r.exit_code == 2
    assert "错误：训练数据只有 9 条，少于 50 条" in r.output and "确需训练请加 --force" in r.output
    assert [m["version"] for m in json.loads(run(tmp_path, "model", "list", "--json").output)] == [1]
    # enough rows, but a class of one example (a typo, most likely)
    lone = _write(tmp_path / "lone.csv", [(t, c[:2]) for t, c, _, _ in generated(10, seed=3)
                                          if c[:2] in ("01", "02")][:60] + [("路灯不亮了", "06")])
    r = run(tmp_path, "model", "train", "--file", str(lone), db=db)
    assert r.exit_code == 2 and "错误：类别 06 的样本少于 2 条" in r.output
    r = run(tmp_path, "model", "train", "--file", str(tiny), "--force", db=db)
    assert r.exit_code == 0 and "版本 2" in r.output


@pytest.mark.parametrize("name, labels, message", [
    ("category", ["01", "9999", "abc"], "模型 category 的标签须为分类编码，以下标签不是：9999、abc"),
    ("urgency", ["0101", "normal"], "模型 urgency 的标签须为紧急程度，以下标签不是：0101（紧急程度可选：emergency、normal、urgent）"),
    ("kind", ["help", "01"], "模型 kind 的标签须为诉求类型，以下标签不是：01"),
])
def test_labels_the_model_does_not_know_are_refused_naming_them(tmp_path, db, name, labels, message):
    rows = [(t, labels[i % len(labels)]) for i, (t, *_rest) in enumerate(generated(2, seed=9))]
    r = run(tmp_path, "model", "train", "--file", str(_write(tmp_path / "l.csv", rows)), "--name", name, "--force",
            db=db)
    assert r.exit_code == 2 and f"错误：{message}" in r.output
    assert json.loads(run(tmp_path, "model", "list", "--json").output) == []


def test_an_admin_rolls_back_to_an_earlier_version_and_forward_again(tmp_path, files, db):
    from hotline.assist.suggest import clear_cache, current_model

    for _ in range(2):
        assert run(tmp_path, "model", "train", "--file", str(files["train"]), db=db).exit_code == 0
    clear_cache()
    assert current_model(tmp_path).version == 2
    r = run(tmp_path, "model", "activate", "category", "1")
    assert r.exit_code == 0 and "模型 category 已改用版本 1（原为版本 2）" in r.output
    clear_cache()
    assert current_model(tmp_path).version == 1  # what the agents' suggestions use
    assert (tmp_path / "models" / "category" / "ACTIVE").read_text().strip() == "1"
    listed = run(tmp_path, "model", "list").output.splitlines()
    assert listed[0].startswith("名称\t版本\t使用中") and listed[1].startswith("category\t1\t是（指定）\t")
    assert listed[2].startswith("category\t2\t\t")
    # a newer training stays unused while an earlier version is chosen, and says so
    r = run(tmp_path, "model", "train", "--file", str(files["train"]), db=db)
    assert "未启用：正在使用的是管理员指定的版本 1；改用新版本请运行 hotline model activate category 3" in r.output
    clear_cache()
    assert current_model(tmp_path).version == 1
    r = run(tmp_path, "model", "activate", "category", "7")
    assert r.exit_code == 2 and "错误：模型 category 没有版本 7（现有版本：1、2、3）" in r.output
    r = run(tmp_path, "model", "activate", "category", "latest")
    assert r.exit_code == 0 and "改回使用最新训练的版本 3（原为版本 1）" in r.output
    clear_cache()
    assert current_model(tmp_path).version == 3
    assert [m["active"] for m in json.loads(run(tmp_path, "model", "list", "--json").output)] == [False, False, True]


def test_training_from_a_database_with_too_little_history_is_refused_unless_forced(tmp_path, db):
    r = run(tmp_path, "model", "train", "--from-db", db=db)
    assert r.exit_code == 2 and "错误：训练数据只有 0 条，少于 50 条" in r.output
