"""``hotline model``: train, evaluate, list and activate the text classifiers (category, kind, urgency).

The version in use is the newest trained unless an admin activated another (``activate``, kept in
``<data dir>/models/<name>/ACTIVE``), the way to roll back a bad training. Training checks its data
first: labels the model does not know are refused, naming them; fewer than 50 rows, or (from a file)
a class with a single example, unless ``--force``.

Registered on the main ``hotline`` group by ``cli/main.py``; the commands take its environment
object (``ctx.obj``: ``.settings.data_dir`` and ``.db``). Problems a person can fix (a missing
column, an empty file, one class only, no model yet) end with ``错误：…`` and exit status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from hotline.classification.model import MODEL_NAMES, ModelError


class ModelFailure(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.message}", err=True)


@click.group()
def model() -> None:
    """Text classifiers: train from the database or a file, evaluate, list versions."""


@model.command("train")
@click.option("--from-db", "from_db", is_flag=True, help="Train on the tickets in the database and stored corrections.")
@click.option("--file", "file", type=click.Path(path_type=Path), help="A .csv or .xlsx file with columns text,label.")
@click.option("--name", default="category", show_default=True, type=click.Choice(MODEL_NAMES),
              help="Which model.")
@click.option("--force", is_flag=True, help="Train on fewer than 50 rows or with a class of one example.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.pass_obj
def train(env: Any, from_db: bool, file: Path | None, name: str, force: bool, as_json: bool) -> None:
    """Train a model and save it as the next version under <data dir>/models/<name>/; it is used at
    once unless another version was activated (hotline model activate)."""
    from hotline.assist.training import check_training_set, train_from_db
    from hotline.classification import model as cmodel
    from hotline.classification.evaluate import read_labelled

    if bool(from_db) == bool(file):
        raise ModelFailure("请指定训练数据：--from-db 或 --file 文件（二选一）")
    data_dir = env.settings.data_dir
    try:
        if from_db:
            with env.db.transaction() as session:
                saved = train_from_db(session, data_dir, name, checked=True, force=force)
        else:
            texts, labels = read_labelled(file)
            with env.db.transaction(write=False) as session:
                check_training_set(session, name, labels, force=force)
            clf = cmodel.TextClassifier().fit(texts, labels)
            saved = cmodel.save(clf, data_dir, name, n=len(texts), source=str(file))
    except ModelError as exc:
        raise ModelFailure(exc.message) from exc
    m = saved.manifest
    in_use = cmodel.active_version(data_dir, name)
    if as_json:
        click.echo(json.dumps({**m, "active": in_use == saved.version}, ensure_ascii=False))
        return
    click.echo(f"模型 {name} 版本 {saved.version} 已保存：{saved.path}")
    click.echo(f"训练样本 {m['n']} 条，{len(m['labels'])} 个类别，用时 {m['fit_seconds']:.1f} 秒")
    if in_use == saved.version:
        click.echo(f"已启用：坐席的分类建议在几秒内改用版本 {saved.version}；"
                   f"如需退回，用 hotline model activate {name} 版本号")
    else:
        click.echo(f"未启用：正在使用的是管理员指定的版本 {in_use}；"
                   f"改用新版本请运行 hotline model activate {name} {saved.version}")


@model.command("activate")
@click.argument("name", type=click.Choice(MODEL_NAMES))
@click.argument("version")
@click.pass_obj
def activate(env: Any, name: str, version: str) -> None:
    """Use VERSION of model NAME for the suggestions (roll back to an earlier one, or on to a newer
    one); 'latest' goes back to using the newest trained version."""
    from hotline.classification import model as cmodel

    data_dir = env.settings.data_dir
    before = cmodel.active_version(data_dir, name)
    try:
        saved = cmodel.activate(data_dir, name, version)
    except ModelError as exc:
        raise ModelFailure(exc.message) from exc
    now = cmodel.active_version(data_dir, name)
    was = f"（原为版本 {before}）" if before is not None and before != now else ""
    if saved is None:
        click.echo(f"模型 {name} 改回使用最新训练的版本 {now}{was}；以后每次训练的新版本都会立即启用"
                   if now is not None else f"模型 {name} 还没有任何版本")
        return
    click.echo(f"模型 {name} 已改用版本 {saved.version}{was}：坐席的分类建议在几秒内生效；"
               f"以后训练的新版本不会自动启用，直到运行 hotline model activate {name} latest")


@model.command("eval")
@click.option("--train", "train_file", required=True, type=click.Path(path_type=Path),
              help="Training file (.csv/.xlsx, columns text,label).")
@click.option("--data", "data_file", type=click.Path(path_type=Path), help="Test file (same columns; read by its content, so a pipe or - for standard input works).")
@click.option("--folds", type=int, default=None, help="K-fold cross-validation on --train (default 5 without --data).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--near-duplicates-together", "together", is_flag=True,
              help="Cross-validation: keep near-duplicate messages in one fold (no message tested against its copy).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(train_file: Path, data_file: Path | None, folds: int | None, seed: int, together: bool,
             as_json: bool) -> None:
    """Train on --train and score --data, or cross-validate on --train; macro-F1, per class, confusion."""
    from hotline.classification import evaluate as ev

    try:
        texts, labels, kinds = ev.read_table(train_file)
        if data_file is not None:
            if folds is not None or together:
                raise ModelError("--data 与 --folds / --near-duplicates-together 不能同时使用")
            result = ev.train_and_test((texts, labels), ev.read_labelled(data_file))
            result.update(train=str(train_file), data=str(data_file))
        else:
            result = ev.cross_validate(texts, labels, folds=5 if folds is None else folds, seed=seed,
                                       groups=kinds,
                                       near_duplicates_together=together)
            result.update(train=str(train_file))
    except ModelError as exc:
        raise ModelFailure(exc.message) from exc
    click.echo(json.dumps(result, ensure_ascii=False) if as_json else ev.report(result))


@model.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of the manifests.")
@click.pass_obj
def list_(env: Any, as_json: bool) -> None:
    """Saved model versions (latest last for each name) and which one each name uses."""
    from hotline.classification.model import list_models

    rows = list_models(env.settings.data_dir)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("还没有模型：用 hotline model train --from-db 或 --file 训练")
        return
    click.echo("名称\t版本\t使用中\t创建时间\t样本数\t类别数\t来源")
    for m in rows:
        used = ("是（指定）" if m["chosen"] else "是") if m["active"] else ""
        click.echo(f"{m['name']}\t{m['version']}\t{used}\t{m['created_at'][:19]}\t{m['n']}\t{len(m['labels'])}\t"
                   f"{m.get('source', '')}")
