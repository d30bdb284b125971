"""One canonical transcript (sentences, words, timings in ms) and its renderings: JSON, SRT, VTT, TXT.

Each name loads its module on first use (PEP 562): the HTTP API reads transcripts (`model`) on every
results call but renders none at its cold start (issue 11).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.lazy import names_loaded_on_use

if TYPE_CHECKING:
    from shared.transcripts.model import Transcript, TranscriptChannel, TranscriptSentence, TranscriptWord
    from shared.transcripts.render import (
        SubtitleStyle,
        channel_label,
        channel_transcript,
        render_json,
        render_srt,
        render_txt,
        render_vtt,
    )

_MODEL = "shared.transcripts.model"
_RENDER = "shared.transcripts.render"
_MODULE_OF = {
    "SubtitleStyle": _RENDER,
    "Transcript": _MODEL,
    "TranscriptChannel": _MODEL,
    "TranscriptSentence": _MODEL,
    "TranscriptWord": _MODEL,
    "channel_label": _RENDER,
    "channel_transcript": _RENDER,
    "render_json": _RENDER,
    "render_srt": _RENDER,
    "render_txt": _RENDER,
    "render_vtt": _RENDER,
}

__getattr__ = names_loaded_on_use(__name__, _MODULE_OF)

__all__ = [
    "SubtitleStyle",
    "Transcript",
    "TranscriptChannel",
    "TranscriptSentence",
    "TranscriptWord",
    "channel_label",
    "channel_transcript",
    "render_json",
    "render_srt",
    "render_txt",
    "render_vtt",
]
