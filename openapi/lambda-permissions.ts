// The Lambda functions a document has API Gateway invoke without `credentials`: integrations of
// type aws or aws_proxy whose uri is a Lambda invocation, and the document's own Lambda authorizers
// without authorizerCredentials. AWS's extension reference (x-amazon-apigateway-integration,
// `credentials`): "If unspecified, credentials default to resource-based permissions that must be
// added manually"; without one, API Gateway's call is refused and the client gets a 500. Each such
// function gets an aws.lambda.Permission (components/gatewayRing.ts), its source ARN this API's
// execute-api ARN narrowed to the stage, method and resource (or to its authorizers), as the
// developer guide's "Grant API Gateway permission to invoke the Lambda function" writes it.
import { Json, Operation, SpecProblem, isObject, pointer } from "./document";
import { substituteStageVariables } from "./stage-variables";

/** arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations */
const LAMBDA_INVOCATION = /^arn:aws[a-zA-Z-]*:apigateway:[^:]+:lambda:path\/2015-03-31\/functions\/(.+)\/invocations$/;
/**
 * A function ARN or name, optionally qualified by an alias or version: what AddPermission takes as
 * FunctionName and Qualifier (AWS Lambda API reference, AddPermission).
 */
const FUNCTION = /^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}|[A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9$_-]{1,128}))?$/;

/** One function the document has API Gateway invoke, as the document writes it. */
export interface LambdaInvocation {
    /** What invokes it: "POST /pets", or "authorizer partner-token". */
    invoker: string;
    /** Where the document names it. */
    pointer: string;
    /** The function ARN as written, stage variables included. */
    functionArn: string;
    /** The part of this API's execute-api ARN that may invoke it: "<stage>/POST/pets/*" or "authorizers/*". */
    source: { method: string; resourcePath: string } | "authorizers";
}

/** The execute-api resource path of a route: every {variable} (greedy or not) a wildcard, no leading slash. */
function resourcePattern(route: string): string {
    return route.replace(/^\//, "").split("/").map((part) => (part.startsWith("{") ? "*" : part)).join("/");
}

/** Every function the document has API Gateway invoke without credentials. */
export function lambdaInvocations(doc: Json, operations: Operation[], schemes: Json, schemesAt: string[]): LambdaInvocation[] {
    const out: LambdaInvocation[] = [];
    for (const op of operations) {
        const integration = op.operation["x-amazon-apigateway-integration"];
        if (!isObject(integration) || !["aws", "aws_proxy"].includes(String(integration.type).toLowerCase()) || integration.credentials) continue;
        const functionArn = LAMBDA_INVOCATION.exec(String(integration.uri ?? ""))?.[1];
        if (functionArn === undefined) continue;
        out.push({
            invoker: op.label, pointer: pointer(...op.at, "x-amazon-apigateway-integration", "uri"), functionArn,
            source: { method: op.label.startsWith("ANY ") ? "*" : op.label.split(" ")[0], resourcePath: resourcePattern(op.route) },
        });
    }
    for (const [name, scheme] of Object.entries(schemes)) {
        const authorizer = isObject(scheme) ? scheme["x-amazon-apigateway-authorizer"] : undefined;
        if (!isObject(authorizer) || authorizer.authorizerCredentials) continue;
        const functionArn = LAMBDA_INVOCATION.exec(String(authorizer.authorizerUri ?? ""))?.[1];
        if (functionArn === undefined) continue;
        out.push({ invoker: `authorizer ${name}`, pointer: pointer(...schemesAt, name, "x-amazon-apigateway-authorizer", "authorizerUri"), functionArn, source: "authorizers" });
    }
    return out;
}

/** One permission to create: the function (and alias or version) and the source ARN's part after the API's execute-api ARN. */
export interface LambdaPermission {
    functionArn: string;
    qualifier?: string;
    /** "red/POST/pets" or "authorizers/*". */
    sourcePath: string;
    /** What invokes it through that path. */
    invokers: string[];
}

/** A function the program cannot name: the stage variable it names is unset or holds no function. */
export interface UnresolvedFunction {
    invoker: string;
    variable?: string;
    got?: string;
    message: string;
}

/** What an integration or authorizer names the function with, for messages. */
function namedBy(invocation: LambdaInvocation): string {
    return invocation.source === "authorizers" ? "its authorizerUri" : "its integration uri";
}

/** The Lambda function an invoker invokes, as config must give it. */
function theFunction(invocation: LambdaInvocation): string {
    return invocation.source === "authorizers" ? `the Lambda function the document's ${invocation.invoker} invokes` : `the Lambda function ${invocation.invoker} invokes`;
}

/**
 * The permissions of a stage: each invocation with its stage variables resolved from `variables`,
 * one permission a function and source path. A function the program cannot name is in `unresolved`.
 */
export function lambdaPermissions(invocations: LambdaInvocation[], variables: Record<string, string>, stage: string): { permissions: LambdaPermission[]; unresolved: UnresolvedFunction[] } {
    const byKey = new Map<string, LambdaPermission>();
    const unresolved: UnresolvedFunction[] = [];
    for (const invocation of invocations) {
        const { text, missing } = substituteStageVariables(invocation.functionArn, variables);
        const expected = (namedAs: string) => `${theFunction(invocation)} (${namedBy(invocation)} names ${namedAs}): a function name, ` +
            "or a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>), optionally with :<alias or version>";
        if (missing.length > 0) {
            for (const variable of missing) unresolved.push({ invoker: invocation.invoker, variable, message: expected(`\${stageVariables.${variable}}`) });
            continue;
        }
        const arn = FUNCTION.exec(text);
        if (!arn) {
            const named = [...invocation.functionArn.matchAll(/stageVariables(?:\.|\[\s*['"])([A-Za-z0-9_]+)/g)].map((m) => m[1]);
            const variable = named.length === 1 ? named[0] : undefined;
            unresolved.push({
                invoker: invocation.invoker, variable, got: variable ? variables[variable] : text,
                message: expected(variable ? `\${stageVariables.${variable}}` : invocation.functionArn),
            });
            continue;
        }
        const sourcePath = invocation.source === "authorizers" ? "authorizers/*" : `${stage}/${invocation.source.method}/${invocation.source.resourcePath}`;
        const key = `${text} ${sourcePath}`;
        const permission = byKey.get(key) ?? { functionArn: arn[1], ...(arn[2] ? { qualifier: arn[2] } : {}), sourcePath, invokers: [] };
        permission.invokers.push(invocation.invoker);
        byKey.set(key, permission);
    }
    return { permissions: [...byKey.values()], unresolved };
}

/** The invocations whose function the document itself writes (no stage variable) and gets wrong. */
export function malformedInvocations(invocations: LambdaInvocation[]): SpecProblem[] {
    return invocations.filter((i) => !/stageVariables/.test(i.functionArn) && !FUNCTION.test(i.functionArn)).map((i) => ({
        pointer: i.pointer,
        message: `${i.functionArn} is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>, optionally :<alias or version>), so ${i.invoker} cannot be given permission to invoke it`,
    }));
}
