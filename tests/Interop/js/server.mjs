#!/usr/bin/env node
// An independent moq-lite server built on @moq/net 0.3.4's own server side
// (@moq/qmux Session.accept + @moq/net Connection.accept) over WebSocket, on loopback.
// It lets a C# *client* publish and subscribe against an implementation we did not write.
//
//   node server.mjs [--port P] [--mode relay|echo|source] [--select relay|first|LIST] [options]
//
// Modes:
//   relay   every broadcast a session announces is offered to every other session whose
//           URL path (the session root) contains it; subscriptions are forwarded upstream.
//   echo    like relay, and a session also sees its own broadcasts (one C# session can
//           publish and subscribe to itself through the server).
//   source  like relay, plus the server itself publishes --broadcast/--track with --groups x
//           --frames frames of --size bytes in the pub.mjs payload format, to each session.
//
// Session root: a session at ws://127.0.0.1:P/anon publishing "demo/cam" creates "anon/demo/cam";
// a session at /anon sees it as "demo/cam", a session at / as "anon/demo/cam".
//
// stdout: JSON lines; the first is {"event":"listening","port":P,"url":"http://127.0.0.1:P"}.
// --parent-watch: exit when stdin reaches EOF (the parent process went away).

import http from "node:http";
import { WebSocketServer } from "ws";
import { emit, errorText, nowMs, parseArgs, sleep } from "./lib/cli.mjs";
import { installPolyfills, quietConsole } from "./lib/node20.mjs";
import { encodePayload } from "./lib/payload.mjs";

const args = parseArgs(process.argv.slice(2), {
	usage: "node server.mjs [--port P] [--mode relay|echo|source] [--select relay|first|LIST] [options]",
	positional: [],
	options: {
		port: { type: "number", default: 0 }, // 0 = any free port (reported in the listening line)
		mode: { type: "string", default: "relay" },
		select: { type: "list", default: ["relay"] },
		negotiate: { type: "string" }, // version picked in SERVER_SETUP: moq-lite-01 | moq-lite-02 | moq-transport-14 | 0x...
		broadcast: { type: "string", default: "source" },
		track: { type: "string", default: "data" },
		groups: { type: "number", default: 5 },
		frames: { type: "number", default: 3 },
		size: { type: "number", default: 128 },
		"group-interval": { type: "number", default: 20 },
		"parent-watch": { type: "boolean", default: false },
		verbose: { type: "boolean", default: false },
	},
});
if (!["relay", "echo", "source"].includes(args.mode)) {
	process.stderr.write(`unknown --mode ${args.mode}\n`);
	process.exit(64);
}
quietConsole(args.verbose);
installPolyfills();
// Loaded before listening: a socket must be adopted synchronously in the upgrade callback,
// or the client's first message (its QX_TRANSPORT_PARAMETERS) is lost.
const [{ default: QmuxSession }, Moq] = await Promise.all([import("@moq/qmux"), import("@moq/net")]);

// moq-relay's WebSocket preference order (rs/moq-relay/src/websocket.rs): each ALPN paired with
// qmux-01 and qmux-00 (no qmux-00 for moqt-18/19), then bare wire formats.
const ALPNS = ["moq-lite-05", "moq-lite-04", "moq-lite-03", "moql", "moqt-19", "moqt-18", "moqt-17", "moqt-16", "moqt-15", "moq-00"];
const RELAY_ORDER = [...ALPNS.flatMap((a) => (/moqt-1[89]/.test(a) ? [`qmux-01.${a}`] : [`qmux-01.${a}`, `qmux-00.${a}`])), "qmux-01", "qmux-00", "webtransport"];

function selectProtocol(offered) {
	if (offered.length === 0) return ""; // no offer: legacy framing, like moq-relay
	const sel = args.select;
	if (sel.length === 1 && sel[0] === "first") return offered[0];
	const prefs = sel.length === 1 && sel[0] === "relay" ? RELAY_ORDER : sel;
	return prefs.find((p) => offered.includes(p));
}

const SETUP_VERSIONS = { "moq-lite-01": 0xff0dad01, "moq-lite-02": 0xff0dad02, "moq-transport-14": 0xff00000e };
const negotiated = args.negotiate === undefined ? undefined : (SETUP_VERSIONS[args.negotiate] ?? Number.parseInt(args.negotiate, 16));

class Relay {
	sessions = new Set();
	broadcasts = new Map(); // full path -> {owner, rel, upstream, outs: Map(session -> Broadcast.Producer)}

	constructor(echo) {
		this.echo = echo;
	}

	async add(session) {
		this.sessions.add(session);
		for (const [path, rec] of this.broadcasts) this.attach(path, rec, session);
		if (args.mode === "source") void serveSource(session);
		void Promise.resolve(session.conn.closed)
			.catch(() => {})
			.finally(() => this.remove(session));
		const announced = session.conn.announced(Moq.Path.empty());
		try {
			for (let e; (e = await announced.next()); ) {
				const path = Moq.Path.join(session.root, e.path);
				emit({ event: "announce", session: session.id, path, active: e.active });
				if (e.active) this.publish(session, path, e.path);
				else this.unpublish(path, session);
			}
		} catch (err) {
			if (session.open) emit({ event: "announce_error", session: session.id, error: errorText(err) });
		}
	}

	remove(session) {
		if (!this.sessions.delete(session)) return;
		for (const [path, rec] of [...this.broadcasts]) {
			if (rec.owner === session) this.unpublish(path, session);
			rec.outs.delete(session);
		}
		emit({ event: "session_closed", session: session.id });
	}

	publish(owner, path, rel) {
		const old = this.broadcasts.get(path);
		if (old) this.unpublish(path, old.owner);
		const rec = { owner, rel, upstream: owner.conn.consume(rel), outs: new Map() };
		this.broadcasts.set(path, rec);
		for (const s of this.sessions) this.attach(path, rec, s);
	}

	unpublish(path, owner) {
		const rec = this.broadcasts.get(path);
		if (!rec || rec.owner !== owner) return;
		this.broadcasts.delete(path);
		for (const p of rec.outs.values()) p.close();
		rec.upstream.close();
	}

	// Each session gets its own Broadcast.Producer (closing a session must not end the broadcast
	// for the others); requests are forwarded to the shared upstream consumer.
	attach(path, rec, session) {
		if (session === rec.owner && !this.echo) return;
		const rel = Moq.Path.stripPrefix(session.root, path);
		if (rel === null) return;
		const producer = new Moq.Broadcast.Producer();
		rec.outs.set(session, producer);
		session.conn.publish(rel, producer);
		void (async () => {
			for (let req; (req = await producer.requested().catch(() => undefined)); ) {
				void forward(rec, path, req, session).catch((err) => emit({ event: "forward_error", path, track: req.name, error: errorText(err) }));
			}
		})();
	}
}

async function forward(rec, path, req, session) {
	const upTrack = rec.upstream.track(req.name);
	const info = await Promise.race([upTrack.info().catch(() => undefined), sleep(2000).then(() => undefined)]);
	const out = req.accept(info);
	if (!out.used.peek()) return; // a moq-lite-05 TRACK (info-only) request
	emit({ event: "forward", session: session.id, path, track: req.name });
	const up = upTrack.subscribe({ priority: req.priority });
	void out.unused().then(() => up.close());
	try {
		for (let g; (g = await up.recvGroup()); ) {
			if (out.closed.peek() !== undefined) break;
			const copy = new Moq.Group.Producer(g.sequence);
			out.writeGroup(copy);
			void (async () => {
				try {
					for (let f; (f = await g.readFrame()); ) copy.writeFrame(f);
					copy.close();
				} catch (err) {
					copy.close(err instanceof Error ? err : new Error(String(err)));
				}
			})();
		}
		out.close();
	} catch (err) {
		out.close(err instanceof Error ? err : new Error(String(err)));
	} finally {
		up.close();
	}
}

// --mode source: the server publishes one synthetic broadcast into every session that can see it.
async function serveSource(session) {
	const rel = Moq.Path.stripPrefix(session.root, Moq.Path.from(args.broadcast));
	if (rel === null) return;
	const producer = new Moq.Broadcast.Producer();
	const track = producer.createTrack(args.track);
	session.conn.publish(rel, producer);
	void Promise.resolve(session.conn.closed)
		.catch(() => {})
		.finally(() => producer.close());
	while (!track.used.peek()) {
		if (!session.open) return;
		await sleep(10);
	}
	emit({ event: "source_subscribed", session: session.id, path: args.broadcast, track: args.track });
	for (let g = 0; g < args.groups && session.open; g++) {
		const group = new Moq.Group.Producer(g);
		track.writeGroup(group);
		for (let f = 0; f < args.frames; f++) {
			const payload = encodePayload({ group: g, frame: f, size: args.size, framesPerGroup: args.frames, groups: args.groups, sendTime: nowMs() });
			group.writeFrame({ payload, timestamp: Moq.Time.Timestamp.now() });
		}
		group.close();
		await sleep(args["group-interval"]);
	}
	emit({ event: "source_done", session: session.id, groups: args.groups });
}

const relay = new Relay(args.mode === "echo");
let nextId = 0;

async function accept(ws, req, id) {
	const url = new URL(req.url, "http://127.0.0.1");
	const session = { id, conn: undefined, root: Moq.Path.from(decodeURIComponent(url.pathname)), open: true };
	ws.on("close", () => {
		session.open = false;
	});
	try {
		const transport = QmuxSession.accept(ws, {});
		await transport.ready;
		session.conn = await Moq.Connection.accept(transport, url, negotiated === undefined ? {} : { version: negotiated });
	} catch (err) {
		emit({ event: "session_failed", session: id, error: errorText(err) });
		ws.close(1002, "session setup failed");
		return;
	}
	emit({ event: "session", session: id, root: session.root, version: session.conn.version, subprotocol: ws.protocol });
	await relay.add(session);
}

const server = http.createServer((_, res) => {
	res.writeHead(426, { "content-type": "text/plain" });
	res.end("WebSocket only\n");
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (p) => selectProtocol([...p]) || false });
server.on("upgrade", (req, socket, head) => {
	const id = ++nextId;
	const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
	const selected = selectProtocol(offered);
	emit({ event: "upgrade", session: id, path: req.url, offered, selected: selected ?? null });
	if (selected === undefined) {
		socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
		return;
	}
	wss.handleUpgrade(req, socket, head, (ws) => void accept(ws, req, id));
});

function shutdown(why) {
	emit({ event: "shutdown", reason: why });
	for (const c of wss.clients) c.terminate();
	server.close();
	setTimeout(() => process.exit(0), 50);
}
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("unhandledRejection", (err) => process.stderr.write(`server: unhandled rejection: ${err?.stack ?? err}\n`));
process.on("uncaughtException", (err) => process.stderr.write(`server: uncaught exception: ${err?.stack ?? err}\n`));
if (args["parent-watch"]) {
	process.stdin.on("end", () => shutdown("stdin closed"));
	process.stdin.resume();
}
server.on("error", (err) => {
	process.stderr.write(`server: ${err.message}\n`);
	process.exit(1);
});
server.listen(args.port, "127.0.0.1", () => {
	const { port } = server.address();
	emit({ event: "listening", port, url: `http://127.0.0.1:${port}`, mode: args.mode, select: args.select });
});
