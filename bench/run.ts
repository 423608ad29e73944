// `npm run bench [-- NAME]`: runs one benchmark by name (default: the authorizer's hot path).
// Each prints figures; none is a timed test. Each benchmark module runs when loaded.
const BENCHES: Record<string, () => Promise<unknown>> = {
    authorizer: () => import("./authorizer"),
    cold: () => import("./cold-start"),
};

const name = process.argv[2] ?? "authorizer";
const bench = BENCHES[name];
if (bench === undefined) {
    console.error(`unknown benchmark "${name}": expected one of ${Object.keys(BENCHES).join(", ")}`);
    process.exit(2);
}
void bench();
