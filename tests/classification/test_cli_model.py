"""``hotline model train / eval / list`` on temporary CSV and XLSX files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from hotline.cli.main import cli
from tests.classification.conftest import generated


def run(data_dir: Path, *args: str):
    runner = CliRunner(env={"HOTLINE_DATA_DIR": str(data_dir), "HOTLINE_DATABASE_URL": None})
    return runner.invoke(cli, list(args), catch_exceptions=False)


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


def test_train_from_csv_then_list(tmp_path, files):
    r = run(tmp_path, "model", "train", "--file", str(files["train"]), "--name", "category")
    assert r.exit_code == 0, r.output
    assert "版本 1" in r.output
    r = run(tmp_path, "model", "train", "--file", str(files["train"]))
    assert "版本 2" in r.output
    listed = json.loads(run(tmp_path, "model", "list", "--json").output)
    assert [(m["name"], m["version"]) for m in listed] == [("category", 1), ("category", 2)]
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
def test_actionable_errors(tmp_path, files, which, message):
    r = run(tmp_path, "model", "train", "--file", str(files[which]))
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
