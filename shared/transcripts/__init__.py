"""One canonical transcript (sentences, words, timings in ms) and its renderings: JSON, SRT, VTT, TXT."""

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
