"""Dotted numeric versions: parsed once into `DottedVersion`, ordered as numbers, kept as text."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envgen.versions import DottedVersion, parse_dotted

DOTTED = st.lists(st.integers(min_value=0, max_value=999), min_size=1, max_size=4).map(
    lambda nums: ".".join(map(str, nums))
)


def test_orders_as_numbers_and_stays_text() -> None:
    assert DottedVersion("12.10") > DottedVersion("12.9")  # as text, "12.10" < "12.9"
    assert sorted(map(DottedVersion, ["10.0", "9.0", "12.0"])) == ["9.0", "10.0", "12.0"]
    driver = DottedVersion("580.159.04")
    assert driver == "580.159.04"  # the leading zero survives into plans and messages
    assert f"driver {driver}" == "driver 580.159.04"
    assert json.dumps({"driver": driver}) == '{"driver": "580.159.04"}'
    assert {"12.5": "found"}[DottedVersion("12.5")] == "found"
    assert parse_dotted(driver) == (580, 159, 4) == driver.parts
    assert driver.major == 580


def test_survives_copy_and_pickle() -> None:
    version = DottedVersion("11.8")
    for clone in (copy.deepcopy(version), pickle.loads(pickle.dumps(version))):
        assert clone == "11.8"
        assert clone.parts == (11, 8)
        assert isinstance(clone, DottedVersion)


def test_refuses_to_order_against_plain_text() -> None:
    with pytest.raises(TypeError, match="parse both"):
        _ = DottedVersion("12.10") < "12.9"
    with pytest.raises(TypeError, match="parse both"):
        _ = "12.9" > DottedVersion("12.10")  # noqa: SIM300 (the reflected comparison is the test)


@pytest.mark.parametrize("text", ["", "12.", "v12", "12.x", "1..2"])
def test_refuses_what_is_not_dotted_integers(text: str) -> None:
    with pytest.raises(ValueError, match="not a dotted version"):
        DottedVersion(text)


@given(DOTTED, DOTTED)
def test_order_is_the_order_of_the_numbers(a: str, b: str) -> None:
    left, right = DottedVersion(a), DottedVersion(b)
    assert (left < right) == (parse_dotted(a) < parse_dotted(b))
    assert (left <= right) == (parse_dotted(a) <= parse_dotted(b))
    assert (left == right) == (a == b)
