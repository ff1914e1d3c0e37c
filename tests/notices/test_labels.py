"""Every message template has a name in words (``notices.labels``), shown on the admin pages."""

from __future__ import annotations

from hotline.notices.admin import placeholder_names
from hotline.notices.labels import PLACEHOLDER_LABELS, TEMPLATE_LABELS, placeholder_label, template_label
from hotline.notify.templates import shipped_templates


def test_every_shipped_template_has_a_chinese_label_and_no_label_is_left_over():
    codes = {row["code"] for row in shipped_templates()}
    assert codes == set(TEMPLATE_LABELS)
    assert len(set(TEMPLATE_LABELS.values())) == len(TEMPLATE_LABELS)  # no two alike
    for code, label in TEMPLATE_LABELS.items():
        assert label != code and "（" in label and label.isascii() is False


def test_a_template_added_by_hand_is_named_by_its_code():
    assert template_label("caller.receipt") == "受理回执短信（来电人）"
    assert template_label("local.custom") == "local.custom"


def test_every_placeholder_of_the_shipped_templates_has_a_label():
    used = {n for row in shipped_templates() for n in placeholder_names(row["subject"], row["body"])}
    assert used <= set(PLACEHOLDER_LABELS), used - set(PLACEHOLDER_LABELS)
    assert placeholder_label("query_code") == "{query_code}（查询码）" and placeholder_label("x") == "{x}"
