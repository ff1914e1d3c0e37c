"""Text normalisation for classification: one view for raw and for pre-segmented messages.

Citizens' messages come in two shapes: as written (title and body, punctuation, full-width letters
and digits, masked phone numbers, links) and, in some training data, already cut by jieba with the
stop words removed and the words joined by spaces. :func:`tokens` brings both to the same shape:
NFKC (full-width to half-width), lower case, masked numbers, links and e-mail addresses removed,
jieba words without punctuation and without the common function words. :func:`compact` is that token
stream with the spaces removed (the text the character n-grams read), so a raw message and the same
message pre-segmented give nearly the same features.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

__all__ = ["STOP_WORDS", "compact", "load_segmenter", "normalise", "tokens", "view"]

_URL = re.compile(r"(?:https?://|www\.)[\w./?=&%#:+~-]+", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
# masked or partial phone / id numbers: 138****1234, 1389****, ***1234, xxxx
_MASKED = re.compile(r"[0-9a-z]*[*×xX]{2,}[0-9a-z]*")
_SPACE = re.compile(r"\s+")
# anything that is not a letter, digit or CJK character separates words
_PUNCT = re.compile(r"[^\w\u4e00-\u9fff]+")

# Common function words and fillers that carry no topic (the kind of list the pre-segmented data
# had removed); kept short on purpose: topic words must survive.
_STOP_TEXT = """
    的 了 和 是 在 有 我 我们 你 你们 他 她 它 他们 这 那 这个 那个 这些 那些 也 都 就 还 又 与 及 或 而 被 把 给 让
    对 对于 从 到 向 由 于 以 为 为了 因为 所以 但是 但 可是 如果 虽然 然后 并 并且 而且 还是 就是 只是 不过 一个 一些
    之 其 此 该 等 等等 吗 呢 吧 啊 呀 哦 嘛 么 着 过 得 地 很 非常 十分 比较 特别 已经 正在 将 会 能 可以 要 想 应该
    没有 不 没 无 请问 你好 您好 您 谢谢 感谢 麻烦 尊敬 领导 什么 怎么 怎样 如何 为什么 哪里 多少 几 个 些 自己 大家
    上 下 中 里 内 外 前 后 时 时候 现在 今天 目前 一直 一下 一样 这样 那样 这里 那里 其中 以及 之后 之前 关于 问题 情况
    反映 希望 能够 进行 相关 有关 部门 处理 解决 一 二 三 年 月 日 号
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

_log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def load_segmenter() -> None:
    """Load jieba's dictionary now (1–2 s, some 80 MB) instead of at the first :func:`tokens`."""
    _jieba()


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, links, e-mails and masked numbers removed, spaces collapsed."""
    t = unicodedata.normalize("NFKC", text or "").lower()
    t = _URL.sub(" ", t)
    t = _EMAIL.sub(" ", t)
    t = _MASKED.sub(" ", t)
    return _SPACE.sub(" ", t).strip()


def tokens(text: str) -> list[str]:
    """The words of ``text`` as a pre-segmented message would have them: jieba words, no punctuation or stop words.

    Spaces in the input are treated as separators (an already segmented message is cut again inside
    its words only where jieba would cut them).
    """
    jieba = _jieba()
    out: list[str] = []
    for chunk in _PUNCT.split(normalise(text)):
        if not chunk:
            continue
        for w in jieba.lcut(chunk, HMM=False):
            w = w.strip()
            if w and w not in STOP_WORDS and not w.isspace():
                out.append(w)
    return out


def compact(words: list[str]) -> str:
    """The words joined without spaces: what the character n-grams read."""
    return "".join(words)


def view(text: str) -> str:
    """One string holding both views, for a vectorizer: the words space-separated."""
    return " ".join(tokens(text))
