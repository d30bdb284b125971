"""Process strings copied verbatim from the seed documents and signing.md, and their artefact-free twins.

The seeds' REST examples encode names made with `echo`, so they end in a newline; the `*_CLEAN` strings are
the same requests with the names encoded without it (what our builders emit).
"""

from __future__ import annotations

# oss-audio-convert.txt, "Convert MP3 to AAC" (REST).
CONVERT_REST_AAC = (
    "audio/convert,ss_10000,t_60000,f_aac,ab_96000"
    "|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqcHJlZml4LnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0"
)
CONVERT_REST_AAC_CLEAN = (
    "audio/convert,ss_10000,t_60000,f_aac,ab_96000"
    "|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqcHJlZml4LnthdXRvZXh0fQ/notify,topic_QXVkaW9Db252ZXJ0"
)

# oss-audio-convert.txt, "Convert WAV to Opus" (REST).
CONVERT_REST_OPUS = (
    "audio/convert,f_opus,ab_96000,ar_48000,ac_2"
    "|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0"
)
CONVERT_REST_OPUS_CLEAN = (
    "audio/convert,f_opus,ab_96000,ar_48000,ac_2"
    "|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQ/notify,topic_QXVkaW9Db252ZXJ0"
)

# oss-audio-convert.txt, Java and Python samples (identical strings); also signing.md's fixed process string.
CONVERT_SDK_SAMPLE = (
    "audio/convert,ss_10000,t_60000,f_aac,ab_96000"
    "|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5hYWM/notify,topic_QXVkaW9Db252ZXJ0"
)
# The Go sample uses base64.URLEncoding, which pads.
CONVERT_GO_SAMPLE = (
    "audio/convert,ss_10000,t_60000,f_aac,ab_96000"
    "|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA==,o_ZGVzdC5hYWM=/notify,topic_QXVkaW9Db252ZXJ0"
)
SIGNING_MD_PROCESS = (
    "audio/convert,ss_10000,t_60000,f_aac,ab_96000"
    "|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5hYWM/notify,topic_QXVkaW9Db252ZXJ0"
)
SIGNING_MD_BODY_LENGTH = 141
SIGNING_MD_CONTENT_MD5 = "3n1GRjR8kxW+KRXHdCCwfQ=="

# oss-audio-concat.txt, "Merge five clips into an AAC file" (REST), POSTed to example.oga.
CONCAT_FIVE_CLIPS = (
    "audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2"
    "/pre,o_cHJlMS5tcDMK/pre,o_cHJlMi53YXYK,t_2000/sur,o_c3VyMS5hYWMK,ss_4000,t_10000/sur,o_c3VyMi53bWEK,ss_10000"
    "|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0"
)
CONCAT_FIVE_CLIPS_CLEAN = (
    "audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2"
    "/pre,o_cHJlMS5tcDM/pre,o_cHJlMi53YXY,t_2000/sur,o_c3VyMS5hYWM,ss_4000,t_10000/sur,o_c3VyMi53bWE,ss_10000"
    "|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQ/notify,topic_QXVkaW9Db252ZXJ0"
)
CONCAT_FIVE_CLIPS_SOURCE = "example.oga"

# oss-audio-concat.txt quick start and the Java/Python samples (identical strings), POSTed to src1.mp3.
CONCAT_QUICK_START = (
    "audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_c3JjMS5tcDM/pre,o_c3JjMi5tcDM,t_0"
    "|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5hYWM/notify,topic_QXVkaW9Db252ZXJ0"
)
# The Go sample pads.
CONCAT_QUICK_START_GO = (
    "audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_c3JjMS5tcDM=/pre,o_c3JjMi5tcDM=,t_0"
    "|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA==,o_ZGVzdC5hYWM=/notify,topic_QXVkaW9Db252ZXJ0"
)
CONCAT_QUICK_START_SOURCE = "src1.mp3"
