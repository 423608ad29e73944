// Runs `npm run local`'s command (bin/local/cli.js) as its own process, as a user would, and
// reads what it prints: its URL and its redis-server's pid.
import { ChildProcess, spawn } from "child_process";
import * as http from "http";
import * as path from "path";

const PROJECT = path.resolve(__dirname, "..", "..", "..");
export const LOCAL_CLI = path.join(PROJECT, "bin/local/cli.js");

export interface Started {
    url: string;
    process: ChildProcess;
    output: () => string;
    redisPid: number;
}

/** Waits until the command prints its URL and its redis-server's pid (20 s at most). */
export function waitForLocal(child: ChildProcess): Promise<Started> {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr?.on("data", (d: Buffer) => { out += d.toString(); });
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`local run did not start:\n${out}`)), 20_000);
        const check = () => {
            const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
            const pid = /redis-server on \S+, pid (\d+)/.exec(out)?.[1];
            if (url && pid) {
                clearTimeout(timer);
                resolve({ url, process: child, output: () => out, redisPid: Number(pid) });
            }
        };
        child.stdout?.on("data", check);
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`local run exited ${code}:\n${out}`));
        });
    });
}

export function startLocal(args: string[], stack = "red"): Promise<Started> {
    const child = spawn(process.execPath, [LOCAL_CLI, "--stack", stack, "--port", "0", ...args], {
        env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"],
    });
    return waitForLocal(child);
}

export async function stopLocal(run: Started): Promise<{ code: number | null; output: string }> {
    if (run.process.exitCode !== null) return { code: run.process.exitCode, output: run.output() };
    const exited = new Promise<number | null>((resolve) => run.process.once("exit", (code) => resolve(code)));
    run.process.kill("SIGINT");
    return { code: await exited, output: run.output() };
}

export function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** Waits until `pid` is gone, polling for at most `ms`; true when it went. */
export async function gone(pid: number, ms = 5000): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
        if (!alive(pid)) return true;
        await new Promise((r) => setTimeout(r, 50));
    }
    return !alive(pid);
}

export interface Answer {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

/** A request exactly as written: no client-side path normalization (unlike fetch), and only these headers (node:http adds Host and Connection). */
export function send(base: string, method: string, rawPath: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Answer> {
    const { hostname, port } = new URL(base);
    return new Promise((resolve, reject) => {
        const req = http.request({ host: hostname, port, method, path: rawPath, headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        });
        req.on("error", reject);
        req.end(body);
    });
}
