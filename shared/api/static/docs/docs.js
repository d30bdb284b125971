// The API reference, rendered in the browser from ../openapi.json (no CDN, no framework): an index,
// every operation with its parameters, body, answers and error codes, and every schema. Text from the
// document always goes in as text; the little Markdown the descriptions use (paragraphs, **bold**,
// `code`, pipe tables) is turned into elements, never into markup.

const DOCUMENT_URL = new URL("../openapi.json", document.baseURI);
const API_ROOT = new URL("../", document.baseURI);
const METHODS = ["get", "post", "put", "patch", "delete"];
let SCHEMAS = {}; // components.schemas of the document being rendered
const CONSTRAINTS = [
  ["minimum", "≥"], ["exclusiveMinimum", ">"], ["maximum", "≤"], ["exclusiveMaximum", "<"],
  ["minLength", "min length"], ["maxLength", "max length"], ["minItems", "min items"],
  ["maxItems", "max items"], ["pattern", "pattern"], ["format", "format"], ["default", "default"],
];

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// `code` and **bold** inside one line of text.
function inline(text) {
  return String(text)
    .split(/(`[^`]+`|\*\*[^*]+\*\*)/)
    .filter(Boolean)
    .map((part) => {
      if (part.startsWith("`") && part.endsWith("`") && part.length > 1) return el("code", {}, part.slice(1, -1));
      if (part.startsWith("**") && part.endsWith("**") && part.length > 3) return el("strong", {}, part.slice(2, -2));
      return document.createTextNode(part);
    });
}

function cells(line) {
  return line.trim().replace(/^\||\|$/g, "").split("|").map((cell) => cell.trim());
}

export function markdown(text) {
  const blocks = String(text || "").split(/\n\s*\n/);
  const nodes = [];
  for (const block of blocks) {
    const lines = block.split("\n").filter((line) => line.trim());
    if (lines.length === 0) continue;
    if (lines.every((line) => line.trim().startsWith("|"))) {
      const rows = lines.filter((line) => !/^\s*\|[\s:|-]+\|\s*$/.test(line)).map(cells);
      const [head, ...body] = rows;
      nodes.push(
        el("table", {},
          el("thead", {}, el("tr", {}, head.map((cell) => el("th", {}, inline(cell))))),
          el("tbody", {}, body.map((row) => el("tr", {}, row.map((cell) => el("td", {}, inline(cell)))))),
        ),
      );
    } else {
      nodes.push(el("p", {}, inline(lines.join(" "))));
    }
  }
  return nodes;
}

function refName(ref) {
  return ref.split("/").pop();
}

function typeOf(schema) {
  if (!schema || typeof schema !== "object") return "any";
  if (schema.$ref) return el("a", { href: `#schema-${refName(schema.$ref)}` }, refName(schema.$ref));
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    if (Array.isArray(schema[key])) {
      const joiner = key === "allOf" ? " & " : " | ";
      return el("span", {}, schema[key].flatMap((part, i) => (i ? [joiner, typeOf(part)] : [typeOf(part)])));
    }
  }
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  if (schema.type === "array") return el("span", {}, "array of ", typeOf(schema.items));
  if (schema.type === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object") {
    return el("span", {}, "map of ", typeOf(schema.additionalProperties));
  }
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  return schema.type || "any";
}

function constraints(schema) {
  const found = CONSTRAINTS.filter(([key]) => schema && schema[key] !== undefined).map(
    ([key, label]) => `${label} ${typeof schema[key] === "string" ? schema[key] : JSON.stringify(schema[key])}`,
  );
  return found.length ? el("span", { class: "muted small" }, ` (${found.join(", ")})`) : null;
}

function properties(schema, depth) {
  const required = new Set(schema.required || []);
  const list = el("ul", { class: "schema" });
  for (const [name, property] of Object.entries(schema.properties || {})) {
    const nested = depth < 3 && property.type === "object" && property.properties ? properties(property, depth + 1) : null;
    list.append(
      el("li", {},
        el("span", { class: "name" }, name), " ", el("span", { class: "type" }, typeOf(property)),
        required.has(name) ? el("span", { class: "required" }, " required") : null,
        constraints(property),
        property.description ? el("div", { class: "muted" }, inline(property.description)) : null,
        nested,
      ),
    );
  }
  return list;
}

function schemaBlock(schema) {
  if (!schema) return null;
  if (schema.$ref) {
    // A request body is read field by field: show the referenced schema's fields here too.
    const target = SCHEMAS[refName(schema.$ref)];
    return [el("p", {}, "Schema: ", typeOf(schema)), target && target.properties ? properties(target, 0) : null];
  }
  if (schema.properties) return properties(schema, 0);
  return el("p", {}, el("span", { class: "type" }, typeOf(schema)), constraints(schema));
}

function example(method, path, operation) {
  const url = new URL(path.replace(/^\//, ""), API_ROOT).href;
  const parts = [`curl -X ${method.toUpperCase()} '${url}'`];
  if (!(Array.isArray(operation.security) && operation.security.length === 0)) {
    parts.push(`-H "Authorization: Bearer $AUDIOCHAIN_API_TOKEN"`);
  }
  if (operation.requestBody) parts.push(`-H 'Content-Type: application/json' -d @body.json`);
  return el("pre", {}, parts.join(" \\\n  "));
}

function operationSection(method, path, operation) {
  const id = `op-${operation.operationId || `${method}-${path}`}`;
  const open = Array.isArray(operation.security) && operation.security.length === 0;
  const section = el("div", { class: "operation", id },
    el("h3", {}, el("span", { class: `method method-${method}` }, method.toUpperCase()), el("code", {}, path),
      open ? el("span", { class: "badge" }, "no token") : null),
    el("p", {}, inline(operation.summary || "")),
  );
  if (operation.description) section.append(...markdown(operation.description));
  const parameters = operation.parameters || [];
  if (parameters.length) {
    section.append(el("h4", {}, "Parameters"), el("table", {},
      el("thead", {}, el("tr", {}, ["Name", "In", "Type", "Description"].map((h) => el("th", {}, h)))),
      el("tbody", {}, parameters.map((p) => el("tr", {},
        el("td", {}, el("code", {}, p.name), p.required ? el("span", { class: "required" }, " required") : null),
        el("td", {}, p.in),
        el("td", {}, el("span", { class: "type" }, typeOf(p.schema)), constraints(p.schema)),
        el("td", {}, inline(p.description || "")),
      ))),
    ));
  }
  const body = operation.requestBody && operation.requestBody.content && operation.requestBody.content["application/json"];
  if (body) section.append(el("h4", {}, "Request body (JSON)"), ...[schemaBlock(body.schema)].flat().filter(Boolean));
  const rows = Object.entries(operation.responses || {}).map(([status, answer]) => {
    const content = answer.content && answer.content["application/json"];
    const headers = Object.keys(answer.headers || {});
    return el("tr", {},
      el("td", {}, el("code", {}, status)),
      el("td", {}, inline(answer.description || ""),
        headers.length ? el("div", { class: "muted small" }, `Headers: ${headers.join(", ")}`) : null),
      el("td", {}, content ? typeOf(content.schema) : ""),
    );
  });
  section.append(el("h4", {}, "Answers"), el("table", {},
    el("thead", {}, el("tr", {}, ["Status", "Meaning", "Body"].map((h) => el("th", {}, h)))),
    el("tbody", {}, rows)));
  section.append(el("h4", {}, "Example"), example(method, path, operation));
  return section;
}

function render(doc) {
  const root = document.getElementById("docs");
  const info = doc.info || {};
  SCHEMAS = (doc.components && doc.components.schemas) || {};
  document.title = `${info.title || "API"} · reference`;
  const servers = (doc.servers && doc.servers.length ? doc.servers : [{ url: "/" }]).map((server) => ({
    url: new URL(server.url, DOCUMENT_URL).href,
    description: server.description || "",
  }));
  const intro = el("section", { class: "panel" },
    el("h2", {}, `${info.title || "API"} `, el("span", { class: "badge" }, `v${info.version || "?"}`),
      " ", el("span", { class: "badge" }, `OpenAPI ${doc.openapi || "?"}`)),
    el("p", {}, "Base URL of this deployment: ", el("code", { id: "base-url" }, API_ROOT.href)),
    el("p", {}, "Servers in the document: ",
      servers.map((server, i) => [i ? ", " : "", el("code", { class: "server" }, server.url),
        server.description ? ` (${server.description})` : ""])),
    ...markdown(info.description),
  );
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([method, path, item[method]]);
    }
  }
  const tagText = new Map((doc.tags || []).map((tag) => [tag.name, tag.description || ""]));
  const toc = el("nav", { class: "toc" }, el("h2", {}, "Operations"),
    el("ul", {}, [...byTag.values()].flat().map(([method, path, op]) =>
      el("li", {}, el("a", { href: `#op-${op.operationId || `${method}-${path}`}` }, `${method.toUpperCase()} ${path}`),
        " ", el("span", { class: "muted" }, op.summary || "")))));
  root.replaceChildren(intro, el("section", { class: "panel" }, toc));
  for (const [tag, operations] of byTag) {
    root.append(el("section", { class: "panel", id: `tag-${tag}` },
      el("h2", {}, tag), el("p", { class: "muted" }, inline(tagText.get(tag) || "")),
      operations.map(([method, path, op]) => operationSection(method, path, op))));
  }
  const schemas = (doc.components && doc.components.schemas) || {};
  root.append(el("section", { class: "panel", id: "schemas" }, el("h2", {}, "Schemas"),
    Object.entries(schemas).map(([name, schema]) => el("div", { class: "operation", id: `schema-${name}` },
      el("h3", {}, el("code", {}, name), " ", el("span", { class: "type" }, schema.properties ? "object" : typeOf(schema))),
      schema.description ? markdown(schema.description) : null,
      schemaBlock(schema.properties ? schema : null)))));
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}

async function main() {
  const error = document.getElementById("docs-error");
  try {
    const response = await fetch(DOCUMENT_URL, { headers: { Accept: "application/json" }, credentials: "omit" });
    if (!response.ok) throw new Error(`${DOCUMENT_URL.pathname} answered HTTP ${response.status}`);
    render(await response.json());
  } catch (failure) {
    error.textContent = `The API description could not be loaded: ${failure.message}`;
    error.hidden = false;
  }
}

main();
