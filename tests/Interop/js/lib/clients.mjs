// One small adapter over the public API of the three npm client libraries:
//   net        @moq/net 0.3.4        Broadcast.Producer / Track.Producer / Group.Producer
//   lite       @moq/lite 0.2.2       Broadcast / Track / Group, tracks created on request
//   kixelated  @kixelated/moq 0.9.4  same shape as @moq/lite 0.2.2

import fs from "node:fs";
import { register } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { errorText, nowMs, round, withTimeout } from "./cli.mjs";
import { installPolyfills, installWebSocket, quietConsole, sockets } from "./node20.mjs";

const PACKAGES = { net: "@moq/net", lite: "@moq/lite", kixelated: "@kixelated/moq" };

/** Install the Node 20 shims, then import the library chosen with --lib. */
export async function loadLibrary(args) {
	quietConsole(args.verbose);
	installPolyfills();
	installWebSocket(args.subprotocols);
	const pkg = PACKAGES[args.lib];
	if (!pkg) throw new Error(`unknown --lib ${args.lib} (net, lite or kixelated)`);
	if (args.lib === "kixelated") register("./resolve-hook.mjs", import.meta.url);
	const Moq = await import(pkg);
	return { name: args.lib, pkg, version: packageVersion(pkg), modern: args.lib === "net", Moq };
}

function packageVersion(pkg) {
	let dir = path.dirname(fileURLToPath(import.meta.resolve(pkg)));
	for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
		const file = path.join(dir, "package.json");
		if (!fs.existsSync(file)) continue;
		const json = JSON.parse(fs.readFileSync(file, "utf8"));
		if (json.name === pkg) return json.version;
	}
	return undefined;
}

/** WebSocket statistics for the summary line. */
export const websocketStats = () => sockets.map(({ url, offered, ...rest }) => ({ url, offered: offered.length, ...rest }));

/** Connect over the library's WebSocket fallback; returns {conn, info} with the negotiated version. */
export async function connect(lib, url, args) {
	const t0 = nowMs();
	const conn = await withTimeout(lib.Moq.Connection.connect(new URL(url), { websocket: { enabled: true, delay: 0 } }), args["connect-timeout"] * 1000, "connect");
	let version = conn.version;
	if (version === undefined && lib.name === "kixelated") {
		// @kixelated/moq 0.9.4 exposes no version; it can only run these two.
		version = conn instanceof lib.Moq.Lite.Connection ? "moq-lite-01" : conn instanceof lib.Moq.Ietf.Connection ? "moq-transport-14" : undefined;
	}
	const ws = sockets.at(-1);
	const info = { event: "connected", lib: `${lib.pkg}@${lib.version}`, version, subprotocol: ws?.selected, offered: ws?.offered, connect_ms: round(nowMs() - t0, 1) };
	return { conn, info };
}

/**
 * Publish one broadcast with one track.
 * Returns { subscribers(): number, beginGroup(seq) -> {writeFrame(bytes), close()}, close() }.
 */
export function publish(lib, conn, broadcastPath, trackName, onEvent) {
	const { Moq } = lib;
	const path = Moq.Path.from(broadcastPath);
	if (lib.modern) {
		const broadcast = new Moq.Broadcast.Producer();
		const track = broadcast.createTrack(trackName);
		conn.publish(path, broadcast);
		void (async () => {
			for (let req; (req = await broadcast.requested().catch(() => undefined)); ) {
				onEvent({ event: "track_request", track: req.name, served: false });
				req.reject(new Error("not found"));
			}
		})();
		let used = false;
		return {
			subscribers() {
				const now = track.used.peek();
				if (now !== used) onEvent({ event: now ? "subscribed" : "unsubscribed", track: trackName });
				used = now;
				return now ? 1 : 0;
			},
			beginGroup(seq) {
				const group = new Moq.Group.Producer(seq);
				track.writeGroup(group);
				return { writeFrame: (payload) => group.writeFrame({ payload, timestamp: Moq.Time.Timestamp.now() }), close: () => group.close() };
			},
			close() {
				track.close();
				broadcast.close();
			},
		};
	}

	const broadcast = new Moq.Broadcast();
	conn.publish(path, broadcast);
	const sinks = new Set();
	void (async () => {
		for (let req; (req = await broadcast.requested().catch(() => undefined)); ) {
			const served = req.track.name === trackName;
			onEvent({ event: "track_request", track: req.track.name, priority: req.priority, served });
			if (!served) {
				req.track.close(new Error("not found"));
				continue;
			}
			sinks.add(req.track);
			onEvent({ event: "subscribed", track: trackName, subscribers: sinks.size });
			void req.track.closed.then((err) => {
				sinks.delete(req.track);
				onEvent({ event: "unsubscribed", track: trackName, subscribers: sinks.size, error: err ? errorText(err) : undefined });
			});
		}
	})();
	return {
		subscribers: () => sinks.size,
		beginGroup(seq) {
			const groups = [];
			for (const t of sinks) {
				const g = new Moq.Group(seq);
				t.writeGroup(g);
				groups.push(g);
			}
			return { writeFrame: (b) => groups.forEach((g) => g.writeFrame(b)), close: () => groups.forEach((g) => g.close()) };
		},
		close() {
			for (const t of sinks) t.close();
			broadcast.close();
		},
	};
}

/**
 * Subscribe to one track. Returns { nextGroup() -> {sequence, nextFrame() -> bytes|undefined} | undefined,
 * closed: Promise<Error|undefined>, close() }.
 */
export function subscribe(lib, conn, broadcastPath, trackName) {
	const { Moq } = lib;
	const broadcast = conn.consume(Moq.Path.from(broadcastPath));
	if (lib.modern) {
		const sub = broadcast.track(trackName).subscribe({ priority: 0 });
		return {
			async nextGroup() {
				const g = await sub.recvGroup();
				return g && { sequence: g.sequence, nextFrame: async () => (await g.readFrame())?.payload };
			},
			closed: Promise.resolve(sub.closed).then((e) => e ?? undefined),
			close() {
				sub.close();
				broadcast.close();
			},
		};
	}
	const track = broadcast.subscribe(trackName, 0);
	const recv = (track.recvGroup ?? track.nextGroup).bind(track);
	return {
		async nextGroup() {
			const g = await recv();
			return g && { sequence: g.sequence, nextFrame: () => g.readFrame() };
		},
		closed: track.closed,
		close() {
			track.close();
			broadcast.close();
		},
	};
}

/** Watch announcements under a prefix. Returns { next() -> {path, active} | undefined, close() } with full paths. */
export function announcements(lib, conn, prefix) {
	const { Moq } = lib;
	const p = Moq.Path.from(prefix ?? "");
	const a = conn.announced(p);
	return {
		async next() {
			const e = await a.next();
			if (!e) return undefined;
			// @moq/net reports paths relative to the prefix, the older libraries full paths.
			return { path: lib.modern ? Moq.Path.join(p, e.path) : e.path, active: e.active };
		},
		close: () => a.close(),
	};
}
