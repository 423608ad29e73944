// The OpenAPI document a slot serves: bundled from its files (remote $refs from local mirror
// folders, never from the network), checked for what API Gateway would refuse, given the ring's
// Lambda authorizer on every operation the document leaves open (what it protects itself keeps its
// own auth), and given the authorizer's context as backend headers on every HTTP integration, with
// its binary media types merged with config's. This file is the pipeline; openapi/ holds its parts.
import { createHash } from "crypto";
import * as path from "path";
import { securitySchemes } from "./policy/operation-auth";
import { AuthRouting, authSummary, servedAuthOf } from "./openapi/auth-kinds";
import { AUTHORIZER_SCHEME, AUTHORIZER_URI_PLACEHOLDER, AuthorizerSpec, credentialClash, injectAuthorizer, openingProblems } from "./openapi/authorizer";
import { describeBinaryMediaTypes, mergeBinaryMediaTypes } from "./openapi/binary-types";
import { checkDocument } from "./openapi/checks";
import { preflightWarnings } from "./openapi/cors";
import { BundledSpec, SpecError, operationsOf } from "./openapi/document";
import { LambdaPermission, lambdaInvocations, lambdaPermissions, malformedInvocations } from "./openapi/lambda-permissions";
import { addIntegrationMethodResponses } from "./openapi/method-responses";
import { moveRequiredToObjects } from "./openapi/model-schemas";
import { bundleFiles, inlineRefs } from "./openapi/refs";
import { missingStageVariables, stageVariableUses } from "./openapi/stage-variables";

export { AUTHORIZER_SCHEME, AUTHORIZER_URI_PLACEHOLDER, CONTEXT_HEADERS, authorizerResponses } from "./openapi/authorizer";
export type { AuthorizerSpec } from "./openapi/authorizer";
export { gatewayRuleProblems } from "./openapi/checks";
export { ANY_METHOD, OPERATION_KEYS, SpecError, formatProblem, operationLabel, pointer } from "./openapi/document";
export type { BundledSpec, SpecProblem } from "./openapi/document";
export { missingStageVariables };
export { AUTH_KINDS } from "./openapi/auth-kinds";
export type { AuthKind, ServedAuth } from "./openapi/auth-kinds";
export { lambdaPermissions } from "./openapi/lambda-permissions";
export type { LambdaInvocation, LambdaPermission, UnresolvedFunction } from "./openapi/lambda-permissions";

export interface SpecOptions extends AuthorizerSpec, AuthRouting {
    /** URL prefix of remote `$ref`s to the folder that mirrors it (gateway:specMirrors). */
    mirrors?: Record<string, string>;
    /** Folder that relative mirror folders are relative to (the project root); default the working directory. */
    baseDir?: string;
    /** Media types API Gateway passes through as binary, added to the document's (gateway:binaryMediaTypes). */
    binaryMediaTypes?: string[];
    /** A public catch-all at the root, or no operation left protected, is meant (gateway:allowPublicCatchAll). */
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
    const bundled = await bundleFiles(file, shownFile, options.mirrors ?? {}, options.baseDir ?? process.cwd());
    const document = inlineRefs(bundled.document);
    const swagger2 = typeof document.swagger === "string";
    const version = swagger2 ? String(document.swagger) : String(document.openapi);

    const { errors, warnings } = checkDocument(document);
    const binaryMediaTypes = mergeBinaryMediaTypes(document, options.binaryMediaTypes ?? [], errors);
    const operations = operationsOf(document);
    const schemes = securitySchemes(document);
    const served = servedAuthOf(document, operations, options, AUTHORIZER_SCHEME, schemes, errors);
    const clash = credentialClash(operations.filter((op) => served[op.label].kind === "ring-authorizer"), options.credentials);
    if (clash) errors.push(clash);
    const invocations = lambdaInvocations(document, operations, schemes, swagger2 ? ["securityDefinitions"] : ["components", "securitySchemes"]);
    errors.push(...malformedInvocations(invocations));
    if (!options.allowPublicCatchAll) errors.push(...openingProblems(operations, served));
    if (errors.length > 0) {
        throw new SpecError(shownFile, `${errors.length} problem${errors.length === 1 ? "" : "s"} API Gateway would refuse or the ring cannot serve:`, errors);
    }

    const addedMethodResponses = addIntegrationMethodResponses(operations);
    const movedRequired = moveRequiredToObjects(document);
    const responseNotes = injectAuthorizer(document, options, swagger2, operations, served);
    const uses = stageVariableUses(document, operations);
    const text = JSON.stringify(document);
    const render = (uri: string) => text.split(JSON.stringify(AUTHORIZER_URI_PLACEHOLDER)).join(JSON.stringify(uri));
    const labels = (kind: string) => operations.filter((op) => served[op.label].kind === kind).map((op) => op.label);
    return {
        version,
        document,
        sha256: sha256(render(AUTHORIZER_URI_PLACEHOLDER)),
        stageVariableUses: uses,
        publicOperations: labels("public"),
        publicReasons: Object.fromEntries(labels("public").map((label) => [label, served[label].reason])),
        protectedOperations: labels("ring-authorizer"),
        operationAuth: served,
        binaryMediaTypes: binaryMediaTypes.merged,
        lambdaInvocations: invocations,
        notes: [describeBinaryMediaTypes(binaryMediaTypes), ...responseNotes],
        warnings: [...bundled.warnings, ...warnings, ...preflightWarnings(operations, served)],
        addedMethodResponses,
        movedRequired,
        render,
    };
}

/**
 * What the preview prints of the operations: how many of each kind (the ring's authorizer, IAM, API
 * key, own authorizer, public), the operations of each kind but the ring's with why, and each
 * operation config put behind the ring's authorizer in place of the document's own auth.
 */
export function operationsSummary(spec: Pick<BundledSpec, "operationAuth">): string[] {
    return authSummary(spec.operationAuth);
}

/**
 * Everything the preview and the local run say of the served document: the operations by kind, the
 * notes (binary media types, gateway responses), and the method responses added for integration
 * responses' status codes.
 */
export function specSummary(spec: Pick<BundledSpec, "operationAuth" | "notes" | "addedMethodResponses" | "movedRequired">): string[] {
    const added = spec.addedMethodResponses;
    const addedLine = added.length === 0 ? [] : [`${added.length} method response${added.length === 1 ? "" : "s"} added for status codes ` +
        `integration responses use (PutRestApi would otherwise warn and drop them): ${added.map((a) => `method response ${a}`).join(", ")}`];
    const moved = spec.movedRequired;
    const movedLine = moved.length === 0 ? [] : [`${moved.length} property-level required: true moved to their object's required list (an API Gateway model is ` +
        `JSON Schema draft 4, which takes required: [names]; PutRestApi would otherwise warn that it cannot create the model): ${moved.join(", ")}`];
    return [...operationsSummary(spec), ...spec.notes, ...addedLine, ...movedLine];
}

/** A problem with a stage variable's value, as config reports it: the key that holds it, what it got, what it expected. */
export interface StageVariableProblem {
    key: string;
    got: string;
    expected: string;
}

/**
 * Every stage variable the served document needs that `variables` lacks, or holds a Lambda function
 * the program cannot name, each under the key that should hold it (gateway:hosts for *_host, else
 * gateway:stageVariables), one problem per key.
 */
export function stageVariableProblems(spec: Pick<BundledSpec, "stageVariableUses" | "lambdaInvocations">, variables: Record<string, string>, stage: string): StageVariableProblem[] {
    const keyOf = (name: string) => `${name.endsWith("_host") ? "gateway:hosts" : "gateway:stageVariables"}.${name}`;
    const problems = new Map<string, StageVariableProblem>();
    for (const u of lambdaPermissions(spec.lambdaInvocations, variables, stage).unresolved) {
        const key = u.variable ? keyOf(u.variable) : "gateway:spec";
        if (!problems.has(key)) problems.set(key, { key, got: u.got === undefined ? "nothing" : JSON.stringify(u.got), expected: u.message });
    }
    for (const { name, usedAt } of missingStageVariables(spec, variables)) {
        const key = keyOf(name);
        if (!problems.has(key)) {
            problems.set(key, { key, got: "nothing", expected: `a value for the stage variable ${name}, which the document uses at ${usedAt[0]}` +
                `${usedAt.length > 1 ? ` and ${usedAt.length - 1} more place${usedAt.length > 2 ? "s" : ""}` : ""}` });
        }
    }
    return [...problems.values()];
}

/** The preview's line on the Lambda functions the stage may invoke for the document, or nothing when there are none. */
export function lambdaPermissionsSummary(permissions: LambdaPermission[]): string[] {
    if (permissions.length === 0) return [];
    const shown = permissions.map((p) => `${p.functionArn}${p.qualifier ? `:${p.qualifier}` : ""} (${p.invokers.join(", ")})`);
    return [`Lambda functions the document names without credentials, each given an invoke permission scoped to this API: ${shown.join(", ")}`];
}

/** The release id a slot serves (stage variable `id`): the configured one, else one derived from the document's hash. */
export function releaseIdFor(spec: Pick<BundledSpec, "sha256">, configured?: string): string {
    return configured ?? `spec-${spec.sha256.slice(0, 12)}`;
}

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}
