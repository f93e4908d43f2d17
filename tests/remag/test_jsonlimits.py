import json

import pytest

from remag.jsonlimits import MAX_JSON_DEPTH, JSONTooDeep, loads_limited


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


def test_at_the_limit_decodes() -> None:
    assert loads_limited(nested(MAX_JSON_DEPTH)) == json.loads(nested(MAX_JSON_DEPTH))


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900, 5_000, 200_000])
def test_deeper_than_the_limit_is_refused_before_decoding(depth: int) -> None:
    with pytest.raises(JSONTooDeep, match=str(MAX_JSON_DEPTH)):
        loads_limited(nested(depth))


def test_objects_count_as_well() -> None:
    text = '{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(JSONTooDeep):
        loads_limited(text)


def test_an_unclosed_deep_prefix_is_too_deep_not_a_recursion() -> None:
    with pytest.raises(JSONTooDeep):
        loads_limited("[" * 100_000)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"note": "[" * 1000, "escaped": '\\"[[[[' * 100, "list": [[1]]})
    assert loads_limited(text)["list"] == [[1]]


def test_too_deep_is_a_value_error() -> None:
    assert issubclass(JSONTooDeep, ValueError)


@pytest.mark.parametrize("text", ["", "[1,", '{"a": "unterminated', "[[[]]", "nope", '"[[[['])
def test_malformed_json_is_a_decode_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_limited(text)


def test_a_custom_limit() -> None:
    assert loads_limited("[[1]]", limit=2) == [[1]]
    with pytest.raises(JSONTooDeep, match="2"):
        loads_limited("[[[1]]]", limit=2)


def test_an_integer_of_too_many_digits_is_malformed_json() -> None:
    """Python's decoder refuses integers longer than its conversion limit with a plain
    ValueError; callers handle malformed JSON, so it is reported as such."""
    with pytest.raises(json.JSONDecodeError, match="too many digits"):
        loads_limited('{"employees": ' + "9" * 5000 + "}")
    assert loads_limited('{"employees": ' + "9" * 100 + "}")["employees"] == int("9" * 100)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1e400}', "out of range"),
        ("[-1E+999]", "out of range"),
        ("[NaN]", "not a JSON number"),
        ('{"a": -Infinity}', "not a JSON number"),
    ],
)
def test_numbers_no_float_holds_are_malformed_json(text: str, message: str) -> None:
    """Python reads 1e400 as infinity and accepts NaN; a text field would store "inf"."""
    with pytest.raises(json.JSONDecodeError, match=message):
        loads_limited(text)
    assert loads_limited("[1.7e308, -2.5e-300, 0.5]") == [1.7e308, -2.5e-300, 0.5]
