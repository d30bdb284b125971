"""Request models and builders for every seed operation, each producing the exact wire form.

Contents: `oss` (audio/convert, audio/concat, sys/saveas, notify), `imm` (CreateMediaConvertTask),
`asr` (Qwen-ASR: OpenAI-compatible, DashScope synchronous and asynchronous filetrans), `ice`
(SubmitAudioProduceJob, GetSmartHandleJob), `enums` (the seeds' value sets as types).
"""
