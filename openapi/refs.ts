// Reading a document's $refs: swagger-parser bundles the files into one document, remote $refs come
// from local mirror folders (never from the network), bare $ref names are read as API Gateway's
// importer read them, and internal $refs API Gateway would not resolve (all but models) are inlined.
import SwaggerParser from "@apidevtools/swagger-parser";
import * as fs from "fs";
import * as path from "path";
import { bareRefReading } from "./bare-refs";
import { Json, SpecError, SpecProblem, isObject, pointer } from "./document";

/**
 * The document at `file` (absolute) as one document: multi-file and remote $refs bundled, bare $ref
 * names read as API Gateway's importer read them (openapi/bare-refs.ts, whose warnings come back with
 * it). Throws a SpecError naming every unreadable $ref at once, or why the document itself cannot be read.
 */
export async function bundleFiles(file: string, shownFile: string, mirrors: Record<string, string>, baseDir: string): Promise<{ document: Json; warnings: SpecProblem[] }> {
    // The parser replaces a resolver's message by a generic one, so the mirror keeps its own, by URL.
    const unreadable = new Map<string, string>();
    const shown = (f: string) => (/^https?:/i.test(f) ? f : path.relative(process.cwd(), f) || f);
    let reading = bareRefReading(shown);
    const bundle = (continueOnError: boolean) => {
        reading = bareRefReading(shown);
        return new SwaggerParser().bundle(file, {
            // Remote $refs come from the mirror folders only: the HTTP resolver is off.
            resolve: { http: false, mirror: mirrorResolver(mirrors, baseDir, unreadable) },
            parse: { bareRefs: reading.plugin },
            // Go on past an unreadable $ref, so every one is named at once.
            continueOnError,
        }) as Promise<unknown> as Promise<Json>;
    };
    try {
        const document = await bundle(true);
        return { document, warnings: reading.warnings };
    } catch (e) {
        const group = (e as { errors?: { message: string; source?: string; path?: (string | number)[] }[] }).errors;
        if (Array.isArray(group) && group.length > 0) {
            const refusals = reading.refusals;
            throw new SpecError(shownFile, `${group.length} $ref${group.length === 1 ? "" : "s"} cannot be read:`, group.map((err) => {
                // The parser names local files by URL-encoded path; the bare-ref reading by the path itself.
                const source = err.source && !/^https?:/i.test(err.source) ? decodeURIComponent(err.source) : err.source ?? "";
                const at = pointer(...(err.path ?? []));
                return {
                    pointer: `${source ? shown(source) : ""}${at}`,
                    message: refusals.get(`${source}${at}`) ?? unreadable.get(/"(https?:\/\/[^"#]+)/.exec(err.message)?.[1] ?? "") ?? err.message,
                };
            }));
        }
        // The document itself cannot be read or parsed: the parser's own first error says why.
        throw new SpecError(shownFile, describeParserError(await bundle(false).then(() => e, (first: unknown) => first)));
    }
}

function describeParserError(e: unknown): string {
    const err = e as { message?: string; source?: string };
    const message = (err.message ?? String(e)).split("\n")[0];
    return err.source && !message.includes(err.source) ? `${message} (in ${err.source})` : message;
}

/**
 * A json-schema-ref-parser resolver for http(s) URLs that reads the mirror folder of the
 * longest matching prefix. It is the only resolver for remote URLs, so nothing is downloaded.
 */
function mirrorResolver(mirrors: Record<string, string>, baseDir: string, unreadable: Map<string, string>) {
    return {
        order: 1,
        canRead: /^https?:\/\//i,
        read(file: { url: string }): Buffer {
            const url = file.url.split("#")[0];
            const fail = (message: string): never => {
                unreadable.set(url, message);
                throw new Error(message);
            };
            const prefix = Object.keys(mirrors).filter((p) => url.startsWith(p)).sort((a, b) => b.length - a.length)[0];
            if (prefix === undefined) {
                fail(`${url} is a remote $ref and gateway:specMirrors has no prefix for it (nothing is fetched from the network); ` +
                    `mirror it and add e.g. {"${new URL(url).origin}/": "<folder>"} to gateway:specMirrors`);
            }
            const root = path.resolve(baseDir, mirrors[prefix]);
            const local = path.resolve(root, ...decodeURIComponent(url.slice(prefix.length)).split("/"));
            const shown = path.relative(process.cwd(), local) || local;
            if (local !== root && !local.startsWith(root + path.sep)) {
                fail(`${url} leaves the mirror folder of ${prefix} (${shown})`);
            }
            try {
                return fs.readFileSync(local);
            } catch (e) {
                return fail(`${url} is not in the mirror: tried ${shown} (gateway:specMirrors maps ${prefix} to ${mirrors[prefix]}; ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
            }
        },
    };
}

/** Where a document keeps its models: $refs there stay refs (API Gateway makes them models). */
function isModelRef(ref: string): boolean {
    return ref.startsWith("#/definitions/") || ref.startsWith("#/components/schemas/");
}

function resolvePointer(doc: Json, ref: string): unknown {
    let current: unknown = doc;
    for (const raw of ref.slice(2).split("/")) {
        const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
        if (!isObject(current) && !Array.isArray(current)) return undefined;
        current = (current as Record<string, unknown>)[key];
    }
    return current;
}

/**
 * Replaces every internal $ref that does not name a model by a copy of its target. Bundling
 * points a second use of the same remote path item (or parameter, or inline schema) at the
 * first one; API Gateway resolves $refs to models only, so the served document inlines the rest.
 */
export function inlineRefs(doc: Json): Json {
    const inline = (value: unknown, seen: string[]): unknown => {
        if (Array.isArray(value)) return value.map((v) => inline(v, seen));
        if (!isObject(value)) return value;
        const ref = value.$ref;
        if (typeof ref === "string" && ref.startsWith("#/") && !isModelRef(ref) && !seen.includes(ref)) {
            return inline(resolvePointer(doc, ref), [...seen, ref]);
        }
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inline(v, seen)]));
    };
    return inline(doc, []) as Json;
}
