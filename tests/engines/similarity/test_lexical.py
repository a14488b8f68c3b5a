"""Lexical scorer and index: exact examples, properties, bad input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opencall.engines.similarity import LexicalIndex, Match, TextError, features, score, shared_phrases

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Words from a small alphabet so random texts share features often; CJK and Latin mixed.
_word = st.one_of(
    st.text(alphabet="abcdeé", min_size=1, max_size=6),
    st.text(alphabet="回收公园箱学习", min_size=1, max_size=4),
)
texts = st.lists(_word, min_size=1, max_size=8).map(" ".join)


def test_identical_text_scores_one() -> None:
    assert score("Recycling bins in every park", "Recycling bins in every park") == 1.0
    assert score("在每个公园设置回收箱", "在每个公园设置回收箱") == 1.0


def test_case_and_width_do_not_matter() -> None:
    assert score("Recycling Bins", "recycling bins") == 1.0
    assert score("ＡＩ for schools", "AI for schools") == 1.0  # full-width letters, NFKC


def test_disjoint_texts_score_zero() -> None:
    assert score("xyz", "abc") == 0.0
    assert score("回收", "学习") == 0.0
    assert score("bike", "自行车") == 0.0


def test_word_order_does_not_matter() -> None:
    assert score("machine learning for health", "health for machine learning") == 1.0


def test_chinese_near_duplicates_score_high_and_unrelated_low() -> None:
    near = score("在每个公园设置回收箱", "每个公园都应设置回收箱")
    unrelated = score("在每个公园设置回收箱", "为学校屋顶安装太阳能板")
    assert near > 0.6
    assert unrelated < 0.1
    assert near > 5 * unrelated


def test_english_near_duplicate_beats_an_unrelated_text() -> None:
    a = "Free bike repair workshops in the city centre"
    assert score(a, "Free bicycle repair workshop in the centre of the city") > 0.5
    assert score(a, "Solar panels on school roofs") < 0.2


def test_mixed_scripts_share_both_parts() -> None:
    f = features("用 Python 做机器学习")
    assert {"wpython", "c py", "h机器", "h学习", "h用"} <= set(f)
    assert "h用p" not in "".join(f)  # no n-gram crosses from one script to the other
    assert score("用 Python 做机器学习", "用Python做机器学习") == 1.0


def test_pair_score_exact_value() -> None:
    # "ab" -> c" a", c"ab", c"b ", c" ab", c"ab ", c" ab ", w"ab" (7 features); "abc" shares 3 of its 10:
    # c" a", c"ab", c" ab". Every weight is 1, so the cosine is 3 / sqrt(7 * 10).
    assert score("ab", "abc") == pytest.approx(3 / (7 * 10) ** 0.5, abs=1e-12)


def test_shared_phrases_are_the_longest_shared_runs_as_written_in_the_query() -> None:
    q = "Install Recycling Bins in every public park"
    d = "We want recycling bins in each park, public park or not"
    assert shared_phrases(q, d) == ("Recycling Bins in", "public park")
    assert shared_phrases("the and of", "the and of") == ()  # stop words only
    assert shared_phrases("在公园设置回收箱", "公园里的回收箱") == ("回收箱", "公园")  # longest first


def _index() -> LexicalIndex:
    index = LexicalIndex()
    index.add("bins", "Recycling bins in every park")
    index.add("solar", "Solar panels on school roofs")
    index.add("zh", "在每个公园设置回收箱")
    index.add("bins2", "More recycling bins near the park entrance")
    return index


def test_search_ranks_and_explains() -> None:
    hits = _index().search("recycling bins for parks", k=2)
    assert [h.id for h in hits] == ["bins", "bins2"]
    assert hits[0].score > hits[1].score > 0
    assert hits[0].phrases == ("recycling bins",)
    zh = _index().search("公园回收箱", k=5)
    assert zh[0].id == "zh"
    assert set(zh[0].phrases) == {"公园", "回收箱"}


def test_search_of_an_indexed_text_finds_itself_with_score_one() -> None:
    hit = _index().search("Solar panels on school roofs", k=1)[0]
    assert hit == Match("solar", 1.0, ("Solar panels on school roofs",))


def test_search_filter_and_min_score() -> None:
    index = _index()
    hits = index.search("recycling bins for parks", k=1, accept=lambda i: i != "bins")
    assert [h.id for h in hits] == ["bins2"]
    assert all(h.score > 0.3 for h in index.search("recycling bins for parks", k=10, min_score=0.3))
    assert index.search("zzzz", k=3) == []


def test_replace_and_remove() -> None:
    index = _index()
    index.add("solar", "Wind turbines on the hill")
    assert len(index) == 4
    assert index.search("Solar panels on school roofs", k=1)[0].score < 0.2  # only "on" is shared now
    assert index.search("Wind turbines on the hill", k=1)[0] == Match("solar", 1.0, ("Wind turbines on the hill",))
    index.remove("bins")
    assert "bins" not in index
    assert [h.id for h in index.search("recycling bins in every park", k=5)][:1] == ["bins2"]
    assert "bins" not in {h.id for h in index.search("recycling bins in every park", k=5)}
    with pytest.raises(KeyError):
        index.remove("bins")


def test_index_score_weighs_common_words_less() -> None:
    index = LexicalIndex()
    for i in range(20):
        index.add(i, f"the city should fund project number {i}")
    index.add("x", "community garden")
    plain = score("the city garden", "the city park")
    weighted = index.score("the city garden", "the city park")
    assert weighted < plain  # "the city" is everywhere in the index


@FAST
@given(texts, texts)
def test_score_is_symmetric_and_in_range(a: str, b: str) -> None:
    s = score(a, b)
    assert 0.0 <= s <= 1.0
    assert s == pytest.approx(score(b, a), abs=1e-12)
    assert score(a, a) == 1.0


@FAST
@given(
    st.lists(texts, min_size=1, max_size=40),
    st.lists(st.integers(0, 39), max_size=40),
    st.lists(texts, min_size=1, max_size=5),
)
def test_removed_documents_are_never_returned(docs: list[str], removals: list[int], queries: list[str]) -> None:
    index = LexicalIndex()
    for i, d in enumerate(docs):
        index.add(i, d)
    removed = {r for r in removals if r < len(docs)}
    for r in removed:
        index.remove(r)
    for q in queries:
        hits = index.search(q, k=len(docs))
        assert not removed & {h.id for h in hits}
        assert all(0.0 < h.score <= 1.0 for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        # exact: every live document sharing a feature is returned, scored as the pair scorer does
        expected = {i for i in range(len(docs)) if i not in removed and index.score(q, docs[i]) > 0}
        assert {h.id for h in hits} == expected
        for h in hits:
            assert h.score == pytest.approx(index.score(q, docs[h.id]), abs=1e-9)


@FAST
@given(st.lists(texts, min_size=40, max_size=80), st.data())
def test_search_stays_exact_across_rebuilds(docs: list[str], data: st.DataObject) -> None:
    index = LexicalIndex()
    for i, d in enumerate(docs):
        index.add(i, d)
        if i % 7 == 0:
            index.search(d, k=1)  # builds the main matrix part way, leaving later adds pending
    for i in data.draw(st.sets(st.integers(0, len(docs) - 1), max_size=len(docs) // 2)):
        index.remove(i)
    q = data.draw(texts)
    for h in index.search(q, k=10):
        assert h.score == pytest.approx(index.score(q, docs[h.id]), abs=1e-9)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("!!! ???", "empty"),
        ("x" * 20_001, "too_long"),
        ("abc\x00def", "binary"),
        ("abc\x12def", "binary"),
        ("caf\ufffd", "binary"),
        ("\ud800abc", "binary"),
        (b"bytes", "not_text"),
        (None, "not_text"),
    ],
)
def test_bad_input_is_refused_with_a_reason(text: object, problem: str) -> None:
    with pytest.raises(TextError) as raised:
        score(text, "fine")  # type: ignore[arg-type]
    assert raised.value.problem == problem
    index = _index()
    with pytest.raises(TextError):
        index.search(text, k=3)  # type: ignore[arg-type]
    with pytest.raises(TextError):
        index.add("bad", text)  # type: ignore[arg-type]
    assert "bad" not in index


def test_tab_and_newline_are_fine_and_the_limit_is_a_setting() -> None:
    assert score("one\ttwo\nthree\r\n", "one two three") == 1.0
    with pytest.raises(TextError, match="limit is 10"):
        LexicalIndex(max_chars=10).add(1, "eleven chars")
