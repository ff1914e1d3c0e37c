"""From the database: history and corrections train the next model; suggestions for a text."""

from __future__ import annotations

from hotline.assist import suggest, training
from hotline.assist.models import ClassificationFeedback
from hotline.classification import model as cmodel
from hotline.tickets.states import Status
from tests.builders import make_personas, make_ticket, register
from tests.classification.conftest import LEAK, generated

CODES = ("0101", "0103", "0201", "0401", "0501", "0601", "0701", "0801")


def _history(session, p) -> None:
    for text, code, kind, urgency in generated(6, seed=11):
        if code in CODES:
            register(session, p, category_code=code, kind=kind, urgency=urgency, title=text.split("。")[0][:30],
                     content=text, region_code="140828102207")


def test_no_model_means_no_suggestions(db, tmp_path):
    suggest.clear_cache()
    with db.transaction() as session:
        assert suggest.suggest_category(session, tmp_path, LEAK) == []


def test_history_trains_category_and_excludes_refused_and_merged(db, tmp_path):
    suggest.clear_cache()
    with db.transaction() as session:
        p = make_personas(session)
        _history(session, p)
        make_ticket(session, p, Status.refused, category_code="9901", content="不予受理的诉求内容，和分类无关")
        texts, labels, counts = training.training_pairs(session, "category")
        assert "9901" not in labels and counts["feedback"] == 0
        assert set(labels) == set(CODES)
        saved = training.train_from_db(session, tmp_path, "category")
        assert saved.version == 1 and saved.manifest["source"] == "database"
        top = suggest.suggest_category(session, tmp_path, LEAK)
    assert [c for c, _, _ in top][0] == "0103"
    assert top[0][1] == "供水管网漏水" and len(top) == 3
    assert top[0][2] > top[1][2]


def test_corrections_are_used_at_next_training(db, tmp_path):
    suggest.clear_cache()
    phrase = "小区门口的窨井盖被车压碎了，晚上路过的人很容易掉进去"
    with db.transaction() as session:
        p = make_personas(session)
        _history(session, p)
        first = training.train_from_db(session, tmp_path, "category")
        before = first.model.top_k(phrase, 3)
        chosen = "0401" if before[0][0] != "0401" else "0701"
        row = training.record_choice(session, text=phrase, chosen_label=chosen, model_version=first.version,
                                     suggestions=before, user_id=p.agent.id)
        assert row.suggested_label == before[0][0] and row.suggested_top[0]["label"] == before[0][0]
        assert session.query(ClassificationFeedback).count() == 1
        _, _, counts = training.training_pairs(session, "category")
        assert counts["feedback"] == 1
        second = training.train_from_db(session, tmp_path, "category")
    assert second.version == 2
    assert second.model.top_k(phrase, 1)[0][0] == chosen
    # the suggestion cache picks up the new version
    suggest.clear_cache()
    assert cmodel.latest_version(tmp_path, "category") == 2


def test_kind_and_urgency_models_from_history(db, tmp_path):
    with db.transaction() as session:
        p = make_personas(session)
        _history(session, p)
        saved = training.train_all_from_db(session, tmp_path)
    assert [s.name for s in saved] == ["category", "kind", "urgency"]
    assert set(saved[2].manifest["labels"]) <= {"normal", "urgent", "emergency"}
