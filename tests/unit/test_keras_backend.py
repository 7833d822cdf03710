"""`--keras-backend tensorflow|jax|torch`: the option, the request, the plan and the CLI.

A TensorFlow request hashes and serialises as it did before the option existed (committed lock
sets stay current); any other backend is part of the request, the plan's resolved digest, its
environment (KERAS_BACKEND) and its JSON, and refuses what only TensorFlow has (Keras 2, a
TensorFlow version), naming where the value came from.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from envgen.cli import main
from envgen.detect import load_or_detect
from envgen.errors import InputFileError, OptionError, UsageError
from envgen.kb import load_kb
from envgen.options import named, resolve
from envgen.plan import Plan, Request, Target, validate
from envgen.resolve import NoSolution
from envgen.resolve import resolve as plan_for

PROFILES = Path(__file__).resolve().parent.parent / "data" / "profiles"


def test_the_option_has_a_flag_a_variable_and_a_config_key() -> None:
    assert resolve("plan", {}, {}).keras_backend == "tensorflow"
    assert resolve("plan", {"keras_backend": "jax"}, {}).keras_backend == "jax"
    opts = resolve("render", {}, {"ENVGEN_KERAS_BACKEND": "torch"})
    assert (opts.keras_backend, opts.label("keras_backend")) == ("torch", "ENVGEN_KERAS_BACKEND")
    opts = resolve("lock", {}, {}, {"keras-backend": "jax"}, {"keras-backend": "p.toml: x"})
    assert (opts.keras_backend, opts.label("keras_backend")) == ("jax", "p.toml: x")
    for command in ("plan", "render", "lock", "create", "verify"):
        assert "keras_backend" in resolve(command, {}, {}).values


@pytest.mark.parametrize(
    ("environ", "config", "error", "message"),
    [
        ({"ENVGEN_KERAS_BACKEND": "mxnet"}, {}, UsageError, "^ENVGEN_KERAS_BACKEND: expected one"),
        ({}, {"keras-backend": "numpy"}, InputFileError, "^p.toml: keras-backend: expected one"),
    ],
)
def test_a_bad_backend_is_named_by_its_source(
    environ: dict[str, str], config: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        resolve("plan", {}, environ, config, {"keras-backend": "p.toml: keras-backend"})


@pytest.mark.parametrize(
    ("fields", "option", "message"),
    [
        ({"keras": "2"}, "keras", "Keras 2 runs on TensorFlow only, not with --keras-backend jax"),
        # issue 14's Keras lines and tf.keras pair with TensorFlow releases (keras.toml) only
        (
            {"keras": "2.3"},
            "keras",
            "Keras 2 runs on TensorFlow only, not with --keras-backend jax",
        ),
        ({"keras": "tf"}, "keras", "tf.keras is TensorFlow's own, not with --keras-backend jax"),
        ({"keras": "3.12"}, "keras", "a Keras line (3.12) is paired with TensorFlow releases only"),
        ({"tensorflow": "tensorflow-gpu==1.12.0"}, "tensorflow", "which --keras-backend jax"),
        ({"tensorflow": "2.15"}, "tensorflow", "names a TensorFlow, which --keras-backend jax"),
    ],
)
def test_what_only_tensorflow_has_is_refused(
    fields: dict[str, str], option: str, message: str
) -> None:
    request = Request(keras_backend="jax", **fields)  # type: ignore[arg-type]
    with pytest.raises(OptionError) as info:
        validate(request)
    assert info.value.option == option
    assert message in str(info.value)
    # Reported under the flag, variable or key that set it.
    opts = resolve("plan", {}, {"ENVGEN_KERAS": "2"})
    assert "ENVGEN_KERAS" in str(named(opts, OptionError("keras", "x")))


def test_a_request_object_refuses_an_unknown_backend() -> None:
    with pytest.raises(OptionError) as info:
        Request(keras_backend="theano")
    assert info.value.option == "keras_backend"


def test_tensorflow_requests_and_plans_hash_as_before() -> None:
    kb = load_kb()
    profile = load_or_detect(str(PROFILES / "linux-cpu-py312.toml"), environ={})
    tf = plan_for(profile, kb, Request(target=Target.CPU))
    assert isinstance(tf, Plan)
    assert "keras-backend" not in Request().to_dict()
    assert "keras-backend" not in tf.fingerprint()
    assert "indexes" not in tf.fingerprint()
    assert tf.to_dict()["tensorflow"] == tf.to_dict()["framework"]
    assert ("KERAS_BACKEND", "tensorflow") not in tf.environment


def test_another_backend_is_part_of_the_request_and_the_resolved_digest() -> None:
    kb = load_kb()
    profile = load_or_detect(str(PROFILES / "linux-cpu-py312.toml"), environ={})
    jax = plan_for(profile, kb, Request(target=Target.CPU, keras_backend="jax"))
    assert isinstance(jax, Plan)
    assert jax.request.to_dict()["keras-backend"] == "jax"
    assert jax.fingerprint()["keras-backend"] == "jax"
    assert dict(jax.environment) == {"KERAS_BACKEND": "jax"}
    assert jax.to_dict()["keras-backend"] == "jax"
    assert "tensorflow" not in jax.to_dict()
    # The same pins under another backend name would be another resolved request.
    other = dataclasses.replace(jax, keras_backend="torch")
    assert other.resolved_digest() != jax.resolved_digest()


def test_plan_cli_json_and_why_not(capsys: pytest.CaptureFixture[str]) -> None:
    profile = str(PROFILES / "linux-gtx1080ti-driver535-py311.toml")
    code = main(["plan", "--json", "--profile", profile, "--keras-backend", "torch"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["plan"]["keras-backend"] == "torch"
    assert out["plan"]["framework"]["version"] == "2.14.1+cu126"
    assert out["plan"]["indexes"] == ["https://download.pytorch.org/whl/cu126"]
    code = main(["plan", "--profile", profile, "--keras-backend", "torch", "--why-not", "2.8.0"])
    text = capsys.readouterr().out
    assert code == 0
    assert "torch==2.8.0: does not fit" in text
    assert "torch==2.8.0+cu126: fits this machine" in text


def test_no_solution_hint_names_the_framework() -> None:
    kb = load_kb()
    profile = load_or_detect(str(PROFILES / "macos-arm64-m1-py311.toml"), environ={})
    result = plan_for(profile, kb, Request(target=Target.GPU, keras_backend="jax"))
    assert isinstance(result, NoSolution)
    assert "--why-not jax==X.Y" in (result.to_error().hint or "")


def test_remedies_are_worded_per_backend() -> None:
    table = load_kb().remedies
    assert table.find("build-from-source", "jax") is None
    assert table.find("build-from-source", "tensorflow") is not None
    jax = table.render("use-wsl2", "jax", framework="JAX 0.6.2")
    tf = table.render("use-wsl2", "tensorflow", framework="TensorFlow 2.21.0")
    assert "JAX's Linux CUDA wheels" in jax
    assert "native Windows GPU support ended" in tf
