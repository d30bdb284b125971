"""Word error rate and speed of localcloud's speech recognition, on speech from localcloud's synthesiser.

    python -m bench.asr_wer [--voices Andy,Abby] [--rates -200,-100,0,100,200] [--engine auto]

Each sentence below is spoken by each voice at each ICE speech_rate with eSpeak NG, written as a 16 kHz
WAV, and recognised by the engine (`--engine` takes the same spec as LOCALCLOUD_ASR_ENGINE). Reported:
pooled WER overall, per voice and per rate; the recogniser's real-time factor (seconds of work per second
of audio, decoding the file included); and the synthesiser's, for scale. Then the longer-passage test: all
twenty sentences by one voice at -100 and 0 as one file (about a minute, 0.6 s between sentences), the
shape of a real recording, where per-file overheads no longer dominate the real-time factor. Synthetic speech is a narrow
test: it says whether the plumbing works and how the engine copes with speed, not how it does on people.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
import wave
from collections import defaultdict
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
DEFAULT_VOICES = ("Andy", "Abby")
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


def _line(label: str, report: WerReport) -> str:
    return (
        f"  {label:<14} WER {report.wer:6.3f}   ({report.substitutions} sub, {report.deletions} del, "
        f"{report.insertions} ins / {report.reference_words} words)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.asr_wer", description=__doc__.splitlines()[0])
    parser.add_argument("--voices", type=_names, default=list(DEFAULT_VOICES), help="ICE voice names")
    parser.add_argument("--rates", type=_ints, default=list(DEFAULT_RATES), help="ICE speech_rate values")
    parser.add_argument("--engine", default="auto", help="engine spec, as LOCALCLOUD_ASR_ENGINE")
    args = parser.parse_args(sys.argv[1:])

    synthesizer = SpeechSynthesizer()
    engine = load_engine(args.engine)
    by_voice: dict[str, list[WerReport]] = defaultdict(list)
    by_rate: dict[int, list[WerReport]] = defaultdict(list)
    audio_s = synth_s = recognise_s = 0.0
    worst: list[tuple[float, str, str]] = []

    with tempfile.TemporaryDirectory(prefix="asr-wer-") as scratch:
        # Engines load their models on first use: do that outside the timings.
        warm_up = Path(scratch) / "warm-up.wav"
        write(synthesizer.synthesize("Hello.", voice=args.voices[0]), warm_up, "WAV")
        engine.recognize(str(warm_up))
        for voice in args.voices:
            for rate in args.rates:
                for index, sentence in enumerate(SENTENCES):
                    started = time.perf_counter()
                    speech = synthesizer.synthesize(sentence, voice=voice, speech_rate=rate)
                    synth_s += time.perf_counter() - started
                    path = Path(scratch) / f"{voice}-{rate}-{index}.wav"
                    write(speech, path, "WAV")
                    started = time.perf_counter()
                    heard = engine.recognize(str(path), language="en")
                    recognise_s += time.perf_counter() - started
                    audio_s += speech.duration_s
                    report = wer_report(sentence, heard.text)
                    by_voice[voice].append(report)
                    by_rate[rate].append(report)
                    worst.append((report.wer, f"{voice} {rate:+d}: {sentence}", heard.text))

    overall = _pool([report for reports in by_voice.values() for report in reports])
    print(
        f"engine {engine.name}; {len(SENTENCES)} sentences x {len(args.voices)} voices x {len(args.rates)} rates"
    )
    print(f"machine: {platform.machine()} {platform.processor() or ''} Python {platform.python_version()}")
    print(_line("overall", overall))
    for voice, reports in by_voice.items():
        print(_line(f"voice {voice}", _pool(reports)))
    for rate, reports in sorted(by_rate.items()):
        print(_line(f"rate {rate:+d}", _pool(reports)))
    print(
        f"  audio {audio_s:.1f} s; recognition RTF {recognise_s / audio_s:.3f}; synthesis RTF {synth_s / audio_s:.4f}"
    )
    print("  hardest sentences:")
    for wer, what, transcript in sorted(worst, reverse=True)[:5]:
        print(f"    {wer:.2f}  {what}  ->  {transcript}")
    _passages(engine, synthesizer, args.voices)


def _passages(engine: RecognitionEngine, synthesizer: SpeechSynthesizer, voices: list[str]) -> None:
    """Every sentence in one file per voice and rate: WER and real-time factor on minute-long audio."""
    reference = " ".join(SENTENCES)
    with tempfile.TemporaryDirectory(prefix="asr-passage-") as scratch:
        for voice in voices:
            for rate in PASSAGE_RATES:
                pcm = bytearray()
                sample_rate = 16000
                for sentence in SENTENCES:
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
                heard = engine.recognize(str(path), language="en")
                wall = time.perf_counter() - started
                report = wer_report(reference, heard.text)
                print(
                    f"  passage {voice} {rate:+d}: {seconds:.0f} s audio; WER {report.wer:.3f} "
                    f"({report.reference_words} words); RTF {wall / seconds:.3f} "
                    f"(this process's CPU {time.process_time() - cpu:.1f} s)"
                )


if __name__ == "__main__":
    main()
