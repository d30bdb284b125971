"""audiochain's own IceClient against localcloud, completion callbacks, unsigned requests and restarts."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from localcloud.engines.probe import probe
from localcloud.ports import ObjectCreated
from localcloud.server import LocalCloud
from localcloud.services.base import RequestContext
from shared.auth import Credentials
from shared.clients.ice import ICE_API_VERSION, IceClient
from shared.clients.mns import MnsClient
from shared.errors import ServiceResponseError
from shared.events.notifications import IceCallback, parse_notification
from shared.ops.enums import IceJobState
from shared.ops.ice import SubmitAudioProduceJobRequest
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_config
from tests.functional.ice.conftest import BUCKET, ICE_SERVICES, CallbackReceiver


def speech_request(
    key: str, text: str = "Hello from audiochain.", **fields: object
) -> SubmitAudioProduceJobRequest:
    return SubmitAudioProduceJobRequest.build(
        EditingConfig={"voice": "Andy", "format": "MP3"},
        OutputConfig={"bucket": BUCKET, "object": key},
        InputConfig=text,
        **fields,
    )


def test_our_client_submits_speech_and_reads_the_sentence_timings(
    ice_cloud: LocalCloud, ice_client: IceClient
) -> None:
    key = f"client/{uuid.uuid4().hex[:6]}"
    submitted = ice_client.submit_audio_produce_job(speech_request(key, "One sentence. And another one."))
    assert ice_cloud.tasks.wait_idle(30)

    job = ice_client.get_smart_handle_job(submitted.job_id)

    assert (submitted.state, job.state) == (IceJobState.CREATED, IceJobState.FINISHED)
    assert [s.content for s in job.sentences()] == ["One sentence.", "And another one."]
    assert job.smart_job_info is not None and job.smart_job_info.editing() is not None
    info = probe(ice_cloud.oss().store.head(BUCKET, f"{key}.mp3").path)
    assert job.sentences()[-1].to == pytest.approx(info.duration_ms / 1000, abs=0.05)


def test_the_written_speech_is_announced_to_object_created_listeners(
    ice_cloud: LocalCloud, ice_client: IceClient
) -> None:
    seen: list[ObjectCreated] = []
    ice_cloud.oss().store.add_listener(seen.append)
    key = f"events/{uuid.uuid4().hex[:6]}"

    ice_client.submit_audio_produce_job(speech_request(key))
    ice_cloud.tasks.wait_idle(30)

    assert [(e.event_name, e.record.key) for e in seen if e.record.key.startswith(key)] == [
        ("ObjectCreated:PutObject", f"{key}.mp3")
    ]


def test_an_http_notify_address_receives_the_completion_callback(
    ice_cloud: LocalCloud, ice_client: IceClient, callback_receiver: CallbackReceiver
) -> None:
    user_data = f'{{"NotifyAddress":"{callback_receiver.url}","job":"j-9"}}'
    submitted = ice_client.submit_audio_produce_job(
        speech_request(f"cb/{uuid.uuid4().hex[:6]}", UserData=user_data)
    )
    ice_cloud.tasks.wait_idle(30)

    assert callback_receiver.arrived.wait(10)
    callback = parse_notification(callback_receiver.bodies[0])
    assert isinstance(callback, IceCallback)
    assert (callback.job_id, callback.media_id, callback.succeeded) == (
        submitted.job_id,
        submitted.media_id,
        True,
    )
    assert callback.event_type == "ProduceMediaComplete"
    assert callback.user_data_json() == {"NotifyAddress": callback_receiver.url, "job": "j-9"}
    assert callback.media_url is not None and callback.media_url.endswith(".mp3")


def test_an_http_callback_to_a_local_address_ignores_a_proxy_configured_in_the_environment(
    ice_cloud: LocalCloud, callback_receiver: CallbackReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # a developer's proxy, unreachable from here
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)
    request = speech_request(
        f"cb/{uuid.uuid4().hex[:6]}", UserData=f'{{"NotifyAddress":"{callback_receiver.url}"}}'
    )

    # Submitted in process: a client of ours would go through that proxy too.
    submitted = ice_cloud.ice().submit_audio_produce_job(request.to_query(), RequestContext())
    ice_cloud.tasks.wait_idle(30)

    assert callback_receiver.arrived.wait(10)
    callback = parse_notification(callback_receiver.bodies[0])
    assert isinstance(callback, IceCallback) and callback.job_id == submitted["JobId"]


def test_an_mns_queue_notify_address_receives_the_callback_of_a_failed_job(
    ice_cloud: LocalCloud, ice_client: IceClient
) -> None:
    queue = f"ice-callback-{uuid.uuid4().hex[:6]}"
    ice_cloud.mns().ensure_queue(queue)
    key = f"cb/taken-{uuid.uuid4().hex[:6]}"
    ice_cloud.oss().store.put_stream(BUCKET, f"{key}.mp3", iter([b"already here"]))
    request = speech_request(key, UserData=f'{{"NotifyAddress":"{queue}"}}')

    submitted = ice_client.submit_audio_produce_job(request)
    ice_cloud.tasks.wait_idle(30)
    with MnsClient(ice_cloud.endpoint, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)) as mns:
        message = mns.receive(queue, wait_seconds=5)

    assert message is not None
    callback = parse_notification(message.body)
    assert isinstance(callback, IceCallback)
    assert (callback.job_id, callback.failed) == (submitted.job_id, True)
    assert callback.error_code == "FileAlreadyExists"


def test_an_unsigned_request_is_refused_with_an_openapi_error_document(ice_cloud: LocalCloud) -> None:
    response = httpx.post(
        f"{ice_cloud.endpoint}/",
        params={"JobId": "x"},
        headers={"x-acs-action": "GetSmartHandleJob", "x-acs-version": ICE_API_VERSION},
    )

    body = response.json()
    assert (response.status_code, body["Code"]) == (400, "MissingAuthorization")
    assert body["HostId"] == "ice.cn-hangzhou.aliyuncs.com" and body["RequestId"] and body["Recommend"]


def test_an_unknown_ice_action_is_refused_as_not_found(ice_cloud: LocalCloud, ice_client: IceClient) -> None:
    with pytest.raises(ServiceResponseError) as caught:
        ice_client.call("SubmitMediaProducingJob", {"Timeline": "{}"}, idempotent=False)

    assert (caught.value.status, caught.value.code) == (404, "InvalidAction.NotFound")


def test_a_job_left_unfinished_by_a_stop_runs_when_localcloud_starts_again(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    credentials = Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    with LocalCloud(make_config(data_dir), services=ICE_SERVICES) as first:
        first.oss().store.create_bucket(BUCKET)
        # Simulate a crash before the worker picked the job up: it is persisted but never run.
        first.tasks.submit = lambda *args, **kwargs: None  # type: ignore[method-assign]
        with IceClient(first.endpoint, credentials) as client:
            job_id = client.submit_audio_produce_job(speech_request("restart/speech")).job_id
            assert client.get_smart_handle_job(job_id).state is IceJobState.CREATED

    with LocalCloud(make_config(data_dir), services=ICE_SERVICES) as second:
        assert second.tasks.wait_idle(30)
        with IceClient(second.endpoint, credentials) as client:
            job = client.get_smart_handle_job(job_id)
        assert job.state is IceJobState.FINISHED
        assert probe(second.oss().store.head(BUCKET, "restart/speech.mp3").path).codec == "mp3float"


def test_a_callback_never_sent_because_localcloud_stopped_is_sent_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "state"
    credentials = Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    request = speech_request("restart/called-back", UserData='{"NotifyAddress":"ice-restart-callbacks"}')
    with LocalCloud(make_config(data_dir), services=ICE_SERVICES) as first:
        first.oss().store.create_bucket(BUCKET)
        first.mns().ensure_queue("ice-restart-callbacks")
        monkeypatch.setattr(first.ice().lifecycle, "notify", lambda job_id: None)  # "dies" after the job ends
        with IceClient(first.endpoint, credentials) as client:
            job_id = client.submit_audio_produce_job(request).job_id
            assert first.tasks.wait_idle(30)
            ended = client.get_smart_handle_job(job_id).state

    with LocalCloud(make_config(data_dir), services=ICE_SERVICES) as second:
        assert second.tasks.wait_idle(30)
        waiting = second.mns().queues.get("ice-restart-callbacks").active_messages
        message = second.mns().receive("ice-restart-callbacks", wait_seconds=5)

    assert ended is IceJobState.FINISHED
    assert message is not None and waiting == 1
    callback = parse_notification(message.body)
    assert isinstance(callback, IceCallback)
    assert (callback.job_id, callback.succeeded) == (job_id, True)
