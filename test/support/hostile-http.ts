// A loopback HTTP server that answers what a test scripts, byte for byte: a 3scale or a JWKS endpoint
// that is broken, compromised or on the far side of a hostile network (a DOCTYPE with entities, a reply
// of many megabytes, a body that never ends, an answer that never comes). The development 3scale
// (dev-servers/threescale.ts) follows apisonator and never sends such things; this server stands for
// what the handlers must survive anyway. It counts requests and the bytes it managed to send.
import * as http from "http";
import type { AddressInfo } from "net";

/** Waits until a response can take more, or is gone; leaves no listener behind. */
export function drained(res: http.ServerResponse): Promise<void> {
    return new Promise((resolve) => {
        const done = (): void => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
        };
        res.on("drain", done);
        res.on("close", done);
    });
}

export interface ScriptedReply {
    status?: number;
    headers?: Record<string, string>;
    /** The whole body. */
    body?: string;
    /** Or: `prefix`, then `streamBytes` more bytes of `fill`, written as fast as the client takes them (no Content-Length). */
    stream?: { prefix: string; fill: string; streamBytes: number };
    /** Never answer (the client's own timeout must end the wait). */
    hang?: boolean;
    /** Wait this long before answering. */
    delayMs?: number;
}

export interface HostileServer {
    url: string;
    requests: number;
    /** Bytes of body written, over every reply. */
    bytesSent: number;
    /** Replies whose client went away before the body was complete. */
    cutOff: number;
    reply: (path: string) => ScriptedReply;
    close(): Promise<void>;
}

export async function startHostileServer(reply: (path: string) => ScriptedReply): Promise<HostileServer> {
    const server = http.createServer((req, res) => {
        state.requests += 1;
        const r = state.reply(new URL(req.url ?? "/", "http://x").pathname);
        if (r.hang) return;
        const send = async (): Promise<void> => {
            res.writeHead(r.status ?? 200, { "content-type": "application/vnd.3scale-v2.0+xml", ...r.headers });
            if (r.stream) {
                let sent = 0;
                const chunk = Buffer.from(r.stream.fill.repeat(Math.max(1, Math.floor(65_536 / r.stream.fill.length))));
                res.write(r.stream.prefix);
                while (sent < r.stream.streamBytes) {
                    if (res.destroyed || !res.writable) {
                        state.cutOff += 1;
                        return;
                    }
                    const ok = res.write(chunk);
                    sent += chunk.length;
                    state.bytesSent += chunk.length;
                    if (!ok) await drained(res);
                }
                res.end();
                return;
            }
            const body = Buffer.from(r.body ?? "");
            state.bytesSent += body.length;
            res.on("close", () => { if (!res.writableFinished) state.cutOff += 1; });
            res.end(body);
        };
        if (r.delayMs) setTimeout(() => void send(), r.delayMs).unref();
        else void send();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const state: HostileServer = {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests: 0,
        bytesSent: 0,
        cutOff: 0,
        reply,
        close: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
    return state;
}
