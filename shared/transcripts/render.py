"""Renderings of a Transcript. Pure functions: a Transcript in, text out.

Subtitle cues follow common readability guidelines (`SubtitleStyle`, e.g. the BBC's and Netflix's timed-text
style guides): at most two lines of 42 characters and 7 seconds on screen; longer sentences are split at word
boundaries, using word timings when the recogniser gave them and a proportional share of the sentence's time
otherwise. A cue stays up at least a second and long enough to be read at 20 characters a second, running on
into the silence after it where there is one (never into the next cue of the same channel), and its lines are
balanced so that no line is left holding one word when the text could be spread more evenly.
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass

from shared.transcripts.model import Transcript, TranscriptSentence

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_MS = 7000
MIN_CUE_MS = 1000
MAX_CHARS_PER_SECOND = 20
_CUE_GAP_MS = 40  # a frame or so between consecutive cues, so players show them as separate


@dataclass(frozen=True)
class SubtitleStyle:
    """Limits for subtitle cues; the defaults suit most players and readers."""

    line_chars: int = MAX_LINE_CHARS
    lines: int = MAX_LINES
    max_cue_ms: int = MAX_CUE_MS
    min_cue_ms: int = MIN_CUE_MS
    max_chars_per_second: float = MAX_CHARS_PER_SECOND

    def __post_init__(self) -> None:
        if self.line_chars < 10 or self.lines < 1 or self.max_cue_ms < self.min_cue_ms or self.min_cue_ms < 0:
            raise ValueError(f"subtitle style out of range: {self}")
        if self.max_chars_per_second <= 0:
            raise ValueError("max_chars_per_second must be above 0")


DEFAULT_STYLE = SubtitleStyle()


def render_json(transcript: Transcript) -> str:
    """Canonical JSON: stable key order, UTF-8 text kept, a trailing newline."""
    payload = transcript.model_dump(mode="json")
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def channel_label(channel_id: int) -> str:
    """How a merged rendering marks a channel's lines: `[ch1]` for channel_id 0 (people count from one).

    >>> channel_label(0), channel_label(1)
    ('[ch1]', '[ch2]')
    """
    return f"[ch{channel_id + 1}]"


def channel_transcript(transcript: Transcript, channel_id: int) -> Transcript:
    """The transcript of one channel only (what the per-channel files render)."""
    kept = tuple(channel for channel in transcript.channels if channel.channel_id == channel_id)
    return transcript.model_copy(update={"channels": kept})


def render_txt(transcript: Transcript) -> str:
    """Plain text, one sentence per line; with several channels each line says which channel spoke."""
    multi = len(transcript.channels) > 1
    lines = [f"{channel_label(ch)} {text}" if multi else text for _, _, text, ch in transcript.cues()]
    return "\n".join(lines) + ("\n" if lines else "")


def render_srt(transcript: Transcript, style: SubtitleStyle = DEFAULT_STYLE) -> str:
    blocks = []
    for index, (begin, end, text) in enumerate(_subtitle_cues(transcript, style), start=1):
        blocks.append(f"{index}\n{_timestamp(begin, ',')} --> {_timestamp(end, ',')}\n{text}\n")
    return "\n".join(blocks)


def render_vtt(transcript: Transcript, style: SubtitleStyle = DEFAULT_STYLE) -> str:
    blocks = ["WEBVTT\n"]
    for begin, end, text in _subtitle_cues(transcript, style):
        blocks.append(f"{_timestamp(begin, '.')} --> {_timestamp(end, '.')}\n{_vtt_escape(text)}\n")
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    # WebVTT cue text is markup: a bare `&` or `<` starts an entity or a tag, and `-->` may not appear.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _timestamp(ms: int, separator: str) -> str:
    hours, rest = divmod(max(ms, 0), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def _subtitle_cues(transcript: Transcript, style: SubtitleStyle) -> list[tuple[int, int, str]]:
    multi = len(transcript.channels) > 1
    cues: list[tuple[int, int, str]] = []
    for channel in transcript.channels:
        label = f"{channel_label(channel.channel_id)} " if multi else ""
        timed = [
            cue for sentence in channel.sentences for cue in _split_sentence(sentence, style, len(label))
        ]
        timed.sort(key=lambda cue: cue[0])
        for begin, end, text in _readable_durations(timed, style):
            cues.append((begin, end, _wrap(label + text, style)))
    cues.sort(key=lambda cue: cue[0])
    return cues


def _readable_durations(cues: list[tuple[int, int, str]], style: SubtitleStyle) -> list[tuple[int, int, str]]:
    """Each cue kept up long enough to read (at least min_cue_ms, at most max_chars_per_second), running on
    into the silence before the channel's next cue but never past it or past max_cue_ms."""
    out = []
    for index, (begin, end, text) in enumerate(cues):
        wanted = max(style.min_cue_ms, math.ceil(len(text) * 1000 / style.max_chars_per_second))
        limit = begin + style.max_cue_ms
        if index + 1 < len(cues):
            limit = min(limit, cues[index + 1][0] - _CUE_GAP_MS)
        out.append((begin, max(end, min(begin + wanted, limit)), text))
    return out


def _wrap(text: str, style: SubtitleStyle = DEFAULT_STYLE) -> str:
    """Lines of at most line_chars, as even as they can be (no lone word left on a last line when the text
    could be spread more evenly over the same number of lines)."""
    natural = textwrap.wrap(text, style.line_chars)
    if len(natural) <= 1:
        return "\n".join(natural) or text
    for width in range(math.ceil(len(text) / len(natural)), style.line_chars + 1):
        balanced = textwrap.wrap(text, width)
        if len(balanced) <= len(natural):
            return "\n".join(balanced)
    return "\n".join(natural)  # pragma: no cover - width line_chars reproduces `natural`


def _fits(text: str, begin: int, end: int, style: SubtitleStyle = DEFAULT_STYLE) -> bool:
    return len(textwrap.wrap(text, style.line_chars)) <= style.lines and end - begin <= style.max_cue_ms


def _split_sentence(
    sentence: TranscriptSentence, style: SubtitleStyle = DEFAULT_STYLE, label_chars: int = 0
) -> list[tuple[int, int, str]]:
    text = " ".join(sentence.text.split())
    if not text:
        return []
    if _fits(" " * label_chars + text, sentence.begin_ms, sentence.end_ms, style):
        return [(sentence.begin_ms, sentence.end_ms, text)]
    if sentence.words:
        timed = [(w.begin_ms, w.end_ms, (w.text.strip() + w.punctuation).strip()) for w in sentence.words]
    else:
        timed = _spread_words(text, sentence.begin_ms, sentence.end_ms)
    groups: list[list[tuple[int, int, str]]] = []
    current: list[tuple[int, int, str]] = []
    for word in timed:
        candidate = [*current, word]
        joined = " " * label_chars + " ".join(w[2] for w in candidate if w[2])
        if current and not _fits(joined, candidate[0][0], candidate[-1][1], style):
            groups.append(current)
            current = [word]
        else:
            current = candidate
    if current:
        groups.append(current)
    if len(groups) > 1 and len(groups[-1]) == 1:
        # One word left for a cue of its own: take a word from the cue before so neither is an orphan.
        groups[-1].insert(0, groups[-2].pop())
    cues = [(group[0][0], group[-1][1], " ".join(w[2] for w in group if w[2])) for group in groups if group]
    return [cue for cue in cues if cue[2]]


def _spread_words(text: str, begin: int, end: int) -> list[tuple[int, int, str]]:
    """No word timings: share the sentence's time among words in proportion to their length."""
    words = text.split()
    total = sum(len(w) + 1 for w in words)
    span = max(end - begin, 0)
    out, cursor = [], float(begin)
    for word in words:
        share = span * (len(word) + 1) / total
        out.append((round(cursor), round(cursor + share), word))
        cursor += share
    return out
