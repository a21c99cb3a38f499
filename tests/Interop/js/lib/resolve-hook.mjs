// ESM resolve hook: @kixelated/moq 0.9.4 ships bundler-style extensionless relative imports
// ("../stream") that Node's loader rejects. Retry such specifiers with ".js".
export async function resolve(specifier, context, next) {
	try {
		return await next(specifier, context);
	} catch (err) {
		const relative = specifier.startsWith("./") || specifier.startsWith("../");
		if (err?.code !== "ERR_MODULE_NOT_FOUND" || !relative || /\.[cm]?js$/.test(specifier)) throw err;
		return next(`${specifier}.js`, context);
	}
}
