"""Where a job's objects go. Every key is derived from the job id (and input), never chosen at run time.

    work/<job_id>/normalized.flac       the upload, normalised for recognition (OSS audio/convert)
    work/<job_id>/transcription.json    the recogniser's answer, as received
    work/<job_id>/merged.flac           a merge to oga/amr run by IMM, before its conversion
    outputs/<job_id>/<source stem>.<ext>  a convert job's result, named after its source
    outputs/<job_id>/merged.<ext>       a merge job's result
    outputs/<job_id>/speech.<ext>       a speech job's result
    outputs/<job_id>/transcript.{json,srt,vtt,txt}                an API transcribe job's transcripts
    outputs/<inbox-relative key>/transcript.{json,srt,vtt,txt}   the chain's transcripts

Deterministic keys make a duplicate submission write the same object (so retries are harmless), and let
a completion notification find its job by target key when its TaskId is not recorded yet: everything a
service writes lives under `work/<job_id>/` or `outputs/<job_id>/` (see `job_id_from_key`).

    >>> from shared.pipeline.settings import PipelineSettings
    >>> settings = PipelineSettings()
    >>> normalized_key(settings, "j7ydecbtyzz0000000000000000")
    'work/j7ydecbtyzz0000000000000000/normalized.flac'
    >>> job_id_from_key("outputs/j7ydecbtyzz0000000000000000/merged.mp3", settings)
    'j7ydecbtyzz0000000000000000'
"""

from __future__ import annotations

from typing import NamedTuple

from shared.jobs.ids import job_id_from_work_key
from shared.jobs.model import JobRecord, JobType, StepName
from shared.ops.enums import AudioFormat, IceOutputFormat
from shared.pipeline.inputs import (
    ConvertJobInput,
    MergeJobInput,
    SpeechJobInput,
    TranscribeJobInput,
    UploadInput,
    input_of,
)
from shared.pipeline.settings import PipelineSettings

NORMALIZED_NAME = "normalized.flac"
TRANSCRIPTION_NAME = "transcription.json"
SPEECH_STEM = "speech"
CONVERTED_STEM = "converted"
MERGED_INTERMEDIATE_NAME = "merged.flac"
_MAX_STEM_BYTES = 200
_MAX_KEY_BYTES = 1023


class OutputKeys(NamedTuple):
    """The four transcript renderings of one job; with several channels recognised, each channel's own
    SRT, VTT and TXT beside them (`transcript.ch1.srt`, named `srt_ch1` among the outputs)."""

    json: str
    srt: str
    vtt: str
    txt: str
    channels: tuple[int, ...] = ()

    def per_channel(self, channel_id: int, ext: str) -> str:
        return self.json.removesuffix("transcript.json") + f"transcript.ch{channel_id + 1}.{ext}"

    def as_dict(self) -> dict[str, str]:
        keys = {"json": self.json, "srt": self.srt, "vtt": self.vtt, "txt": self.txt}
        if len(self.channels) > 1:
            for channel_id in self.channels:
                for ext in ("srt", "vtt", "txt"):
                    keys[f"{ext}_ch{channel_id + 1}"] = self.per_channel(channel_id, ext)
        return keys


def job_folder(settings: PipelineSettings, job_id: str) -> str:
    """Intermediate objects of a job (normalised audio, the recogniser's raw answer)."""
    return f"{settings.work_prefix}{job_id}/"


def result_folder(settings: PipelineSettings, job_id: str) -> str:
    """Finished objects of an API job (its audio, its transcripts)."""
    return f"{settings.output_prefix}{job_id}/"


def job_id_from_key(key: str, settings: PipelineSettings) -> str | None:
    """The job a service-written object belongs to (`work/<job_id>/…` or `outputs/<job_id>/…`)."""
    return job_id_from_work_key(key, settings.work_prefix) or job_id_from_work_key(
        key, settings.output_prefix
    )


def normalized_key(settings: PipelineSettings, job_id: str) -> str:
    return job_folder(settings, job_id) + NORMALIZED_NAME


def transcription_key(settings: PipelineSettings, job_id: str) -> str:
    return job_folder(settings, job_id) + TRANSCRIPTION_NAME


def converted_key(settings: PipelineSettings, job_id: str, source: str, fmt: AudioFormat) -> str:
    """`outputs/<job_id>/<source stem>.<ext>`: named after the source, in the job's own folder, so two jobs
    never write the same object, whatever their sources are called.

    >>> from shared.pipeline.settings import PipelineSettings
    >>> converted_key(PipelineSettings(), "j1", "media/Interview 3.final.wav", AudioFormat.MP3)
    'outputs/j1/Interview 3.final.mp3'
    >>> converted_key(PipelineSettings(), "j1", "media/.wav", AudioFormat.MP3)
    'outputs/j1/converted.mp3'
    """
    return f"{result_folder(settings, job_id)}{source_stem(source)}.{fmt.extension}"


def source_stem(source: str) -> str:
    """The last segment of `source` without its extension, at most 200 bytes of UTF-8 (cut between
    characters); `converted` when nothing usable is left (`.wav`, `..`)."""
    name = source.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem.encode("utf-8")[:_MAX_STEM_BYTES].decode("utf-8", errors="ignore")
    if not stem.strip(". ") or not stem.isprintable():
        return CONVERTED_STEM
    return stem


def merge_intermediate_key(settings: PipelineSettings, job_id: str) -> str:
    """A merge to oga/amr that IMM runs: its lossless merge, before the conversion to the wanted format."""
    return job_folder(settings, job_id) + MERGED_INTERMEDIATE_NAME


def merged_key(settings: PipelineSettings, job_id: str, fmt: AudioFormat) -> str:
    return f"{result_folder(settings, job_id)}merged.{fmt.extension}"


def speech_object(settings: PipelineSettings, job_id: str) -> str:
    """What goes in ICE's `OutputConfig.object`; ICE appends the format's extension."""
    return result_folder(settings, job_id) + SPEECH_STEM


def speech_key(settings: PipelineSettings, job_id: str, fmt: IceOutputFormat) -> str:
    return f"{speech_object(settings, job_id)}.{fmt.extension}"


def output_keys(record: JobRecord, settings: PipelineSettings) -> OutputKeys:
    """Where a transcription job's transcripts go.

    The chain mirrors the inbox-relative key under the output prefix (`inbox/talks/a.wav` →
    `outputs/talks/a.wav/transcript.json`), so a re-upload of the same name replaces its transcripts.
    A key that would exceed OSS's 1023 bytes, one with `.`/`..` or empty segments (which a tool that
    resolves paths would turn into another folder: `outputs/a/../../jobs/…`), and every API job, use
    `outputs/<job_id>/` instead.
    """
    folder = result_folder(settings, record.id)
    if record.type is JobType.TRANSCRIBE_UPLOAD:
        relative = input_of(record.input, UploadInput).relative_key
        mirrored = f"{settings.output_prefix}{relative}/"
        fits = len((mirrored + "transcript.json").encode("utf-8")) <= _MAX_KEY_BYTES
        if fits and not has_unsafe_segments(relative):
            folder = mirrored
    if record.type is JobType.TRANSCRIBE_UPLOAD:
        channels = input_of(record.input, UploadInput).channels
    else:
        channels = input_of(record.input, TranscribeJobInput).channels
    json_key, srt, vtt, txt = (f"{folder}transcript.{ext}" for ext in ("json", "srt", "vtt", "txt"))
    return OutputKeys(json_key, srt, vtt, txt, tuple(channels or ()))


def transcription_source(record: JobRecord, settings: PipelineSettings) -> str:
    """The key of the audio the recogniser reads: the normalised upload, or an API job's source."""
    if record.type is JobType.TRANSCRIBE_UPLOAD:
        return normalized_key(settings, record.id)
    return input_of(record.input, TranscribeJobInput).source


def step_outputs(record: JobRecord, step_index: int, settings: PipelineSettings) -> dict[str, str]:
    """The objects a step produces, by name (what its `succeeded` event records and the API shows)."""
    step = record.steps[step_index]
    job_id = record.id
    if step is StepName.CONVERT and record.type is JobType.TRANSCRIBE_UPLOAD:
        return {"normalized": normalized_key(settings, job_id)}
    if step is StepName.CONVERT and record.type is JobType.MERGE:
        return {"audio": merged_key(settings, job_id, input_of(record.input, MergeJobInput).params.f)}
    if step is StepName.MERGE and StepName.CONVERT in record.steps:
        return {"merged": merge_intermediate_key(settings, job_id)}
    if step is StepName.CONVERT:
        job = input_of(record.input, ConvertJobInput)
        return {"audio": converted_key(settings, job_id, job.source, job.params.f)}
    if step is StepName.MERGE:
        return {"audio": merged_key(settings, job_id, input_of(record.input, MergeJobInput).params.f)}
    if step is StepName.SYNTHESIZE:
        return {"audio": speech_key(settings, job_id, input_of(record.input, SpeechJobInput).format)}
    if step is StepName.TRANSCRIBE:
        return {"transcription": transcription_key(settings, job_id)}
    return output_keys(record, settings).as_dict()


def step_targets(record: JobRecord, step_index: int, settings: PipelineSettings) -> tuple[str, ...]:
    """Keys a *service task* writes for this step (empty for steps we carry out ourselves)."""
    if record.steps[step_index] in (StepName.CONVERT, StepName.MERGE, StepName.SYNTHESIZE):
        return tuple(step_outputs(record, step_index, settings).values())
    return ()


def has_unsafe_segments(key: str) -> bool:
    """Whether a key has `.`, `..` or empty path segments (`a//b`), which path-resolving tools rewrite.

    >>> has_unsafe_segments("talks/../a.wav"), has_unsafe_segments("talks/a..b.wav")
    (True, False)
    """
    return any(segment in ("", ".", "..") for segment in key.split("/"))


def oss_uri(bucket: str, key: str) -> str:
    return f"oss://{bucket}/{key}"
