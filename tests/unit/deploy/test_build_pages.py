"""`make build` ships the api function's browser pages: every file of shared/api/static in api.zip."""

from __future__ import annotations

import zipfile
from pathlib import Path

from deploy.build import REPO_ROOT, build_packages
from shared.api.pages import STATIC_ROOT


def test_the_api_zip_holds_every_page_file_byte_for_byte(tmp_path: Path) -> None:
    (built,) = build_packages(["api"], root=REPO_ROOT, out=tmp_path / "build", site_packages=None)
    expected = {
        f"shared/api/static/{path.relative_to(STATIC_ROOT).as_posix()}": path.read_bytes()
        for path in STATIC_ROOT.rglob("*")
        if path.is_file()
    }
    assert {"shared/api/static/dashboard/index.html", "shared/api/static/docs/docs.js"} <= set(expected)
    with zipfile.ZipFile(built.zip_path) as archive:
        shipped = {name: archive.read(name) for name in archive.namelist() if name in expected}
        assert "shared/api/pages.py" in archive.namelist()
    assert shipped == expected
