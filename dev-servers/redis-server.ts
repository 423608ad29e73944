// Real redis-server processes for the tests, the benchmarks and the local run: plain, or TLS with AUTH
// (certificates generated with openssl into a temp dir), on free loopback ports.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Redis } from "ioredis";

export interface RedisServerOptions {
    tls?: boolean;
    password?: string;
}

export interface RedisServer {
    /** "127.0.0.1" for plain, "localhost" (the certificate's name) for TLS. */
    host: string;
    port: number;
    tls: boolean;
    password: string;
    /** PEM of the CA that signed the server certificate (TLS only). */
    ca?: string;
    /** Process id of the running server; undefined while stopped. */
    readonly pid: number | undefined;
    /** An admin connection (not the code under test). */
    admin(): Redis;
    /** Kills the server (SIGKILL: as abrupt as a failed node). */
    stop(): Promise<void>;
    /** Starts it again on the same port (data is gone: no persistence). */
    start(): Promise<void>;
    /** Makes every client wait: CLIENT PAUSE for `ms`. */
    pause(ms: number): Promise<void>;
    /** All keys and values, for leak checks. */
    dump(): Promise<{ key: string; type: string; text: string }[]>;
    /** Stops the server and removes its files. */
    close(): Promise<void>;
}

export function requireRedisServer(): string {
    try {
        return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim();
    } catch {
        throw new Error("redis-server is not on PATH: the handler tests start real Redis servers (install it, e.g. `apt-get install redis-server`)");
    }
}

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address() as net.AddressInfo;
            server.close(() => resolve(address.port));
        });
    });
}

export interface Certificates {
    dir: string;
    caFile: string;
    certFile: string;
    keyFile: string;
    ca: string;
}

/** A throwaway CA and a server certificate for localhost / 127.0.0.1. */
export function generateCertificates(dir: string): Certificates {
    const run = (...args: string[]): void => {
        execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    };
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=api-ring test CA");
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
    fs.writeFileSync(path.join(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext");
    return {
        dir,
        caFile: path.join(dir, "ca.crt"),
        certFile: path.join(dir, "server.crt"),
        keyFile: path.join(dir, "server.key"),
        ca: fs.readFileSync(path.join(dir, "ca.crt"), "utf8"),
    };
}

/**
 * Runs redis-server ("$@") under a shell that holds our end of a pipe as fd 3: when this process
 * ends, however it ends (SIGKILL included), the kernel closes the pipe, `read` sees end of file and
 * the server is killed, so it never outlives the process that started it. The shell exits when the
 * server does, so its "exit" is the server's.
 */
const WATCHDOG = [
    "exec 3<&0",
    '"$@" </dev/null 3<&- &',
    "server=$!",
    'echo "redis-server pid $server"',
    '{ read _ <&3; kill -9 "$server" 2>/dev/null; } &',
    "watcher=$!",
    'wait "$server"',
    "status=$?",
    'kill "$watcher" 2>/dev/null',
    'exit "$status"',
].join("\n");

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
    const binary = requireRedisServer();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-redis-"));
    const tls = options.tls ?? false;
    const password = options.password ?? "";
    const certs = tls ? generateCertificates(dir) : undefined;
    const port = await freePort();
    const host = tls ? "localhost" : "127.0.0.1";
    let child: ChildProcess | undefined;
    let serverPid: number | undefined;
    const admins: Redis[] = [];

    const args = (): string[] => {
        const a = ["--bind", "127.0.0.1", "-::1", "--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "no"];
        if (certs) {
            a.push("--port", "0", "--tls-port", String(port), "--tls-cert-file", certs.certFile, "--tls-key-file", certs.keyFile,
                "--tls-ca-cert-file", certs.caFile, "--tls-auth-clients", "no");
        } else {
            a.push("--port", String(port));
        }
        if (password !== "") a.push("--requirepass", password);
        return a;
    };

    const start = async (): Promise<void> => {
        if (child && child.exitCode === null) return;
        const proc = spawn("/bin/sh", ["-c", WATCHDOG, "redis-watchdog", binary, ...args()], { stdio: ["pipe", "pipe", "pipe"] });
        child = proc;
        serverPid = undefined;
        let output = "";
        await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
            const onData = (chunk: Buffer): void => {
                output += chunk.toString();
                serverPid ??= Number(/redis-server pid (\d+)/.exec(output)?.[1]) || undefined;
                if (serverPid !== undefined && output.includes("Ready to accept connections")) {
                    clearTimeout(timer);
                    resolve();
                }
            };
            proc.stdout?.on("data", onData);
            proc.stderr?.on("data", onData);
            proc.on("exit", (code) => {
                clearTimeout(timer);
                reject(new Error(`redis-server exited with ${code}:\n${output}`));
            });
        });
        proc.stdout?.removeAllListeners("data");
        proc.stderr?.removeAllListeners("data");
        proc.stdout?.resume();
        proc.stderr?.resume();
    };

    const stop = async (): Promise<void> => {
        const proc = child;
        const pid = serverPid;
        child = undefined;
        serverPid = undefined;
        if (!proc) return;
        const exited = proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => {
            proc.removeAllListeners("exit");
            proc.once("exit", () => resolve());
        });
        if (pid !== undefined) {
            try {
                process.kill(pid, "SIGKILL"); // as abrupt as a failed node; the watchdog then exits
            } catch {
                // already gone
            }
        }
        proc.stdin?.end();
        await exited;
    };

    const admin = (): Redis => {
        const r = new Redis({
            host, port, password: password || undefined, maxRetriesPerRequest: 1, lazyConnect: false,
            tls: certs ? { ca: certs.ca, servername: host } : undefined,
        });
        r.on("error", () => undefined);
        admins.push(r);
        return r;
    };

    await start();
    return {
        host, port, tls, password, ca: certs?.ca,
        get pid() {
            return child && child.exitCode === null ? serverPid : undefined;
        },
        admin,
        stop,
        start,
        async pause(ms) {
            const r = admin();
            await r.call("CLIENT", "PAUSE", String(ms), "ALL");
            r.disconnect();
        },
        async dump() {
            const r = admin();
            const out: { key: string; type: string; text: string }[] = [];
            for (const key of await r.keys("*")) {
                const type = await r.type(key);
                let text = "";
                if (type === "string") text = (await r.get(key)) ?? "";
                else if (type === "hash") text = JSON.stringify(await r.hgetall(key));
                else if (type === "zset") text = JSON.stringify(await r.zrange(key, 0, -1, "WITHSCORES"));
                else if (type === "set") text = JSON.stringify(await r.smembers(key));
                out.push({ key, type, text });
            }
            r.disconnect();
            return out;
        },
        async close() {
            for (const r of admins) r.disconnect();
            await stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
