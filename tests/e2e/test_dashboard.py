"""The jobs dashboard and the API docs in a real browser (Debian's headless chromium), against the whole
chain on the local runtime in FC 2.0 and FC 3.0 modes, under FC's `/2016-08-15/proxy/...` prefix.

A job is finished the way a user's would be (an upload, the triggers, the timer); then the browser signs
in (a wrong token first), finds the job in the list, opens it and its transcript, plays the audio and
watches the transcript follow it, retries a failed job and cancels one that is still running.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from shared.jobs.model import JobState
from tests.e2e.browser import chromium, console_errors, visible, wait_for
from tests.e2e.conftest import WEATHER, Chain

Speech = Callable[[tuple[str, ...]], bytes]


def sign_in(driver: WebDriver, token: str) -> None:
    field = visible(driver, "#token")
    field.clear()
    field.send_keys(token)
    driver.find_element(By.ID, "sign-in-button").click()


def job_row(driver: WebDriver, job_id: str) -> Any:
    rows = driver.find_elements(By.CSS_SELECTOR, f'#job-table tbody tr[data-job-id="{job_id}"]')
    return rows[0] if rows and rows[0].is_displayed() else None


def listed_ids(driver: WebDriver) -> list[str]:
    # Read in one script: the list is re-rendered while it loads, and elements found earlier go stale.
    script = "return [...document.querySelectorAll('#job-table tbody tr')].map((row) => row.dataset.jobId)"
    ids: list[str] = driver.execute_script(script)
    return ids


def test_the_dashboard_signs_in_lists_plays_a_transcript_and_cancels(
    chain: Chain, speech: Speech, tmp_path: Path
) -> None:
    finished_key = "inbox/dashboard/weather <b>report</b>.wav"
    finished = chain.job_of(finished_key, chain.upload(finished_key, speech(WEATHER)))
    assert chain.drive([finished])[finished].state is JobState.SUCCEEDED
    broken_key = "inbox/dashboard/broken.wav"
    broken = chain.job_of(broken_key, chain.upload(broken_key, b"RIFF but no audio" * 8))
    assert chain.drive([broken])[broken].state is JobState.FAILED
    chain.pause_notify()  # the next upload's conversion finishes unheard: its job stays running
    running_key = "inbox/dashboard/still running.wav"
    running = chain.job_of(running_key, chain.upload(running_key, speech(WEATHER)))
    chain.settle()
    assert chain.job(running).state is JobState.RUNNING
    token = chain.runtime.local_parameters["ApiToken"]
    base = chain.runtime.http_url("api")  # .../2016-08-15/proxy/audiochain/api/

    with chromium(tmp_path) as driver:
        driver.get(base + "dashboard")  # redirected to dashboard/, where the relative URLs resolve
        assert driver.current_url == base + "dashboard/"

        sign_in(driver, "not-the-token")
        error = visible(driver, "#sign-in-error")
        assert "InvalidToken" in error.text
        assert driver.execute_script("return sessionStorage.length") == 0
        refused = console_errors(driver)  # (reading the console empties it)
        assert len(refused) == 1 and "v1/jobs?limit=1" in refused[0] and "401" in refused[0], refused

        sign_in(driver, token)
        wait_for(driver, lambda d: job_row(d, finished), "the finished job in the list")
        assert token not in driver.current_url
        assert driver.execute_script("return sessionStorage.getItem('audiochain.token')") == token
        row = job_row(driver, finished)
        assert row.get_attribute("data-state") == "succeeded"
        assert finished_key in row.text  # the key shown as text, its markup inert
        assert not driver.find_elements(By.CSS_SELECTOR, "#job-table b")

        Select(driver.find_element(By.ID, "filter-state")).select_by_value("running")
        driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
        wait_for(driver, lambda d: listed_ids(d) == [running], "only the running job listed")
        Select(driver.find_element(By.ID, "filter-state")).select_by_value("")
        driver.find_element(By.ID, "filter-source").send_keys(finished_key)
        driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
        wait_for(driver, lambda d: listed_ids(d) == [finished], "only the job of that source listed")

        job_row(driver, finished).find_element(By.TAG_NAME, "a").click()
        visible(driver, "#job-timeline li[data-kind=succeeded]")
        steps = driver.find_elements(By.CSS_SELECTOR, "#job-steps tbody tr")
        assert [step.get_attribute("data-state") for step in steps] == ["succeeded"] * 3
        assert not driver.find_element(By.ID, "job-retry").is_displayed()
        assert not driver.find_element(By.ID, "job-cancel").is_displayed()
        outputs = driver.find_element(By.ID, "job-outputs").text
        assert "transcript.json" in outputs and "recognised audio" in outputs

        visible(driver, "#job-transcript").click()
        visible(driver, "#transcript-text .word")
        spoken = driver.find_element(By.ID, "transcript-text").text.lower()
        assert "weather" in spoken, spoken
        wait_for(driver, lambda d: d.execute_script("return player.readyState >= 1"), "the audio's metadata")
        driver.execute_script("player.play()")
        wait_for(driver, lambda d: d.execute_script("return player.currentTime > 0.8"), "the audio to play")
        visible(driver, "#transcript-text .sentence.current")
        visible(driver, "#transcript-text .word.current")
        begin = float(driver.find_element(By.CSS_SELECTOR, ".word.current").get_attribute("data-begin") or -1)
        now = driver.execute_script("return player.currentTime * 1000")
        assert 0 <= begin <= now, (begin, now)
        # In the pause after a sentence it stays marked (the reader's place) while no word is.
        first, second = driver.find_elements(By.CSS_SELECTOR, "#transcript-text .sentence")[:2]
        gap = (float(first.get_attribute("data-end") or 0), float(second.get_attribute("data-begin") or 0))
        assert gap[1] - gap[0] > 100, gap  # the sample has 0.6 s between its sentences
        driver.execute_script("player.pause(); player.currentTime = arguments[0] / 1000", sum(gap) / 2)
        wait_for(driver, lambda d: "current" in (first.get_attribute("class") or ""), "sentence 1 marked")
        wait_for(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".word.current"), "no word marked")
        # A click on a word plays from it.
        word = second.find_element(By.CSS_SELECTOR, ".word")
        word.click()
        wait_for(driver, lambda d: "current" in (second.get_attribute("class") or ""), "the clicked sentence")
        started = driver.execute_script("return player.currentTime * 1000")
        assert started >= float(word.get_attribute("data-begin") or 0) - 1, started

        driver.get(f"{base}dashboard/#/jobs/{broken}")
        wait_for(driver, lambda d: "InvalidSource" in d.find_element(By.ID, "job-summary").text, "its error")
        visible(driver, "#job-retry").click()
        assert visible(driver, "#job-message").text.startswith("Retried")
        visible(driver, "#job-timeline li[data-kind=retried]")
        # Running again: attempt 2 of its convert step (its outcome stays unheard: on_notify is paused).
        convert = "#job-steps tr[data-step=convert] td:nth-child(4)"
        wait_for(
            driver,
            lambda d: [c.text for c in d.find_elements(By.CSS_SELECTOR, convert)] == ["2"],
            "attempt 2",
        )
        assert chain.job(broken).state is JobState.RUNNING
        visible(driver, "#job-cancel")  # running again, so it may be cancelled
        assert not driver.find_element(By.ID, "job-retry").is_displayed()

        driver.get(f"{base}dashboard/#/jobs/{running}")
        visible(driver, "#job-cancel").click()
        message = visible(driver, "#job-message")
        assert message.text == "Cancelled."
        wait_for(
            driver,
            lambda d: d.find_element(By.CSS_SELECTOR, "#job-state .state").text == "failed",
            "the cancelled job shown as failed",
        )
        visible(driver, "#job-timeline li[data-kind=cancelled]")
        assert "JobCancelled" in driver.find_element(By.ID, "job-summary").text
        assert not driver.find_element(By.ID, "job-retry").is_displayed()  # a cancelled job stays so

        driver.find_element(By.ID, "sign-out").click()
        visible(driver, "#sign-in")
        assert driver.execute_script("return sessionStorage.length") == 0
        assert console_errors(driver) == [], console_errors(driver)  # no CSP violation, no script error
    assert chain.job(running).error is not None


def test_the_docs_page_renders_the_openapi_document_offline(chain: Chain, tmp_path: Path) -> None:
    base = chain.runtime.http_url("api")
    # FC 2.0 hands the function the URL as called, prefix included; FC 3.0's event has no prefix (its
    # trigger URLs have none; the local runtime keeps FC 2.0's edge for both, so here it is dropped).
    prefix = "/2016-08-15/proxy/audiochain/api" if chain.cloud.config.fc_version == 2 else ""
    submitted = chain.http.post("v1/jobs/speech", json={"text": "Hello."})
    assert submitted.status_code == 202
    assert submitted.headers["location"] == f"{prefix}/v1/jobs/{submitted.json()['id']}"

    with chromium(tmp_path) as driver:
        driver.get(base + "docs")
        visible(driver, "#op-listJobs")
        assert driver.find_element(By.ID, "base-url").text == base
        servers = [node.text for node in driver.find_elements(By.CSS_SELECTOR, "#docs .server")]
        assert servers == [f"{chain.cloud.endpoint}{prefix or '/'}"]
        operations = driver.find_element(By.ID, "tag-jobs").text
        assert "/v1/jobs/transcribe" in operations and "Idempotency-Key" in operations
        visible(driver, "#schema-JobView")
        error_table = driver.find_element(By.CSS_SELECTOR, "#docs section.panel table").text
        assert "InvalidToken" in error_table  # the description's Markdown table, rendered as a table
        driver.find_element(By.CSS_SELECTOR, 'a[href="#op-getJobEvents"]').click()
        assert driver.execute_script("return location.hash") == "#op-getJobEvents"
        assert console_errors(driver) == [], console_errors(driver)
