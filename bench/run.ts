// `npm run bench [-- NAME]`: runs one benchmark by name (default: the authorizer's hot path).
// Each prints figures; none is a timed test. Each benchmark module runs when loaded.
const BENCHES: Record<string, () => Promise<unknown>> = {
    authorizer: () => import("./authorizer"),
    faults: () => import("./faults").then((faults) => faults.main()),
    cold: () => import("./cold-start"),
    metrics: () => import("./metrics-cost"),
    ring: () => import("./ring-commands"),
};

const name = process.argv[2] ?? "authorizer";
const bench = BENCHES[name];
if (bench === undefined) {
    console.error(`unknown benchmark "${name}": expected one of ${Object.keys(BENCHES).join(", ")}`);
    process.exit(2);
}
bench().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
});
