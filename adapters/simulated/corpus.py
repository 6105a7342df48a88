"""The built-in text the simulated agents stream, in several scripts.

Latin, Cyrillic and Hangul text is cut into words (each with its trailing space);
Chinese and Japanese text into single characters, roughly as an LLM tokenizer
would cut them.
"""

from __future__ import annotations

import random

_TEXT = {
    "en": (
        "The quarterly figures show steady growth in the northern region. "
        "Before drawing conclusions, we compare them with last year's baseline. "
        "Three sources disagree on the shipping costs, so I flag that for review. "
        "The draft summary is ready; the open questions are listed at the end. "
        "Overall the evidence supports the plan, with two risks worth watching."
    ),
    "es": (
        "Los datos del trimestre muestran un crecimiento estable en el norte. "
        "Antes de concluir, los comparamos con la referencia del año pasado. "
        "Tres fuentes no coinciden en los costes de envío; lo marco para revisión."
    ),
    "fr": (
        "Les chiffres du trimestre montrent une croissance régulière au nord. "
        "Avant de conclure, nous les comparons à la référence de l'an dernier. "
        "Trois sources divergent sur les coûts d'expédition : à vérifier."
    ),
    "de": (
        "Die Quartalszahlen zeigen ein stetiges Wachstum in der Nordregion. "
        "Bevor wir Schlüsse ziehen, vergleichen wir sie mit dem Vorjahr. "
        "Drei Quellen widersprechen sich bei den Versandkosten; bitte prüfen."
    ),
    "ru": (
        "Квартальные данные показывают устойчивый рост в северном регионе. "
        "Прежде чем делать выводы, сравним их с базой прошлого года."
    ),
    "ko": (
        "분기 수치는 북부 지역에서 꾸준한 성장을 보여 줍니다. "
        "결론을 내리기 전에 작년 기준과 비교합니다. "
        "세 가지 자료가 배송 비용에 대해 서로 다르므로 검토가 필요합니다."
    ),
    "zh": (
        "季度数据显示北部地区保持稳定增长。"
        "在得出结论之前，我们先与去年的基准进行比较。"
        "三个来源对运输成本的说法不一致，需要进一步核实。"
        "总结草稿已经完成，未解决的问题列在最后。"
    ),
    "ja": (
        "四半期の数字は北部地域で安定した成長を示しています。"
        "結論を出す前に、昨年の基準と比較します。"
        "三つの情報源で配送コストが食い違っているため、確認が必要です。"
        "要約の下書きは完成し、未解決の点は最後にまとめました。"
    ),
}
_BY_CHARACTER = frozenset({"zh", "ja"})
LANGUAGES: tuple[str, ...] = tuple(_TEXT)


def _tokens(language: str) -> tuple[str, ...]:
    text = _TEXT[language]
    if language in _BY_CHARACTER:
        return tuple(text)
    return tuple(word + " " for word in text.split())


_TOKENS = {language: _tokens(language) for language in LANGUAGES}


class TokenStream:
    """An endless stream of one language's tokens, from a seeded starting point."""

    def __init__(self, language: str, rng: random.Random) -> None:
        self.language = language
        self._tokens = _TOKENS[language]
        self._position = rng.randrange(len(self._tokens))

    def take(self, count: int) -> str:
        """The next `count` tokens as one text."""
        tokens, size, start = self._tokens, len(self._tokens), self._position
        self._position = (start + count) % size
        return "".join(tokens[(start + i) % size] for i in range(count))
