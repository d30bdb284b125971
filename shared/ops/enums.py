"""The seeds' enumerations as types. Values are the exact wire strings (or integers)."""

from __future__ import annotations

from enum import Enum, IntEnum


class AudioFormat(str, Enum):
    """Output container of OSS audio/convert and audio/concat (`f_`)."""

    MP3 = "mp3"
    AAC = "aac"
    FLAC = "flac"
    OGA = "oga"
    AC3 = "ac3"
    OPUS = "opus"
    AMR = "amr"

    @property
    def extension(self) -> str:
        """What `{autoext}` becomes for this format."""
        return self.value


class SampleRate(IntEnum):
    """Sample rates OSS audio processing accepts (`ar_`), in Hz."""

    HZ_8000 = 8000
    HZ_11025 = 11025
    HZ_12000 = 12000
    HZ_16000 = 16000
    HZ_22050 = 22050
    HZ_24000 = 24000
    HZ_32000 = 32000
    HZ_44100 = 44100
    HZ_48000 = 48000
    HZ_64000 = 64000
    HZ_88200 = 88200
    HZ_96000 = 96000


class BitrateOption(str, Enum):
    """`abopt_`: what to do when the source bitrate is below the target `ab`."""

    ALWAYS_TARGET = "0"  # default: always use the target bitrate
    USE_SOURCE = "1"  # keep the (lower) source bitrate
    FAIL = "2"  # fail the task


class BitDepth(IntEnum):
    """`adepth_`: output sample bit depth, FLAC only."""

    BITS_16 = 16
    BITS_24 = 24


class AsrModel(str, Enum):
    """Qwen-ASR models named in the seed."""

    FLASH = "qwen3-asr-flash"
    FLASH_US = "qwen3-asr-flash-us"
    FLASH_FILETRANS = "qwen3-asr-flash-filetrans"


class AsrLanguage(str, Enum):
    """Language codes Qwen-ASR accepts (`language`)."""

    ZH = "zh"
    YUE = "yue"
    EN = "en"
    JA = "ja"
    DE = "de"
    KO = "ko"
    RU = "ru"
    FR = "fr"
    PT = "pt"
    AR = "ar"
    IT = "it"
    ES = "es"
    HI = "hi"
    ID = "id"
    TH = "th"
    TR = "tr"
    UK = "uk"
    VI = "vi"
    CS = "cs"
    DA = "da"
    FIL = "fil"
    FI = "fi"
    IS = "is"
    MS = "ms"
    NO = "no"
    PL = "pl"
    SV = "sv"

    @property
    def supports_words(self) -> bool:
        """Whether `enable_words` (word timestamps) is supported for this language."""
        return self in _WORD_LANGUAGES

    @property
    def supports_itn(self) -> bool:
        """Whether `enable_itn` applies (Chinese and English only)."""
        return self in (AsrLanguage.ZH, AsrLanguage.EN)


_WORD_LANGUAGES = frozenset(
    {
        AsrLanguage.ZH,
        AsrLanguage.EN,
        AsrLanguage.JA,
        AsrLanguage.KO,
        AsrLanguage.DE,
        AsrLanguage.FR,
        AsrLanguage.ES,
        AsrLanguage.IT,
        AsrLanguage.PT,
        AsrLanguage.RU,
    }
)


class Emotion(str, Enum):
    """Emotions Qwen-ASR detects."""

    SURPRISED = "surprised"
    NEUTRAL = "neutral"
    HAPPY = "happy"
    SAD = "sad"
    DISGUSTED = "disgusted"
    ANGRY = "angry"
    FEARFUL = "fearful"


class DashScopeTaskStatus(str, Enum):
    """Asynchronous DashScope task states."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"  # the task does not exist

    @property
    def is_final(self) -> bool:
        final = (DashScopeTaskStatus.SUCCEEDED, DashScopeTaskStatus.FAILED, DashScopeTaskStatus.UNKNOWN)
        return self in final


class FinishReason(str, Enum):
    STOP = "stop"
    LENGTH = "length"


class ImmTaskStatus(str, Enum):
    """IMM task states as reported by GetTask and the MNS notification."""

    READY = "Ready"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def is_final(self) -> bool:
        return self in (ImmTaskStatus.SUCCEEDED, ImmTaskStatus.FAILED, ImmTaskStatus.CANCELLED)


class ImmAudioCodec(str, Enum):
    """Audio codecs for IMM `Targets[].Audio.TranscodeAudio.Codec` used for audio merging."""

    AAC = "aac"
    MP3 = "mp3"
    FLAC = "flac"
    OPUS = "opus"
    AC3 = "ac3"
    VORBIS = "vorbis"
    PCM_S16LE = "pcm_s16le"
    WMAV2 = "wmav2"
    AMR = "amr"


class ImmContainer(str, Enum):
    """IMM `Targets[].Container` values for audio outputs (the seed's audio formats)."""

    AAC = "aac"
    MP3 = "mp3"
    WAV = "wav"
    FLAC = "flac"
    WMA = "wma"
    AC3 = "ac3"
    OPUS = "opus"
    OGG = "ogg"
    M4A = "m4a"
    OGA = "oga"
    AMR = "amr"


class IceOutputFormat(str, Enum):
    """ICE SubmitAudioProduceJob `EditingConfig.format`."""

    PCM = "PCM"
    WAV = "WAV"
    MP3 = "MP3"

    @property
    def extension(self) -> str:
        return self.value.lower()


class IceJobState(str, Enum):
    """ICE smart-handle job states."""

    CREATED = "Created"
    EXECUTING = "Executing"
    FINISHED = "Finished"
    FAILED = "Failed"

    @property
    def is_final(self) -> bool:
        return self in (IceJobState.FINISHED, IceJobState.FAILED)
