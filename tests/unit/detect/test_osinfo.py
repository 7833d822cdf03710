"""OS parsers: os-release, WSL kernels, glibc, container markers, arch names."""

from __future__ import annotations

from pathlib import Path

import pytest

from envgen.detect.osinfo import (
    normalise_arch,
    os_name,
    parse_container,
    parse_glibc,
    parse_os_release,
    parse_wsl,
)


def test_os_release(data_dir: Path) -> None:
    info = parse_os_release((data_dir / "os/os-release-debian-12.txt").read_text())
    assert info["ID"] == "debian"
    assert info["VERSION_ID"] == "12"


@pytest.mark.parametrize(
    ("osrelease", "expected"),
    [
        # microsoft/WSL#4071 and #423 (kb-platform.md §6.3)
        ("5.15.153.1-microsoft-standard-WSL2", "wsl2"),
        ("4.19.128-microsoft-standard", "wsl2"),
        ("4.4.0-19041-Microsoft", "wsl1"),
        ("6.18.44-fc-v595", None),
    ],
)
def test_wsl(osrelease: str, expected: str | None) -> None:
    assert parse_wsl(osrelease) == expected


def test_glibc() -> None:
    assert parse_glibc("glibc 2.36") == "2.36"
    assert parse_glibc(None) is None
    assert parse_glibc("musl") is None


def test_containers() -> None:
    assert parse_container({"/.dockerenv": True}, {}, "") == "docker"
    assert parse_container({"/run/.containerenv": True}, {}, "") == "podman"
    assert parse_container({}, {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "") == "kubernetes"
    assert parse_container({}, {}, "12:pids:/kubepods/burstable/pod1") == "kubernetes"
    assert parse_container({}, {}, "0::/\n1:cpu:/\n") is None


def test_arch_and_name() -> None:
    assert normalise_arch("AMD64", "windows") == "x86_64"
    assert normalise_arch("arm64", "macos") == "arm64"
    assert normalise_arch("arm64", "linux") == "aarch64"
    assert normalise_arch("armv7l", "linux") == "armv7l"
    assert os_name("win32") == "windows"
    assert os_name("darwin") == "macos"
    assert os_name("linux") == "linux"
