"""Word error rate and speed of localcloud's speech recognition, on speech from localcloud's synthesiser.

    python -m bench.asr_wer [--voices Andy,Abby] [--rates -200,-100,0,100,200] [--engine auto]
    python -m bench.asr_wer --language zh [--voices xiaoyun,xiaogang] [--detect]

Each sentence below is spoken by each voice at each ICE speech_rate with eSpeak NG, written as a 16 kHz
WAV, and recognised by the engine (`--engine` takes the same spec as LOCALCLOUD_ASR_ENGINE). Reported:
pooled WER overall, per voice and per rate; the recogniser's real-time factor (seconds of work per second
of audio, decoding the file included); and the synthesiser's, for scale. Then the longer-passage test: all
twenty sentences by one voice at -100 and 0 as one file (about a minute, 0.6 s between sentences), the
shape of a real recording, where per-file overheads no longer dominate the real-time factor. Synthetic speech is a narrow
test: it says whether the plumbing works and how the engine copes with speed, not how it does on people.

`--language zh` speaks ten short Mandarin sentences with the Mandarin voices instead (eSpeak NG's `cmn`,
robotic and toneless next to a person) and reports the character error rate (wer.py counts Chinese a
character at a time). `--detect` passes no language, as a Qwen-ASR call without one does, so the engine
detects it; the run then also says how many files it detected as the right language.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
import wave
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from localcloud.engines.asr import RecognitionEngine
from localcloud.engines.recognizers import load_engine
from localcloud.engines.tts import SpeechSynthesizer, write
from localcloud.engines.wer import WerReport, wer_report

SENTENCES = (
    "The weather is nice today.",
    "We went to the park in the morning.",
    "Please call me when you get home.",
    "She opened the window to let in some fresh air.",
    "The children played in the garden after school.",
    "I would like a cup of coffee, please.",
    "He drove his car to the city yesterday.",
    "The meeting will start at nine o'clock tomorrow.",
    "Our team finished the project two days before the deadline.",
    "Can you tell me where the train station is?",
    "The restaurant on the corner serves good food.",
    "They are planning a trip to the mountains next summer.",
    "Turn off the lights before you leave the room!",
    "The doctor said I should drink more water.",
    "My sister bought a new dress for the party.",
    "We need to buy some bread, milk and eggs from the store.",
    "The river flows slowly through the small town.",
    "It was raining heavily when we arrived at the hotel.",
    "Thank you very much for your help with the move.",
    "How many people will come to dinner on Friday?",
)
# Short everyday Mandarin, written in the simplified characters Qwen-ASR answers in.
MANDARIN_SENTENCES = (
    "今天天气很好。",
    "我们明天去公园。",
    "请给我一杯水。",
    "他在学校学习中文。",
    "这个苹果很甜。",
    "我喜欢喝茶。",
    "火车站在那边。",
    "谢谢你的帮助。",
    "我的妈妈是医生。",
    "现在三点了。",
)
DEFAULT_VOICES = ("Andy", "Abby")
MANDARIN_VOICES = ("xiaoyun", "xiaogang")  # eSpeak NG's cmn+f2 and cmn+klatt4
DEFAULT_RATES = (-200, -100, 0, 100, 200)
PASSAGE_RATES = (-100, 0)
PASSAGE_GAP_S = 0.6


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _pool(reports: list[WerReport]) -> WerReport:
    pooled = reports[0]
    for report in reports[1:]:
        pooled = pooled + report
    return pooled


def _line(label: str, report: WerReport, unit: str = "WER") -> str:
    return (
        f"  {label:<14} {unit} {report.wer:6.3f}   ({report.substitutions} sub, {report.deletions} del, "
        f"{report.insertions} ins / {report.reference_words} words)"
    )


@dataclass(frozen=True)
class Corpus:
    """What is spoken and how it is scored: the language asked for (None under --detect) and expected."""

    sentences: tuple[str, ...]
    expected: str
    language: str | None
    warm_up: str

    @property
    def unit(self) -> str:
        # Chinese, Japanese and Korean are scored a character at a time (localcloud.engines.wer).
        return "CER" if self.expected in ("zh", "yue", "ja", "ko") else "WER"


@dataclass
class Tally:
    by_voice: dict[str, list[WerReport]] = field(default_factory=lambda: defaultdict(list))
    by_rate: dict[int, list[WerReport]] = field(default_factory=lambda: defaultdict(list))
    worst: list[tuple[float, str, str]] = field(default_factory=list)
    detected: list[str] = field(default_factory=list)
    audio_s: float = 0.0
    synth_s: float = 0.0
    recognise_s: float = 0.0


def _corpus(language: str, detect: bool) -> Corpus:
    code = language.strip().lower()
    if code == "zh":
        return Corpus(MANDARIN_SENTENCES, code, None if detect else code, "你好。")
    if code == "en":
        return Corpus(SENTENCES, code, None if detect else code, "Hello.")
    raise SystemExit(f"--language: en or zh (the languages with sentences here), not {language!r}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.asr_wer", description=__doc__.splitlines()[0])
    parser.add_argument("--voices", type=_names, default=None, help="ICE voice names")
    parser.add_argument("--rates", type=_ints, default=list(DEFAULT_RATES), help="ICE speech_rate values")
    parser.add_argument("--engine", default="auto", help="engine spec, as LOCALCLOUD_ASR_ENGINE")
    parser.add_argument("--language", default="en", help="en (default) or zh: which sentences and voices")
    parser.add_argument("--detect", action="store_true", help="pass no language: the engine detects it")
    args = parser.parse_args(sys.argv[1:])
    corpus = _corpus(args.language, args.detect)
    voices = args.voices or list(MANDARIN_VOICES if corpus.expected == "zh" else DEFAULT_VOICES)

    synthesizer = SpeechSynthesizer()
    engine = load_engine(args.engine)
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="asr-wer-") as scratch:
        # Engines load their models on first use: do that outside the timings.
        warm_up = Path(scratch) / "warm-up.wav"
        write(synthesizer.synthesize(corpus.warm_up, voice=voices[0]), warm_up, "WAV")
        engine.recognize(str(warm_up), language=corpus.language)
        for voice in voices:
            for rate in args.rates:
                for index, sentence in enumerate(corpus.sentences):
                    path = Path(scratch) / f"{voice}-{rate}-{index}.wav"
                    _one(engine, synthesizer, corpus, tally, case=(voice, rate, sentence), path=path)

    overall = _pool([report for reports in tally.by_voice.values() for report in reports])
    print(
        f"engine {engine.name} ({args.engine}); language {corpus.language or 'detected'}; "
        f"{len(corpus.sentences)} sentences x {len(voices)} voices x {len(args.rates)} rates"
    )
    print(f"machine: {platform.machine()} {platform.processor() or ''} Python {platform.python_version()}")
    print(_line("overall", overall, corpus.unit))
    for voice, reports in tally.by_voice.items():
        print(_line(f"voice {voice}", _pool(reports), corpus.unit))
    for rate, reports in sorted(tally.by_rate.items()):
        print(_line(f"rate {rate:+d}", _pool(reports), corpus.unit))
    print(
        f"  audio {tally.audio_s:.1f} s; recognition RTF {tally.recognise_s / tally.audio_s:.3f}; "
        f"synthesis RTF {tally.synth_s / tally.audio_s:.4f}"
    )
    if corpus.language is None:
        right = tally.detected.count(corpus.expected)
        heard = ", ".join(f"{code} {tally.detected.count(code)}" for code in sorted(set(tally.detected)))
        print(f"  detected as {corpus.expected}: {right} of {len(tally.detected)} files ({heard})")
    print("  hardest sentences:")
    for wer, what, transcript in sorted(tally.worst, reverse=True)[:5]:
        print(f"    {wer:.2f}  {what}  ->  {transcript}")
    _passages(engine, synthesizer, voices, corpus)


def _one(
    engine: RecognitionEngine,
    synthesizer: SpeechSynthesizer,
    corpus: Corpus,
    tally: Tally,
    *,
    case: tuple[str, int, str],
    path: Path,
) -> None:
    """Speak one sentence, recognise it and add its figures to the tally."""
    voice, rate, sentence = case
    started = time.perf_counter()
    speech = synthesizer.synthesize(sentence, voice=voice, speech_rate=rate)
    tally.synth_s += time.perf_counter() - started
    write(speech, path, "WAV")
    started = time.perf_counter()
    heard = engine.recognize(str(path), language=corpus.language)
    tally.recognise_s += time.perf_counter() - started
    tally.audio_s += speech.duration_s
    tally.detected.append(heard.language)
    report = wer_report(sentence, heard.text)
    tally.by_voice[voice].append(report)
    tally.by_rate[rate].append(report)
    tally.worst.append((report.wer, f"{voice} {rate:+d}: {sentence}", heard.text))


def _passages(
    engine: RecognitionEngine, synthesizer: SpeechSynthesizer, voices: list[str], corpus: Corpus
) -> None:
    """Every sentence in one file per voice and rate: error rate and real-time factor on longer audio."""
    reference = " ".join(corpus.sentences)
    with tempfile.TemporaryDirectory(prefix="asr-passage-") as scratch:
        for voice in voices:
            for rate in PASSAGE_RATES:
                pcm = bytearray()
                sample_rate = 16000
                for sentence in corpus.sentences:
                    speech = synthesizer.synthesize(
                        sentence, voice=voice, speech_rate=rate, sample_rate=16000
                    )
                    pcm += speech.samples + bytes(2 * round(PASSAGE_GAP_S * sample_rate))
                path = Path(scratch) / f"passage-{voice}-{rate}.wav"
                with wave.open(str(path), "wb") as writer:
                    writer.setnchannels(1)
                    writer.setsampwidth(2)
                    writer.setframerate(sample_rate)
                    writer.writeframes(bytes(pcm))
                seconds = len(pcm) / 2 / sample_rate
                started, cpu = time.perf_counter(), time.process_time()
                heard = engine.recognize(str(path), language=corpus.language)
                wall = time.perf_counter() - started
                report = wer_report(reference, heard.text)
                print(
                    f"  passage {voice} {rate:+d}: {seconds:.0f} s audio; {corpus.unit} {report.wer:.3f} "
                    f"({report.reference_words} words); RTF {wall / seconds:.3f} "
                    f"(this process's CPU {time.process_time() - cpu:.1f} s); heard as {heard.language}"
                )


if __name__ == "__main__":
    main()
