"""Text to speech for localcloud's ICE SubmitAudioProduceJob, with eSpeak NG.

eSpeak NG comes from the `espeakng-loader` wheel (library and voice data, no system install) and is driven
through ctypes by `localcloud.engines.espeak`. ICE's EditingConfig maps onto eSpeak like this:

- `voice`: an Alibaba voice name from `VOICES` (case-insensitive; Mandarin voices speak with eSpeak's
  `cmn`, English ones with `en-us` or `en`, eSpeak's British English), or `espeak:<name>` for any eSpeak
  voice (`espeak:fr`, `espeak:en+f3`).
- `speech_rate` -500…500 → speed factor 0.5…2.0 of eSpeak's default 175 words per minute, linear on each
  side of 0 (-500 → x0.5, -250 → x0.75, 0 → x1, 250 → x1.5, 500 → x2).
- `pitch_rate` -500…500 → eSpeak pitch 0…100 (default 50), linear.
- `volume` 0…100 → eSpeak amplitude 0…200 (ICE's default 50 is eSpeak's default 100).

Sentence timings (ICE's AiResult) come from eSpeak's sentence events: one entry per sentence, seconds from
the start, each sentence ending where the next begins and the last ending with the audio.

    >>> synthesizer = SpeechSynthesizer()
    >>> speech = synthesizer.synthesize("Hello there. How are you?", voice="Andy", speech_rate=-100)
    >>> [s.content for s in speech.sentences]
    ['Hello there.', 'How are you?']
    >>> write(speech, "/tmp/hello.mp3", "MP3")
"""

from __future__ import annotations

import html
import re
import wave
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from localcloud.engines.espeak import EspeakEvent, SynthesisParameters, synthesize_pcm
from shared.errors import InvalidRequestError, Problem

if TYPE_CHECKING:
    import av

__all__ = [
    "SAMPLE_RATES",
    "VOICES",
    "OutputFormat",
    "SentenceTiming",
    "SpeechSynthesizer",
    "Synthesis",
    "pitch_rate_to_pitch",
    "resolve_voice",
    "speech_rate_to_wpm",
    "volume_to_amplitude",
    "write",
]

OutputFormat = Literal["PCM", "WAV", "MP3"]
OUTPUT_FORMATS: tuple[str, ...] = ("PCM", "WAV", "MP3")

# Rates every output format can carry (MP3 is the narrowest: MPEG-1/2/2.5 layer III).
SAMPLE_RATES: frozenset[int] = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})

ESPEAK_PREFIX = "espeak:"
DEFAULT_WPM = 175

_MANDARIN = "cmn"
_US = "en-us"
_GB = "en"  # eSpeak's British English voice is named "en"; "en-gb" is its language tag, not a voice name
# eSpeak variants by gender. Of the shipped variants these two were best understood by PocketSphinx
# (bench/asr_wer.py); the plain default voice scored about twice the word error rate.
_FEMALE = "+f2"
_MALE = "+klatt4"

# Alibaba voice name (lowercase) → eSpeak voice of the same language, with a variant of the same gender.
VOICES: Mapping[str, str] = MappingProxyType(
    {
        # Mandarin (standard and emotional voices).
        **{name: _MANDARIN + _FEMALE for name in (
            "xiaoyun", "ruoxi", "siqi", "sijia", "aiqi", "aijia", "ninger", "ruilin", "siyue", "aiya",
            "aixia", "aimei", "aiyu", "aiyue", "aijing", "xiaomei", "aina", "yina", "sijing", "sitong",
            "xiaobei", "aitong", "aiwei", "aibao", "zhitian_emo", "zhiyan_emo", "zhimi_emo", "zhibei_emo",
            "zhimiao_emo", "zhiyue", "zhiya", "zhiqi", "zhimao", "zhiyuan", "zhigui", "zhiwei",
        )},
        **{name: _MANDARIN + _MALE for name in (
            "xiaogang", "sicheng", "aicheng", "aida", "aishuo", "aifei", "aida", "zhishuo", "zhida",
            "zhixiang", "zhichu", "zhifeng_emo", "zhizhe",
        )},
        # American English.
        **{name: _US + _FEMALE for name in (
            "abby", "annie", "ava", "becca", "beth", "betty", "cally", "cindy", "donna", "eva",
        )},
        **{name: _US + _MALE for name in ("andy", "brian")},
        # British English.
        **{name: _GB + _FEMALE for name in ("emily", "luna", "olivia", "wendy", "lydia")},
        **{name: _GB + _MALE for name in ("eric", "harry", "luca", "william")},
        # Other languages with an eSpeak voice.
        "kelly": "yue" + _FEMALE,
        "jiajia": "yue" + _FEMALE,
        "taozi": "yue" + _FEMALE,
        "tomoka": "ja" + _FEMALE,
        "tomoya": "ja" + _MALE,
        "kyong": "ko" + _FEMALE,
        "masha": "ru" + _FEMALE,
        "camila": "es" + _FEMALE,
        "perla": "it" + _FEMALE,
        "clara": "fr" + _FEMALE,
        "hanna": "de" + _FEMALE,
        "waan": "th" + _FEMALE,
        "indah": "id" + _FEMALE,
        "farah": "ms" + _FEMALE,
        "tien": "vi" + _FEMALE,
    }
)  # fmt: skip


@dataclass(frozen=True)
class SentenceTiming:
    """One sentence of the input and where it is heard, in seconds (ICE AiResult `content`/`from`/`to`)."""

    content: str
    from_s: float
    to_s: float


@dataclass(frozen=True)
class Synthesis:
    """Synthesised speech: 16-bit little-endian mono PCM at `sample_rate`, with sentence timings."""

    samples: bytes = field(repr=False)
    sample_rate: int
    sentences: list[SentenceTiming]

    @property
    def duration_s(self) -> float:
        return len(self.samples) / 2 / self.sample_rate


def resolve_voice(voice: str) -> str:
    """The eSpeak voice for an ICE voice name (case-insensitive) or `espeak:<name>`.

    >>> resolve_voice("Siqi"), resolve_voice("espeak:fr")
    ('cmn+f2', 'fr')

    An unknown name raises InvalidRequestError (a ValueError) naming it and listing the accepted voices.
    Whether an `espeak:` voice exists is checked when synthesising.
    """
    name = voice.strip() if isinstance(voice, str) else ""
    if name.lower().startswith(ESPEAK_PREFIX):
        espeak_name = name[len(ESPEAK_PREFIX) :].strip()
        if espeak_name and re.fullmatch(r"[A-Za-z0-9_\-/+]+", espeak_name):
            return espeak_name
    elif name.lower() in VOICES:
        return VOICES[name.lower()]
    accepted = ", ".join(sorted(VOICES))
    raise InvalidRequestError.single(
        "voice",
        "unknown_voice",
        f"unknown voice {voice!r}; accepted: {accepted}, or {ESPEAK_PREFIX}<eSpeak voice> (espeak:en-us)",
    )


def speech_rate_to_wpm(speech_rate: int) -> int:
    """ICE speech_rate -500…500 → words per minute: x0.5 at -500, x1 at 0, x2 at 500, linear each side."""
    factor = 1 + speech_rate / 500 if speech_rate >= 0 else 1 + speech_rate / 1000
    return round(DEFAULT_WPM * factor)


def pitch_rate_to_pitch(pitch_rate: int) -> int:
    """ICE pitch_rate -500…500 → eSpeak pitch 0…100 (0 → 50)."""
    return round(50 + pitch_rate / 10)


def volume_to_amplitude(volume: int) -> int:
    """ICE volume 0…100 → eSpeak amplitude 0…200 (50 → 100, eSpeak's default)."""
    return volume * 2


def _check_int(problems: list[Problem], name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(Problem(name, "type", f"must be an integer, got {value!r}"))
    elif not low <= value <= high:
        problems.append(Problem(name, "range", f"must be between {low} and {high}, got {value}"))


class SpeechSynthesizer:
    """Speaks text with eSpeak NG. Instances are cheap; they share the one eSpeak library (thread-safe)."""

    operation = "text-to-speech"

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        volume: int = 50,
        speech_rate: int = 0,
        pitch_rate: int = 0,
        sample_rate: int = 16000,
    ) -> Synthesis:
        """Speak `text` (plain, or SSML when it is a `<speak>` document) with ICE's EditingConfig settings.

        >>> SpeechSynthesizer().synthesize("你好。", voice="xiaoyun").sentences[0].content
        '你好。'
        """
        problems: list[Problem] = []
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem("text", "required", "must be non-empty text"))
        elif _UNSPEAKABLE.search(text):
            # eSpeak reads a C string: it would stop at a NUL, and a lone surrogate has no UTF-8 form.
            problems.append(
                Problem("text", "unspeakable_character", "must not contain NUL or unpaired surrogates")
            )
        espeak_voice = ""
        try:
            espeak_voice = resolve_voice(voice)
        except InvalidRequestError as exc:
            problems.extend(exc.problems)
        _check_int(problems, "volume", volume, 0, 100)
        _check_int(problems, "speech_rate", speech_rate, -500, 500)
        _check_int(problems, "pitch_rate", pitch_rate, -500, 500)
        if sample_rate not in SAMPLE_RATES or isinstance(sample_rate, bool):
            rates = ", ".join(str(rate) for rate in sorted(SAMPLE_RATES))
            problems.append(
                Problem("sample_rate", "unsupported", f"must be one of {rates}, got {sample_rate!r}")
            )
        if problems:
            raise InvalidRequestError(problems, self.operation)

        ssml = _SSML_START.match(text) is not None
        parameters = SynthesisParameters(
            voice=espeak_voice,
            words_per_minute=speech_rate_to_wpm(speech_rate),
            pitch=pitch_rate_to_pitch(pitch_rate),
            amplitude=volume_to_amplitude(volume),
        )
        try:
            pcm, native_rate, events = synthesize_pcm(text, parameters, ssml=ssml)
        except LookupError:
            raise InvalidRequestError.single(
                "voice",
                "unknown_voice",
                f"eSpeak has no voice {espeak_voice!r} (from {voice!r}); eSpeak voices are language codes "
                "such as en-us, cmn or fr, optionally with a variant such as +f3",
                self.operation,
            ) from None
        samples = _resample(pcm, native_rate, sample_rate)
        duration = len(samples) / 2 / sample_rate
        sentences = _sentence_timings(text, events, duration, ssml=ssml)
        if not sentences:
            raise InvalidRequestError.single(
                "text", "no_speech", "there is nothing to speak in the text (markup only?)", self.operation
            )
        return Synthesis(samples, sample_rate, sentences)

    @staticmethod
    def write(synthesis: Synthesis, path: str | PathLike[str], format: str) -> None:
        """Write speech to a file; see the module-level `write`."""
        write(synthesis, path, format)


def _resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    if from_rate == to_rate or not pcm:
        return pcm
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=to_rate)
    out = bytearray()
    for frame in [*_frames(pcm, from_rate), None]:
        for resampled in resampler.resample(frame):
            out += bytes(resampled.planes[0])[: resampled.samples * 2]
    return bytes(out)


def _frames(pcm: bytes, rate: int, samples_per_frame: int = 8192) -> Iterator[av.AudioFrame]:
    import av

    step = samples_per_frame * 2
    for offset in range(0, len(pcm), step):
        chunk = pcm[offset : offset + step]
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk) // 2)
        frame.planes[0].update(chunk)
        frame.sample_rate = rate
        frame.pts = offset // 2
        yield frame


_TAG = re.compile(r"<[^>]*>")
_UNSPEAKABLE = re.compile("[\x00\ud800-\udfff]")
_SSML_START = re.compile(r"\s*(<\?xml[^>]*>\s*)?<speak[\s>/]")


def _sentence_timings(
    text: str, events: list[EspeakEvent], duration: float, *, ssml: bool
) -> list[SentenceTiming]:
    """Cut the input at eSpeak's sentence events and time each piece from the event's audio position."""
    starts = [(event.text_position, event.audio_ms) for event in events if event.is_sentence]
    if not starts and duration > 0:
        starts = [(1, 0)]
    cuts = [0] + [_snap_to_word_start(text, position - 1, ssml) for position, _ in starts[1:]] + [len(text)]
    begun: list[tuple[str, float]] = []  # (content, start in seconds)
    for index, (_, audio_ms) in enumerate(starts):
        piece = text[cuts[index] : cuts[index + 1]]
        content = " ".join((html.unescape(_TAG.sub(" ", piece)) if ssml else piece).split())
        if not content:  # markup only: its time goes to the sentence before
            continue
        # Never before the previous sentence, never past the audio (eSpeak rounds to whole ms).
        start = min(max(audio_ms / 1000, begun[-1][1] if begun else 0.0), duration)
        begun.append((content, round(start, 3)))
    if not begun:
        return []
    ends = [start for _, start in begun[1:]] + [round(duration, 3)]
    return [SentenceTiming(content, start, end) for (content, start), end in zip(begun, ends, strict=True)]


def _snap_to_word_start(text: str, index: int, ssml: bool) -> int:
    """eSpeak's SSML positions can land one character into a word ("econd"): step back to its start."""
    index = max(0, min(index, len(text)))
    if ssml:
        while index > 0 and text[index - 1].isalnum():
            index -= 1
    return index


def write(synthesis: Synthesis, path: str | PathLike[str], format: str) -> None:
    """Write speech as PCM (raw s16le mono), WAV or MP3 (64 kbit/s mono) at the synthesis's rate.

    >>> write(SpeechSynthesizer().synthesize("Hi.", voice="Andy"), "/tmp/hi.wav", "WAV")
    """
    kind = format.upper() if isinstance(format, str) else format
    if kind not in OUTPUT_FORMATS:
        raise InvalidRequestError.single(
            "format", "unsupported", f"must be one of {', '.join(OUTPUT_FORMATS)}, got {format!r}"
        )
    target = Path(path)
    if kind == "PCM":
        target.write_bytes(synthesis.samples)
    elif kind == "WAV":
        with wave.open(str(target), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(synthesis.sample_rate)
            wav.writeframes(synthesis.samples)
    else:
        _write_mp3(synthesis, target)


def _write_mp3(synthesis: Synthesis, target: Path) -> None:
    import av

    with av.open(str(target), "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=synthesis.sample_rate, layout="mono")
        stream.bit_rate = 64000
        for frame in [*_frames(synthesis.samples, synthesis.sample_rate), None]:
            for packet in stream.encode(frame):
                container.mux(packet)
