"""services.gateway.storable: searched with generated JSON documents."""
import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.gateway.storable import MAX_DEPTH, MAX_SAFE_INTEGER, TooDeep, unstorable

# What every backend stores: text without NUL or lone surrogates, finite
# numbers, integers JavaScript can hold.
clean_text = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)))
clean_scalar = (st.none() | st.booleans() | clean_text
                | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
                | st.floats(allow_nan=False, allow_infinity=False))
clean_json = st.recursive(clean_scalar, lambda children: st.lists(children, max_size=4)
                          | st.dictionaries(clean_text, children, max_size=4), max_leaves=30)
poison = st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", float("nan"), float("inf"),
                          -float("inf"), MAX_SAFE_INTEGER + 1, -(2**80)])


@given(clean_json)
def test_clean_documents_have_no_errors(document):
    assert unstorable(document) == {}


def paths_to_leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_to_leaves(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_to_leaves(item, path + (index,))
    else:
        yield path


@given(clean_json, poison, st.data())
def test_one_poisoned_leaf_is_named_by_its_path(document, bad, data):
    leaves = [path for path in paths_to_leaves(document) if path]
    assume(leaves)
    path = data.draw(st.sampled_from(leaves))
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = bad
    node = unstorable(document)
    for part in path:
        node = node[part]
    assert node and all(isinstance(message, str) for message in node)


@given(clean_text.filter(bool), st.sampled_from(["\x00", "\ud800"]))
def test_a_poisoned_key_is_named(key, bad):
    errors = unstorable({"address": {key + bad: 1}})
    assert list(errors) == ["address"]


@pytest.mark.parametrize("depth,deep", [(MAX_DEPTH, False), (MAX_DEPTH + 1, True)])
def test_depth_is_bounded_without_recursion(depth, deep):
    document = "leaf"
    for _ in range(depth):
        document = [document]
    if deep:
        with pytest.raises(TooDeep):
            unstorable(document)
    else:
        assert unstorable(document) == {}


def test_a_very_deep_document_is_too_deep_not_a_recursion_error():
    document = json.loads("[" * 900 + "]" * 900)
    with pytest.raises(TooDeep):
        unstorable(document)
