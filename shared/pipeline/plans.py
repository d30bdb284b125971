"""Step planners: pure functions from a job (and settings) to the exact service request of a step.

No I/O here: the orchestrator sends what these return. Planning an API job once at submission, on a
placeholder id (`preflight`), refuses a request that could never be sent before any job exists.

    >>> from datetime import datetime, timezone
    >>> from shared.jobs.model import JobRecord
    >>> from shared.pipeline.settings import PipelineSettings
    >>> record = JobRecord(id=PLACEHOLDER_JOB_ID, type="transcribe_upload", idempotency_key="k",
    ...     input_digest="d", created_at=datetime(2025, 1, 15, tzinfo=timezone.utc),
    ...     input={"bucket": "audiochain", "key": "inbox/a.wav", "relative_key": "a.wav"})
    >>> plan = plan_normalize(record, PipelineSettings())
    >>> plan.source_key, plan.request.to_process().split("|")[0]
    ('inbox/a.wav', 'audio/convert,f_flac,ar_16000,ac_1,adepth_16')

Why FLAC for recognition: OSS audio/convert cannot write WAV (its formats are mp3, aac, flac, oga, ac3,
opus, amr); FLAC is the one lossless choice, so the recogniser hears exactly the 16 kHz mono 16-bit PCM
a WAV would hold, in about half the bytes, and both Qwen-ASR models accept it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel

from shared.errors import ConfigurationError, InvalidRequestError
from shared.jobs.model import JobRecord, JobType, StepName
from shared.ops.enums import AsrLanguage, AudioFormat, ImmAudioCodec, ImmContainer
from shared.ops.limits import ASR_MAX_REQUEST_BYTES as MAX_REQUEST_BYTES
from shared.ops.limits import OSS_CONCAT_MAX_OBJECTS as MAX_OBJECTS
from shared.pipeline.inputs import (
    ConvertJobInput,
    MergeEngine,
    MergeJobInput,
    SpeechJobInput,
    TranscribeJobInput,
    TranscribeMode,
    UploadInput,
    input_of,
    parse_job_input,
)
from shared.pipeline.keys import (
    converted_key,
    merge_intermediate_key,
    merged_key,
    normalized_key,
    oss_uri,
    speech_object,
)
from shared.pipeline.recognition import normalize_channel_count
from shared.pipeline.settings import PipelineSettings
from shared.pipeline.voices import voice_problem

if TYPE_CHECKING:  # the service models load when a plan of their kind is made, not at every cold start
    from shared.ops.asr import ChatCompletionRequest, FiletransRequest, MultimodalGenerationRequest
    from shared.ops.ice import SubmitAudioProduceJobRequest
    from shared.ops.imm import CreateMediaConvertTaskRequest
    from shared.ops.oss import AudioConcatRequest, AudioConvertRequest

# A well-formed id no real job has (its time part is the very end of the id range).
PLACEHOLDER_JOB_ID = "j" + "0" * 26
NORMALIZE_PARAMS = {"f": "flac", "ar": 16000, "ac": 1, "adepth": 16}
# The audio containers IMM merging writes: seed imm-audio-merge.txt, "Supported formats" (AAC, MP3, WAV, FLAC,
# WMA, AC3, Opus). A merge to oga or amr that needs IMM is merged to FLAC (lossless) in the job's work
# folder, then converted with OSS audio/convert, which writes both (`job_steps`).
_IMM_FORMATS: dict[AudioFormat, tuple[ImmContainer, ImmAudioCodec]] = {
    AudioFormat.MP3: (ImmContainer.MP3, ImmAudioCodec.MP3),
    AudioFormat.AAC: (ImmContainer.AAC, ImmAudioCodec.AAC),
    AudioFormat.FLAC: (ImmContainer.FLAC, ImmAudioCodec.FLAC),
    AudioFormat.AC3: (ImmContainer.AC3, ImmAudioCodec.AC3),
    AudioFormat.OPUS: (ImmContainer.OPUS, ImmAudioCodec.OPUS),
}


class OssConvertPlan(NamedTuple):
    """POST `source_key` with audio/convert; the output lands at `target_key`."""

    source_key: str
    request: AudioConvertRequest

    @property
    def target_key(self) -> str:
        return self.request.saveas.object


class OssConcatPlan(NamedTuple):
    request: AudioConcatRequest

    @property
    def target_key(self) -> str:
        return self.request.saveas.object


class ImmMergePlan(NamedTuple):
    request: CreateMediaConvertTaskRequest
    target_key: str


class SpeechPlan(NamedTuple):
    request: SubmitAudioProduceJobRequest

    @property
    def target_key(self) -> str:
        return self.request.output_key


class SyncPlan(NamedTuple):
    """Recognise now with qwen3-asr-flash (DashScope synchronous): text, language, emotion; no timings."""

    request: MultimodalGenerationRequest


class CompatiblePlan(NamedTuple):
    """Recognise now with qwen3-asr-flash through the OpenAI-compatible API, streamed (less exposed to read
    timeouts than one long answer): text, language, emotion; no timings."""

    request: ChatCompletionRequest


class FiletransPlan(NamedTuple):
    """Submit to qwen3-asr-flash-filetrans and poll: sentences and words with timings."""

    request: FiletransRequest


def plan_normalize(record: JobRecord, settings: PipelineSettings) -> OssConvertPlan:
    """The chain's first step: the upload to FLAC, 16 kHz, 16-bit, notifying the pipeline topic; mono, or
    with its channels kept when the upload's rule asks for them to be recognised separately."""
    from shared.ops.oss import AudioConvertRequest  # the request models load with the first plan (issue 11)

    upload = input_of(record.input, UploadInput)
    request = AudioConvertRequest.build(
        params={**NORMALIZE_PARAMS, "ac": normalize_channel_count(upload.channels)},
        saveas={"bucket": settings.bucket, "object": normalized_key(settings, record.id)},
        notify={"topic": settings.pipeline_topic},
    )
    return OssConvertPlan(upload.key, request)


def job_steps(job_type: JobType, job_input: BaseModel, settings: PipelineSettings) -> tuple[StepName, ...]:
    """The steps of this job: its type's, except a merge that IMM must run into a container IMM does not
    write (oga, amr), which is merged to FLAC and then converted."""
    if job_type is JobType.MERGE and isinstance(job_input, MergeJobInput):
        engine = choose_merge_engine(job_input, imm_available=settings.imm_project is not None)
        if engine is MergeEngine.IMM and job_input.params.f not in _IMM_FORMATS:
            return (StepName.MERGE, StepName.CONVERT)
    return job_type.steps


def plan_convert(record: JobRecord, settings: PipelineSettings) -> OssConvertPlan:
    """A convert job: the caller's parameters, written to `outputs/<job_id>/<source stem>.<ext>`; or the
    second step of a merge to oga/amr: its FLAC merge to `outputs/<job_id>/merged.<ext>`."""
    from shared.ops.oss import AudioConvertRequest  # the request models load with the first plan (issue 11)

    if record.type is JobType.MERGE:
        merge = input_of(record.input, MergeJobInput)
        request = AudioConvertRequest.build(
            params=merge.params,
            saveas={"bucket": settings.bucket, "object": merged_key(settings, record.id, merge.params.f)},
            notify={"topic": settings.pipeline_topic},
        )
        return OssConvertPlan(merge_intermediate_key(settings, record.id), request)
    job = input_of(record.input, ConvertJobInput)
    request = AudioConvertRequest.build(
        params=job.params,
        saveas={
            "bucket": settings.bucket,
            "object": converted_key(settings, record.id, job.source, job.params.f),
        },
        notify={"topic": settings.pipeline_topic},
    )
    return OssConvertPlan(job.source, request)


def concat_expressible(job: MergeJobInput) -> str | None:
    """None when OSS audio/concat can run this merge, else the reason it cannot."""
    if len(job.clips) > MAX_OBJECTS:
        return f"audio/concat merges at most {MAX_OBJECTS} objects, and this merge has {len(job.clips)}"
    if all(clip.ss or clip.t for clip in job.clips):
        return (
            "audio/concat always uses its source object whole, so one clip must be untrimmed (ss=0, t=0), "
            "and every clip here is trimmed"
        )
    return None


def _concat_order_certain(job: MergeJobInput) -> bool:
    """At most one clip before the first untrimmed one (the request's source): at most one `/pre`."""
    first_whole = next((index for index, clip in enumerate(job.clips) if not (clip.ss or clip.t)), 0)
    return first_whole <= 1


def imm_expressible(job: MergeJobInput) -> str | None:
    """None when IMM CreateMediaConvertTask can run this merge, else the reason it cannot."""
    params = job.params
    if params.ss or params.t:
        return "IMM merging cannot trim the merged output (ss/t of params); trim the clips instead"
    if params.abopt is not None:
        return "IMM merging has no abopt; leave it out"
    return None


def choose_merge_engine(job: MergeJobInput, *, imm_available: bool) -> MergeEngine:
    """OSS audio/concat when it can express the merge (and IMM was not asked for), IMM otherwise.

    Raises InvalidRequestError (field `engine`) when the chosen or only possible engine cannot run it.
    """
    concat_problem = concat_expressible(job)
    wanted = job.engine
    if wanted is MergeEngine.AUTO:
        wanted = MergeEngine.OSS if concat_problem is None else MergeEngine.IMM
        order_in_doubt = not _concat_order_certain(job)
        if wanted is MergeEngine.OSS and order_in_doubt and imm_available and imm_expressible(job) is None:
            # Two or more trimmed clips before the first whole one must go as /pre, whose order the seed's
            # prose and table read differently; IMM's ordered Sources list has no such doubt.
            wanted = MergeEngine.IMM
    if wanted is MergeEngine.OSS and concat_problem is not None:
        raise InvalidRequestError.single("engine", "concat_unsupported", concat_problem, "merge job")
    if wanted is MergeEngine.IMM:
        if not imm_available:
            why = f" ({concat_problem})" if concat_problem and job.engine is MergeEngine.AUTO else ""
            raise InvalidRequestError.single(
                "engine",
                "imm_unavailable",
                f"this merge needs IMM{why}, and no IMM project is configured (AUDIOCHAIN_IMM_PROJECT)",
                "merge job",
            )
        imm_problem = imm_expressible(job)
        if imm_problem is not None:
            raise InvalidRequestError.single("engine", "imm_unsupported", imm_problem, "merge job")
    return wanted


def plan_merge(record: JobRecord, settings: PipelineSettings) -> OssConcatPlan | ImmMergePlan:
    """A merge job on the engine `choose_merge_engine` picks, written to `outputs/<job_id>/merged.<ext>`."""
    from shared.ops.oss import AudioConcatRequest  # the request models load with the first plan (issue 11)

    job = input_of(record.input, MergeJobInput)
    target = merged_key(settings, record.id, job.params.f)
    engine = choose_merge_engine(job, imm_available=settings.imm_project is not None)
    if engine is MergeEngine.OSS:
        # Only what differs from the defaults goes on the wire (an explicit `ss_0` would be sent as is).
        clips = [
            {"object": clip.key, **{name: value for name, value in (("ss", clip.ss), ("t", clip.t)) if value}}
            for clip in job.clips
        ]
        request = AudioConcatRequest.build(
            clips=clips,
            params=job.params,
            **({"align": job.align} if job.align else {}),
            saveas={"bucket": settings.bucket, "object": target},
            notify={"topic": settings.pipeline_topic},
        )
        return OssConcatPlan(request)
    assert settings.imm_project is not None  # choose_merge_engine checked it
    params = job.params
    then_convert = StepName.CONVERT in record.steps
    if then_convert:  # lossless FLAC at the wanted rate and channels; the conversion does the rest
        target = merge_intermediate_key(settings, record.id)
        container, codec = ImmContainer.FLAC, ImmAudioCodec.FLAC
        wanted: tuple[tuple[str, object], ...] = (
            ("Channel", params.ac),
            ("SampleRate", int(params.ar) if params.ar is not None else None),
        )
    else:
        container, codec = _IMM_FORMATS[params.f]
        wanted = (
            ("Bitrate", params.ab),
            ("Quality", params.aq),
            ("Channel", params.ac),
            ("SampleRate", int(params.ar) if params.ar is not None else None),
            ("BitsPerSample", int(params.adepth) if params.adepth is not None else None),
        )
    transcode: dict[str, object] = {"Codec": codec.value}
    for wire, value in wanted:
        if value is not None:
            transcode[wire] = value
    sources = []
    for clip in job.clips:
        source: dict[str, object] = {"URI": oss_uri(settings.bucket, clip.key)}
        if clip.ss:
            source["StartTime"] = clip.ss / 1000
        if clip.t:
            source["Duration"] = clip.t / 1000
        sources.append(source)
    from shared.ops.imm import CreateMediaConvertTaskRequest

    imm_request = CreateMediaConvertTaskRequest.build(
        ProjectName=settings.imm_project,
        Sources=sources,
        AlignmentIndex=job.align,
        Targets=[
            {
                "URI": oss_uri(settings.bucket, target),
                "Container": container.value,
                "Audio": {"TranscodeAudio": transcode},
            }
        ],
        Notification={"MNS": {"TopicName": settings.pipeline_topic}},
        UserData=json.dumps({"job_id": record.id}),
    )
    return ImmMergePlan(imm_request, target)


def plan_speech(record: JobRecord, settings: PipelineSettings) -> SpeechPlan:
    """A speech job: ICE writes `outputs/<job_id>/speech.<ext>`; its callback goes to the pipeline topic."""
    job = input_of(record.input, SpeechJobInput)
    editing: dict[str, object] = {
        "voice": job.voice,
        "format": job.format.value,
        "volume": job.volume,
        "speech_rate": job.speech_rate,
        "pitch_rate": job.pitch_rate,
    }
    if job.customized_voice is not None:
        editing["customizedVoice"] = job.customized_voice
    if job.sample_rate is not None:
        editing["sample_rate"] = int(job.sample_rate)
    user_data = {"NotifyAddress": settings.pipeline_topic, "job_id": record.id}
    from shared.ops.ice import SubmitAudioProduceJobRequest

    request = SubmitAudioProduceJobRequest.build(
        EditingConfig=editing,
        OutputConfig={"bucket": settings.bucket, "object": speech_object(settings, record.id)},
        InputConfig=job.text,
        Title=job.title or f"audiochain {record.id}",
        **({"Description": job.description} if job.description is not None else {}),
        UserData=json.dumps(user_data, separators=(",", ":")),
        Overwrite=True,  # a retried attempt rewrites the same object
    )
    return SpeechPlan(request)


class RecognitionOptions(NamedTuple):
    """What a job asks of recognition, from an API job's input or an upload's (rule, metadata, defaults)."""

    mode: TranscribeMode
    language: AsrLanguage | None
    enable_itn: bool
    enable_words: bool | None
    context: str | None
    channels: tuple[int, ...] | None


def recognition_options(record: JobRecord, settings: PipelineSettings) -> RecognitionOptions:
    """The recognition options a job carries (an upload's mode is always `auto`)."""
    if record.type is JobType.TRANSCRIBE:
        job = input_of(record.input, TranscribeJobInput)
        return RecognitionOptions(
            job.mode, job.language, job.enable_itn, job.enable_words, job.context, job.channels
        )
    upload = input_of(record.input, UploadInput)
    return RecognitionOptions(
        TranscribeMode.AUTO,
        upload.language or settings.asr_language,
        False,
        None,
        upload.context,
        upload.channels,
    )


def recognition_mode(
    options: RecognitionOptions, source_size: int | None, settings: PipelineSettings
) -> TranscribeMode:
    """The connection type the job's recognition uses (never `auto`): channels need filetrans; `auto`
    picks the synchronous model at most `settings.sync_asr_max_bytes` long (0: never)."""
    if options.channels is not None:
        return TranscribeMode.FILETRANS  # only filetrans recognises tracks separately
    if options.mode is TranscribeMode.AUTO:
        small = source_size is not None and 0 < source_size <= settings.sync_asr_max_bytes
        return TranscribeMode.SYNC if small else TranscribeMode.FILETRANS
    return options.mode


def plan_transcription(
    record: JobRecord, source_size: int | None, audio_url: str, settings: PipelineSettings
) -> SyncPlan | CompatiblePlan | FiletransPlan:
    """How to recognise the audio at `audio_url` (`source_size` bytes): by the job's mode, else by size.

    Filetrans by default: it returns sentence and word timings, which subtitles need. The synchronous
    model is used below `settings.sync_asr_max_bytes` (0 turns that off) or when the job asks for it.
    """
    from shared.ops.asr import ChatCompletionRequest, FiletransRequest, MultimodalGenerationRequest

    options = recognition_options(record, settings)
    language, itn, context = options.language, options.enable_itn, options.context
    mode = recognition_mode(options, source_size, settings)
    if mode in (TranscribeMode.SYNC, TranscribeMode.COMPATIBLE):
        if source_size is not None and source_size > MAX_REQUEST_BYTES:
            raise InvalidRequestError.single(
                "mode",
                "sync_too_large",
                f"the synchronous model takes audio up to {MAX_REQUEST_BYTES} bytes; this is {source_size}",
                "transcribe job",
            )
        if mode is TranscribeMode.COMPATIBLE:
            chat = ChatCompletionRequest.for_audio(
                audio_url, context=context, language=language, enable_itn=itn, stream=True, include_usage=True
            )
            return CompatiblePlan(chat)
        sync = MultimodalGenerationRequest.for_audio(
            audio_url, context=context, language=language, enable_itn=itn
        )
        return SyncPlan(sync)
    words = options.enable_words
    if words is None:
        words = settings.asr_enable_words and (language is None or language.supports_words)
    filetrans = FiletransRequest.for_file(
        audio_url,
        language=language,
        enable_itn=itn,
        enable_words=words,
        context=context,
        channel_ids=options.channels or (0,),
    )
    return FiletransPlan(filetrans)


def preflight(job_type: JobType, job_input: BaseModel, settings: PipelineSettings) -> None:
    """Plan the job on a placeholder id: raises InvalidRequestError (or ConfigurationError) now for any
    request that planning the real job would refuse later."""
    record = JobRecord(
        id=PLACEHOLDER_JOB_ID,
        type=job_type,
        created_at="2000-01-01T00:00:00Z",  # type: ignore[arg-type]  # pydantic parses it
        idempotency_key="preflight",
        input_digest="preflight",
        input=parse_job_input(job_type, job_input).model_dump(mode="json", by_alias=True, exclude_unset=True),
        step_names=job_steps(job_type, job_input, settings),
    )
    if job_type is JobType.CONVERT:
        plan_convert(record, settings)
    elif job_type is JobType.MERGE:
        plan_merge(record, settings)
        if StepName.CONVERT in record.steps:
            plan_convert(record, settings)
    elif job_type is JobType.SPEECH:
        speech = input_of(record.input, SpeechJobInput)
        problem = voice_problem(speech.voice, settings) if speech.customized_voice is None else None
        if problem is not None:
            raise InvalidRequestError.single("voice", problem[0], problem[1], "speech job")
        plan_speech(record, settings)
    elif job_type is JobType.TRANSCRIBE:
        plan_transcription(record, None, "https://preflight.invalid/audio", settings)
    elif job_type is JobType.TRANSCRIBE_UPLOAD:
        plan_normalize(record, settings)
    else:  # pragma: no cover - every job type is listed above
        raise ConfigurationError(f"no planner for job type {job_type.value}")
