import { createRequire as __cgCreateRequire } from 'node:module';
const require = __cgCreateRequire(import.meta.url);

// services/shared/clock.ts
var systemClock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  }
};

// services/fault-proxy/src/config.ts
var DEFAULT_CONTROL_PORT = 7070;
var NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
var HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?|[0-9A-Fa-f:.]+)$/;
var FIELDS = ["name", "listen_port", "upstream_host", "upstream_port"];
function show(value) {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
function isPort(v) {
  return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535;
}
function parseRoute(raw, at, errors) {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    errors.push(`${at} must be an object with ${FIELDS.join(", ")}`);
    return void 0;
  }
  const r = raw;
  const before = errors.length;
  for (const key of Object.keys(r)) if (!FIELDS.includes(key)) errors.push(`${at}.${key} is not a route field`);
  if (typeof r.name !== "string" || !NAME.test(r.name)) {
    errors.push(`${at}.name=${show(r.name)} must match ${NAME.source}`);
  }
  for (const key of ["listen_port", "upstream_port"]) {
    if (!isPort(r[key])) errors.push(`${at}.${key}=${show(r[key])} must be an integer between 1 and 65535`);
  }
  if (typeof r.upstream_host !== "string" || !HOST.test(r.upstream_host)) {
    errors.push(`${at}.upstream_host=${show(r.upstream_host)} must be a host name or IP address`);
  }
  if (errors.length > before) return void 0;
  const { name, listen_port, upstream_host, upstream_port } = r;
  return { name, listen_port, upstream_host, upstream_port };
}
function parseControlPort(env, errors) {
  const raw = env.CG_PROXY_CONTROL_PORT;
  if (raw === void 0 || raw === "") return DEFAULT_CONTROL_PORT;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!isPort(port)) errors.push(`CG_PROXY_CONTROL_PORT=${show(raw)} must be an integer between 1 and 65535`);
  return port;
}
function parseRoutes(env, errors) {
  const raw = env.CG_PROXY_ROUTES;
  if (raw === void 0 || raw.trim() === "") {
    errors.push("CG_PROXY_ROUTES is required: a JSON array of {name, listen_port, upstream_host, upstream_port}");
    return [];
  }
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    errors.push(`CG_PROXY_ROUTES is not valid JSON: ${err.message}`);
    return [];
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    errors.push(`CG_PROXY_ROUTES must be a non-empty JSON array of routes, not ${show(parsed)}`);
    return [];
  }
  const routes = [];
  parsed.forEach((r, i) => {
    const route = parseRoute(r, `CG_PROXY_ROUTES[${i}]`, errors);
    if (route) routes.push(route);
  });
  return routes;
}
function parseProxyConfig(env) {
  const errors = [];
  const controlPort = parseControlPort(env, errors);
  const routes = parseRoutes(env, errors);
  const taken = /* @__PURE__ */ new Map([[controlPort, "CG_PROXY_CONTROL_PORT"]]);
  routes.forEach((route, i) => {
    const other = taken.get(route.listen_port);
    if (other) errors.push(`CG_PROXY_ROUTES[${i}].listen_port=${route.listen_port} is already used by ${other}`);
    taken.set(route.listen_port, `CG_PROXY_ROUTES[${i}]`);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: { routes, controlPort } };
}

// services/fault-proxy/src/control.ts
import { createServer } from "node:http";

// services/fault-proxy/src/spec.ts
var KINDS = ["latency", "http_error", "reset", "timeout", "bandwidth"];
var MAX_DURATION_MS = 6e5;
var SHARE = { min: 0, max: 1, integer: false, default: 1 };
var RULES = {
  latency: {
    delay_ms: { min: 0, max: 6e4, integer: true },
    jitter_ms: { min: 0, max: 6e4, integer: true, default: 0 }
  },
  http_error: {
    status: { min: 500, max: 599, integer: true, default: 503 },
    share: SHARE,
    first_n: { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true, optional: true }
  },
  reset: { share: SHARE },
  timeout: { share: SHARE },
  bandwidth: { rate_kbps: { min: 1, max: 1e6, integer: true } }
};
var DURATION = { min: 1, max: MAX_DURATION_MS, integer: true };
function isKind(value) {
  return typeof value === "string" && KINDS.includes(value);
}
function describe(rule) {
  const what = rule.integer ? "an integer" : "a number";
  if (rule.max === Number.MAX_SAFE_INTEGER) return `${what} of at least ${rule.min}`;
  return `${what} between ${rule.min} and ${rule.max}`;
}
function field(body, key, rule) {
  const v = body[key];
  if (v === void 0 && (rule.default !== void 0 || rule.optional)) return rule.default;
  if (v === void 0) return { error: `"${key}" is required: ${describe(rule)}` };
  const inRange = typeof v === "number" && Number.isFinite(v) && v >= rule.min && v <= rule.max;
  return inRange && (!rule.integer || Number.isInteger(v)) ? v : { error: `"${key}" must be ${describe(rule)}` };
}
function parseToxicSpec(body, routeNames) {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, error: "body must be a JSON object" };
  }
  const b = body;
  if (!isKind(b.kind)) return { ok: false, error: `"kind" must be one of ${KINDS.join(", ")}` };
  const names = [...new Set(routeNames)];
  if (typeof b.route !== "string" || !names.includes(b.route)) {
    return { ok: false, error: `"route" must be the name of a route: one of ${names.join(", ")}` };
  }
  const rules = { duration_ms: DURATION, ...RULES[b.kind] };
  for (const key of Object.keys(b)) {
    if (key !== "kind" && key !== "route" && !Object.hasOwn(rules, key)) {
      const fields = Object.keys(rules).join(", ");
      return { ok: false, error: `"${key}" is not a field of a ${b.kind} toxic (fields: ${fields})` };
    }
  }
  const spec = { route: b.route, kind: b.kind };
  for (const [key, rule] of Object.entries(rules)) {
    const v = field(b, key, rule);
    if (typeof v === "object") return { ok: false, error: v.error };
    if (v !== void 0) spec[key] = v;
  }
  return { ok: true, spec };
}

// services/fault-proxy/src/toxics.ts
var Toxics = class {
  #clock;
  #rng;
  #active = /* @__PURE__ */ new Map();
  #onAdd = [];
  #onLift = [];
  #nextId = 1;
  constructor(clock, rng) {
    this.#clock = clock;
    this.#rng = rng;
  }
  /** Starts a toxic; it lifts itself at expiresAt whether or not anyone asks again. */
  add(spec) {
    const now = this.#clock.now();
    const toxic = { id: this.#nextId++, spec, createdAt: now, expiresAt: now + spec.duration_ms, affected: 0 };
    const cancel = this.#clock.setTimer(spec.duration_ms, () => this.lift(toxic.id));
    this.#active.set(toxic.id, { toxic, cancel });
    for (const fn of this.#onAdd) fn(toxic);
    return toxic;
  }
  /** Lifts one toxic; undefined when it is unknown or already gone. */
  lift(id) {
    const entry = this.#active.get(id);
    if (!entry) return void 0;
    this.#active.delete(id);
    entry.cancel();
    for (const fn of this.#onLift) fn(entry.toxic);
    return entry.toxic;
  }
  /** Lifts every toxic; returns how many there were. */
  liftAll() {
    const ids = [...this.#active.keys()];
    for (const id of ids) this.lift(id);
    return ids.length;
  }
  /** Active toxics in creation order; one past its expiry is lifted here if its timer is late. */
  list(route) {
    const now = this.#clock.now();
    const out = [];
    for (const { toxic } of [...this.#active.values()]) {
      if (toxic.expiresAt <= now) this.lift(toxic.id);
      else if (route === void 0 || toxic.spec.route === route) out.push(toxic);
    }
    return out;
  }
  get(id) {
    return this.list().find((t) => t.id === id);
  }
  isActive(id) {
    return this.#active.has(id);
  }
  onAdd(fn) {
    this.#onAdd.push(fn);
  }
  onLift(fn) {
    this.#onLift.push(fn);
  }
  /** Whether a share-based toxic acts on one more request or connection; counts it when it does. */
  pick(toxic) {
    const { spec } = toxic;
    if (spec.kind === "latency" || spec.kind === "bandwidth") return false;
    if (spec.kind === "http_error" && spec.first_n !== void 0 && toxic.affected >= spec.first_n) return false;
    const picked = spec.share >= 1 || spec.share > 0 && this.#rng() < spec.share;
    if (picked) toxic.affected++;
    return picked;
  }
  /** What to do with a new HTTP request or TCP connection on a route. */
  verdict(route, protocol) {
    const toxics = this.list(route);
    const kinds = protocol === "http" ? ["reset", "timeout", "http_error"] : ["reset", "timeout"];
    for (const action of kinds) {
      for (const toxic of toxics) if (toxic.spec.kind === action && this.pick(toxic)) return { action, toxic };
    }
    return { action: "forward" };
  }
  /**
   * Latency and bandwidth for data coming back now: delays add up (each toxic with its own
   * jitter), the lowest rate wins. Each toxic counts once per id not yet in `seen`.
   */
  shaping(route, seen) {
    const shaping = { delayMs: 0, rateKbps: null };
    for (const toxic of this.list(route)) {
      const { spec } = toxic;
      if (spec.kind === "latency") {
        const jitter = spec.jitter_ms === 0 ? 0 : (this.#rng() * 2 - 1) * spec.jitter_ms;
        shaping.delayMs += Math.max(0, Math.round(spec.delay_ms + jitter));
      } else if (spec.kind === "bandwidth") {
        shaping.rateKbps = Math.min(shaping.rateKbps ?? Infinity, spec.rate_kbps);
      } else {
        continue;
      }
      if (!seen?.has(toxic.id)) toxic.affected++;
      seen?.add(toxic.id);
    }
    return shaping;
  }
};
function toxicJson(toxic, now) {
  const { route, kind, duration_ms, ...params } = toxic.spec;
  return {
    id: toxic.id,
    route,
    kind,
    ...params,
    duration_ms,
    created_at: new Date(toxic.createdAt).toISOString(),
    expires_at: new Date(toxic.expiresAt).toISOString(),
    expires_in_ms: Math.max(0, toxic.expiresAt - now),
    affected: toxic.affected
  };
}

// services/fault-proxy/src/control.ts
var MAX_CONTROL_BODY = 16 * 1024;
var Refusal = class extends Error {
  status;
  constructor(status, message) {
    super(message);
    this.status = status;
  }
};
function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size <= MAX_CONTROL_BODY) chunks.push(chunk);
  }
  if (size > MAX_CONTROL_BODY) throw new Refusal(400, `body must be at most ${MAX_CONTROL_BODY} bytes`);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks)));
  } catch {
    throw new Refusal(400, "body must be valid UTF-8 JSON");
  }
}
var ALLOWED = {
  "/healthz": ["GET"],
  "/routes": ["GET"],
  "/toxics": ["GET", "POST", "DELETE"]
};
async function handle(deps, req, res) {
  const path = new URL(req.url ?? "/", "http://control").pathname;
  const one = /^\/toxics\/([^/]+)$/.exec(path);
  const allowed = one ? ["DELETE"] : ALLOWED[path];
  if (!allowed) throw new Refusal(404, `no such endpoint: ${path}`);
  const method = req.method ?? "GET";
  if (!allowed.includes(method)) {
    res.setHeader("allow", allowed.join(", "));
    throw new Refusal(405, `${method} is not allowed on ${path}; use ${allowed.join(" or ")}`);
  }
  const now = deps.clock.now();
  if (one) {
    const toxic = /^\d{1,15}$/.test(one[1]) ? deps.toxics.lift(Number(one[1])) : void 0;
    if (!toxic) throw new Refusal(404, `no active toxic with id ${JSON.stringify(one[1])}`);
    return send(res, 200, toxicJson(toxic, now));
  }
  if (path === "/healthz") return send(res, 200, { ok: true });
  if (path === "/routes") return send(res, 200, { routes: deps.routes() });
  if (method === "GET") return send(res, 200, { toxics: deps.toxics.list().map((t) => toxicJson(t, now)) });
  if (method === "DELETE") return send(res, 200, { lifted: deps.toxics.liftAll() });
  const parsed = parseToxicSpec(
    await readJson(req),
    deps.routes().map((r) => r.name)
  );
  if (!parsed.ok) throw new Refusal(400, parsed.error);
  send(res, 201, toxicJson(deps.toxics.add(parsed.spec), deps.clock.now()));
}
function createControlServer(deps) {
  return createServer({ requestTimeout: 1e4, headersTimeout: 1e4 }, (req, res) => {
    handle(deps, req, res).catch((err) => {
      if (res.headersSent || res.destroyed) return void res.destroy();
      if (err instanceof Refusal) return send(res, err.status, { error: err.message });
      send(res, 500, { error: `internal error: ${String(err)}` });
    });
  });
}

// services/fault-proxy/src/proxy.ts
import { createServer as createServer3 } from "node:net";

// services/fault-proxy/src/forward-http.ts
import { Agent, STATUS_CODES, createServer as createServer2, request } from "node:http";
import { pipeline } from "node:stream";

// services/fault-proxy/src/forward-tcp.ts
import { connect } from "node:net";

// services/fault-proxy/src/shaper.ts
import { Transform } from "node:stream";
var HIGH_WATER = 1024 * 1024;
var SLICE_MS = 50;
var SLACK_MS = 1;
var Shaper = class extends Transform {
  #clock;
  #shape;
  #queue = [];
  #queuedBytes = 0;
  /** When the last queued byte leaves: a later chunk never leaves before it. */
  #lastAt = 0;
  #cancelTimer = null;
  #waitingWrite = null;
  #waitingFlush = null;
  /** shape is asked once per chunk, so a toxic added or lifted mid-stream takes effect at once. */
  constructor(clock, shape) {
    super();
    this.#clock = clock;
    this.#shape = shape;
  }
  _transform(chunk, _encoding, callback) {
    const { delayMs, rateKbps } = this.#shape();
    if (delayMs === 0 && rateKbps === null && this.#queue.length === 0) {
      this.push(chunk);
      callback();
      return;
    }
    const now = this.#clock.now();
    let at = Math.max(now + delayMs, this.#lastAt);
    if (rateKbps === null) {
      this.#enqueue(at, chunk);
    } else {
      const bytesPerMs = rateKbps * 1024 / 1e3;
      const slice = Math.max(1, Math.floor(bytesPerMs * SLICE_MS));
      for (let offset = 0; offset < chunk.length; offset += slice) {
        const part = chunk.subarray(offset, offset + slice);
        at += part.length / bytesPerMs;
        this.#enqueue(at, part);
      }
    }
    this.#lastAt = at;
    this.#schedule();
    if (this.#queuedBytes < HIGH_WATER) callback();
    else this.#waitingWrite = callback;
  }
  _flush(callback) {
    if (this.#queue.length === 0) callback();
    else this.#waitingFlush = callback;
  }
  _destroy(error, callback) {
    this.#cancelTimer?.();
    this.#queue = [];
    callback(error);
  }
  #enqueue(at, chunk) {
    this.#queue.push({ at, chunk });
    this.#queuedBytes += chunk.length;
  }
  #schedule() {
    const head = this.#queue[0];
    if (!head || this.#cancelTimer) return;
    this.#cancelTimer = this.#clock.setTimer(Math.max(0, Math.ceil(head.at - this.#clock.now())), () => {
      this.#cancelTimer = null;
      this.#release();
    });
  }
  #release() {
    const now = this.#clock.now() + SLACK_MS;
    while (this.#queue[0] && this.#queue[0].at <= now) {
      const { chunk } = this.#queue.shift();
      this.#queuedBytes -= chunk.length;
      this.push(chunk);
    }
    if (this.#waitingWrite && this.#queuedBytes < HIGH_WATER) {
      const callback = this.#waitingWrite;
      this.#waitingWrite = null;
      callback();
    }
    if (this.#queue.length > 0) return this.#schedule();
    const flushed = this.#waitingFlush;
    this.#waitingFlush = null;
    flushed?.();
  }
};

// services/fault-proxy/src/forward-tcp.ts
var TcpLink = class {
  client;
  #ctx;
  #upstream = null;
  #shaper = null;
  /** Toxic ids already counted for this connection: a connection counts once per toxic. */
  #seen = /* @__PURE__ */ new Set();
  #stopped = false;
  /** Connects upstream, sends head (bytes the client already sent), then pipes both ways. */
  constructor(ctx, client, head) {
    this.#ctx = ctx;
    this.client = client;
    ctx.links.add(this);
    client.once("close", () => this.#close());
    const { upstream_host: host, upstream_port: port } = ctx.route;
    const upstream = connect({ host, port, noDelay: true, allowHalfOpen: true });
    this.#upstream = upstream;
    upstream.on("error", () => {
      ctx.stats.errors_upstream++;
      if (!client.destroyed) client.resetAndDestroy();
    });
    upstream.once("connect", () => this.#pipe(upstream, head));
  }
  #pipe(upstream, head) {
    if (this.#stopped) return;
    const { client } = this;
    const shaper = new Shaper(this.#ctx.clock, () => this.#ctx.toxics.shaping(this.#ctx.route.name, this.#seen));
    this.#shaper = shaper;
    if (head.length > 0) upstream.write(head);
    if (client.readableEnded) upstream.end();
    else client.pipe(upstream);
    upstream.pipe(shaper).pipe(client);
  }
  /** reset toxic: the client gets an RST now. */
  reset() {
    this.client.resetAndDestroy();
  }
  /** timeout toxic: nothing more goes either way until the toxic ends, then both sides close. */
  hold(toxic) {
    const upstream = this.#upstream;
    this.#stopped = true;
    this.client.unpipe();
    this.client.pause();
    upstream?.unpipe();
    upstream?.pause();
    this.#shaper?.unpipe();
    this.#shaper?.destroy();
    this.#ctx.holds.hold(toxic, this.client);
  }
  #close() {
    this.#ctx.links.delete(this);
    this.#upstream?.destroy();
    this.#shaper?.destroy();
  }
};

// services/fault-proxy/src/forward-http.ts
var HOP_BY_HOP = /* @__PURE__ */ new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]);
var HOP_BY_HOP_ANSWER = /* @__PURE__ */ new Set([...HOP_BY_HOP, "transfer-encoding"]);
var INJECTED_BODY = JSON.stringify({ error: "injected by chaos-gate fault proxy" });
function createHttpForwarder(ctx) {
  const agent = new Agent({ keepAlive: true });
  const options = { keepAliveTimeout: 65e3, requestTimeout: 0 };
  const server = createServer2(options, (req, res) => onRequest(ctx, agent, req, res));
  server.on("upgrade", (req, socket, head) => onUpgrade(ctx, req, socket, head));
  return { server, agent };
}
function endToEnd(raw, hopByHop = HOP_BY_HOP) {
  const out = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!hopByHop.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}
function hasBody(req) {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== void 0 || length !== void 0 && length !== "0";
}
function onRequest(ctx, agent, req, res) {
  ctx.stats.requests++;
  const verdict = ctx.toxics.verdict(ctx.route.name, "http");
  if (verdict.action === "reset") return void req.socket.resetAndDestroy();
  if (verdict.action === "timeout") return ctx.holds.hold(verdict.toxic, req.socket);
  if (verdict.action === "http_error") {
    req.resume();
    const { spec } = verdict.toxic;
    return answerLater(ctx, res, () => injectError(res, spec.kind === "http_error" ? spec.status : 503));
  }
  forward(ctx, agent, req, res);
}
function injectError(res, status) {
  const headers = { "content-type": "application/json", "x-chaos-gate-fault": "http_error" };
  res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(INJECTED_BODY) }).end(INJECTED_BODY);
}
function answerLater(ctx, res, answer) {
  const { delayMs, rateKbps } = ctx.toxics.shaping(ctx.route.name);
  const run = () => {
    if (!res.destroyed) answer(rateKbps);
  };
  if (delayMs > 0) ctx.clock.setTimer(delayMs, run);
  else run();
}
function forward(ctx, agent, req, res) {
  const { upstream_host: host, upstream_port: port } = ctx.route;
  let clientGone = false;
  let upstream;
  const send2 = (retry) => {
    const headers = endToEnd(req.rawHeaders);
    upstream = request({ host, port, agent, method: req.method, path: req.url, headers, setHost: !req.headers.host });
    upstream.on("response", (answer) => respond(ctx, answer, res, () => clientGone));
    upstream.on("error", (err) => {
      if (clientGone) return;
      const stale = upstream.reusedSocket && err.code === "ECONNRESET";
      if (retry && stale && !hasBody(req) && !res.headersSent) return send2(false);
      ctx.stats.errors_upstream++;
      if (res.headersSent) return void res.destroy();
      const body = JSON.stringify({ error: `upstream ${host}:${port} unreachable: ${err.code ?? err.message}` });
      const headers2 = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
      res.writeHead(502, { ...headers2, "x-chaos-gate-proxy": "upstream unreachable" }).end(body);
    });
    if (hasBody(req)) req.pipe(upstream);
    else upstream.end();
  };
  res.once("close", () => {
    clientGone = !res.writableFinished;
    if (clientGone) upstream.destroy();
  });
  send2(true);
}
function respond(ctx, answer, res, clientGone) {
  const done = (err) => {
    if (err && !clientGone()) ctx.stats.errors_upstream++;
  };
  answerLater(ctx, res, (rateKbps) => {
    const headers = endToEnd(answer.rawHeaders, HOP_BY_HOP_ANSWER);
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage || void 0, headers);
    if (rateKbps === null) pipeline(answer, res, done);
    else pipeline(answer, new Shaper(ctx.clock, () => ({ delayMs: 0, rateKbps })), res, done);
  });
}
function onUpgrade(ctx, req, socket, head) {
  ctx.stats.requests++;
  socket.on("error", () => {
  });
  const verdict = ctx.toxics.verdict(ctx.route.name, "http");
  if (verdict.action === "reset") return void socket.resetAndDestroy();
  if (verdict.action === "timeout") return ctx.holds.hold(verdict.toxic, socket);
  if (verdict.action === "http_error") {
    const { spec } = verdict.toxic;
    const status = spec.kind === "http_error" ? spec.status : 503;
    const lines2 = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
      "content-type: application/json",
      "x-chaos-gate-fault: http_error",
      `content-length: ${INJECTED_BODY.length}`
    ];
    return void socket.end(`${lines2.join("\r\n")}\r
\r
${INJECTED_BODY}`);
  }
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  new TcpLink(ctx, socket, Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r
\r
`, "latin1"), head]));
}

// services/fault-proxy/src/route.ts
var Holds = class {
  #toxics;
  #held = /* @__PURE__ */ new Map();
  constructor(toxics) {
    this.#toxics = toxics;
    toxics.onLift((toxic) => this.release(toxic.id));
  }
  hold(toxic, socket) {
    if (!this.#toxics.isActive(toxic.id)) return void socket.destroy();
    let sockets = this.#held.get(toxic.id);
    if (!sockets) this.#held.set(toxic.id, sockets = /* @__PURE__ */ new Set());
    sockets.add(socket);
    socket.pause();
    socket.once("close", () => sockets.delete(socket));
  }
  release(id) {
    const sockets = this.#held.get(id);
    this.#held.delete(id);
    for (const socket of sockets ?? []) socket.destroy();
  }
  get size() {
    let n = 0;
    for (const sockets of this.#held.values()) n += sockets.size;
    return n;
  }
};

// services/fault-proxy/src/sniff.ts
var SNIFF_MS = 150;
var MAX_HEAD = 8 * 1024;
var REQUEST_LINE = /^[A-Z]{1,20} [^\s]+ HTTP\/1\./;
var PREFIX = /^(?:[A-Z]{0,20}|[A-Z]{1,20} [^\s]*|[A-Z]{1,20} [^\s]+ (?:H(?:T(?:T(?:P(?:\/(?:1)?)?)?)?)?)?)$/;
function classify(head) {
  const text = head.subarray(0, 64 + MAX_HEAD).toString("latin1");
  if (REQUEST_LINE.test(text)) return "http";
  if (head.length < MAX_HEAD && PREFIX.test(text)) return "more";
  return "tcp";
}
function sniff(socket, clock, waitMs = SNIFF_MS) {
  return new Promise((resolve) => {
    const chunks = [];
    let settled = false;
    const done = (protocol) => {
      if (settled) return;
      settled = true;
      cancel();
      socket.off("data", onData).off("end", onEnd).off("close", onClose);
      socket.pause();
      resolve(protocol === null ? null : { protocol, head: Buffer.concat(chunks) });
    };
    const onData = (chunk) => {
      chunks.push(chunk);
      const verdict = classify(Buffer.concat(chunks));
      if (verdict !== "more") done(verdict);
    };
    const onEnd = () => done("tcp");
    const onClose = () => done(null);
    const cancel = clock.setTimer(waitMs, () => setImmediate(() => done("tcp")));
    socket.on("data", onData).on("end", onEnd).on("close", onClose);
  });
}

// services/fault-proxy/src/proxy.ts
var FaultProxy = class {
  #toxics;
  #options;
  #listeners;
  #sockets = /* @__PURE__ */ new Set();
  constructor(routes, toxics, options = {}) {
    this.#toxics = toxics;
    this.#options = { clock: systemClock, host: "0.0.0.0", sniffMs: SNIFF_MS, ...options };
    const holds = new Holds(toxics);
    this.#listeners = routes.map((route) => {
      const stats = { connections: 0, requests: 0, errors_upstream: 0 };
      const { clock } = this.#options;
      const ctx = { route: { ...route }, stats, toxics, clock, links: /* @__PURE__ */ new Set(), holds };
      const server = createServer3({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(listener, socket));
      const listener = { ctx, server, http: createHttpForwarder(ctx) };
      return listener;
    });
    toxics.onAdd((toxic) => this.#strikeOpenLinks(toxic));
  }
  /** Listens on every route; rejects on the first port that cannot be had. */
  async listen() {
    await Promise.all(
      this.#listeners.map(
        ({ ctx, server }) => new Promise((resolve, reject) => {
          server.once("error", reject);
          server.listen(ctx.route.listen_port, this.#options.host, () => {
            server.off("error", reject);
            server.on("error", (err) => console.error(`fault-proxy: route ${ctx.route.name}: ${err.message}`));
            ctx.route.listen_port = server.address().port;
            resolve();
          });
        })
      )
    );
  }
  routes() {
    return this.#listeners.map(({ ctx }) => ({ ...ctx.route, ...ctx.stats }));
  }
  /** Stops listening and drops every connection at once: a stopping proxy owes nobody an answer. */
  async close() {
    const closed = this.#listeners.map(({ server }) => new Promise((resolve) => server.close(resolve)));
    for (const socket of this.#sockets) socket.destroy();
    for (const { http } of this.#listeners) http.agent.destroy();
    await Promise.all(closed);
  }
  #accept(listener, socket) {
    listener.ctx.stats.connections++;
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    socket.on("error", () => {
    });
    void sniff(socket, this.#options.clock, this.#options.sniffMs).then((sniffed) => {
      if (sniffed) this.#dispatch(listener, socket, sniffed);
      else socket.destroy();
    });
  }
  #dispatch({ ctx, http }, socket, { protocol, head }) {
    if (protocol === "http") {
      socket.unshift(head);
      http.server.emit("connection", socket);
      socket.resume();
      return;
    }
    const verdict = this.#toxics.verdict(ctx.route.name, "tcp");
    if (verdict.action === "reset") socket.resetAndDestroy();
    else if (verdict.action === "timeout") ctx.holds.hold(verdict.toxic, socket);
    else new TcpLink(ctx, socket, head);
  }
  /** A reset or timeout toxic also acts on the TCP connections already open (a pooled database connection). */
  #strikeOpenLinks(toxic) {
    const { kind, route } = toxic.spec;
    if (kind !== "reset" && kind !== "timeout") return;
    for (const { ctx } of this.#listeners) {
      if (ctx.route.name !== route) continue;
      for (const link of [...ctx.links]) {
        if (!this.#toxics.pick(toxic)) continue;
        if (kind === "reset") link.reset();
        else link.hold(toxic);
      }
    }
  }
};

// services/fault-proxy/src/main.ts
var EX_CONFIG = 78;
var STOP_DEADLINE_MS = 900;
async function main() {
  const parsed = parseProxyConfig(process.env);
  if (!parsed.ok) {
    for (const error of parsed.errors) process.stderr.write(`fault-proxy: config error: ${error}
`);
    process.exitCode = EX_CONFIG;
    return;
  }
  const { routes, controlPort } = parsed.config;
  const toxics = new Toxics(systemClock, Math.random);
  const proxy = new FaultProxy(routes, toxics);
  const control = createControlServer({ toxics, clock: systemClock, routes: () => proxy.routes() });
  try {
    await proxy.listen();
    await new Promise((resolve, reject) => control.once("error", reject).listen(controlPort, "0.0.0.0", resolve));
  } catch (err) {
    console.error(`fault-proxy: cannot listen: ${err.message}`);
    process.exit(1);
  }
  const list = routes.map((r) => `${r.name}:${r.listen_port}->${r.upstream_host}:${r.upstream_port}`).join(" ");
  console.log(`fault-proxy control=${controlPort} routes=${list}`);
  const stop = (signal) => {
    console.log(`fault-proxy: ${signal}, lifting every toxic and closing`);
    setTimeout(() => process.exit(0), STOP_DEADLINE_MS).unref();
    toxics.liftAll();
    control.closeAllConnections();
    void Promise.all([proxy.close(), new Promise((resolve) => control.close(resolve))]).then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
void main();
