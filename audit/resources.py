"""Where the tool finds its own files: templates, static assets, the questionnaires, the
annex and feedback definitions, the reference data and the migrations.

Every caller asks here, and here asks `importlib.resources`, never a path relative to
a checkout, so an installed wheel and a checkout behave the same:
- the data that domain experts and designers own stays in the top-level folders of the
  repository (`questionnaires/`, `registers/`, `web/`, `exports/`); the wheel build maps each of them
  to `audit/share/<folder>` (pyproject.toml, `[tool.hatch.build.targets.wheel.sources]`);
- in a checkout (the editable install of README command 1 and scripts/test.sh),
  `audit/share/<folder>` is a symbolic link to the top-level folder, so the same lookup
  reads the files being edited;
- `audit/data/` (demo specification, municipality list, hierarchies) and
  `audit/migrations/` live inside the package already.

Paths come back as `pathlib.Path`: the package is installed unpacked (pip never runs a
wheel from a zip), and Starlette's StaticFiles, Jinja2 and Alembic need directories.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE = "audit"
SHARED = ("questionnaires", "registers", "web", "exports")  # the top-level folders mapped into audit/share/
DEFAULT_INSTRUMENT = "kontanthjaelp_2022.yaml"


class ResourceMissing(RuntimeError):
    """A file the installation should carry is not there (a broken or partial install)."""


def _package_dir() -> Path:
    root = files(PACKAGE)
    if not isinstance(root, Path):  # e.g. a zip import: not how pip installs the package
        raise ResourceMissing(f"the {PACKAGE!r} package must be installed unpacked to find its files")
    return root


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise ResourceMissing(f"{what} not found at {path}: reinstall the package (pip install audit-*.whl) "
                              "or, in a checkout, restore the links in audit/share/")
    return path


def shared(folder: str, *parts: str) -> Path:
    """A file or folder of one of the top-level data folders (`questionnaires`, `web`, `exports`)."""
    if folder not in SHARED:
        raise ValueError(f"unknown shared folder {folder!r} (known: {', '.join(SHARED)})")
    return _existing(_package_dir().joinpath("share", folder, *parts), f"{folder}/{'/'.join(parts)}")


def templates_dir() -> Path:
    return shared("web", "templates")


def static_dir() -> Path:
    return shared("web", "static")


def questionnaire(name: str = DEFAULT_INSTRUMENT) -> Path:
    """An instrument file shipped with the tool (default: the 2022 instrument)."""
    return shared("questionnaires", name)


def register_definition(name: str = "kontanthjaelp_2022.yaml") -> Path:
    """A register definition file shipped with the tool (default: the 2022 extract's)."""
    return shared("registers", name)


def export_definition(name: str) -> Path:
    """An annex or feedback definition file (`annex_default.yaml`, `feedback_items.yaml`)."""
    return shared("exports", name)


def data_file(name: str) -> Path:
    """A reference file inside the package (`audit/data/`)."""
    return _existing(_package_dir().joinpath("data", name), f"audit/data/{name}")


def migrations_dir() -> Path:
    return _existing(_package_dir().joinpath("migrations"), "audit/migrations")
