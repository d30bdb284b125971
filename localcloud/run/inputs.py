"""What `python -m localcloud run` uploads: the user's files, checked first, or generated English samples.

Generated samples are fixed texts spoken by eSpeak NG with the voice PocketSphinx recognises best, one
sentence at a time with 0.6 s of silence between sentences (eSpeak's own pauses are too short for the
recogniser to split sentences cleanly), written in different formats so the chain's conversion has
work to do. Their text is known, so the run can report a word error rate.

User files are checked before anything is uploaded: a missing file, a folder, an empty file or a file
FFmpeg cannot decode as audio becomes an `InputProblem` naming it (the others still run). A decodable
file whose suffix the inbox does not accept (the OSS trigger passes every key, `on_upload` keeps only
the pipeline's suffixes) is uploaded as a FLAC copy, and the run says so.

    >>> [sample.file_name for sample in SAMPLES]
    ['short-note.wav', 'podcast-intro.mp3', 'lecture-snippet.flac']
    >>> unique_name("a.mp3", {"a.mp3"})
    'a-2.mp3'
"""

from __future__ import annotations

import array
import re
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from localcloud.engines.errors import MediaError
from localcloud.engines.media import probe, transcode
from localcloud.engines.probe import AudioInfo
from localcloud.engines.spec import TranscodeSpec
from localcloud.engines.tts import SentenceTiming, SpeechSynthesizer, Synthesis, write
from shared.errors import InvalidRequestError

__all__ = [
    "SAMPLES",
    "VOICE",
    "InputProblem",
    "RunInput",
    "Sample",
    "check_user_files",
    "describe_audio",
    "synthesize_sample",
    "unique_name",
]

VOICE = "espeak:en-us+klatt4"  # the eSpeak voice the local PocketSphinx engine recognises best
SPEECH_RATE = -100  # a little slower than eSpeak's default: fewer recognition errors
SENTENCE_GAP_S = 0.6
EDGE_SILENCE_S = 0.3


@dataclass(frozen=True)
class Sample:
    """A generated input: its text, one sentence per entry, and how it is written."""

    stem: str
    extension: str  # wav, mp3 (written by the TTS engine) or flac (transcoded from WAV)
    sample_rate: int
    channels: int
    sentences: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.stem}.{self.extension}"

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


SAMPLES: tuple[Sample, ...] = (
    Sample(
        "short-note",
        "wav",
        16000,
        1,
        ("Please call me back after lunch.", "I will send you the report tomorrow."),
    ),
    Sample(
        "podcast-intro",
        "mp3",
        22050,
        1,
        (
            "Hello everyone and welcome to the show.",
            "This is the show about the way we live and work.",
            "Last week we talked about the weather and the sea.",
            "Today my guest is a doctor who works in a small town.",
        ),
    ),
    Sample(
        "lecture-snippet",
        "flac",
        44100,
        2,
        (
            "In the last lesson we looked at how sound travels through the air.",
            "Today we will see what happens when it reaches the ear.",
            "The ear turns the movement of the air into signals for the brain.",
            "Water carries sound four times faster than air.",
            "We will start with the outer ear.",
        ),
    ),
)


@dataclass(frozen=True)
class RunInput:
    """One file the run uploads.

    `name` is unique within the run (it becomes the inbox key's last part), `path` the file uploaded,
    `origin` the path the user gave (None for a generated sample), `reference` the spoken text when known,
    `note` a remark worth printing (such as the FLAC copy of an unaccepted suffix).
    """

    name: str
    path: Path
    info: AudioInfo
    origin: str | None = None
    reference: str | None = None
    note: str | None = None

    @property
    def stem(self) -> str:
        return Path(self.name).stem or self.name


@dataclass(frozen=True)
class InputProblem:
    """A file the run cannot use, and why (a sentence naming it)."""

    name: str
    message: str


def synthesize_sample(sample: Sample, folder: Path, synthesizer: SpeechSynthesizer | None = None) -> Path:
    """Speak `sample` into `folder/<stem>.<extension>`; returns the path.

    >>> synthesize_sample(SAMPLES[0], Path("/tmp")).name  # doctest: +SKIP
    'short-note.wav'
    """
    engine = synthesizer or SpeechSynthesizer()
    folder.mkdir(parents=True, exist_ok=True)
    speech = _spaced_speech(engine, sample.sentences, sample.sample_rate)
    target = folder / sample.file_name
    if sample.extension in ("wav", "mp3"):
        write(speech, target, sample.extension.upper())
        return target
    spoken = folder / f".{sample.stem}.speech.wav"
    write(speech, spoken, "WAV")
    try:
        spec = TranscodeSpec(
            format=sample.extension, sample_rate=sample.sample_rate, channels=sample.channels
        )
        transcode(spoken, target, spec)
    finally:
        spoken.unlink(missing_ok=True)
    return target


def _spaced_speech(engine: SpeechSynthesizer, sentences: Sequence[str], rate: int) -> Synthesis:
    """The sentences spoken one by one, joined by silences, with their timings."""
    pcm = array.array("h")
    timings: list[SentenceTiming] = []
    pcm.extend(_silence(EDGE_SILENCE_S, rate))
    for index, sentence in enumerate(sentences):
        if index:
            pcm.extend(_silence(SENTENCE_GAP_S, rate))
        spoken = engine.synthesize(sentence, voice=VOICE, speech_rate=SPEECH_RATE, sample_rate=rate)
        begin = len(pcm) / rate
        samples = array.array("h")
        samples.frombytes(spoken.samples)  # little-endian s16 from the engine
        if sys.byteorder == "big":
            samples.byteswap()
        pcm.extend(samples)
        timings.append(SentenceTiming(sentence, round(begin, 3), round(len(pcm) / rate, 3)))
    pcm.extend(_silence(EDGE_SILENCE_S, rate))
    if sys.byteorder == "big":
        pcm.byteswap()
    return Synthesis(pcm.tobytes(), rate, timings)


def _silence(seconds: float, rate: int) -> array.array[int]:
    return array.array("h", bytes(2 * round(seconds * rate)))


def check_user_files(
    paths: Sequence[str], accepted_suffixes: Collection[str], copies: Path
) -> tuple[list[RunInput], list[InputProblem]]:
    """Check every file the user named; usable ones become RunInputs (unique names), others problems.

    A decodable file whose suffix is not in `accepted_suffixes` is converted to FLAC in `copies`.
    """
    inputs: list[RunInput] = []
    problems: list[InputProblem] = []
    taken: set[str] = set()
    for given in paths:
        path = Path(given)
        problem = _file_problem(path)
        if problem is not None:
            problems.append(InputProblem(given, problem))
            continue
        try:
            info = probe(path)
        except MediaError as error:
            problems.append(InputProblem(given, f"not audio FFmpeg can decode ({_reason(error, given)})"))
            continue
        name, upload, note = path.name, path, None
        if not name.lower().endswith(tuple(accepted_suffixes)):
            name = f"{path.name}.flac"
            upload = copies / f"{len(inputs)}-{name}"
            try:
                copies.mkdir(parents=True, exist_ok=True)
                transcode(path, upload, TranscodeSpec(format="flac"))
            except (MediaError, InvalidRequestError) as error:
                problems.append(InputProblem(given, f"cannot be converted to FLAC for the inbox ({error})"))
                continue
            note = f"{path.suffix or 'no suffix'} is not an inbox suffix; uploading a FLAC copy"
        name = unique_name(name, taken)
        taken.add(name)
        reference, problem = sidecar_reference(path)
        if problem is not None:
            note = f"{note}; {problem}" if note else problem
        inputs.append(
            RunInput(name=name, path=upload, info=info, origin=given, reference=reference, note=note)
        )
    return inputs, problems


def sidecar_reference(path: Path) -> tuple[str | None, str | None]:
    """The text of `talk.txt` beside `talk.wav` (what was said, to score the transcript against), and a note
    when there is one but it cannot serve.

    >>> sidecar_reference(Path("/no/such/talk.wav"))
    (None, None)
    """
    sidecar = path.with_suffix(".txt")
    if sidecar == path or not sidecar.is_file():
        return None, None
    try:
        text = sidecar.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, f"reference {sidecar.name} not used: cannot be read as UTF-8 text ({error})"
    if not any(character.isalnum() for character in text):
        return None, f"reference {sidecar.name} not used: it has no words"
    return " ".join(text.split()), None


def _file_problem(path: Path) -> str | None:
    if not path.exists():
        return "no such file"
    if path.is_dir():
        return "is a folder, not a file"
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    return "is empty (0 bytes)" if size == 0 else None


def _reason(error: MediaError, given: str) -> str:
    """The engine's message without what the caller already says (the path, errno numbers)."""
    text = error.message.removeprefix(f"{given}: ")
    return re.sub(r"\[Errno -?\d+\] |:? '[^']*'(?=\)|$)", "", text)


def unique_name(name: str, taken: Collection[str]) -> str:
    """`name`, or `<stem>-2<suffix>`, `<stem>-3<suffix>` … when it is taken."""
    if name not in taken:
        return name
    path = Path(name)
    number = 2
    while f"{path.stem}-{number}{path.suffix}" in taken:
        number += 1
    return f"{path.stem}-{number}{path.suffix}"


def describe_audio(info: AudioInfo) -> str:
    """'12.3 s, mp3 22050 Hz mono' for a progress line."""
    layout = {1: "mono", 2: "stereo"}.get(info.channels, f"{info.channels} channels")
    return f"{info.duration_ms / 1000:.1f} s, {info.codec} {info.sample_rate} Hz {layout}"
