// Bare $ref names (`$ref: Pet`), read as API Gateway's importer read them. Its Swagger 2.0 importer
// was built on swagger-parser 1.x, whose models take a $ref that is neither a URL, nor #/..., nor a
// path (./x, /x, or a name with a file extension) as an internal reference of the kind its place
// asks for: #/definitions/<name> for a schema, #/parameters/<name> for a parameter, #/responses/<name>
// for a response (swagger-api/swagger-core 1.x, swagger-models io/swagger/models/refs/GenericRef.java
// and RefType.java). OpenAPI 3's models do the same under #/components/... (swagger-core 2.x,
// io/swagger/v3/oas/models/media/Schema.java set$ref). json-schema-ref-parser, which bundles the
// files here, reads such a name as a file path instead, so each file is rewritten as it is parsed.
import * as yaml from "js-yaml";
import * as path from "path";
import { SpecProblem, isObject, pointer } from "./document";

/** A $ref swagger-parser 1.x reads as an internal name: no scheme, fragment, path or file extension. */
function isBareName(ref: string): boolean {
    return ref !== "" && !/[#/:.$\\]/.test(ref);
}

type Place = "schema" | "parameter" | "response" | "requestBody";

/** Who reads a bare name that way, for messages. */
const READER: Record<"2" | "3", string> = {
    2: "API Gateway's importer (swagger-parser 1.x)",
    3: "swagger-parser's OpenAPI 3 models",
};

const PREFIXES: Record<"2" | "3", Record<Place, string>> = {
    2: { schema: "#/definitions/", parameter: "#/parameters/", response: "#/responses/", requestBody: "#/definitions/" },
    3: { schema: "#/components/schemas/", parameter: "#/components/parameters/", response: "#/components/responses/", requestBody: "#/components/requestBodies/" },
};

/** What a $ref object at `at` stands for, from where it sits. */
function placeOf(at: (string | number)[]): Place {
    const parent = at[at.length - 2];
    if (typeof at[at.length - 1] === "number" && parent === "parameters") return "parameter";
    if (parent === "responses" && !at.includes("x-amazon-apigateway-integration")) return "response";
    if (at[at.length - 1] === "requestBody") return "requestBody";
    return "schema";
}

function resolve(doc: unknown, ref: string): unknown {
    let current = doc;
    for (const key of ref.slice(2).split("/")) current = isObject(current) ? current[key] : undefined;
    return current;
}

/** The names defined under a prefix of a document, for the refusal's hint. */
function namesUnder(doc: unknown, prefix: string): string[] {
    const under = resolve(doc, prefix.slice(0, -1));
    return isObject(under) ? Object.keys(under) : [];
}

export interface BareRefReading {
    /** A json-schema-ref-parser parse plugin for YAML and JSON files that rewrites their bare $refs. */
    plugin: { name: string; order: number; allowEmpty: boolean; canParse: string[]; parse(file: { url: string; data: unknown }): unknown };
    /** One warning per bare $ref read as API Gateway's importer read it. */
    warnings: SpecProblem[];
    /** Why a bare $ref cannot be read, by "<file>#<pointer of the object holding it>". */
    refusals: Map<string, string>;
}

/**
 * Reads YAML and JSON as json-schema-ref-parser's own YAML parser does (js-yaml, JSON schema), then
 * rewrites each bare $ref to the internal reference API Gateway's importer made of it: in the same
 * file when it defines the name, else in the root document. The first file parsed is the root.
 */
export function bareRefReading(shown: (file: string) => string): BareRefReading {
    const warnings: SpecProblem[] = [];
    const refusals = new Map<string, string>();
    let root: { file: string; doc: unknown; version: "2" | "3" } | undefined;
    const rewrite = (file: string, doc: unknown): void => {
        const version = root?.version ?? "2";
        const walk = (value: unknown, at: (string | number)[]): void => {
            if (Array.isArray(value)) return value.forEach((v, i) => walk(v, [...at, i]));
            if (!isObject(value)) return;
            if (typeof value.$ref === "string" && isBareName(value.$ref)) {
                const name = value.$ref;
                const internal = PREFIXES[version][placeOf(at)] + name;
                const where = file === root?.file ? pointer(...at, "$ref") : `${shown(file)}${pointer(...at, "$ref")}`;
                if (resolve(doc, internal) !== undefined) {
                    value.$ref = internal;
                } else if (root && file !== root.file && !/^https?:/i.test(file) && resolve(root.doc, internal) !== undefined) {
                    value.$ref = `${path.relative(path.dirname(file), root.file)}${internal}`;
                } else {
                    const defined = namesUnder(root?.doc ?? doc, PREFIXES[version][placeOf(at)]);
                    refusals.set(`${file}${pointer(...at)}`, `$ref ${JSON.stringify(name)} is a bare name, which ${READER[version]} reads as ${internal}, ` +
                        `and the document defines no ${internal}${defined.length > 0 ? ` (it has ${defined.join(", ")})` : ""}; define it there, ` +
                        `or write the $ref as the path of a file (./${name}.yaml)`);
                    value.$ref = internal;
                    return;
                }
                warnings.push({ pointer: where, message: `the bare name ${JSON.stringify(name)} is read as ${internal}, as ${READER[version]} reads it; write ${JSON.stringify(internal)}` });
                return;
            }
            for (const [key, child] of Object.entries(value)) walk(child, [...at, key]);
        };
        walk(doc, []);
    };
    return {
        warnings,
        refusals,
        plugin: {
            name: "yaml-bare-refs",
            // Before json-schema-ref-parser's own JSON (100) and YAML (200) parsers, for the same files.
            order: 1,
            allowEmpty: true,
            canParse: [".yaml", ".yml", ".json"],
            parse(file) {
                const text = Buffer.isBuffer(file.data) ? file.data.toString("utf8") : file.data;
                const doc = typeof text === "string" ? yaml.load(text, { schema: yaml.JSON_SCHEMA }) : text;
                const local = /^https?:/i.test(file.url) ? file.url : decodeURIComponent(file.url);
                if (!root) root = { file: local, doc, version: isObject(doc) && typeof doc.openapi === "string" ? "3" : "2" };
                rewrite(local, doc);
                return doc;
            },
        },
    };
}

