"""Which ICE voices a speech job may name, checked at submission (a 400 naming `voice`), not after 202.

The names are Intelligent Speech Interaction's voices that ICE's SubmitAudioProduceJob takes in
`EditingConfig.voice` (see /work/shared/seeds, ICE audio production); localcloud's ICE twin speaks the
same list (`localcloud.engines.tts.VOICES`, kept equal by a unit test). `espeak:<voice>` names an eSpeak
voice directly: only localcloud has those, so it is accepted only when the ICE endpoint is on loopback.

    >>> from shared.pipeline.settings import PipelineSettings
    >>> voice_problem("Siqi", PipelineSettings()) is None, voice_problem("Nobody", PipelineSettings())[0]
    (True, 'unknown_voice')
"""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

from shared.pipeline.settings import PipelineSettings

ESPEAK_PREFIX = "espeak:"

ICE_VOICES: frozenset[str] = frozenset(
    [
        "xiaoyun",
        "ruoxi",
        "siqi",
        "sijia",
        "aiqi",
        "aijia",
        "ninger",
        "ruilin",
        "siyue",
        "aiya",
        "aixia",
        "aimei",
        "aiyu",
        "aiyue",
        "aijing",
        "xiaomei",
        "aina",
        "yina",
        "sijing",
        "sitong",
        "xiaobei",
        "aitong",
        "aiwei",
        "aibao",
        "zhitian_emo",
        "zhiyan_emo",
        "zhimi_emo",
        "zhibei_emo",
        "zhimiao_emo",
        "zhiyue",
        "zhiya",
        "zhiqi",
        "zhimao",
        "zhiyuan",
        "zhigui",
        "zhiwei",
        "xiaogang",
        "sicheng",
        "aicheng",
        "aida",
        "aishuo",
        "aifei",
        "zhishuo",
        "zhida",
        "zhixiang",
        "zhichu",
        "zhifeng_emo",
        "zhizhe",
        "abby",
        "annie",
        "ava",
        "becca",
        "beth",
        "betty",
        "cally",
        "cindy",
        "donna",
        "eva",
        "andy",
        "brian",
        "emily",
        "luna",
        "olivia",
        "wendy",
        "lydia",
        "eric",
        "harry",
        "luca",
        "william",
        "kelly",
        "jiajia",
        "taozi",
        "tomoka",
        "tomoya",
        "kyong",
        "masha",
        "camila",
        "perla",
        "clara",
        "hanna",
        "waan",
        "indah",
        "farah",
        "tien",
    ]
)


def targets_localcloud(settings: PipelineSettings) -> bool:
    """Whether ICE calls go to a loopback endpoint (localcloud), where eSpeak voices exist."""
    endpoint = settings.ice_endpoint
    if not endpoint:
        return False
    host = urlsplit(endpoint if "//" in endpoint else f"//{endpoint}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def voice_problem(voice: str, settings: PipelineSettings) -> tuple[str, str] | None:
    """(rule, sentence) when `voice` is not one ICE speaks here; None when it is."""
    if voice.lower().startswith(ESPEAK_PREFIX):
        if targets_localcloud(settings):
            return None
        return ("espeak_voice_local_only", "espeak:<voice> exists only in localcloud; name an ICE voice")
    if voice.lower() in ICE_VOICES:
        return None
    return ("unknown_voice", f"unknown voice {voice!r}; accepted: {', '.join(sorted(ICE_VOICES))}")
