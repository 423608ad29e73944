// The stage variables a document uses, in any spelling, and which of them config does not define.
import { BundledSpec, Json, Operation, isObject, pointer } from "./document";

// ${stageVariables.x}, ${stageVariables['x']}, $stageVariables.x, and a mapping's bare stageVariables.x.
const STAGE_VARIABLE = /(?<![A-Za-z0-9_.])\$?\{?stageVariables(?:\.([A-Za-z0-9_]+)|\[\s*['"]([A-Za-z0-9_]+)['"]\s*\])/g;

/** Each stage variable the integrations, gateway responses and authorizers use, with where. */
export function stageVariableUses(doc: Json, operations: Operation[]): Record<string, string[]> {
    const uses: Record<string, string[]> = {};
    const scan = (value: unknown, at: (string | number)[]): void => {
        if (typeof value === "string") {
            for (const m of value.matchAll(STAGE_VARIABLE)) (uses[m[1] ?? m[2]] ??= []).push(pointer(...at));
        } else if (Array.isArray(value)) {
            value.forEach((v, i) => scan(v, [...at, i]));
        } else if (isObject(value)) {
            for (const [k, v] of Object.entries(value)) {
                scan(k, [...at, k]);
                scan(v, [...at, k]);
            }
        }
    };
    for (const op of operations) scan(op.operation["x-amazon-apigateway-integration"], [...op.at, "x-amazon-apigateway-integration"]);
    scan(doc["x-amazon-apigateway-gateway-responses"], ["x-amazon-apigateway-gateway-responses"]);
    // A Lambda authorizer of the document's may name its function by a stage variable too.
    const schemesAt = doc.swagger !== undefined ? ["securityDefinitions"] : ["components", "securitySchemes"];
    const schemes = doc.swagger !== undefined ? doc.securityDefinitions : isObject(doc.components) ? doc.components.securitySchemes : undefined;
    for (const [name, scheme] of Object.entries(isObject(schemes) ? schemes : {})) {
        if (isObject(scheme)) scan(scheme["x-amazon-apigateway-authorizer"], [...schemesAt, name, "x-amazon-apigateway-authorizer"]);
    }
    for (const name of Object.keys(uses)) uses[name] = [...new Set(uses[name])];
    return uses;
}

/** The stage variables the document uses that `defined` lacks, each with where it is used. */
export function missingStageVariables(spec: Pick<BundledSpec, "stageVariableUses">, defined: Record<string, string>): { name: string; usedAt: string[] }[] {
    return Object.entries(spec.stageVariableUses)
        .filter(([name]) => !(name in defined))
        .map(([name, usedAt]) => ({ name, usedAt }))
        .sort((a, b) => a.name.localeCompare(b.name));
}

// ${stageVariables.x} and ${stageVariables['x']} with their braces, or a bare (or $-prefixed) stageVariables.x.
const STAGE_VARIABLE_IN_TEXT = /\$\{stageVariables\.([A-Za-z0-9_]+)\}|\$\{stageVariables\[\s*['"]([A-Za-z0-9_]+)['"]\s*\]\}|(?<![A-Za-z0-9_.])\$?stageVariables\.([A-Za-z0-9_]+)/g;

/** `text` with every stage variable `variables` defines replaced by its value, and the names it does not define. */
export function substituteStageVariables(text: string, variables: Record<string, string>): { text: string; missing: string[] } {
    const missing: string[] = [];
    const replaced = text.replace(STAGE_VARIABLE_IN_TEXT, (whole: string, braced: string | undefined, quoted: string | undefined, bare: string | undefined) => {
        const name = braced ?? quoted ?? bare ?? "";
        if (name in variables) return variables[name];
        missing.push(name);
        return whole;
    });
    return { text: replaced, missing };
}
