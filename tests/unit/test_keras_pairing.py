"""The Keras pairing (keras.toml) row by row: each line and each `--keras 2` pair, planned.

Every row of keras.toml carries its sources (wheel METADATA on PyPI, Keras release notes, the CI
configuration at the release's tag, settled threads); each test below plans with that row and
quotes the row's own `source` when it fails, so a failure names the evidence it contradicts.
Hand-picked scenarios with their own citations are in test_scenarios.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from packaging.version import Version

from envgen.detect import load_or_detect
from envgen.kb import load_kb
from envgen.kb.keras import KerasLine, KerasPair
from envgen.kb.tensorflow import Release
from envgen.plan import Plan, Request, Target
from envgen.profile import HardwareProfile, PythonInfo
from envgen.resolve import NoSolution, resolve

PROFILES = Path(__file__).resolve().parent.parent / "data" / "profiles"
PLATFORM = "linux-x86_64"
KB = load_kb()


def _machine(python: str) -> HardwareProfile:
    """A Linux x86_64 CPU machine with every instruction set and an old enough glibc for all."""
    base = load_or_detect(str(PROFILES / "linux-cpu-py312.toml"), environ={})
    return dataclasses.replace(base, python=PythonInfo(version=python))


def _python_for(release: Release, line: KerasLine | None = None) -> str | None:
    """The newest Python with a wheel of `release` here that the Keras line also installs on."""
    wheels = release.wheel(PLATFORM)
    if wheels is None:
        return None
    fits = [p for p in wheels.python if line is None or line.fits_python(p)]
    return fits[-1] if fits else None


def _pins(plan: Plan) -> dict[str, str]:
    return {p.name: p.requirement() for p in plan.packages}


def _line_id(line: KerasLine) -> str:
    return line.label.replace(" ", "-")


def _own_keras_admits(release: Release, line: KerasLine) -> bool:
    """TensorFlow 2.5+ requires a Keras itself: a line of that distribution must meet it."""
    from packaging.requirements import Requirement

    own = release.keras.requirement
    if own is None or Requirement(own).name != line.package:
        return True
    return Requirement(own).specifier.contains(line.versions[-1], prereleases=True)


@pytest.mark.parametrize("line", KB.keras.lines, ids=_line_id)
def test_each_line_pins_its_newest_release_with_a_tensorflow_in_range(line: KerasLine) -> None:
    if line.package == "tf-keras" and KB.keras.line_of("keras", line.versions[-1]):
        pytest.skip(f"--keras {line.versions[-1]} names keras {line.versions[-1]}, not tf-keras")
    in_range = [
        r
        for r in KB.tensorflow.releases
        if line.fits(r.version) and r.wheel(PLATFORM) and _own_keras_admits(r, line)
    ]
    assert in_range, f"{line.label}: no TensorFlow release in {line.tensorflow} ({line.source})"
    release = in_range[-1]
    python = _python_for(release, line)
    assert python is not None, f"{line.label}: no common Python with {release.version}"
    asked = str(line.versions[-1])
    if line.package == "keras-nightly":
        asked = "2.5"  # the dev release is named by its line
    result = resolve(
        _machine(python),
        KB,
        Request(target=Target.CPU, tensorflow=str(release.version), keras=asked, python=python),
    )
    assert isinstance(result, Plan), f"{line.label} ({line.source}): {result.message}"
    pins = _pins(result)
    assert pins.get(line.package) == f"{line.package}=={line.versions[-1]}", (
        f"{line.label} with TensorFlow {release.version}: {pins} ({line.source})"
    )
    if line.package == "tf-keras":
        assert dict(result.environment) == {"TF_USE_LEGACY_KERAS": "1"}


@pytest.mark.parametrize("line", KB.keras.lines, ids=_line_id)
def test_each_line_refuses_a_tensorflow_out_of_its_range(line: KerasLine) -> None:
    outside = [r for r in KB.tensorflow.releases if not line.fits(r.version) and r.wheel(PLATFORM)]
    # The newest release outside the range with a Python the line installs on.
    candidates = [(r, p) for r in outside if (p := _python_for(r, line)) is not None]
    if not candidates:
        pytest.skip(f"{line.label}: every TensorFlow with a common Python is in range")
    release, python = candidates[-1]
    asked = "2.5" if line.package == "keras-nightly" else str(line.versions[-1])
    request = Request(
        target=Target.CPU, tensorflow=str(release.version), keras=asked, python=python
    )
    result = resolve(_machine(python), KB, request)
    assert isinstance(result, NoSolution), (
        f"{line.label} beside TensorFlow {release.version} should be refused ({line.source})"
    )
    assert f"Keras {asked} requires TensorFlow" in result.message or (
        # a same-numbered release of TensorFlow's own Keras can be the blocker instead
        "itself requires" in result.message
    ), result.message


def _pair_cases() -> list[object]:
    out: list[object] = []
    for pair in KB.keras.pairs:
        for minor in pair.tensorflow:
            out.append(pytest.param(pair, minor, id=f"tf{minor}-keras{pair.keras}"))
    return out


@pytest.mark.parametrize(("pair", "minor"), _pair_cases())
def test_keras_2_pins_the_pair_beside_each_minor(pair: KerasPair, minor: str) -> None:
    releases = [r for r in KB.tensorflow.releases_of(minor) if r.wheel(PLATFORM)]
    release = releases[-1]
    python = _python_for(release)
    assert python is not None
    result = resolve(
        _machine(python),
        KB,
        Request(target=Target.CPU, tensorflow=minor, keras="2", python=python),
    )
    assert isinstance(result, Plan), f"TF {minor} --keras 2 ({pair.source}): {result.message}"
    assert _pins(result)["keras"] == f"keras=={pair.keras}", pair.source
    reason = next(p.reason for p in result.packages if p.name == "keras")
    assert f"TensorFlow {minor}" in reason
    assert "--keras 2" in reason


# --- the table's own invariants -------------------------------------------------------------------


def test_rows_are_sorted() -> None:
    keys = [(ln.package, ln.versions[0]) for ln in KB.keras.lines]
    order = {"keras": 0, "keras-nightly": 1, "tf-keras": 2}
    assert sorted(keys, key=lambda k: (order[k[0]], k[1])) == keys
    minors = [Version(p.tensorflow[0]) for p in KB.keras.pairs]
    assert minors == sorted(minors)


def test_lines_do_not_overlap() -> None:
    seen: dict[tuple[str, Version], str] = {}
    for line in KB.keras.lines:
        for v in line.versions:
            assert (line.package, v) not in seen, f"{line.package} {v} in two lines"
            seen[(line.package, v)] = line.label


def test_every_pair_names_a_line_that_holds_each_of_its_minors() -> None:
    for pair in KB.keras.pairs:
        line = KB.keras.line_of("keras", pair.keras)
        assert line is not None, f"keras {pair.keras} is in no line"
        for minor in pair.tensorflow:
            for release in KB.tensorflow.releases_of(minor):
                assert line.fits(release.version), (pair.keras, release.version)


def test_pairs_cover_every_minor_without_keras_of_its_own() -> None:
    # Every TensorFlow that declares no Keras (tf.keras only, up to 2.4) has a pair; no other does.
    bundled = [b.minor for b in KB.tensorflow.builds if b.keras.kind == "tf.keras"]
    paired = [m for p in KB.keras.pairs for m in p.tensorflow]
    assert paired == bundled


def test_tensorflow_s_own_keras_is_in_the_lines() -> None:
    """TF 2.6-2.15 require keras of their own minor and 2.16+ tf-keras for Keras 2: the lines
    and tensorflow-builds.toml must agree on it."""
    from packaging.requirements import Requirement

    kb = KB
    for build in kb.tensorflow.builds:
        releases = kb.tensorflow.releases_of(build.minor)
        for text, kind in ((build.keras.requirement, "tf-dependency"), (build.tf_keras, None)):
            if text is None or (kind and build.keras.kind != "keras"):
                continue
            req = Requirement(text)
            lines = [ln for ln in kb.keras.lines if ln.package == req.name]
            admitted = [
                v
                for ln in lines
                for v in ln.versions
                if req.specifier.contains(v, prereleases=True)
            ]
            assert admitted, f"{build.minor}: no release of {text} in keras.toml"
            line = kb.keras.line_of(req.name, admitted[-1])
            assert line is not None
            assert all(line.fits(r.version) for r in releases), (build.minor, line.label)


def test_a_keras_line_that_does_not_fit_is_exit_4(capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 14 §1: `--keras 2.4` with TF 1.15 is refused with the reason, exit 4 (no solution).
    from envgen.cli import main

    profile = str(PROFILES / "linux-cpu-py37.toml")
    code = main(["plan", "--profile", profile, "--tensorflow", "1.15", "--keras", "2.4"])
    assert code == 4
    err = capsys.readouterr().err
    assert "Keras 2.4 requires TensorFlow ≥ 2.2" in err
    assert "--keras 2" in err  # the remedy: the pairing of TF 1.15 (keras==2.3.1)
