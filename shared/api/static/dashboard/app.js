// The dashboard's entry point: sign-in, and the views by location hash (#/jobs, #/jobs/<id>,
// #/jobs/<id>/transcript). The hash never holds the token: it stays in sessionStorage.

import { call, describe, forgetToken, storeToken, storedToken } from "./api.js";
import { byId, say, show } from "./dom.js";
import { JobPage } from "./job.js";
import { JobList } from "./jobs.js";
import { TranscriptPage } from "./transcript.js";

const VIEWS = ["sign-in", "jobs", "job", "transcript"];

function showView(name) {
  for (const view of VIEWS) show(byId(view), view === name);
  show(byId("sign-out"), name !== "sign-in");
}

function signedOut(error) {
  forgetToken();
  for (const view of [list, job, transcript]) view.stop();
  showView("sign-in");
  say(byId("sign-in-error"), error ? `${error.describe()}. Sign in again.` : "");
  byId("token").focus();
}

const list = new JobList(signedOut);
const job = new JobPage(signedOut);
const transcript = new TranscriptPage(signedOut);

function route() {
  for (const view of [list, job, transcript]) view.stop(); // no view polls or plays behind another
  if (!storedToken()) return signedOut(null);
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "jobs" && parts[1]) {
    if (parts[2] === "transcript") {
      showView("transcript");
      return transcript.load(parts[1]);
    }
    showView("job");
    return job.load(parts[1]);
  }
  showView("jobs");
  return list.load();
}

byId("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const field = byId("token");
  const token = field.value.trim();
  const button = byId("sign-in-button");
  say(byId("sign-in-error"), "");
  button.disabled = true;
  try {
    // The cheapest authenticated call: it proves the token before it is kept.
    await call("GET", "v1/jobs", { query: { limit: 1 }, token });
    storeToken(token);
    field.value = "";
    if (!location.hash || location.hash === "#") location.hash = "#/jobs";
    else route();
  } catch (error) {
    say(byId("sign-in-error"), describe(error));
  } finally {
    button.disabled = false;
  }
});

byId("sign-out").addEventListener("click", () => {
  signedOut(null);
  location.hash = "";
});

window.addEventListener("hashchange", route);
// A tab in the background stops polling; shown again, it catches up at once.
// (Not the transcript: that would stop the audio.)
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && storedToken() && !location.hash.endsWith("/transcript")) route();
});
route();
