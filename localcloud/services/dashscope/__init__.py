"""localcloud's DashScope: Qwen-ASR over its three connection types, recognised by a local engine.

    POST /compatible-mode/v1/chat/completions                 compatible.py  (OpenAI style, optional SSE)
    POST /api/v1/services/aigc/multimodal-generation/generation  multimodal.py  (DashScope synchronous)
    POST /api/v1/services/audio/asr/transcription             filetrans.py   (asynchronous, X-DashScope-Async)
    GET  /api/v1/tasks/{task_id}                              filetrans.py

service.py routes and authenticates, audio_source.py fetches the audio, recognition.py runs the engine,
transcripts.py writes the result documents, tasks.py keeps asynchronous tasks in SQLite.
"""
