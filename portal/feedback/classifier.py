"""A small local text classifier that suggests a department.

Multinomial naive Bayes over character n-grams (2 to 5): no tokeniser, so it works the
same for Latvian, Polish, Russian, Chinese and Arabic. It is trained on past items with
their final department (after re-routes), so staff corrections teach it.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

NGRAM_SIZES = (2, 3, 4, 5)
EVIDENCE_SCALE = 8.0


def features(text: str) -> Counter[str]:
    normalised = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    padded = f" {normalised} "
    grams: Counter[str] = Counter()
    for size in NGRAM_SIZES:
        for start in range(len(padded) - size + 1):
            gram = padded[start : start + size]
            if gram.strip():
                grams[gram] += 1
    return grams


@dataclass
class NaiveBayes:
    alpha: float = 0.1
    class_docs: Counter[str] = field(default_factory=Counter)
    class_grams: dict[str, Counter[str]] = field(default_factory=dict)
    class_totals: Counter[str] = field(default_factory=Counter)
    vocabulary: set[str] = field(default_factory=set)

    def fit(self, samples: Iterable[tuple[str, str]]) -> NaiveBayes:
        for text, label in samples:
            grams = features(text)
            self.class_docs[label] += 1
            self.class_grams.setdefault(label, Counter()).update(grams)
            self.class_totals[label] += sum(grams.values())
            self.vocabulary.update(grams)
        return self

    @property
    def trained(self) -> bool:
        return len(self.class_docs) >= 2

    def probabilities(self, text: str) -> dict[str, float]:
        """Posterior probability per department (empty when untrained)."""
        if not self.trained:
            return {}
        grams = features(text)
        total = max(sum(grams.values()), 1)
        documents = sum(self.class_docs.values())
        vocabulary = len(self.vocabulary) + 1
        scores: dict[str, float] = {}
        for label, docs in self.class_docs.items():
            counts = self.class_grams[label]
            denominator = self.class_totals[label] + self.alpha * vocabulary
            likelihood = sum(
                count * math.log((counts.get(gram, 0) + self.alpha) / denominator)
                for gram, count in grams.items()
            )
            # Naive Bayes is overconfident on long texts (n-grams are far from independent):
            # scale the evidence to a fixed length so the confidence shown means something.
            scores[label] = math.log(docs / documents) + likelihood * EVIDENCE_SCALE / total
        top = max(scores.values())
        exps = {label: math.exp(score - top) for label, score in scores.items()}
        norm = sum(exps.values())
        return {label: value / norm for label, value in exps.items()}

    def predict(self, text: str) -> tuple[str, float] | None:
        probabilities = self.probabilities(text)
        if not probabilities:
            return None
        label = max(probabilities, key=lambda name: probabilities[name])
        return label, probabilities[label]


def accuracy(model: NaiveBayes, samples: Sequence[tuple[str, str]]) -> float:
    if not samples:
        return 0.0
    hits = 0
    for text, label in samples:
        guess = model.predict(text)
        hits += bool(guess and guess[0] == label)
    return hits / len(samples)


def split_held_out(
    samples: Sequence[tuple[str, str]], every: int = 4
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A deterministic split: every ``every``-th sample is held out for testing."""
    train = [s for i, s in enumerate(samples) if i % every != every - 1]
    test = [s for i, s in enumerate(samples) if i % every == every - 1]
    return train, test


def leave_one_out(samples: Sequence[tuple[str, str]], alpha: float = 0.1) -> float:
    """Accuracy when each sample is predicted by a model trained on all the others."""
    if len(samples) < 2:
        return 0.0
    hits = 0
    for index, (text, label) in enumerate(samples):
        model = NaiveBayes(alpha=alpha).fit([*samples[:index], *samples[index + 1 :]])
        guess = model.predict(text)
        hits += bool(guess and guess[0] == label)
    return hits / len(samples)
