// Command-line parsing and JSON-lines output shared by the scripts.

/** Wall-clock milliseconds with sub-millisecond precision. */
export const nowMs = () => performance.timeOrigin + performance.now();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const round = (v, d = 3) => (v === undefined ? undefined : Number(v.toFixed(d)));

/** One JSON object per line on stdout; nothing else is printed there. */
export function emit(obj) {
	process.stdout.write(`${JSON.stringify({ t: round(nowMs(), 1), ...obj })}\n`);
}

export function errorText(err) {
	if (err instanceof AggregateError) return `${err.message}: ${err.errors.map(errorText).join("; ")}`;
	if (err instanceof Error) return err.message || String(err);
	if (err && typeof err === "object" && "message" in err) return String(err.message);
	return String(err);
}

export function withTimeout(promise, ms, what) {
	let timer;
	const t = new Promise((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
	});
	return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/** Options every client script accepts. */
export const clientOptions = {
	lib: { type: "string", default: "net" }, // net | lite | kixelated
	subprotocols: { type: "list" }, // replace the offered Sec-WebSocket-Protocol list
	"connect-timeout": { type: "number", default: 10 },
	timeout: { type: "number", default: 30 },
	verbose: { type: "boolean", default: false },
};

/**
 * Parse `argv` against `{positional: [names], options: {name: {type, default}}}`.
 * Accepts `--k v`, `--k=v`, `--flag`, `--no-flag`; lists are comma separated.
 * Exits with code 64 on a usage error.
 */
export function parseArgs(argv, spec) {
	const usage = (msg) => {
		process.stderr.write(`error: ${msg}\nusage: ${spec.usage}\n`);
		process.exit(64);
	};
	const out = {};
	for (const [k, o] of Object.entries(spec.options)) out[k] = o.default;
	const pos = [];
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (!a.startsWith("--")) {
			pos.push(a);
			continue;
		}
		let [key, value] = a.slice(2).split(/=(.*)/s, 2);
		let negate = false;
		if (!(key in spec.options) && key.startsWith("no-") && key.slice(3) in spec.options) {
			negate = true;
			key = key.slice(3);
		}
		const o = spec.options[key];
		if (!o) usage(`unknown option --${key}`);
		if (o.type === "boolean") {
			out[key] = value === undefined ? !negate : !["0", "false", "no"].includes(value);
			continue;
		}
		if (value === undefined) {
			if (i + 1 >= argv.length) usage(`--${key} needs a value`);
			value = argv[++i];
		}
		if (o.type === "number") {
			out[key] = Number(value);
			if (!Number.isFinite(out[key])) usage(`--${key} expects a number`);
		} else if (o.type === "list") out[key] = value.split(",").map((s) => s.trim()).filter(Boolean);
		else out[key] = value;
	}
	const names = spec.positional;
	const required = names.filter((n) => !n.endsWith("?")).length;
	if (pos.length < required) usage(`missing ${names.slice(pos.length).join(" ")}`);
	if (pos.length > names.length) usage(`unexpected argument ${pos[names.length]}`);
	names.forEach((n, i) => {
		out[n.replace("?", "")] = pos[i];
	});
	return out;
}
