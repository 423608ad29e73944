// A Lambda-like Node.js runtime for the shipped archives: a fresh process whose module path
// holds only the archive's own node_modules plus the AWS SDK v3 that the Lambda Node runtime
// provides, with the environment the program's contract gives the function. The archive
// test invokes handlers this way, and the cold-start benchmark times them.
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ARCHIVE_ENTRY } from "../../handler-archive";

const PROJECT = path.resolve(__dirname, "..", "..", "..");

/** Makes `<dir>/node_modules` holding what the Lambda Node runtime provides (AWS SDK v3); returns it. */
export function lambdaRuntimeModules(dir: string): string {
    const modules = path.join(dir, "node_modules");
    fs.mkdirSync(modules, { recursive: true });
    fs.symlinkSync(path.join(PROJECT, "node_modules", "@aws-sdk"), path.join(modules, "@aws-sdk"));
    return modules;
}

/**
 * Runs `driver` (JavaScript) in a new process rooted at `archive`, with only `env` (plus PATH) and the
 * runtime's modules on NODE_PATH; resolves with the JSON value the driver prints on a `RESULT ` line.
 * Handlers log to stdout as Lambda functions do, so the result comes on its own line.
 */
export async function runInLambdaProcess<T>(archive: string, env: Record<string, string>, runtimeModules: string, driver: string, emf?: Record<string, unknown>[], timeoutMs = 30_000): Promise<T> {
    const stdout = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ["-e", driver], {
            cwd: archive, encoding: "utf8", timeout: timeoutMs,
            env: { PATH: process.env.PATH ?? "", NODE_PATH: runtimeModules, ...env },
        }, (error, out, err) => (error ? reject(new Error(`handler process failed: ${err || error.message}`)) : resolve(out)));
    });
    const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
    // The handlers' metrics come as embedded-metric-format lines, as CloudWatch Logs reads them.
    emf?.push(...stdout.split("\n").filter((l) => l.startsWith("{") && l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>));
    if (line === undefined) throw new Error(`no result from the handler process:\n${stdout}`);
    return JSON.parse(line.slice("RESULT ".length)) as T;
}

export interface Invocation {
    ok?: unknown;
    error?: string;
    /** Milliseconds from before `require` of the archive's entry point to the end of this invocation. */
    sinceRequireMs: number;
}

/**
 * Invokes the archive's handler (`index.handler`) once per event, in order, in one fresh process, as Lambda
 * would: the module is loaded once (the init phase), then each event handled.
 */
export function invokeArchive(archive: string, env: Record<string, string>, runtimeModules: string, events: unknown[], emf?: Record<string, unknown>[]): Promise<Invocation[]> {
    const driver = `
        const started = process.hrtime.bigint();
        const { handler } = require(${JSON.stringify(path.join(archive, `${ARCHIVE_ENTRY}.js`))});
        (async () => {
            const out = [];
            for (const event of ${JSON.stringify(events)}) {
                let result;
                try { result = { ok: await handler(event, {}) }; } catch (e) { result = { error: e.message }; }
                out.push({ ...result, sinceRequireMs: Number(process.hrtime.bigint() - started) / 1e6 });
            }
            process.stdout.write("\\nRESULT " + JSON.stringify(out) + "\\n");
            process.exit(0);
        })();`;
    return runInLambdaProcess<Invocation[]>(archive, env, runtimeModules, driver, emf);
}
