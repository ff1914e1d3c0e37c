"""Evaluation: train on one set and score another, or stratified k-fold cross-validation.

:func:`scores` turns true and predicted labels into the figures (macro-F1, accuracy, per-class
precision / recall / F1 / support, the confusion matrix with true labels as rows); :func:`report`
prints them as a plain-text table that lines up with Chinese labels; :func:`read_labelled` reads a
CSV or XLSX file with columns ``text`` and ``label`` (other columns are ignored), by its content, so a
temporary file without a suffix or a pipe (``--data <(...)``, or ``-`` for standard input) reads too.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hotline.classification.model import ModelError, TextClassifier
from hotline.kit import tables

__all__ = ["cross_validate", "near_duplicate_groups", "read_labelled", "read_table", "report", "scores",
           "train_and_test"]

NEAR_DUPLICATE = 0.5  # cosine of character 1–3-gram TF-IDF above which two messages are one in a fold


# ------------------------------------------------------------------ reading files


def _table(p: Path) -> tuple[list[str] | None, list[list[str]]]:
    """The header and rows (:func:`hotline.kit.tables.read_rows`), its problems as ``ModelError``."""
    try:
        return tables.read_rows(p)
    except tables.TableError as err:
        raise ModelError(err.message) from None


def read_table(path: Path | str) -> tuple[list[str], list[str], list[str] | None]:
    """``(texts, labels, text_kinds)`` from a CSV or XLSX file with columns ``text`` and ``label``
    (other columns are ignored; ``text_kinds``: the ``text_kind`` column, raw / segmented, where
    there is one, else None).

    Rows with an empty text or label are skipped. Raises :class:`ModelError` with a message a person
    can act on: a missing file or column, an unreadable format, no usable rows.
    """
    p = Path(path)
    header, rows = _table(p)
    if not header:
        raise ModelError(f"{p.name} 是空文件：第一行应为列名 text,label")
    names = [h.strip().lower() for h in header]
    missing = [c for c in ("text", "label") if c not in names]
    if missing:
        raise ModelError(f"{p.name} 缺少列：{', '.join(missing)}（现有列：{', '.join(n for n in names if n) or '无'}）")
    ti, li = names.index("text"), names.index("label")
    ki = names.index("text_kind") if "text_kind" in names else None
    texts, labels, kinds = [], [], []
    for r in rows:
        if len(r) <= max(ti, li):
            continue
        t, lab = (r[ti] or "").strip(), (r[li] or "").strip()
        if t and lab:
            texts.append(t)
            labels.append(lab)
            kinds.append(r[ki] if ki is not None and ki < len(r) else "")
    if not texts:
        raise ModelError(f"{p.name} 没有可用的数据行（text 与 label 都不能为空）")
    return texts, labels, (kinds if ki is not None else None)


def read_labelled(path: Path | str) -> tuple[list[str], list[str]]:
    """``(texts, labels)`` of :func:`read_table`."""
    texts, labels, _ = read_table(path)
    return texts, labels


# ------------------------------------------------------------------ figures


def scores(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None) -> dict[str, Any]:
    """Macro-F1 and the rest. Classes are the true labels (and any predicted ones), sorted unless given.

    Macro-F1 is the unweighted mean of the per-class F1 over the classes that occur in the truth; a
    class with no predictions has precision 0 (not undefined), as scikit-learn's ``zero_division=0``.
    """
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    labs = list(labels) if labels is not None else sorted(set(y_true) | set(y_pred))
    index = {c: i for i, c in enumerate(labs)}
    k = len(labs)
    cm = np.zeros((k, k), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        cm[index[t], index[p]] += 1
    per_class: dict[str, dict[str, Any]] = {}
    f1s = []
    for i, c in enumerate(labs):
        tp = int(cm[i, i])
        predicted = int(cm[:, i].sum())
        support = int(cm[i, :].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                        "support": support, "predicted": predicted}
        if support:
            f1s.append(f1)
    n = int(cm.sum())
    return {
        "n": n,
        "macro_f1": round(float(np.mean(f1s)) if f1s else 0.0, 4),
        "accuracy": round(float(np.trace(cm)) / n, 4) if n else 0.0,
        "labels": labs,
        "per_class": per_class,
        "confusion": cm.tolist(),
    }


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, w: int, right: bool = False) -> str:
    gap = " " * max(0, w - _width(s))
    return gap + s if right else s + gap


def report(result: dict[str, Any]) -> str:
    """The figures as a plain-text report: per-class table, then the confusion matrix (rows: true)."""
    labs = result["labels"]
    lw = max([_width("类别"), *(_width(c) for c in labs)]) + 2
    lines = []
    head = [f"样本 {result['n']} 条", f"macro-F1 {result['macro_f1']:.4f}", f"准确率 {result.get('accuracy', 0):.4f}"]
    if result.get("folds"):
        head.append(f"{result['folds']} 折交叉验证" + ("（近似重复留言同折）" if result.get("near_duplicates_together") else ""))
    if result.get("train_n") is not None:
        head.append(f"训练 {result['train_n']} 条")
    lines.append("，".join(head))
    lines.append("")
    lines.append(_pad("类别", lw) + "".join(_pad(h, 10, True) for h in ("精确率", "召回率", "F1", "样本数")))
    for c in labs:
        pc = result["per_class"][c]
        lines.append(_pad(c, lw) + _pad(f"{pc['precision']:.4f}", 10, True) + _pad(f"{pc['recall']:.4f}", 10, True)
                     + _pad(f"{pc['f1']:.4f}", 10, True) + _pad(str(pc["support"]), 10, True))
    for key, title in (("by_kind", "按文本形式"),):
        if result.get(key):
            lines.append("")
            lines.append(title + "：" + "，".join(f"{k} {v['n']} 条 macro-F1 {v['macro_f1']:.4f}"
                                                for k, v in result[key].items()))
    lines.append("")
    lines.append("混淆矩阵（行：真实类别，列：预测类别，列号同行号）")
    cw = max(6, *(len(str(x)) + 2 for row in result["confusion"] for x in row))
    lines.append(_pad("", lw + 4) + "".join(_pad(f"[{j + 1}]", cw, True) for j in range(len(labs))))
    for i, c in enumerate(labs):
        lines.append(_pad(f"[{i + 1}]", 4) + _pad(c, lw) + "".join(_pad(str(x), cw, True) for x in result["confusion"][i]))
    return "\n".join(lines)


# ------------------------------------------------------------------ runs


def train_and_test(train: tuple[Sequence[str], Sequence[str]], test: tuple[Sequence[str], Sequence[str]],
                   make: Callable[[], TextClassifier] = TextClassifier) -> dict[str, Any]:
    """Train on ``train`` and score ``test``; labels are the union of both sets."""
    started = time.perf_counter()
    model = make().fit(list(train[0]), list(train[1]))
    fit_s = time.perf_counter() - started
    pred = model.predict(list(test[0]))
    labs = sorted(set(train[1]) | set(test[1]))
    out = scores(list(test[1]), pred, labs)
    out.update(train_n=len(train[0]), fit_seconds=round(fit_s, 2))
    return out


def near_duplicate_groups(docs: Sequence[list[str]], threshold: float = NEAR_DUPLICATE) -> np.ndarray:
    """A group number per message: messages linked by a chain of near-duplicates (cosine of their
    character 1–3-gram TF-IDF vectors above ``threshold``) share one. Citizens post the same message
    twice, or a neighbour copies it; a random split puts one copy in training and the other in the
    test, and the test then rewards remembering. On the dev file 10–12% of the messages have such a
    twin (cosine > 0.7), which lifts 5-fold macro-F1 by about 0.003–0.005."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer

    from hotline.classification.model import char_ngrams

    n = len(docs)
    X = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, min_df=2 if n >= 50 else 1).fit_transform(docs)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for start in range(0, n, 1000):  # 1,000 rows at a time: the full product would be dense
        block = (X[start:start + 1000] @ X.T).toarray()
        r, c = np.nonzero(block > threshold)
        rows.append(r + start)
        cols.append(c)
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def cross_validate(texts: Sequence[str], labels: Sequence[str], *, folds: int = 5, seed: int = 0,
                   make: Callable[[], TextClassifier] = TextClassifier, groups: Sequence[str] | None = None,
                   prepared: Sequence[list[str]] | None = None,
                   near_duplicates_together: bool = False) -> dict[str, Any]:
    """Stratified ``folds``-fold cross-validation (shuffled with ``seed``): figures over all held-out predictions.

    ``groups`` (e.g. ``raw`` / ``segmented`` per row) adds ``by_kind``: the figures on each group's rows.
    ``near_duplicates_together``: each set of near-duplicate messages (:func:`near_duplicate_groups`)
    is in one fold, so no message is tested against its own copy (the figure a new message can expect).
    """
    from collections import Counter

    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if folds < 2:
        raise ModelError(f"折数至少为 2（收到 {folds}）")
    y = np.array([str(x) for x in labels])
    counts = Counter(y.tolist())
    if len(counts) < 2:
        raise ModelError("只有一个类别，无法评估：至少需要两个类别")
    smallest = min(counts.values())
    if smallest < folds:
        rare = min(counts, key=counts.get)
        raise ModelError(f"类别“{rare}”只有 {smallest} 条，少于折数 {folds}：减少折数或补充数据")
    docs = list(prepared) if prepared is not None else TextClassifier.prepare(texts)
    pred = np.empty(len(y), dtype=object)
    started = time.perf_counter()
    if near_duplicates_together:
        splits = StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(
            np.zeros(len(y)), y, near_duplicate_groups(docs))
    else:
        splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    for tr, te in splits:
        m = make().fit([texts[i] for i in tr], y[tr].tolist(), prepared=[docs[i] for i in tr])
        pred[te] = m.predict([texts[i] for i in te], prepared=[docs[i] for i in te])
    out = scores(y.tolist(), pred.tolist())
    out.update(folds=folds, seed=seed, seconds=round(time.perf_counter() - started, 1),
               near_duplicates_together=near_duplicates_together)
    if groups is not None:
        g = np.array(list(groups))
        out["by_kind"] = {}
        for kind in sorted(set(g.tolist())):
            mask = g == kind
            s = scores(y[mask].tolist(), pred[mask].tolist(), out["labels"])
            out["by_kind"][kind] = {"n": s["n"], "macro_f1": s["macro_f1"], "accuracy": s["accuracy"]}
    return out
