"""Themes ship as package data: a wheel carries them and an install elsewhere finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_wheel_installed_elsewhere_finds_the_bundled_themes(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=240,
    )
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("qtui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n for n in names if n.startswith("qtui/themes/"))
    assert shipped == [f"qtui/themes/{p.name}" for p in sorted((ROOT / "themes").glob("*.toml"))]

    # Installed into a folder of its own (as --user or --target would), away from the checkout.
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        capture_output=True, text=True, timeout=240,
    )
    assert install.returncode == 0, install.stderr
    code = (
        "import qtui, qtui.ui.themes as t; "
        "print(qtui.__file__); print(t.bundled_theme_dir()); print(sorted(t.load_themes()[0]))"
    )
    env = {**os.environ, "PYTHONPATH": str(target), "QTUI_CONFIG_DIR": str(tmp_path / "cfg")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    module, folder, names_line = out.stdout.splitlines()
    assert module.startswith(str(target)) and folder.startswith(str(target))
    assert names_line == "['dark', 'high-contrast', 'light']"
