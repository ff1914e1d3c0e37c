"""The classifier on generated requests: the right category for plain requests, files that round-trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hotline.classification import model as cmodel
from hotline.classification.text import normalise, tokens
from tests.classification.conftest import LEAK, generated


def test_normalise_full_width_masked_numbers_and_links():
    t = normalise("ＡＢＣ１２３ 电话138****5678 见 https://example.com/a?b=1 。")
    assert "abc123" in t and "****" not in t and "5678" not in t and "example" not in t


def test_raw_and_segmented_text_give_the_same_words():
    raw = "小区的自来水管道漏水了，请尽快派人维修！"
    segmented = " ".join(tokens(raw))
    assert tokens(segmented) == tokens(raw)
    assert "漏水" in tokens(raw) and "的" not in tokens(raw)


def test_water_leak_suggests_water_supply(category_model):
    top = category_model.top_k(LEAK, 3)
    assert top[0][0] == "0103"  # 供水管网漏水
    assert top[0][0][:2] == "01"  # first level: 供水
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]
    assert 0 < sum(p for _, p in top) <= 1.0 + 1e-6


def test_unseen_generated_requests_mostly_classified_right(category_model):
    held_out = generated(3, seed=99)
    pred = category_model.predict([r[0] for r in held_out])
    leaf = sum(p == r[1] for p, r in zip(pred, held_out, strict=True)) / len(held_out)
    first = sum(p[:2] == r[1][:2] for p, r in zip(pred, held_out, strict=True)) / len(held_out)
    assert first >= 0.85, first
    assert leaf >= 0.7, leaf


def test_probabilities_sum_to_one(category_model):
    p = category_model.predict_proba(["路灯不亮了", LEAK])
    assert p.shape == (2, len(category_model.labels_))
    assert abs(p.sum(axis=1) - 1).max() < 1e-5


def test_one_class_or_empty_data_is_refused():
    with pytest.raises(cmodel.ModelError, match="一个类别"):
        cmodel.TextClassifier().fit(["停水了", "没水了"], ["01", "01"])
    with pytest.raises(cmodel.ModelError, match="为空"):
        cmodel.TextClassifier().fit([], [])


def test_ngrams_in_one_message_only_are_dropped_on_larger_sets():
    texts = [f"路灯不亮 编号{i}" if i % 2 else f"小区停水 编号{i}" for i in range(60)] + ["独一无二的词"]
    labels = ["路灯" if i % 2 else "供水" for i in range(60)] + ["供水"]
    m = cmodel.TextClassifier().fit(texts, labels)
    assert m.min_df == 2
    words = m._vec.transformer_list[1][1].vocabulary_
    assert "编号" in words and "独一无二" not in words
    small = cmodel.TextClassifier().fit(texts[:20] + texts[-1:], labels[:20] + labels[-1:])
    assert "独一无二" in small._vec.transformer_list[1][1].vocabulary_  # under 50 messages: every n-gram


def test_opening_block_reads_the_first_characters_only():
    words = tokens("路灯不亮了。" + "小区里的自来水管道漏水" * 5)
    grams = cmodel.opening_ngrams(words)
    joined = "".join(words)[:cmodel.OPENING_CHARS]
    assert "路灯" in grams and joined[-3:] in grams
    assert all(g in joined for g in grams)
    with_opening = cmodel.TextClassifier().fit(["路灯不亮 小区", "小区停水 路灯"] * 30, ["路灯", "供水"] * 30)
    names = [name for name, _ in with_opening._vec.transformer_list]
    assert names == ["chars", "words", "opening"]
    assert with_opening._vec.transformer_weights == {"opening": cmodel.OPENING_WEIGHT}
    without = cmodel.TextClassifier(opening=False).fit(["路灯不亮 小区", "小区停水 路灯"] * 30, ["路灯", "供水"] * 30)
    assert [name for name, _ in without._vec.transformer_list] == ["chars", "words"]
    # a message with both classes' words: the one it opens with wins
    assert with_opening.predict(["路灯不亮 小区停水"]) == ["路灯"]


def test_single_message_fast_path_gives_the_same_scores(category_model, small_set):
    docs = category_model.prepare([r[0] for r in small_set[:40]] + [LEAK, "", "完全无关的外文 abc"])
    slow = category_model._scores(category_model._clf, category_model._vec.transform(docs))
    fast = np.array([category_model._one_scores(d) for d in docs])
    assert np.abs(slow - fast).max() < 1e-5
    two = cmodel.TextClassifier().fit(["路灯不亮 小区", "小区停水 路灯"] * 30, ["路灯", "供水"] * 30)
    docs = two.prepare(["路灯不亮", "停水了"])
    slow = two._scores(two._clf, two._vec.transform(docs))
    assert np.abs(slow - np.array([two._one_scores(d) for d in docs])).max() < 1e-5
    assert np.allclose(two.predict_proba(["路灯不亮"]), two.predict_proba(["路灯不亮"] * 9)[:1], atol=1e-5)


def test_save_load_round_trip_with_versions(tmp_path, category_model, small_set):
    assert cmodel.latest_version(tmp_path, "category") is None
    with pytest.raises(cmodel.ModelError, match="model train"):
        cmodel.load(tmp_path, "category")
    first = cmodel.save(category_model, tmp_path, "category", n=len(small_set), metrics={"macro_f1": 0.5})
    second = cmodel.save(category_model, tmp_path, "category", n=len(small_set))
    assert (first.version, second.version) == (1, 2)
    assert (tmp_path / "models" / "category" / "2" / "manifest.json").is_file()
    latest = cmodel.load(tmp_path, "category")
    assert latest.version == 2
    assert latest.model.top_k(LEAK, 3) == category_model.top_k(LEAK, 3)
    one = cmodel.load(tmp_path, "category", 1)
    m = one.manifest
    assert m["version"] == 1 and m["n"] == len(small_set) and m["metrics"] == {"macro_f1": 0.5}
    assert m["labels"] == category_model.labels_ and m["created_at"] and m["sklearn_version"]
    assert [x["version"] for x in cmodel.list_models(tmp_path)] == [1, 2]


def test_model_from_another_sklearn_is_refused(tmp_path, category_model):
    saved = cmodel.save(category_model, tmp_path, "kind")
    mf = saved.path / "manifest.json"
    m = json.loads(mf.read_text())
    m["sklearn_version"] = "0.24.2"
    mf.write_text(json.dumps(m))
    with pytest.raises(cmodel.ModelError, match="scikit-learn 0.24.2"):
        cmodel.load(tmp_path, "kind")


def test_tampered_file_is_refused(tmp_path, category_model):
    saved = cmodel.save(category_model, tmp_path, "urgency")
    with (saved.path / "model.joblib").open("ab") as f:
        f.write(b"x")
    with pytest.raises(cmodel.ModelError, match="不符"):
        cmodel.load(tmp_path, "urgency")


def test_nbsvm_weights_fold_the_log_count_ratio_into_one_linear_model(tmp_path):
    """Each class's row is a binary SVM on the features scaled by that class's log-count ratio,
    folded back (coef·r): one linear model, the C picked on the held-out fifth and written in the manifest."""
    from scipy import sparse
    from sklearn.svm import LinearSVC

    rows = generated(4)
    texts, labels = [r[0] for r in rows], [r[1][:2] for r in rows]
    m = cmodel.TextClassifier().fit(texts, labels)
    assert m.nb_C_ in cmodel.NB_CS and m._clf.coef_.shape == (len(m.labels_), len(m._clf.coef_[0]))
    X = m._vec.transform(m.prepare(texts))
    y = np.array(labels)
    j = 0
    pos = y == m._clf.classes_[j]
    p = 1 + np.asarray((X[pos] > 0).sum(axis=0)).ravel()
    q = 1 + np.asarray((X[~pos] > 0).sum(axis=0)).ravel()
    r = np.log((p / p.sum()) / (q / q.sum()))
    n, k = len(y), len(m.labels_)
    svm = LinearSVC(C=m.nb_C_, class_weight={1: n / (k * pos.sum()), 0: 1.0}, random_state=0)
    svm.fit(X @ sparse.diags(r.astype(np.float32)), pos.astype(int))
    assert np.allclose(m._clf.coef_[j], svm.coef_[0] * r, atol=1e-4)
    saved = cmodel.save(m, tmp_path, "category", n=n)
    assert saved.manifest["classifier"] == "nbsvm" and saved.manifest["C"] == m.nb_C_
    old = cmodel.save(cmodel.TextClassifier(nbsvm=False).fit(texts, labels), tmp_path, "category", n=n)
    assert old.manifest["classifier"] == "svm" and old.manifest["C"] == 2.0
    assert cmodel.load(tmp_path, "category", old.version).model.predict([LEAK]) == ["01"]
