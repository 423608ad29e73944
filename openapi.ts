// The OpenAPI document a slot serves: bundled from its files (remote $refs from local mirror
// folders, never from the network), checked for what API Gateway would refuse, given the ring's
// Lambda authorizer on every operation not marked public, and given the authorizer's context as
// backend headers on every HTTP integration. This file is the pipeline; openapi/ holds its parts.
import { createHash } from "crypto";
import * as path from "path";
import { AUTHORIZER_URI_PLACEHOLDER, AuthorizerSpec, credentialClash, injectAuthorizer, openingProblems, publicReasonsOf } from "./openapi/authorizer";
import { checkDocument } from "./openapi/checks";
import { BundledSpec, SpecError, operationsOf } from "./openapi/document";
import { addIntegrationMethodResponses } from "./openapi/method-responses";
import { moveRequiredToObjects } from "./openapi/model-schemas";
import { bundleFiles, inlineRefs } from "./openapi/refs";
import { stageVariableUses } from "./openapi/stage-variables";

export { AUTHORIZER_SCHEME, AUTHORIZER_URI_PLACEHOLDER, CONTEXT_HEADERS, authorizerResponses } from "./openapi/authorizer";
export type { AuthorizerSpec } from "./openapi/authorizer";
export { ANY_METHOD, OPERATION_KEYS, SpecError, formatProblem, operationLabel, pointer } from "./openapi/document";
export type { BundledSpec, SpecProblem } from "./openapi/document";
export { missingStageVariables } from "./openapi/stage-variables";

export interface SpecOptions extends AuthorizerSpec {
    /** URL prefix of remote `$ref`s to the folder that mirrors it (gateway:specMirrors). */
    mirrors?: Record<string, string>;
    /** Folder that relative mirror folders are relative to (the project root); default the working directory. */
    baseDir?: string;
    /** Operations served without the authorizer, "METHOD /path" (gateway:publicRoutes). */
    publicRoutes?: string[];
    /** A public catch-all at the root, or no operation behind the authorizer, is meant (gateway:allowPublicCatchAll). */
    allowPublicCatchAll?: boolean;
}

/**
 * Bundles the document at `specPath` (multi-file and remote $refs become one document), checks
 * it as API Gateway would, and injects the authorizer. Throws a SpecError listing every problem
 * API Gateway would refuse; quirks it accepts come back as `warnings`.
 */
export async function bundleSpec(specPath: string, options: SpecOptions): Promise<BundledSpec> {
    const file = path.resolve(specPath);
    const shownFile = path.relative(process.cwd(), file) || file;
    const document = inlineRefs(await bundleFiles(file, shownFile, options.mirrors ?? {}, options.baseDir ?? process.cwd()));
    const swagger2 = typeof document.swagger === "string";
    const version = swagger2 ? String(document.swagger) : String(document.openapi);

    const { errors, warnings } = checkDocument(document);
    const operations = operationsOf(document);
    const publicReasons = publicReasonsOf(operations, options.publicRoutes);
    const unknownPublic = (options.publicRoutes ?? []).filter((route) => !operations.some((op) => op.label === route));
    if (unknownPublic.length > 0) {
        errors.push({ pointer: "", message: `gateway:publicRoutes names ${unknownPublic.join(", ")}, which the document does not have ` +
            `(its operations are named as the preview lists them, e.g. ${operations.slice(0, 2).map((o) => o.label).join(", ")})` });
    }
    const clash = credentialClash(operations.filter((op) => !(op.label in publicReasons)), options.credentials);
    if (clash) errors.push(clash);
    if (!options.allowPublicCatchAll) errors.push(...openingProblems(operations, publicReasons));
    if (errors.length > 0) {
        throw new SpecError(shownFile, `${errors.length} problem${errors.length === 1 ? "" : "s"} API Gateway would refuse or the ring cannot serve:`, errors);
    }

    const addedMethodResponses = addIntegrationMethodResponses(operations);
    const movedRequired = moveRequiredToObjects(document);
    injectAuthorizer(document, options, swagger2, operations, publicReasons);
    const uses = stageVariableUses(document, operations);
    const text = JSON.stringify(document);
    const render = (uri: string) => text.split(JSON.stringify(AUTHORIZER_URI_PLACEHOLDER)).join(JSON.stringify(uri));
    return {
        version,
        document,
        sha256: sha256(render(AUTHORIZER_URI_PLACEHOLDER)),
        stageVariableUses: uses,
        publicOperations: operations.filter((op) => op.label in publicReasons).map((op) => op.label),
        publicReasons,
        protectedOperations: operations.filter((op) => !(op.label in publicReasons)).map((op) => op.label),
        warnings,
        addedMethodResponses,
        movedRequired,
        render,
    };
}

/** One line naming what the authorizer protects and what it does not, with why. */
export function operationsSummary(spec: Pick<BundledSpec, "publicOperations" | "publicReasons" | "protectedOperations">): string {
    const open = spec.publicOperations.map((op) => `${op} (${spec.publicReasons[op]})`).join(", ");
    return `${spec.protectedOperations.length} operation${spec.protectedOperations.length === 1 ? "" : "s"} behind the authorizer, ` +
        `${spec.publicOperations.length} public${spec.publicOperations.length > 0 ? `: ${open}` : ""}`;
}

/** The release id a slot serves (stage variable `id`): the configured one, else one derived from the document's hash. */
export function releaseIdFor(spec: Pick<BundledSpec, "sha256">, configured?: string): string {
    return configured ?? `spec-${spec.sha256.slice(0, 12)}`;
}

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}
