#!/usr/bin/env node
// Publish BROADCAST with one TRACK through a MoQ server using a real npm client library.
//
//   node pub.mjs URL BROADCAST TRACK [--lib net|lite|kixelated] [--groups N] [--frames M] [--size BYTES]
//       [--group-interval MS] [--linger S] [--timeout S] [--subprotocols A,B] [--no-wait-subscriber]
//
// Waits for a subscription to TRACK, writes N groups of M self-describing frames (lib/payload.mjs),
// then keeps the broadcast up for --linger seconds (or until the subscriber leaves) and closes.
// stdout: JSON lines, last one {"event":"summary",...}. Exit 0 ok, 1 error, 2 no subscriber, 64 usage.

import { clientOptions, emit, errorText, nowMs, parseArgs, round, sleep } from "./lib/cli.mjs";
import { connect, loadLibrary, publish, websocketStats } from "./lib/clients.mjs";
import { encodePayload } from "./lib/payload.mjs";

const args = parseArgs(process.argv.slice(2), {
	usage: "node pub.mjs URL BROADCAST TRACK [--lib net|lite|kixelated] [--groups N] [--frames M] [--size BYTES] [options]",
	positional: ["url", "broadcast", "track"],
	options: {
		...clientOptions,
		timeout: { type: "number", default: 60 },
		groups: { type: "number", default: 10 },
		frames: { type: "number", default: 5 },
		size: { type: "number", default: 256 },
		"group-interval": { type: "number", default: 50 },
		"wait-subscriber": { type: "boolean", default: true },
		"subscriber-timeout": { type: "number", default: 30 },
		"start-delay": { type: "number", default: 200 }, // ms between the first subscription and group 0
		linger: { type: "number", default: 3 }, // s to stay after the last group; <0 = until --timeout
	},
});

const started = nowMs();
const stats = { groups_sent: 0, frames_sent: 0, bytes_sent: 0 };
const errors = [];
let conn;
let pub;
let stopReason;
let info;
const stop = (why) => {
	stopReason ??= why;
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
const hardTimer = setTimeout(() => stop("timeout"), args.timeout * 1000);

async function finish(code, reason) {
	clearTimeout(hardTimer);
	try {
		pub?.close();
	} catch {}
	await sleep(150); // let FIN / the unannounce reach the server
	try {
		conn?.close();
	} catch {}
	await sleep(250); // the polyfills close the WebSocket ~100 ms after the close frame
	emit({ event: "summary", ok: code === 0, reason, version: info?.version, subprotocol: info?.subprotocol, lib: info?.lib, ...stats, errors, websocket: websocketStats(), elapsed_ms: round(nowMs() - started, 1) });
	process.exit(code);
}

/** Sleep up to `ms`, returning early (true) once stop() was called. */
async function wait(ms) {
	const end = nowMs() + ms;
	while (!stopReason && nowMs() < end) await sleep(Math.min(20, Math.max(0, end - nowMs())));
	return stopReason !== undefined;
}

async function main() {
	const lib = await loadLibrary(args);
	emit({ event: "start", role: "publisher", lib: `${lib.pkg}@${lib.version}`, node: process.version });
	try {
		({ conn, info } = await connect(lib, args.url, args));
	} catch (err) {
		errors.push(`connect: ${errorText(err)}`);
		return finish(1, "connect failed");
	}
	emit(info);
	let sessionLost = false;
	void Promise.resolve(conn.closed).then(
		(err) => {
			sessionLost = true;
			if (err) errors.push(`session: ${errorText(err)}`);
			stop("session closed");
		},
		(err) => {
			sessionLost = true;
			errors.push(`session: ${errorText(err)}`);
			stop("session closed");
		},
	);

	pub = publish(lib, conn, args.broadcast, args.track, emit);
	emit({ event: "published", broadcast: args.broadcast, track: args.track });

	if (args["wait-subscriber"]) {
		const deadline = nowMs() + args["subscriber-timeout"] * 1000;
		while (pub.subscribers() === 0) {
			if (stopReason) return finish(sessionLost ? 1 : 2, `stopped before a subscriber arrived: ${stopReason}`);
			if (nowMs() > deadline) {
				errors.push("no subscriber arrived");
				return finish(2, "no subscriber");
			}
			await sleep(10);
		}
		if (await wait(args["start-delay"])) return finish(1, stopReason);
	}

	const size = Math.max(32, args.size);
	for (let g = 0; g < args.groups; g++) {
		if (stopReason) {
			errors.push(`stopped after ${g} of ${args.groups} groups: ${stopReason}`);
			return finish(1, stopReason);
		}
		const group = pub.beginGroup(g);
		for (let f = 0; f < args.frames; f++) {
			const payload = encodePayload({ group: g, frame: f, size, framesPerGroup: args.frames, groups: args.groups, sendTime: nowMs() });
			group.writeFrame(payload);
			stats.frames_sent++;
			stats.bytes_sent += payload.byteLength;
		}
		group.close();
		stats.groups_sent++;
		emit({ event: "group_sent", group: g, frames: args.frames, subscribers: pub.subscribers() });
		if (args["group-interval"] > 0) await wait(args["group-interval"]);
	}
	emit({ event: "done_sending", ...stats });

	// Linger so the data drains through the server; leave early once the subscriber is gone.
	const end = args.linger < 0 ? Number.POSITIVE_INFINITY : nowMs() + args.linger * 1000;
	while (!stopReason && nowMs() < end) {
		if (args["wait-subscriber"] && pub.subscribers() === 0) stop("subscriber left");
		await sleep(20);
	}
	stop("linger elapsed");
	if (sessionLost) return finish(1, stopReason);
	return finish(0, stopReason);
}

main().catch((err) => {
	errors.push(`fatal: ${err?.stack ?? errorText(err)}`);
	return finish(1, "fatal error");
});
