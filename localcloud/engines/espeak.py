"""A small ctypes binding to eSpeak NG, as shipped by the `espeakng-loader` wheel (library + voice data).

eSpeak NG keeps global state (one voice, one set of parameters, one callback), so every use goes through
`synthesize_pcm`, which holds a process-wide lock; the library is loaded and initialised once, lazily, on
first use. Synthesis runs in AUDIO_OUTPUT_SYNCHRONOUS mode: espeak_Synth returns when all audio and events
have been handed to our callback, on the calling thread.

    >>> pcm, rate, events = synthesize_pcm("Hello.", SynthesisParameters("en-us", 175, 50, 100), ssml=False)
    >>> rate, len(pcm) > 0, any(event.is_sentence for event in events)
    (22050, True, True)
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["EspeakEvent", "EspeakUnavailableError", "SynthesisParameters", "synthesize_pcm"]

# Values from espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # without it a missing data directory calls exit()
_CHARS_UTF8 = 1
_SSML = 0x10
_POS_CHARACTER = 1
_RATE, _VOLUME, _PITCH = 1, 2, 3
_EE_OK = 0
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD, _EVENT_SENTENCE, _EVENT_END = 1, 2, 5
_BUFFER_MS = 500  # audio handed to the callback per call; larger means fewer Python round trips


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters of the input
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds from the start of this synthesis
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class EspeakUnavailableError(RuntimeError):
    """The eSpeak NG library or its data could not be loaded or initialised."""


class EspeakEvent(NamedTuple):
    """A word, sentence or clause-end marker: where it is in the text and when it is heard."""

    kind: int
    text_position: int
    audio_ms: int

    @property
    def is_sentence(self) -> bool:
        return self.kind == _EVENT_SENTENCE

    @property
    def is_word(self) -> bool:
        return self.kind == _EVENT_WORD

    @property
    def is_clause_end(self) -> bool:
        return self.kind == _EVENT_END


@dataclass(frozen=True)
class SynthesisParameters:
    """eSpeak's own units: a voice name, words per minute (80…450), pitch 0…100, amplitude 0…200."""

    voice: str
    words_per_minute: int
    pitch: int
    amplitude: int


class _Library:
    """The loaded library, its native sample rate, and the buffers the callback fills during one call."""

    def __init__(self) -> None:
        import espeakng_loader

        try:
            self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (OSError, RuntimeError) as exc:
            raise EspeakUnavailableError(f"cannot load eSpeak NG from espeakng-loader: {exc}") from exc
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_SetSynthCallback.argtypes = [_Callback]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        rate = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data_path.encode(), _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise EspeakUnavailableError(f"espeak_Initialize failed with the data at {data_path}")
        self.sample_rate: int = rate
        self.chunks: list[bytes] = []
        self.events: list[EspeakEvent] = []
        # Kept on the instance: ctypes frees the C trampoline when the Python object is collected.
        self.callback = _Callback(self._collect)
        self.lib.espeak_SetSynthCallback(self.callback)

    def _collect(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]
    ) -> int:
        if count > 0 and wav:
            self.chunks.append(ctypes.string_at(wav, count * 2))
        index = 0
        while events and events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type in (_EVENT_WORD, _EVENT_SENTENCE, _EVENT_END):
                self.events.append(EspeakEvent(event.type, event.text_position, event.audio_position))
            index += 1
        return 0  # 0 = carry on synthesising


class _Shared:
    """The process's one eSpeak library, created on first use, and the lock that serialises its use."""

    lock = threading.Lock()
    library: _Library | None = None


def synthesize_pcm(
    text: str, parameters: SynthesisParameters, *, ssml: bool
) -> tuple[bytes, int, list[EspeakEvent]]:
    """Speak `text`; return s16le mono PCM at eSpeak's native rate, that rate, and the events in order.

    Raises LookupError when the voice does not exist, EspeakUnavailableError when eSpeak cannot start.
    """
    with _Shared.lock:
        if _Shared.library is None:
            _Shared.library = _Library()
        library = _Shared.library
        if library.lib.espeak_SetVoiceByName(parameters.voice.encode()) != _EE_OK:
            raise LookupError(parameters.voice)
        # Parameters are global and outlive a call: set every one of them each time.
        library.lib.espeak_SetParameter(_RATE, parameters.words_per_minute, 0)
        library.lib.espeak_SetParameter(_PITCH, parameters.pitch, 0)
        library.lib.espeak_SetParameter(_VOLUME, parameters.amplitude, 0)
        library.chunks, library.events = [], []
        encoded = text.encode("utf-8")
        flags = _CHARS_UTF8 | (_SSML if ssml else 0)
        status = library.lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
        chunks, events = library.chunks, library.events
        library.chunks, library.events = [], []
        if status != _EE_OK:
            raise EspeakUnavailableError(f"espeak_Synth failed with status {status}")
        return b"".join(chunks), library.sample_rate, events
