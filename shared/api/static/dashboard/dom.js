// Small DOM helpers. Text always goes in as text (textContent), never as markup: job data (object keys,
// error messages, transcripts) is shown exactly as it is and can never inject anything.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function show(node, visible = true) {
  node.hidden = !visible;
  return node;
}

// A message in an alert paragraph, or hide it when there is none.
export function say(node, message) {
  node.textContent = message || "";
  node.hidden = !message;
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function stateBadge(state) {
  return el("span", { class: `state state-${state}` }, state);
}

// What a job works on, in one line: the upload's key, the API job's source, the clips, or the text.
export function sourceOf(job) {
  const input = job.input || {};
  if (typeof input.key === "string") return input.key;
  if (typeof input.source === "string") return input.source;
  if (Array.isArray(input.clips)) return input.clips.map((clip) => clip.key).join(" + ");
  if (typeof input.text === "string") return `“${input.text.slice(0, 60)}”`;
  return "";
}
