// How long the ring commands take against the stand-in pulumi (figures, not timed tests):
// `status`, `flip --dry-run` (which reads the stacks and AWS, runs the gate and prints the
// update it would run), and a real flip and rollback (each one update of the live pointer's
// stack, whose program the stand-in runs under Pulumi's mock runtime), through runRing in this
// process, with the AWS SDK clients stubbed and the stage URL on loopback, as test/ring does; plus
// the CLI process's own start (`--help`), which a real run adds. Every figure includes the `pulumi`
// calls the command makes (each a Node process here; the real CLI talks to its backend instead).
// Run: npm run bench -- ring
import { Harness } from "../test/ring/harness";

const ROUNDS = 15;

function percentile(sorted: number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs each command line of `cycle` in turn, ROUNDS times, and times each. */
async function measure(h: Harness, cycle: string[][], rounds = ROUNDS): Promise<{ p50: number; p90: number; calls: number }[]> {
    const samples = cycle.map(() => [] as number[]);
    const calls = cycle.map(() => 0);
    for (let i = 0; i < rounds; i++) {
        for (const [j, args] of cycle.entries()) {
            h.clearLog();
            const t = process.hrtime.bigint();
            const r = await h.run(...args);
            samples[j].push(Number(process.hrtime.bigint() - t) / 1e6);
            if (r.code !== 0) throw new Error(`${args.join(" ")} exited ${r.code}: ${r.stderr}`);
            calls[j] = h.calls().length;
        }
    }
    return samples.map((s, j) => {
        s.sort((a, b) => a - b);
        return { p50: percentile(s, 50), p90: percentile(s, 90), calls: calls[j] };
    });
}

async function main(): Promise<void> {
    const h = await Harness.create();
    try {
        h.deploy(["red", "black"], "red");
        await h.run("status"); // the Automation API finds the CLI once
        console.log(`api-ring ring commands against the stand-in pulumi (Node ${process.version}, ${ROUNDS} runs each)\n`);
        const show = (args: string[], m: { p50: number; p90: number; calls: number }) =>
            console.log(`${args.join(" ").padEnd(26)} p50 ${m.p50.toFixed(0)} ms, p90 ${m.p90.toFixed(0)} ms  (${m.calls} pulumi calls)`);
        for (const args of [["status"], ["status", "--json"], ["flip", "black", "--dry-run"], ["deploy", "--dry-run"]]) show(args, (await measure(h, [args]))[0]);
        // A real flip and its rollback, in turn: each is one update of the live pointer's stack.
        const cycle = [["flip", "black", "--no-bake", "--reason", "bench"], ["rollback", "--reason", "bench"]];
        (await measure(h, cycle, 8)).forEach((m, j) => show(cycle[j].slice(0, 3), m));
        const starts: number[] = [];
        for (let i = 0; i < 5; i++) {
            const t = process.hrtime.bigint();
            h.runProcess(["--help"]);
            starts.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
        starts.sort((a, b) => a - b);
        console.log(`\nCLI process start (ring --help, its own node): p50 ${percentile(starts, 50).toFixed(0)} ms`);
    } finally {
        await h.cleanup();
    }
}

main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
});
