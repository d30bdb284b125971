"""The result documents behind `transcription_url`: Qwen filetrans's and paraformer's.

Qwen-ASR filetrans (the seed's "Transcription result format"):

    {"file_url", "audio_info": {"format", "sample_rate"},
     "transcripts": [{"channel_id", "text", "sentences": [{"sentence_id" (from 0), "begin_time", "end_time",
                      "language", "emotion", "text", "words" (only with enable_words)}]}]}

paraformer (what the dashscope SDK's `Transcription` users download):

    {"file_url", "properties": {"audio_format", "channels", "original_sampling_rate",
                                "original_duration_in_milliseconds"},
     "transcripts": [{"channel_id", "content_duration_in_milliseconds", "text",
                      "sentences": [{"begin_time", "end_time", "text", "sentence_id" (from 1), "words"}]}]}

Words carry the text as spoken, a trailing space when another word follows, and the punctuation after them,
so joining a sentence's words reproduces its text. Times are milliseconds, clamped to the audio's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from localcloud.engines.asr import Recognition, RecognizedSentence, RecognizedWord
from localcloud.engines.probe import AudioInfo
from localcloud.services.dashscope.recognition import EMOTION


@dataclass(frozen=True)
class ChannelRecognition:
    channel_id: int
    recognition: Recognition


def qwen_result(
    file_url: str, info: AudioInfo, channels: Sequence[ChannelRecognition], *, enable_words: bool
) -> dict[str, Any]:
    duration = round(info.duration_ms)
    return {
        "file_url": file_url,
        "audio_info": {"format": _format_of(channels, info), "sample_rate": info.sample_rate},
        "transcripts": [
            {
                "channel_id": item.channel_id,
                "text": item.recognition.text,
                "sentences": [
                    _qwen_sentence(index, sentence, item.recognition.language, duration, enable_words)
                    for index, sentence in enumerate(item.recognition.sentences)
                ],
            }
            for item in channels
        ],
    }


def _qwen_sentence(
    index: int, sentence: RecognizedSentence, language: str, duration: int, enable_words: bool
) -> dict[str, Any]:
    begin, end = _span(sentence.begin_ms, sentence.end_ms, duration)
    document: dict[str, Any] = {
        "sentence_id": index,
        "begin_time": begin,
        "end_time": end,
        "language": language,
        "emotion": EMOTION,
        "text": sentence.text,
    }
    if enable_words:
        document["words"] = _words(sentence.words, duration)
    return document


def paraformer_result(
    file_url: str, info: AudioInfo, channels: Sequence[ChannelRecognition]
) -> dict[str, Any]:
    duration = round(info.duration_ms)
    transcripts = []
    for item in channels:
        sentences = [
            _paraformer_sentence(index, sentence, duration)
            for index, sentence in enumerate(item.recognition.sentences)
        ]
        transcripts.append(
            {
                "channel_id": item.channel_id,
                "content_duration_in_milliseconds": sum(s["end_time"] - s["begin_time"] for s in sentences),
                "text": item.recognition.text,
                "sentences": sentences,
            }
        )
    return {
        "file_url": file_url,
        "properties": {
            "audio_format": info.codec,
            "channels": [item.channel_id for item in channels],
            "original_sampling_rate": info.sample_rate,
            "original_duration_in_milliseconds": duration,
        },
        "transcripts": transcripts,
    }


def _paraformer_sentence(index: int, sentence: RecognizedSentence, duration: int) -> dict[str, Any]:
    begin, end = _span(sentence.begin_ms, sentence.end_ms, duration)
    return {
        "begin_time": begin,
        "end_time": end,
        "text": sentence.text,
        "sentence_id": index + 1,
        "words": _words(sentence.words, duration),
    }


def _words(words: Sequence[RecognizedWord], duration: int) -> list[dict[str, Any]]:
    rendered = []
    for index, word in enumerate(words):
        begin, end = _span(word.begin_ms, word.end_ms, duration)
        text = word.text[:1].upper() + word.text[1:] if index == 0 else word.text
        if index < len(words) - 1 and not word.punctuation:
            text += " "
        rendered.append({"begin_time": begin, "end_time": end, "text": text, "punctuation": word.punctuation})
    return rendered


def _span(begin: int, end: int, duration: int) -> tuple[int, int]:
    # Engines time words by 10 ms frames: the last one can overhang the audio by a frame.
    begin = min(max(0, begin), duration)
    return begin, min(max(begin, end), duration)


def _format_of(channels: Sequence[ChannelRecognition], info: AudioInfo) -> str:
    # The engine refines FFmpeg's demuxer list ("mov,mp4,m4a,...") with the file's extension.
    if channels:
        return channels[0].recognition.format
    return info.format_name.split(",")[0]
