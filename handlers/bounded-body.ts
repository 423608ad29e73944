// Reading an HTTP reply's body with a bound (issue 17): a reply is data from the network, and a
// container has 512 MB. The declared Content-Length is checked first; otherwise the stream is read
// chunk by chunk and cancelled as soon as it passes the bound, so a reply that never ends costs at
// most the bound plus one chunk, never the whole stream.

/**
 * The body as UTF-8 text, or undefined when it is over `maxBytes` or not valid UTF-8. The rest of an
 * oversized body is never read: the stream is cancelled (fetch then closes the connection).
 */
export async function readBoundedBody(response: Response, maxBytes: number): Promise<string | undefined> {
    const declared = Number(response.headers.get("content-length") ?? NaN);
    const stream = response.body;
    if (stream === null) return "";
    if (Number.isFinite(declared) && declared > maxBytes) {
        await stream.cancel().catch(() => undefined);
        return undefined;
    }
    const reader = stream.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > maxBytes) {
            await reader.cancel().catch(() => undefined);
            return undefined;
        }
        chunks.push(value);
    }
    try {
        return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
    } catch {
        return undefined;
    }
}
