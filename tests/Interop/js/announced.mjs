#!/usr/bin/env node
// Print the announcements under PREFIX seen through a MoQ server with a real npm client library.
//
//   node announced.mjs URL [PREFIX] [--lib net|lite|kixelated] [--expect-active N] [--expect-ended N] [--timeout S]
//
// stdout: {"event":"announce","path":...,"active":true|false} per announcement, then a summary.
// Without expectations it runs for --timeout seconds (default 10) and exits 0. With them it exits 0
// as soon as N distinct broadcasts were seen active (and M ended), 1 if the timeout hits first.

import { clientOptions, emit, errorText, nowMs, parseArgs, round, sleep } from "./lib/cli.mjs";
import { announcements, connect, loadLibrary, websocketStats } from "./lib/clients.mjs";

const args = parseArgs(process.argv.slice(2), {
	usage: "node announced.mjs URL [PREFIX] [--lib net|lite|kixelated] [--expect-active N] [--expect-ended N] [--timeout S]",
	positional: ["url", "prefix?"],
	options: { ...clientOptions, timeout: { type: "number", default: 10 }, "expect-active": { type: "number" }, "expect-ended": { type: "number" } },
});

const started = nowMs();
const errors = [];
const active = new Set();
const everActive = new Set();
const ended = new Set();
let conn;
let info;
let resolveDone;
const done = new Promise((r) => {
	resolveDone = r;
});
process.on("SIGINT", () => resolveDone("SIGINT"));
process.on("SIGTERM", () => resolveDone("SIGTERM"));
const hardTimer = setTimeout(() => resolveDone("timeout"), args.timeout * 1000);
const expecting = args["expect-active"] !== undefined || args["expect-ended"] !== undefined;
const met = () => everActive.size >= (args["expect-active"] ?? 0) && ended.size >= (args["expect-ended"] ?? 0);

async function main() {
	const lib = await loadLibrary(args);
	emit({ event: "start", role: "announced", lib: `${lib.pkg}@${lib.version}`, node: process.version });
	try {
		({ conn, info } = await connect(lib, args.url, args));
	} catch (err) {
		errors.push(`connect: ${errorText(err)}`);
		return end("connect failed");
	}
	emit(info);
	void Promise.resolve(conn.closed).then(
		() => resolveDone("session closed"),
		(err) => {
			errors.push(`session: ${errorText(err)}`);
			resolveDone("session closed");
		},
	);
	const a = announcements(lib, conn, args.prefix ?? "");
	void (async () => {
		for (let e; (e = await a.next()); ) {
			emit({ event: "announce", path: e.path, active: e.active });
			if (e.active) {
				active.add(e.path);
				everActive.add(e.path);
			} else {
				active.delete(e.path);
				ended.add(e.path);
			}
			if (expecting && met()) resolveDone("expectation met");
		}
		resolveDone("announcements ended");
	})().catch((err) => {
		errors.push(`announced: ${errorText(err)}`);
		resolveDone("announce error");
	});
	return end(await done);
}

async function end(reason) {
	clearTimeout(hardTimer);
	const ok = errors.length === 0 && (expecting ? met() : reason === "timeout" || reason === "SIGINT" || reason === "SIGTERM");
	try {
		conn?.close();
	} catch {}
	await sleep(250);
	emit({ event: "summary", ok, reason, lib: info?.lib, version: info?.version, subprotocol: info?.subprotocol, active: [...active], ever_active: [...everActive], ended: [...ended], errors, websocket: websocketStats(), elapsed_ms: round(nowMs() - started, 1) });
	process.exit(ok ? 0 : 1);
}

main().catch((err) => {
	errors.push(`fatal: ${err?.stack ?? errorText(err)}`);
	return end("fatal error");
});
