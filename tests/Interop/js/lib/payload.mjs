// Self-describing frame payload written by pub.mjs (and server.mjs --mode source) and
// verified by sub.mjs. Big-endian, 32-byte header:
//   0  "MQI1"   4  u32 group   8  u32 frame   12  f64 send time (ms since epoch)
//   20 u32 total length   24 u32 frames per group   28 u32 groups planned
//   32.. filler byte i = (group*7 + frame*13 + i) & 0xff
// The same layout is implemented in C# by MoqCluster.TestSupport.InteropPayload.

export const HEADER_SIZE = 32;
const MAGIC = [0x4d, 0x51, 0x49, 0x31];
const fill = (group, frame, i) => (group * 7 + frame * 13 + i) & 0xff;

export function encodePayload({ group, frame, size, framesPerGroup, groups, sendTime }) {
	const len = Math.max(HEADER_SIZE, size | 0);
	const buf = new Uint8Array(len);
	const dv = new DataView(buf.buffer);
	buf.set(MAGIC, 0);
	dv.setUint32(4, group);
	dv.setUint32(8, frame);
	dv.setFloat64(12, sendTime);
	dv.setUint32(20, len);
	dv.setUint32(24, framesPerGroup);
	dv.setUint32(28, groups);
	for (let i = HEADER_SIZE; i < len; i++) buf[i] = fill(group, frame, i);
	return buf;
}

/** @returns {{ok: true, group, frame, sendTime, length, framesPerGroup, groups} | {ok: false, error}} */
export function decodePayload(b) {
	if (b.byteLength < HEADER_SIZE) return { ok: false, error: `short payload (${b.byteLength} bytes)` };
	if (MAGIC.some((m, i) => b[i] !== m)) return { ok: false, error: "bad magic" };
	const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
	const p = { ok: true, group: dv.getUint32(4), frame: dv.getUint32(8), sendTime: dv.getFloat64(12), length: dv.getUint32(20), framesPerGroup: dv.getUint32(24), groups: dv.getUint32(28) };
	if (p.length !== b.byteLength) return { ok: false, error: `length field ${p.length} != ${b.byteLength} received`, group: p.group, frame: p.frame };
	for (let i = HEADER_SIZE; i < p.length; i++) {
		if (b[i] !== fill(p.group, p.frame, i)) return { ok: false, error: `filler mismatch at byte ${i}`, group: p.group, frame: p.frame };
	}
	return p;
}

/** {n,min,p50,p90,p99,max,mean} of a list of numbers (nearest rank), undefined if empty. */
export function stats(values) {
	if (values.length === 0) return undefined;
	const s = [...values].sort((a, b) => a - b);
	const pct = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
	const r = (v) => Number(v.toFixed(3));
	return { n: s.length, min: r(s[0]), p50: r(pct(50)), p90: r(pct(90)), p99: r(pct(99)), max: r(s[s.length - 1]), mean: r(s.reduce((a, b) => a + b, 0) / s.length) };
}
