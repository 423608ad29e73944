// Runs a Lua script by its SHA1 (EVALSHA), loading it on the first NOSCRIPT reply.
import { createHash } from "crypto";
import type { Redis } from "ioredis";

export interface Script {
    source: string;
    sha: string;
}

export function script(source: string): Script {
    return { source, sha: createHash("sha1").update(source).digest("hex") };
}

export async function runScript(client: Redis, s: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
        return await client.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith("NOSCRIPT")) throw e;
        return await client.eval(s.source, keys.length, ...keys, ...args);
    }
}
