#!/usr/bin/env node
// Subscribe to BROADCAST/TRACK through a MoQ server using a real npm client library and verify
// every frame written by pub.mjs (or any producer of the lib/payload.mjs format).
//
//   node sub.mjs URL BROADCAST TRACK [--lib net|lite|kixelated] [--expect-groups N] [--expect-frames M]
//       [--timeout S] [--subprotocols A,B] [--no-wait-announce] [--log frames|groups|none]
//
// Checks: payload integrity, frame order within a group, duplicates, group sequence == payload group.
// stdout: JSON lines, last one {"event":"summary",...}.
// Exit 0 only if N complete groups arrived (at least one without --expect-groups) and no error was seen.

import { clientOptions, emit, errorText, nowMs, parseArgs, round, sleep } from "./lib/cli.mjs";
import { announcements, connect, loadLibrary, subscribe, websocketStats } from "./lib/clients.mjs";
import { decodePayload, stats } from "./lib/payload.mjs";

const args = parseArgs(process.argv.slice(2), {
	usage: "node sub.mjs URL BROADCAST TRACK [--lib net|lite|kixelated] [--expect-groups N] [--expect-frames M] [options]",
	positional: ["url", "broadcast", "track"],
	options: {
		...clientOptions,
		"expect-groups": { type: "number" },
		"expect-frames": { type: "number" }, // default: frames per group from the payload header
		"wait-announce": { type: "boolean", default: true },
		"announce-prefix": { type: "string", default: "" },
		"retry-ms": { type: "number", default: 250 },
		"check-sequence": { type: "boolean", default: true }, // group sequence must equal the payload's group index
		log: { type: "string", default: "groups" },
	},
});

const started = nowMs();
const errors = [];
const latencies = [];
const S = { groups: 0, groups_complete: 0, frames: 0, bytes: 0, payload_errors: 0, order_errors: 0, duplicate_frames: 0, sequence_errors: 0, subscribe_attempts: 0 };
const seen = new Map(); // payload group -> Set(frame)
const complete = new Set(); // payload groups received complete
let finished = false;
let conn;
let sub;
let info;
let resolveDone;
const done = new Promise((r) => {
	resolveDone = r;
});
process.on("SIGINT", () => resolveDone("SIGINT"));
process.on("SIGTERM", () => resolveDone("SIGTERM"));
const hardTimer = setTimeout(() => resolveDone("timeout"), args.timeout * 1000);
const want = args["expect-groups"];
const error = (counter, msg) => {
	if (counter) S[counter]++;
	if (errors.length < 100) errors.push(msg);
};

async function readGroup(group) {
	S.groups++;
	const seq = group.sequence;
	let frames = 0;
	let next = 0;
	let payloadGroup;
	let expected = args["expect-frames"];
	try {
		for (let bytes; (bytes = await group.nextFrame()) !== undefined; ) {
			const now = nowMs();
			frames++;
			S.frames++;
			S.bytes += bytes.byteLength;
			const p = decodePayload(bytes);
			if (!p.ok) {
				error("payload_errors", `group seq ${seq} frame #${frames - 1}: ${p.error}`);
				continue;
			}
			if (payloadGroup === undefined) {
				payloadGroup = p.group;
				expected ??= p.framesPerGroup;
				if (args["check-sequence"] && p.group !== seq) error("sequence_errors", `group seq ${seq} carries payload group ${p.group}`);
			} else if (p.group !== payloadGroup) error("payload_errors", `group seq ${seq} mixes payload groups ${payloadGroup} and ${p.group}`);
			if (p.frame !== next) error("order_errors", `group seq ${seq}: frame ${p.frame} arrived where ${next} was expected`);
			next = p.frame + 1;
			const set = seen.get(p.group) ?? new Set();
			seen.set(p.group, set);
			if (set.has(p.frame)) error("duplicate_frames", `group ${p.group}: frame ${p.frame} received twice`);
			set.add(p.frame);
			latencies.push(now - p.sendTime);
			if (args.log === "frames") emit({ event: "frame", sequence: seq, group: p.group, frame: p.frame, bytes: bytes.byteLength });
		}
	} catch (err) {
		error(undefined, `group seq ${seq}: ${errorText(err)}`);
		if (args.log !== "none") emit({ event: "group_error", sequence: seq, frames, error: errorText(err) });
		return;
	}
	const isComplete = payloadGroup !== undefined && frames === expected;
	if (isComplete && !complete.has(payloadGroup)) {
		complete.add(payloadGroup);
		S.groups_complete++;
	}
	if (args.log !== "none") emit({ event: "group", sequence: seq, group: payloadGroup, frames, complete: isComplete });
	if (want !== undefined && S.groups_complete >= want) resolveDone("expectation met");
}

async function subscribeLoop(lib) {
	while (!finished) {
		S.subscribe_attempts++;
		sub = subscribe(lib, conn, args.broadcast, args.track);
		emit({ event: "subscribe", broadcast: args.broadcast, track: args.track, attempt: S.subscribe_attempts });
		const reading = [];
		let ended;
		try {
			for (let g; (g = await sub.nextGroup()); ) reading.push(readGroup(g));
			ended = await Promise.race([sub.closed, sleep(50).then(() => undefined)]);
		} catch (err) {
			ended = err;
		}
		await Promise.allSettled(reading);
		const reason = ended ? errorText(ended) : "track ended";
		emit({ event: "subscription_ended", reason, groups: S.groups });
		if (finished || (want !== undefined && S.groups_complete >= want)) return;
		if (S.groups === 0) {
			await sleep(args["retry-ms"]); // reset before any data (e.g. "not found"): try again
			continue;
		}
		if (ended) error(undefined, `subscription: ${reason}`);
		resolveDone("track ended");
		return;
	}
}

async function waitForAnnounce(lib) {
	const target = lib.Moq.Path.from(args.broadcast);
	const a = announcements(lib, conn, args["announce-prefix"]);
	for (let e; (e = await a.next()); ) {
		emit({ event: "announce", path: e.path, active: e.active });
		if (e.active && e.path === target) {
			void (async () => {
				for (let n; (n = await a.next().catch(() => undefined)); ) emit({ event: "announce", path: n.path, active: n.active });
			})();
			return;
		}
	}
	throw new Error("announcements ended before the broadcast was announced");
}

async function end(reason) {
	if (finished) return;
	finished = true;
	clearTimeout(hardTimer);
	const met = want !== undefined ? S.groups_complete >= want : S.groups_complete > 0;
	const ok = met && errors.length === 0;
	const missing = [];
	for (let g = 0; g < (want ?? 0) && missing.length < 50; g++) if (!complete.has(g)) missing.push(g);
	const summary = {
		event: "summary",
		ok,
		reason,
		lib: info?.lib,
		version: info?.version,
		subprotocol: info?.subprotocol,
		expect_groups: want,
		...S,
		missing_groups: missing,
		latency_ms: stats(latencies),
		errors,
		websocket: websocketStats(),
		elapsed_ms: round(nowMs() - started, 1),
	};
	// The verdict is taken: closing must not lose it. @moq/qmux 0.0.x throws from its WebSocket message handler when
	// STREAM data for a stream we just cancelled is still arriving (a legal race: the relay sent it before our
	// STOP_SENDING reached it), "Controller is already closed", which would kill Node before the summary is written.
	process.on("uncaughtException", (e) => console.error(`[warn] during close: ${e?.message ?? e}`));
	try {
		sub?.close();
	} catch {}
	try {
		conn?.close();
	} catch {}
	await sleep(250);
	emit(summary);
	process.exit(ok ? 0 : 1);
}

async function main() {
	const lib = await loadLibrary(args);
	emit({ event: "start", role: "subscriber", lib: `${lib.pkg}@${lib.version}`, node: process.version });
	try {
		({ conn, info } = await connect(lib, args.url, args));
	} catch (err) {
		error(undefined, `connect: ${errorText(err)}`);
		return end("connect failed");
	}
	emit(info);
	void Promise.resolve(conn.closed).then(
		(err) => !finished && (error(undefined, `session closed${err ? `: ${errorText(err)}` : ""}`), resolveDone("session closed")),
		(err) => !finished && (error(undefined, `session: ${errorText(err)}`), resolveDone("session closed")),
	);
	if (args["wait-announce"]) {
		try {
			await Promise.race([waitForAnnounce(lib), done.then((why) => Promise.reject(new Error(why)))]);
		} catch (err) {
			error(undefined, `announce: ${errorText(err)}`);
			return end("broadcast never announced");
		}
	}
	void subscribeLoop(lib).catch((err) => {
		error(undefined, `subscription: ${errorText(err)}`);
		resolveDone("subscription error");
	});
	return end(await done);
}

main().catch((err) => {
	error(undefined, `fatal: ${err?.stack ?? errorText(err)}`);
	return end("fatal error");
});
