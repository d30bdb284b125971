"""Renderings of a Transcript. Pure functions: a Transcript in, text out.

Subtitle cues follow common readability limits: at most two lines of 42 characters and 7 seconds on screen.
Longer sentences are split at word boundaries, using word timings when the recogniser gave them and a
proportional share of the sentence's time otherwise.
"""

from __future__ import annotations

import json
import textwrap

from shared.transcripts.model import Transcript, TranscriptSentence

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_MS = 7000


def render_json(transcript: Transcript) -> str:
    """Canonical JSON: stable key order, UTF-8 text kept, a trailing newline."""
    payload = transcript.model_dump(mode="json")
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def render_txt(transcript: Transcript) -> str:
    """Plain text, one sentence per line; with several channels each line says which channel spoke."""
    multi = len(transcript.channels) > 1
    lines = [f"[channel {ch}] {text}" if multi else text for _, _, text, ch in transcript.cues()]
    return "\n".join(lines) + ("\n" if lines else "")


def render_srt(transcript: Transcript) -> str:
    blocks = []
    for index, (begin, end, text) in enumerate(_subtitle_cues(transcript), start=1):
        blocks.append(f"{index}\n{_timestamp(begin, ',')} --> {_timestamp(end, ',')}\n{text}\n")
    return "\n".join(blocks)


def render_vtt(transcript: Transcript) -> str:
    blocks = ["WEBVTT\n"]
    for begin, end, text in _subtitle_cues(transcript):
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


def _subtitle_cues(transcript: Transcript) -> list[tuple[int, int, str]]:
    multi = len(transcript.channels) > 1
    cues: list[tuple[int, int, str]] = []
    for channel in transcript.channels:
        for sentence in channel.sentences:
            for begin, end, text in _split_sentence(sentence):
                label = f"[{channel.channel_id}] " if multi else ""
                cues.append((begin, end, _wrap(label + text)))
    cues.sort(key=lambda cue: cue[0])
    return cues


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, MAX_LINE_CHARS)) or text


def _fits(text: str, begin: int, end: int) -> bool:
    return len(textwrap.wrap(text, MAX_LINE_CHARS)) <= MAX_LINES and end - begin <= MAX_CUE_MS


def _split_sentence(sentence: TranscriptSentence) -> list[tuple[int, int, str]]:
    text = " ".join(sentence.text.split())
    if not text:
        return []
    if _fits(text, sentence.begin_ms, sentence.end_ms):
        return [(sentence.begin_ms, sentence.end_ms, text)]
    if sentence.words:
        timed = [(w.begin_ms, w.end_ms, (w.text.strip() + w.punctuation).strip()) for w in sentence.words]
    else:
        timed = _spread_words(text, sentence.begin_ms, sentence.end_ms)
    cues: list[tuple[int, int, str]] = []
    current: list[tuple[int, int, str]] = []
    for word in timed:
        candidate = [*current, word]
        joined = " ".join(w[2] for w in candidate if w[2])
        if current and not _fits(joined, candidate[0][0], candidate[-1][1]):
            cues.append((current[0][0], current[-1][1], " ".join(w[2] for w in current if w[2])))
            current = [word]
        else:
            current = candidate
    if current:
        cues.append((current[0][0], current[-1][1], " ".join(w[2] for w in current if w[2])))
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
