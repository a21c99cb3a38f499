// Node 20 compatibility for the browser-first MoQ libraries.
//
// @moq/net, @moq/lite and @kixelated/moq expect APIs that Node 20 lacks:
//   Promise.withResolvers (used while connecting),
//   Set.prototype.difference & co. (publisher answering ANNOUNCE_PLEASE),
//   Iterator.prototype.toArray & co. (@kixelated/moq publisher),
//   a global WebSocket (the libraries' WebTransport fallback).
// Nothing that already exists is replaced.

import util from "node:util";
import { WebSocket as WsSocket } from "ws";

function define(target, name, value) {
	if (typeof target[name] === "function") return false;
	Object.defineProperty(target, name, { configurable: true, writable: true, value });
	return true;
}

const keys = (other) => (typeof other.keys === "function" ? other.keys() : other[Symbol.iterator]());

/** Language polyfills only (safe for the server too). Returns the names that were added. */
export function installPolyfills() {
	const added = [];
	const add = (target, label, name, fn) => define(target, name, fn) && added.push(`${label}.${name}`);

	add(Promise, "Promise", "withResolvers", function withResolvers() {
		let resolve;
		let reject;
		const promise = new this((res, rej) => {
			resolve = res;
			reject = rej;
		});
		return { promise, resolve, reject };
	});

	const set = {
		union(o) {
			const r = new Set(this);
			for (const v of keys(o)) r.add(v);
			return r;
		},
		intersection(o) {
			return new Set([...this].filter((v) => o.has(v)));
		},
		difference(o) {
			return new Set([...this].filter((v) => !o.has(v)));
		},
		symmetricDifference(o) {
			const r = new Set(this);
			for (const v of keys(o)) this.has(v) ? r.delete(v) : r.add(v);
			return r;
		},
		isSubsetOf(o) {
			return [...this].every((v) => o.has(v));
		},
		isSupersetOf(o) {
			for (const v of keys(o)) if (!this.has(v)) return false;
			return true;
		},
		isDisjointFrom(o) {
			return ![...this].some((v) => o.has(v));
		},
	};
	for (const [name, fn] of Object.entries(set)) add(Set.prototype, "Set", name, fn);

	const IteratorProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
	const iter = {
		toArray() {
			return [...this];
		},
		forEach(fn) {
			let i = 0;
			for (const v of this) fn(v, i++);
		},
		*map(fn) {
			let i = 0;
			for (const v of this) yield fn(v, i++);
		},
		*filter(fn) {
			let i = 0;
			for (const v of this) if (fn(v, i++)) yield v;
		},
		some(fn) {
			let i = 0;
			for (const v of this) if (fn(v, i++)) return true;
			return false;
		},
		every(fn) {
			let i = 0;
			for (const v of this) if (!fn(v, i++)) return false;
			return true;
		},
		find(fn) {
			let i = 0;
			for (const v of this) if (fn(v, i++)) return v;
			return undefined;
		},
	};
	for (const [name, fn] of Object.entries(iter)) add(IteratorProto, "Iterator", name, fn);
	return added;
}

/** Every WebSocket the libraries opened: offered/selected subprotocol and byte counts. */
export const sockets = [];

/**
 * Install the `ws` package as the global WebSocket (Node 20 has none by default), with an
 * optional override of the subprotocol list the library offers (`--subprotocols`), and
 * remove any WebTransport global so that the libraries take their WebSocket path.
 */
export function installWebSocket(overrideProtocols) {
	if (globalThis.WebTransport !== undefined) delete globalThis.WebTransport;
	const size = (d) => (typeof d === "string" ? Buffer.byteLength(d) : (d?.byteLength ?? 0));
	globalThis.WebSocket = class InteropWebSocket extends WsSocket {
		constructor(url, protocols, ...rest) {
			const offered = overrideProtocols?.length ? overrideProtocols : protocols;
			super(url, offered, ...rest);
			const rec = { url: String(url), offered: [offered ?? []].flat(), selected: undefined, sent: 0, recv: 0, closed: undefined };
			sockets.push(rec);
			this.__rec = rec;
			this.addEventListener("open", () => {
				rec.selected = this.protocol;
			});
			this.addEventListener("message", (ev) => {
				rec.recv += size(ev.data);
			});
			this.addEventListener("close", (ev) => {
				rec.closed = { code: ev.code, reason: ev.reason };
			});
		}

		send(data) {
			this.__rec.sent += size(data);
			return super.send(data);
		}
	};
}

/** Keep stdout for our JSON lines: library console output goes to stderr (debug only if verbose). */
export function quietConsole(verbose) {
	const to = (level) => (...a) => process.stderr.write(`[${level}] ${util.formatWithOptions({ depth: 4, breakLength: Infinity }, ...a)}\n`);
	console.log = to("log");
	console.info = to("info");
	console.warn = to("warn");
	console.error = to("error");
	console.debug = verbose ? to("debug") : () => {};
}
