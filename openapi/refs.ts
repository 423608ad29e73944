// Reading a document's $refs: swagger-parser bundles the files into one document, remote $refs come
// from local mirror folders (never from the network), bare $ref names are read as API Gateway's
// importer read them, and internal $refs API Gateway would not resolve (all but models) are inlined.
// What a $ref reads ends up in the REST API's body, so a local $ref must stay, after symlinks, inside
// the document's folder, and a mirrored one inside its mirror folder; a refused file is never read, and
// no message quotes a file (issue 17 item 5).
import SwaggerParser from "@apidevtools/swagger-parser";
import * as fs from "fs";
import * as path from "path";
import { fileURLToPath } from "url";
import { bareRefReading } from "./bare-refs";
import { Json, SpecError, SpecProblem, isObject, pointer } from "./document";

/**
 * The document at `file` (absolute) as one document: multi-file and remote $refs bundled, bare $ref
 * names read as API Gateway's importer read them (openapi/bare-refs.ts, whose warnings come back with
 * it). Throws a SpecError naming every unreadable $ref at once, or why the document itself cannot be read.
 */
export async function bundleFiles(file: string, shownFile: string, mirrors: Record<string, string>, baseDir: string): Promise<{ document: Json; warnings: SpecProblem[] }> {
    // The parser replaces a resolver's message by a generic one naming the $ref ("Error reading file
    // \"<url>\""), so the resolvers keep their own, by URL.
    const unreadable = new Map<string, string>();
    const shown = (f: string) => (/^https?:/i.test(f) ? f : path.relative(process.cwd(), f) || f);
    let reading = bareRefReading(shown);
    const bundle = (continueOnError: boolean) => {
        reading = bareRefReading(shown);
        return new SwaggerParser().bundle(file, {
            // Remote $refs come from the mirror folders only: the HTTP resolver is off. Local files come
            // from the document's folder only: this resolver takes the built-in one's place.
            resolve: { http: false, file: folderResolver(path.dirname(file), unreadable), mirror: mirrorResolver(mirrors, baseDir, path.dirname(file), unreadable) },
            parse: { bareRefs: reading.plugin },
            // Go on past an unreadable $ref, so every one is named at once.
            continueOnError,
        }) as Promise<unknown> as Promise<Json>;
    };
    // A resolver's own message for the $ref an error names ("Error reading file \"<url>\"").
    const ownMessage = (err: { message?: string }): string | undefined => unreadable.get(/"([^"#]+)/.exec(err.message ?? "")?.[1] ?? "");
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
                    message: refusals.get(`${source}${at}`) ?? ownMessage(err) ?? firstLine(err.message),
                };
            }));
        }
        // The document itself cannot be read or parsed: the parser's own first error says why.
        const first = await bundle(false).then(() => e, (error: unknown) => error);
        throw new SpecError(shownFile, ownMessage(first as { message?: string }) ?? describeParserError(first));
    }
}

function describeParserError(e: unknown): string {
    const err = e as { message?: string; source?: string };
    const message = firstLine(err.message ?? String(e));
    return err.source && !message.includes(err.source) ? `${message} (in ${err.source})` : message;
}

/** A parser's message without the excerpt of the file some of them append on the lines below. */
function firstLine(message: string): string {
    return message.split("\n")[0].slice(0, 300);
}

/** A path as messages show it: relative when under the working directory, else absolute. */
function shownPath(p: string): string {
    const relative = path.relative(process.cwd(), p);
    return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : p;
}

/** The real path (symlinks followed) when it exists, else the path as given. */
function realOrSelf(p: string): string {
    try {
        return fs.realpathSync(p);
    } catch {
        return p;
    }
}

function isInside(folder: string, p: string): boolean {
    return p === folder || p.startsWith(folder + path.sep);
}

/**
 * A json-schema-ref-parser resolver for local files (plain paths and file: URLs) that reads only what
 * lies, after symlinks, inside `folder` (the document's own folder); anything else is refused unread.
 */
function folderResolver(folder: string, unreadable: Map<string, string>) {
    const root = realOrSelf(folder);
    return {
        order: 100,
        canRead: (file: { url: string }) => !/^https?:\/\//i.test(file.url),
        read(file: { url: string }): Buffer {
            const ref = file.url.split("#")[0];
            const fail = (message: string): never => {
                unreadable.set(ref, message);
                throw new Error(message);
            };
            let local: string;
            try {
                local = /^file:/i.test(ref) ? fileURLToPath(ref) : decodeURIComponent(ref);
            } catch {
                return fail(`${ref} is not a file path`);
            }
            let real: string;
            try {
                real = fs.realpathSync(local);
            } catch (e) {
                return fail(`${shownPath(local)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
            }
            if (!isInside(root, real)) {
                const what = real === path.resolve(local) ? `${shownPath(real)} is` : `${/^file:/i.test(ref) ? ref : shownPath(local)} resolves to ${shownPath(real)},`;
                fail(`${what} outside the document's folder ${shownPath(root)}; ` +
                    "a $ref may only name files in the document's folder or below it (remote documents come from gateway:specMirrors)");
            }
            return fs.readFileSync(real);
        },
    };
}

/**
 * A json-schema-ref-parser resolver for http(s) URLs that reads the mirror folder of the
 * longest matching prefix. It is the only resolver for remote URLs, so nothing is downloaded. A mirror
 * folder must lie, after symlinks, inside the project or inside the folder that holds the document's
 * folder (a repository that keeps swagger/ beside its mirror, as edx/api-manager does); a mirrored file
 * must lie inside its mirror folder.
 */
function mirrorResolver(mirrors: Record<string, string>, baseDir: string, documentFolder: string, unreadable: Map<string, string>) {
    const allowed = [realOrSelf(baseDir), realOrSelf(path.dirname(documentFolder))];
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
            const root = realOrSelf(path.resolve(baseDir, mirrors[prefix]));
            if (!allowed.some((folder) => isInside(folder, root))) {
                fail(`gateway:specMirrors maps ${prefix} to ${mirrors[prefix]}, which resolves to ${shownPath(root)}, outside the project (${shownPath(allowed[0])}) ` +
                    `and outside the folder that holds the document's folder (${shownPath(allowed[1])}); expected a mirror folder in one of them`);
            }
            const local = path.resolve(root, ...decodeURIComponent(url.slice(prefix.length)).split("/"));
            if (!isInside(root, local)) fail(`${url} leaves the mirror folder of ${prefix} (${shownPath(local)})`);
            let real: string;
            try {
                real = fs.realpathSync(local);
            } catch (e) {
                return fail(`${url} is not in the mirror: tried ${shownPath(local)} (gateway:specMirrors maps ${prefix} to ${mirrors[prefix]}; ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
            }
            if (!isInside(root, real)) fail(`${url} leaves the mirror folder of ${prefix} (${shownPath(local)} resolves to ${shownPath(real)})`);
            return fs.readFileSync(real);
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
