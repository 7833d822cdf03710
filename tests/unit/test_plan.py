"""The request and plan types: targets and channels are enums, a pin's version is typed."""

from __future__ import annotations

import json

import pytest

from envgen.errors import OptionError
from envgen.plan import CHANNELS, TARGETS, Channel, ExactVersion, Pin, Request, Target, VersionSpec


def test_request_text_becomes_enums_and_serialises_as_before() -> None:
    request = Request(target="gpu", channel="auto")  # type: ignore[arg-type]  # as flags give it
    assert request.target is Target.GPU
    assert request.channel is Channel.AUTO
    assert json.dumps(request.to_dict(), sort_keys=True) == (
        '{"channel": "auto", "keras": null, "python": null, "target": "gpu", "tensorflow": null}'
    )
    assert TARGETS == ("cpu", "gpu", "auto")
    assert CHANNELS == ("pip", "conda", "system")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"target": "tpu"}, "--target: expected one of cpu, gpu, auto, got 'tpu'"),
        ({"channel": "npm"}, "--channel: expected one of pip, conda, system, auto, got 'npm'"),
    ],
)
def test_a_bad_choice_is_the_options_error(fields: dict[str, str], message: str) -> None:
    # An OptionError: the CLI reports it under how the value was set (ENVGEN_TARGET, ...).
    with pytest.raises(OptionError) as info:
        Request(**fields)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert info.value.option == next(iter(fields))


def test_a_pin_version_is_exact_or_a_specifier_by_type() -> None:
    tf = Pin("tensorflow", ExactVersion("2.21.0"), Channel.PIP, "why")
    numpy = Pin("numpy", VersionSpec(">=1.26.0,<2"), Channel.PIP, "why")
    toolkit = Pin("cudatoolkit", ExactVersion("11.2"), Channel.CONDA, "why")
    runtime = Pin("cuda-cudart", VersionSpec(""), Channel.CONDA, "why")
    assert (tf.exact, numpy.exact) == (True, False)
    assert tf.requirement() == "tensorflow==2.21.0"
    assert numpy.requirement() == "numpy>=1.26.0,<2"
    assert (toolkit.conda_spec(), runtime.conda_spec()) == ("cudatoolkit=11.2", "cuda-cudart")


def test_a_pin_refuses_untyped_versions_and_auto() -> None:
    with pytest.raises(TypeError, match="ExactVersion or a VersionSpec"):
        Pin("tensorflow", "2.21.0", Channel.PIP, "why")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not auto"):
        Pin("tensorflow", ExactVersion("2.21.0"), Channel.AUTO, "why")
