"""The chain: its rules as pure functions, and the orchestrator that performs them.

    settings      PipelineSettings (from_env, validate)
    decide        decide_upload → Accept | Ignore
    inputs        the job types' inputs (the HTTP API's request bodies)
    keys          where every object of a job goes; output_keys
    plans         plan_normalize, plan_convert, plan_merge, plan_speech, plan_transcription, preflight
    results       transcript_from_filetrans, transcript_from_sync, completion_message
    orchestrator  Orchestrator: handle_upload, handle_notification, advance, sweep, submit_api_job
    wiring        build_orchestrator over the real clients

Import the submodules directly (`from shared.pipeline.orchestrator import Orchestrator`): this package
imports nothing itself, so a handler pays only for what it uses.
"""
