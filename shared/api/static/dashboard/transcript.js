// A finished transcription: the recognised audio in an <audio> player (presigned URL from the job's
// results) beside the transcript, with the sentence and the word being spoken highlighted as it plays.
// Clicking a sentence or a word plays from there. Times are the transcript's integer milliseconds.

import { call, jobPath, report } from "./api.js";
import { byId, clear, el, say } from "./dom.js";

// The words under way at `ms` (sorted by begin_ms): a pause between words highlights none.
export function wordsAt(words, ms) {
  const found = [];
  for (const word of words) {
    if (word.begin > ms) break;
    if (ms < word.end) found.push(word);
  }
  return found;
}

// Per channel, the sentence begun last by `ms`: it stays marked through the pause after it, so the
// reader's place is never lost. Before the first sentence, none.
export function sentencesAt(sentences, ms) {
  const latest = new Map();
  for (const sentence of sentences) {
    if (sentence.begin > ms) break;
    latest.set(sentence.channel, sentence);
  }
  return [...latest.values()];
}

export class TranscriptPage {
  constructor(onAuthFailure) {
    this.onAuthFailure = onAuthFailure;
    this.player = byId("player");
    this.sentences = [];
    this.words = [];
    this.current = new Set();
    this.frame = 0;
    this.generation = 0; // bumped by every load and stop: an answer for an older one is dropped
    const follow = () => this.highlight();
    for (const name of ["timeupdate", "seeked", "pause", "ended"]) this.player.addEventListener(name, follow);
    this.player.addEventListener("play", () => this.animate());
    byId("transcript-text").addEventListener("click", (event) => this.seek(event));
  }

  async load(jobId) {
    this.stop();
    const generation = this.generation;
    byId("transcript-job").textContent = jobId;
    byId("back-to-job").href = `#/jobs/${encodeURIComponent(jobId)}`;
    say(byId("transcript-error"), "");
    say(byId("transcript-note"), "");
    clear(byId("transcript-text"));
    this.player.removeAttribute("src");
    let results;
    try {
      results = await call("GET", jobPath(jobId, "/results"));
    } catch (error) {
      if (generation !== this.generation) return;
      report(error, byId("transcript-error"), this.onAuthFailure);
      return;
    }
    if (generation !== this.generation) return;
    if (!results.ready) {
      say(byId("transcript-error"), `The job has not succeeded (it is ${results.state}): there is no transcript yet.`);
      return;
    }
    if (!results.transcript) {
      const json = results.outputs && results.outputs.json;
      const note = byId("transcript-note");
      if (json) {
        note.replaceChildren("The transcript is too large to show here: ",
          el("a", { href: json.url, rel: "noreferrer", target: "_blank" }, "download transcript.json"), ".");
        note.hidden = false;
      } else {
        say(note, "This job has no transcript.");
      }
    } else {
      this.render(results.transcript);
    }
    if (results.source_audio) {
      this.player.src = results.source_audio.url;
    } else {
      say(byId("transcript-error"), "The recognised audio is not available to play.");
    }
  }

  render(transcript) {
    const box = byId("transcript-text");
    this.sentences = [];
    this.words = [];
    const channels = transcript.channels || [];
    if (transcript.timing === "estimated") {
      say(byId("transcript-note"), "This recognition mode gives no times: the whole text is one passage and no word can be followed.");
    }
    for (const channel of channels) {
      const column = el("div", { class: "channel", dataset: { channel: channel.channel_id } });
      if (channels.length > 1) column.append(el("h3", {}, `Channel ${channel.channel_id}`));
      for (const sentence of channel.sentences || []) column.append(this.sentenceNode(sentence, channel.channel_id));
      box.append(column);
    }
    const byBegin = (a, b) => a.begin - b.begin || a.end - b.end;
    this.sentences.sort(byBegin);
    this.words.sort(byBegin);
    if (this.sentences.length === 0) box.append(el("p", { class: "muted" }, "Nothing was recognised."));
  }

  sentenceNode(sentence, channel) {
    const node = el("p", { class: "sentence", dataset: { begin: sentence.begin_ms, end: sentence.end_ms } });
    this.sentences.push({ begin: sentence.begin_ms, end: sentence.end_ms, channel, node });
    const words = sentence.words || [];
    if (words.length === 0) {
      node.append(sentence.text);
      return node;
    }
    words.forEach((word, index) => {
      const span = el("span", { class: "word", dataset: { begin: word.begin_ms, end: word.end_ms } }, word.text);
      this.words.push({ begin: word.begin_ms, end: word.end_ms, node: span });
      node.append(span, word.punctuation || "", index + 1 < words.length ? " " : "");
    });
    return node;
  }

  highlight() {
    const ms = this.player.currentTime * 1000;
    const now = new Set([...sentencesAt(this.sentences, ms), ...wordsAt(this.words, ms)].map((item) => item.node));
    for (const node of this.current) if (!now.has(node)) node.classList.remove("current");
    for (const node of now) {
      if (this.current.has(node)) continue;
      node.classList.add("current");
      if (node.classList.contains("sentence")) node.scrollIntoView({ block: "nearest" });
    }
    this.current = now;
  }

  // Smoother than timeupdate's few events a second: follow every frame while playing.
  animate() {
    cancelAnimationFrame(this.frame);
    const step = () => {
      this.highlight();
      if (!this.player.paused && !this.player.ended) this.frame = requestAnimationFrame(step);
    };
    this.frame = requestAnimationFrame(step);
  }

  stop() {
    this.generation += 1;
    cancelAnimationFrame(this.frame);
    if (!this.player.paused) this.player.pause();
    this.current = new Set();
  }

  seek(event) {
    const target = event.target.closest("[data-begin]");
    if (!target || !this.player.src) return;
    this.player.currentTime = Number(target.dataset.begin) / 1000;
    this.player.play().catch(() => {}); // a browser may want a gesture first; the user can press play
  }
}
