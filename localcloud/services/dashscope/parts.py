"""What a DashScope endpoint module (compatible, multimodal, synchronous, filetrans) is given: the parts of
`DashScopeService` it uses, so those modules never import the service module that routes to them (no
import circle; ARCHITECTURE.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from localcloud.config import LocalCloudConfig
from localcloud.services.dashscope.audio_source import AudioFetcher
from localcloud.services.dashscope.recognition import Recognizer
from localcloud.services.dashscope.tasks import TaskStore

if TYPE_CHECKING:
    from localcloud.ports import Host

__all__ = ["DashScopeParts", "TaskScheduler"]


class TaskScheduler(Protocol):
    def schedule(self, task_id: str) -> None:
        """Run the stored transcription task in the background (filetrans.Transcriber)."""


class DashScopeParts(Protocol):
    """The parts of `DashScopeService` the endpoint modules use (DashScopeService is one)."""

    @property
    def cloud(self) -> Host: ...

    @property
    def config(self) -> LocalCloudConfig: ...

    @property
    def recognizer(self) -> Recognizer: ...

    @property
    def fetcher(self) -> AudioFetcher: ...

    @property
    def tasks(self) -> TaskStore: ...

    @property
    def transcriber(self) -> TaskScheduler: ...
