"""The other Keras backends in an environment (JAX, PyTorch): what their imports said, as findings.

The probe imports each framework installed in a child of its own (`envgen/verify/probe.py
--quick`); for JAX and PyTorch the doctor reads three things from it:

* the known failure messages in the child's output (`signatures.toml`): JAX's CUDA backend that
  did not start and why, a plugin of another release, PyTorch's "not compatible with the current
  PyTorch installation" warning, which is a Python warning the probe caught, not a log line;
* an import that failed with nothing known to explain it;
* PyTorch's architectures against each device it saw, judged by the rule book
  (`rules.compute_capability`, as verify and the resolver judge them): a build without the GPU's
  architecture fails every kernel launch, whatever the driver.
"""

from __future__ import annotations

from envgen import rules
from envgen.doctor.context import Context
from envgen.doctor.model import Environment, Finding, ImportResult
from envgen.doctor.signatures import from_signatures
from envgen.versions import is_dotted

# How the doctor names each backend in its findings.
LABELS = {"jax": "JAX", "torch": "PyTorch"}


def backend_findings(env: Environment, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for name, imp in env.backends.items():
        found = from_signatures(imp.stderr, ctx, "import")
        fields = {
            "framework": LABELS.get(name, name),
            "backend": name,
            "version": imp.version or "?",
        }
        if not imp.ok and not any(f.severity == "error" for f in found):
            found.append(_import_failed(imp, ctx, fields))
        if imp.arch:
            found += _arch_findings(imp, ctx, fields)
        out += found
    return out


def _import_failed(imp: ImportResult, ctx: Context, fields: dict[str, str]) -> Finding:
    last = next((ln for ln in reversed(imp.stderr.strip().splitlines()) if ln.strip()), "")
    if imp.timed_out:
        status = "timed out"
    elif imp.signal is not None:
        status = f"killed by {imp.signal}"
    else:
        status = f"exit status {imp.returncode}"
    return ctx.finding(
        "backend-import-failed",
        last or status,
        "import",
        fields,
        status=status,
        last_line=last or "no output",
    )


def _arch_findings(imp: ImportResult, ctx: Context, fields: dict[str, str]) -> list[Finding]:
    arch = imp.arch or {}
    names = [str(n) for n in arch.get("arch_list") or []]
    built = rules.Architectures.from_arch_list(names)
    listed = " ".join(names) or "no architecture"
    out = []
    for device in arch.get("devices") or []:
        gpu, cc = str(device.get("name")), str(device.get("cc"))
        if not is_dotted(cc, parts=2):
            continue
        if built is not None and rules.compute_capability(ctx.kb, built, cc).ok:
            continue
        out.append(
            ctx.finding(
                "backend-gpu-no-kernel",
                f"{gpu}: compute capability {cc}; {fields['framework']} build: {listed}",
                "environment",
                fields,
                gpu=gpu,
                cc=cc,
                arch=listed,
            )
        )
    return out
