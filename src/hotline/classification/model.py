"""A text classifier for citizens' requests, and its versioned model files.

:class:`TextClassifier` reads the words of a message (:func:`hotline.classification.text.tokens`)
three times: as character 1–3-grams of the words joined without spaces, as word unigrams and bigrams,
and as character 1–3-grams of the opening (the first ``OPENING_CHARS`` = 30 characters of the words
joined: a raw message's title, or the sentence that states the problem), that block weighted 0.5.
All three are TF-IDF with sublinear term frequency, keeping the n-grams seen in at least two
training messages (``min_df=2``; 3 halves the model file at the same overall 5-fold macro-F1 but
loses 0.005 on the raw rows). On these features an NB-SVM (Wang & Manning 2012, :func:`fit_nbsvm`)
separates the classes: per class, each feature scaled by the log ratio of how often it is present in
that class and in the others, a binary linear SVM on the scaled features (the class weighted by the
inverse of its share of the training rows: macro-F1 counts every class alike), folded back into one
linear model, so scoring costs what a multi-class SVM's does. Its C (0.1, 0.3 or 1) is picked by
macro-F1 on a held-out fifth of the training rows. Against the multi-class LinearSVC before it (C=2,
``class_weight="balanced"``; ``nbsvm=False``) it scored 5-fold macro-F1 0.9304 / 0.9317 (raw rows 0.9290 / 0.9300)
against 0.9276 / 0.9290 (0.9284 / 0.9292) at CV seeds 0 / 1 on the dev file with near duplicates kept
in one fold (``evaluate.cross_validate(near_duplicates_together=True)``), chosen on
those same folds, a gain of the order of the spread between CV seeds. The class weighting added
0.0015–0.0025 to the SVM's 5-fold macro-F1 (four CV seeds); the opening block adds 0.0024 / 0.0044
(CV seeds 0 / 1) and 0.0044 / 0.0040 on the raw rows: the same words count more where a citizen
names the problem than deep in the story. The
scores become probabilities through a softmax whose temperature is fitted on the same held-out
fifth (log loss), so "0.92" means roughly what it says. A few messages at a
time are scored straight from the fitted vocabularies and weights (``_one_scores``: the same
numbers, without scikit-learn's per-call overhead), so one message costs jieba plus well under a
millisecond. It runs on one CPU core and downloads nothing.

Model files live under ``<data dir>/models/<name>/<version>/``: ``model.joblib`` and
``manifest.json`` (version, created_at, labels, n, metrics, the scikit-learn and Python versions, the
file's SHA-256, ``classifier``: ``nbsvm`` or ``svm``, and its ``C``). Versions are 1, 2, 3 …;
``latest`` is the highest. A file written by another scikit-learn minor version is refused with a
message that says to train again; a file from before the NB-SVM (a LinearSVC) still loads and
scores as it did.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from hotline.classification.text import tokens

__all__ = [
    "MODEL_NAMES",
    "ModelError",
    "SavedModel",
    "TextClassifier",
    "latest_version",
    "list_models",
    "load",
    "model_dir",
    "save",
]

MODEL_NAMES = ("category", "kind", "urgency")
MAX_CHARS = 1000  # characters of a text the model reads (see TextClassifier.prepare)
OPENING_CHARS = 30  # characters of the words joined that make the opening (see opening_ngrams)
OPENING_WEIGHT = 0.5  # the opening block's weight against the whole-text blocks (1 each)
FORMAT = 1
NB_CS = (0.1, 0.3, 1.0)  # the NB-SVM's C, chosen on the held-out fifth (see TextClassifier._fit_held_out)
NB_DEFAULT_C = 0.3  # on sets too small to hold a fifth out
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class ModelError(Exception):
    """A model cannot be trained, saved or loaded; the message says what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------ analyzers (module level: picklable)


def char_ngrams(words: Sequence[str]) -> list[str]:
    """Character 1–3-grams of the words joined without spaces."""
    s = "".join(words)
    out = list(s)
    out += [s[i:i + 2] for i in range(len(s) - 1)]
    out += [s[i:i + 3] for i in range(len(s) - 2)]
    return out


def opening_ngrams(words: Sequence[str]) -> list[str]:
    """Character 1–3-grams of the first ``OPENING_CHARS`` characters of the words joined (the title)."""
    return char_ngrams(["".join(words)[:OPENING_CHARS]])


def word_ngrams(words: Sequence[str]) -> list[str]:
    """Word unigrams and bigrams."""
    return list(words) + [a + " " + b for a, b in zip(words, words[1:], strict=False)]


def _macro_f1(truth: np.ndarray, pred: np.ndarray) -> float:
    f = []
    for c in np.unique(truth):
        tp = np.sum((pred == c) & (truth == c))
        f.append(2 * tp / (np.sum(pred == c) + np.sum(truth == c)))
    return float(np.mean(f))


class LinearScores:
    """A fitted linear model in LinearSVC's shape (``classes_``, ``coef_`` one row per class,
    ``intercept_``): what :func:`fit_nbsvm` returns, scored like the SVM it replaced."""

    def __init__(self, classes: np.ndarray, coef: np.ndarray, intercept: np.ndarray):
        self.classes_ = classes
        self.coef_ = coef
        self.intercept_ = intercept

    def decision_function(self, X: Any) -> np.ndarray:
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]


def fit_nbsvm(X: Any, y: np.ndarray, Cs: Sequence[float], *, alpha: float = 1.0, balanced: bool = True,
              seed: int = 0) -> dict[float, LinearScores]:
    """NB-SVM (Wang & Manning 2012) on features ``X``, one model per C in ``Cs``. Per class c: the
    log-count ratio r = log((p/|p|) / (q/|q|)) of feature presence (p, q = ``alpha`` + the number
    of rows in c / not in c where the feature is non-zero), a binary LinearSVC on X·r (class c
    weighted n / (k·n_c) when ``balanced``, the rest 1), folded back into one linear model on X
    (weights coef·r), so scoring costs what the multi-class SVM's did."""
    from scipy import sparse
    from sklearn.svm import LinearSVC

    classes = np.array(sorted(set(y.tolist())))
    col = {c: j for j, c in enumerate(classes)}
    yi = np.array([col[v] for v in y.tolist()])
    n, k = len(yi), len(classes)
    B = sparse.csr_matrix(X, copy=True)
    B.data = (B.data > 0).astype(np.float64)
    Y = sparse.csr_matrix((np.ones(n), (yi, np.arange(n))), shape=(k, n))
    present = np.asarray((Y @ B).todense())  # k × features: rows of each class where a feature is present
    total = present.sum(axis=0)
    W = {c: np.zeros((k, X.shape[1])) for c in Cs}
    b = {c: np.zeros(k) for c in Cs}
    for j in range(k):
        pos = yi == j
        p = alpha + present[j]
        q = alpha + total - present[j]
        r = np.log((p / p.sum()) / (q / q.sum()))
        Xr = sparse.csr_matrix(X) @ sparse.diags(r.astype(X.dtype))
        weights = {1: n / (k * pos.sum()), 0: 1.0} if balanced else None
        for c in Cs:
            m = LinearSVC(C=c, class_weight=weights, random_state=seed).fit(Xr, pos.astype(int))
            W[c][j] = m.coef_[0] * r
            b[c][j] = m.intercept_[0]
    return {c: LinearScores(classes, W[c], b[c]) for c in Cs}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------ the classifier


class TextClassifier:
    """Fit on (text, label) pairs; predict labels and the top k with probabilities."""

    def __init__(self, *, C: float = 2.0, min_df: int = 2, seed: int = 0, opening: bool = True,
                 balanced: bool = True, nbsvm: bool = True):
        self.C = C  # the multi-class SVM's (nbsvm=False); the NB-SVM picks its own among NB_CS
        self.nbsvm = nbsvm  # False: a multi-class LinearSVC on the features (the model before the NB-SVM)
        self.nb_C_: float = NB_DEFAULT_C
        self.balanced = balanced  # False: every training row counts the same (the model before the weighting)
        self.min_df = min_df
        self.seed = seed
        self.opening = opening  # False: the whole-text blocks only (the model before the opening block)
        self.labels_: list[str] = []
        self.temperature_: float = 1.0
        self._vec: Any = None
        self._clf: Any = None
        self.fit_seconds_: float = 0.0

    # -- features

    def _vectorizer(self, n: int) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        min_df = self.min_df if n >= 50 else 1
        blocks = [
            ("chars", TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, min_df=min_df, dtype=np.float32)),
            ("words", TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True, min_df=min_df, dtype=np.float32)),
        ]
        if not getattr(self, "opening", True):
            return FeatureUnion(blocks)
        blocks.append(("opening", TfidfVectorizer(analyzer=opening_ngrams, sublinear_tf=True, min_df=min_df,
                                                  dtype=np.float32)))
        return FeatureUnion(blocks, transformer_weights={"opening": OPENING_WEIGHT})

    def _svm(self, n_classes: int) -> Any:
        from sklearn.svm import LinearSVC

        weights = "balanced" if getattr(self, "balanced", False) else None  # older files: unweighted
        return LinearSVC(C=self.C, class_weight=weights, random_state=self.seed)

    def _fit_linear(self, X: Any, y: np.ndarray, Cs: Sequence[float]) -> dict[float, Any]:
        """The linear model on features ``X``, one per C in ``Cs`` (the NB-SVM), or the SVM at :attr:`C`."""
        if not getattr(self, "nbsvm", False):
            return {c: self._svm(len(self.labels_)).fit(X, y) for c in Cs}
        return fit_nbsvm(X, y, Cs, balanced=getattr(self, "balanced", True), seed=self.seed)

    @staticmethod
    def prepare(texts: Iterable[str]) -> list[list[str]]:
        """The token lists the model reads (exposed so callers can tokenise once and fit many times):
        the first ``MAX_CHARS`` characters of each text, where a caller states the problem. Reading
        the rest of a very long letter changed 5-fold macro-F1 on the dev file by 0.0001 (raw rows
        0.001) and cost its p95 latency (11 ms against 9 ms: jieba is most of a prediction)."""
        return [tokens((t or "")[:MAX_CHARS]) for t in texts]

    # -- training

    def fit(self, texts: Sequence[str], labels: Sequence[str], *, prepared: Sequence[list[str]] | None = None,
            ) -> TextClassifier:
        if len(texts) != len(labels):
            raise ModelError(f"文本 {len(texts)} 条，标签 {len(labels)} 个，数量不一致")
        labels = [str(x).strip() for x in labels]
        classes = sorted(set(labels))
        if not texts:
            raise ModelError("训练数据为空：至少需要两个类别的若干条文本")
        if len(classes) < 2:
            raise ModelError(f"训练数据只有一个类别（{classes[0]}）：至少需要两个类别")
        started = time.perf_counter()
        docs = list(prepared) if prepared is not None else self.prepare(texts)
        y = np.array(labels)
        self.labels_ = classes
        self.nb_C_, self.temperature_ = self._fit_held_out(docs, y)
        self._vec = self._vectorizer(len(docs))
        X = self._vec.fit_transform(docs)
        self._clf = self._fit_linear(X, y, [self.nb_C_])[self.nb_C_]
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _fit_held_out(self, docs: list[list[str]], y: np.ndarray) -> tuple[float, float]:
        """On a held-out fifth of the training rows: the NB-SVM's C (among ``NB_CS``, by macro-F1) and
        the softmax scale that minimises log loss for it. Small sets: C ``NB_DEFAULT_C``, scale 5."""
        from collections import Counter

        counts = Counter(y.tolist())
        if len(docs) < 100 or min(counts.values()) < 5:
            return NB_DEFAULT_C, 5.0
        from sklearn.model_selection import train_test_split

        idx = np.arange(len(docs))
        tr, te = train_test_split(idx, test_size=0.2, stratify=y, random_state=self.seed)
        vec = self._vectorizer(len(tr))
        Cs = NB_CS if getattr(self, "nbsvm", False) else (NB_DEFAULT_C,)
        models = self._fit_linear(vec.fit_transform([docs[i] for i in tr]), y[tr], Cs)
        Xte = vec.transform([docs[i] for i in te])
        best_C, best_f1, scores = Cs[0], -1.0, None
        for c, clf in models.items():
            s = self._scores(clf, Xte)
            f1 = _macro_f1(y[te], np.asarray(clf.classes_)[s.argmax(axis=1)])
            if f1 > best_f1:  # ties: the smaller C (NB_CS ascending)
                best_C, best_f1, scores, cols = c, f1, s, {k: j for j, k in enumerate(clf.classes_)}
        truth = np.array([cols.get(label, -1) for label in y[te]])
        keep = truth >= 0
        best, best_loss = 5.0, float("inf")
        for t in (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30):
            p = _softmax(scores[keep] * t)
            loss = -np.mean(np.log(np.clip(p[np.arange(keep.sum()), truth[keep]], 1e-12, None)))
            if loss < best_loss:
                best, best_loss = float(t), loss
        return float(best_C), best

    @staticmethod
    def _scores(clf: Any, X: Any) -> np.ndarray:
        d = clf.decision_function(X)
        if d.ndim == 1:  # two classes: one column, positive means classes_[1]
            d = np.column_stack([-d / 2, d / 2])
        return d

    # -- prediction

    def _one_scores(self, doc: list[str]) -> np.ndarray | None:
        """The SVM's decision values for one token list, computed straight from the fitted vocabularies,
        IDF weights and coefficients: the same numbers as ``decision_function(vec.transform([doc]))``
        without scikit-learn's per-call checks, which are most of the time of one message after jieba
        (a single raw message: about 0.5 ms here against 3 ms). ``None`` where the fitted
        vectorizers are not the kind this reproduces (then the caller takes the scikit-learn path)."""
        vec, clf = self._vec, self._clf
        blocks = getattr(vec, "transformer_list", None)
        coef = getattr(clf, "coef_", None)
        if blocks is None or coef is None:
            return None
        weights = vec.transformer_weights or {}
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        offset = 0
        for name, v in blocks:
            if (v.norm != "l2" or not v.use_idf or v.binary or not callable(v.analyzer)
                    or getattr(v, "vocabulary_", None) is None):
                return None
            vocab = v.vocabulary_
            counts: dict[int, int] = {}
            for g in v.analyzer(doc):
                j = vocab.get(g)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if counts:
                idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                x = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                if v.sublinear_tf:
                    x = np.log(x) + 1
                x = x * v.idf_[idx]
                norm = float(np.sqrt(x @ x))
                if norm > 0:
                    x = x / norm
                cols.append(idx + offset)
                vals.append(x * weights.get(name, 1))
            offset += len(vocab)
        if offset != coef.shape[1]:
            return None
        d = clf.intercept_.astype(np.float64)
        if cols:
            d = d + coef[:, np.concatenate(cols)] @ np.concatenate(vals)
        if d.shape[0] == 1:  # two classes: one column, positive means classes_[1]
            d = np.array([-d[0] / 2, d[0] / 2])
        return d

    def _check(self) -> None:
        if self._clf is None:
            raise ModelError("模型尚未训练")

    def predict_proba(self, texts: Sequence[str], *, prepared: Sequence[list[str]] | None = None) -> np.ndarray:
        """Probabilities, one row per text, columns in the order of :attr:`labels_`."""
        self._check()
        docs = list(prepared) if prepared is not None else self.prepare(texts)
        fast = [self._one_scores(d) for d in docs] if len(docs) <= 8 else [None]
        if all(x is not None for x in fast):
            scores = np.array(fast).reshape(len(docs), -1)
        else:
            scores = self._scores(self._clf, self._vec.transform(docs))
        order = [list(self._clf.classes_).index(c) for c in self.labels_]
        return _softmax(scores[:, order] * self.temperature_)

    def predict(self, texts: Sequence[str], *, prepared: Sequence[list[str]] | None = None) -> list[str]:
        self._check()
        docs = list(prepared) if prepared is not None else self.prepare(texts)
        return [str(x) for x in self._clf.predict(self._vec.transform(docs))]

    def top_k(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most likely labels of one text, most likely first, with their probabilities."""
        p = self.predict_proba([text])[0]
        order = np.argsort(-p)[:k]
        return [(self.labels_[i], float(p[i])) for i in order]


# ------------------------------------------------------------------ model files


@dataclass
class SavedModel:
    name: str
    version: int
    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    model: TextClassifier | None = None


def model_dir(data_dir: Path | str, name: str) -> Path:
    if not _NAME.match(name):
        raise ModelError(f"模型名称无效：{name!r}（小写字母、数字、-、_）")
    return Path(data_dir) / "models" / name


def _versions(data_dir: Path | str, name: str) -> list[int]:
    root = model_dir(data_dir, name)
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir()
                  if p.is_dir() and p.name.isdigit() and (p / "manifest.json").is_file())


def latest_version(data_dir: Path | str, name: str) -> int | None:
    versions = _versions(data_dir, name)
    return versions[-1] if versions else None


ACTIVE = "ACTIVE"  # models/<name>/ACTIVE: the version in use, when an admin chose one


def chosen_version(data_dir: Path | str, name: str) -> int | None:
    """The version an admin activated (``hotline model activate``), if any and still there."""
    try:
        text = (model_dir(data_dir, name) / ACTIVE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return int(text) if text.isdigit() and int(text) in _versions(data_dir, name) else None


def active_version(data_dir: Path | str, name: str) -> int | None:
    """The version the suggestions use: the one activated, else the newest trained."""
    return chosen_version(data_dir, name) or latest_version(data_dir, name)


def activate(data_dir: Path | str, name: str, version: int | str) -> SavedModel | None:
    """Make ``version`` the one in use (a roll-back to an earlier one, or on to a newer one), after
    loading it: a version that cannot be loaded is refused. ``latest`` drops the choice, so the
    newest trained version is used again; it returns None then."""
    root = model_dir(data_dir, name)
    if str(version) == "latest":
        (root / ACTIVE).unlink(missing_ok=True)
        return None
    if not str(version).isdigit():
        raise ModelError(f"版本号无效：{version}（填写 hotline model list 列出的版本号，或 latest）")
    saved = load(data_dir, name, int(version))
    tmp = root / f"{ACTIVE}.tmp"
    tmp.write_text(f"{saved.version}\n", encoding="utf-8")
    tmp.replace(root / ACTIVE)  # whole or not at all: a reader never sees half a number
    return saved


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def save(model: TextClassifier, data_dir: Path | str, name: str, *, metrics: dict[str, Any] | None = None,
         n: int | None = None, source: str = "", extra: dict[str, Any] | None = None) -> SavedModel:
    """Write ``model`` as the next version of ``name``; return where it went."""
    import joblib

    model._check()
    root = model_dir(data_dir, name)
    root.mkdir(parents=True, exist_ok=True)
    version = (latest_version(data_dir, name) or 0) + 1
    while True:  # another process may have taken the number: take the next
        path = root / str(version)
        try:
            path.mkdir()
            break
        except FileExistsError:
            version += 1
    file = path / "model.joblib"
    joblib.dump(model, file, compress=3)
    manifest = {
        "format": FORMAT,
        "name": name,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "labels": list(model.labels_),
        "n": int(n if n is not None else 0),
        "metrics": metrics or {},
        "source": source,
        "sklearn_version": _sklearn_version(),
        "python_version": platform.python_version(),
        "file": file.name,
        "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
        "size_bytes": file.stat().st_size,
        "fit_seconds": round(model.fit_seconds_, 3),
        "temperature": model.temperature_,
        "classifier": "nbsvm" if getattr(model, "nbsvm", False) else "svm",
        "C": getattr(model, "nb_C_", model.C) if getattr(model, "nbsvm", False) else model.C,
        **(extra or {}),
    }
    # the manifest last: a version without one is not a version (a crash mid-write leaves nothing loadable)
    tmp = path / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path / "manifest.json")
    return SavedModel(name=name, version=version, path=path, manifest=manifest, model=model)


def read_manifest(data_dir: Path | str, name: str, version: int | str = "latest") -> SavedModel:
    """The manifest of a version (``latest`` by default), without loading the model."""
    if version == "latest":
        v = latest_version(data_dir, name)
        if v is None:
            raise ModelError(f"没有模型 {name}：先运行 hotline model train --name {name}")
    else:
        v = int(version)
    path = model_dir(data_dir, name) / str(v)
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        have = "、".join(str(n) for n in _versions(data_dir, name)) or "无"
        raise ModelError(f"模型 {name} 没有版本 {v}（现有版本：{have}）") from None
    return SavedModel(name=name, version=v, path=path, manifest=manifest)


def load(data_dir: Path | str, name: str, version: int | str = "latest") -> SavedModel:
    """Load a version of ``name`` (the latest by default), refusing files from another scikit-learn."""
    import joblib

    saved = read_manifest(data_dir, name, version)
    m = saved.manifest
    theirs, ours = str(m.get("sklearn_version", "?")), _sklearn_version()
    if _minor(theirs) != _minor(ours):
        raise ModelError(f"模型 {name} 版本 {saved.version} 由 scikit-learn {theirs} 训练，当前为 {ours}，"
                         f"不能加载：请重新训练（hotline model train --name {name}）")
    if m.get("format") != FORMAT:
        raise ModelError(f"模型 {name} 版本 {saved.version} 的文件格式 {m.get('format')} 不受支持：请重新训练")
    file = saved.path / str(m.get("file", "model.joblib"))
    data = file.read_bytes()
    if m.get("sha256") and hashlib.sha256(data).hexdigest() != m["sha256"]:
        raise ModelError(f"模型文件 {file} 与清单不符（已损坏或被改动）：请重新训练")
    model = joblib.load(file)
    if not isinstance(model, TextClassifier):
        raise ModelError(f"{file} 不是 hotline 的分类模型")
    saved.model = model
    return saved


def list_models(data_dir: Path | str) -> list[dict[str, Any]]:
    """Every saved version, by name then version: the manifests (without loading any model), each
    with ``active`` (the version the suggestions use) and ``chosen`` (activated by an admin)."""
    root = Path(data_dir) / "models"
    out: list[dict[str, Any]] = []
    if not root.is_dir():
        return out
    for d in sorted(p for p in root.iterdir() if p.is_dir() and _NAME.match(p.name)):
        chosen, in_use = chosen_version(data_dir, d.name), active_version(data_dir, d.name)
        for v in _versions(data_dir, d.name):
            out.append({**read_manifest(data_dir, d.name, v).manifest, "active": v == in_use, "chosen": v == chosen})
    return out
