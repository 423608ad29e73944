// Rule 9: secrets stay secret. No secret-looking variable in a Lambda environment at all, Pulumi
// secret or not: Lambda shows the environment in clear to anyone allowed to read the function's
// configuration (GetFunctionConfiguration), so a secret belongs in a secrets store the function's role
// reads, and the environment names it. The ElastiCache AUTH token and secret-looking stack outputs are
// Pulumi secrets. (Stack config files are checked by policy/configFile.ts, outside the pack: policies
// never see config.)
//
// How secretness is known (see support.ts): the engine unwraps secrets before validations, so under the
// real CLI the AUTH token check answers notApplicable (the environment check needs only names); the
// remediation (enforcement level "remediate" in policy config) sees the engine's secret markers and wraps
// a plain AUTH token in `Secret`. Offline, the runner passes the preview's secret paths (`secretPaths`).
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { Secret } from "@pulumi/policy";
import { SecretAware, forTypes, isSecretPath, isSet, keysOf, ofType, read, secretPathsOf, secretPreservingRaw, settings } from "./support";
import { T } from "./types";

export interface SecretsConfig {
    /** Name endings (compared in UPPER_SNAKE form) that never hold a secret. */
    exemptSuffixes: string[];
    /** Names never treated as secret (UPPER_SNAKE form, e.g. TOKEN_PATTERN). */
    exemptNames: string[];
}

/** `*_PARAMETER` names a secret's parameter; TOKEN_PATTERN is the credential pattern (a regular expression). */
export const SECRETS_DEFAULTS: SecretsConfig = { exemptSuffixes: ["_ARN", "_ID", "_URL", "_PARAMETER"], exemptNames: ["TOKEN_PATTERN"] };

const SECRET_WORDS = /TOKEN|SECRET|PASSWORD|PASSWD|KEY/;

/** "serviceToken", "threescale:serviceToken", "redis-auth-token" -> "SERVICE_TOKEN", ..., "REDIS_AUTH_TOKEN". */
export function upperSnake(name: string): string {
    const last = name.includes(":") ? name.slice(name.lastIndexOf(":") + 1) : name;
    return last.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[^A-Za-z0-9]+/g, "_").toUpperCase();
}

/** Whether a name (env variable, output or config key) looks like it holds a secret: *TOKEN*, *SECRET*, *PASSWORD*, *KEY*, but not *_ARN, *_ID, *_URL. */
export function looksSecret(name: string, config: SecretsConfig = SECRETS_DEFAULTS): boolean {
    const n = upperSnake(name);
    return SECRET_WORDS.test(n) && !config.exemptSuffixes.some((s) => n.endsWith(s.toUpperCase())) && !config.exemptNames.map((x) => x.toUpperCase()).includes(n);
}

const NOT_KNOWABLE = "the Pulumi engine unwraps secrets before validations, so this policy cannot tell a secret from a plain value here; "
    + "set its enforcement level to \"remediate\" to have the engine turn plain values into secrets, and run the offline check (npm run policy)";

/** The AUTH token of a replication group, when set: it must be a Pulumi secret. */
function mustBeSecret(props: unknown): string[] {
    return isSet(read(props, "authToken")) ? ["authToken"] : [];
}

/** Secret-looking variables set in a function's environment: none may be there. */
function secretsInEnvironment(props: unknown, config: SecretsConfig): string[] {
    const variables = read(props, "environment", "variables");
    return keysOf(variables).filter((k) => looksSecret(k, config) && isSet(read(variables, k)));
}

function setAt(root: Record<string, unknown>, path: string, wrap: (v: unknown) => unknown): void {
    const keys = path.split(".");
    let current: Record<string, unknown> = root;
    for (const key of keys.slice(0, -1)) {
        const next = current[key];
        if (next === null || typeof next !== "object" || next instanceof Secret) return;
        current = next as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    current[last] = wrap(current[last]);
}

/** A deep copy that keeps Secret instances (and everything not a plain object or array) as they are. */
function copy(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(copy);
    if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
    }
    return value;
}

export const secretsStaySecret: ResourceValidationPolicy = {
    name: "secrets-stay-secret",
    description: "No Lambda environment variable named like a secret (*TOKEN*, *SECRET*, *PASSWORD*, *KEY*, except *_ARN, *_ID, *_URL, *_PARAMETER): " +
        "the environment is readable in clear with the function's configuration; ElastiCache AUTH tokens are Pulumi secrets.",
    remediationSteps: "Keep a function's secret in a secrets store (SSM SecureString or Secrets Manager) its role alone may read, and name it in the environment. " +
        "Pass an AUTH token as a Pulumi secret: secret config (`pulumi config set --secret`) or pulumi.secret(...); with enforcement level \"remediate\" the engine makes it secret itself.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            exemptSuffixes: { type: "array", items: { type: "string" }, default: SECRETS_DEFAULTS.exemptSuffixes, description: "Name endings that never hold a secret." },
            exemptNames: { type: "array", items: { type: "string" }, default: SECRETS_DEFAULTS.exemptNames, description: "Names never treated as secret (UPPER_SNAKE)." },
        },
    },
    validateResource: forTypes([T.lambdaFunction, T.replicationGroup], (args, report) => {
        if (args.type === T.lambdaFunction) {
            const config = settings(SECRETS_DEFAULTS, args.getConfig<Partial<SecretsConfig>>());
            for (const name of secretsInEnvironment(args.props, config)) {
                report(`${args.name}: environment variable ${name} holds a secret, and a Lambda environment is shown in clear to anyone who can read the function's configuration (GetFunctionConfiguration); ` +
                    "keep the value in a secrets store (a SecureString parameter or a Secrets Manager secret the function's role alone may read) and put its name in the environment (e.g. NAME_PARAMETER).");
            }
            return;
        }
        const secretPaths = secretPathsOf(args as ResourceValidationArgs & SecretAware);
        if (!secretPaths) return args.notApplicable(NOT_KNOWABLE);
        for (const path of mustBeSecret(args.props).filter((p) => !isSecretPath(secretPaths, p))) {
            report(`${args.name}: ${path} is a plain value; pass it as a Pulumi secret (secret config or pulumi.secret(...)) so it is encrypted in state and masked in output.`);
        }
    }),
    remediateResource: (args) => {
        // A secret in a Lambda environment cannot be remediated by wrapping it: it has to move to a store.
        if (args.type !== T.replicationGroup) return undefined;
        const raw = secretPreservingRaw(args.props);
        const secretPaths = secretPathsOf(args);
        if (!raw || !secretPaths) return undefined;
        const plain = mustBeSecret(args.props).filter((p) => !isSecretPath(secretPaths, p));
        if (plain.length === 0) return undefined;
        const result = copy(raw) as Record<string, unknown>;
        for (const path of plain) setAt(result, path, (v) => new Secret(v));
        return result;
    },
};

/** The stack resource as the offline runner gives it: its props are the stack outputs, its secretPaths the secret ones. */
type StackResource = PolicyResource & SecretAware;

export const secretOutputsStaySecret: StackValidationPolicy = {
    name: "secret-outputs-stay-secret",
    description: "Stack outputs named like secrets (token, secret, password, key; not *Arn, *Id, *Url) are Pulumi secrets.",
    remediationSteps: "Export the value wrapped in pulumi.secret(...), or do not export it.",
    enforcementLevel: "mandatory",
    configSchema: secretsStaySecret.configSchema,
    validateStack: (args, report) => {
        const config = settings(SECRETS_DEFAULTS, args.getConfig<Partial<SecretsConfig>>());
        for (const stack of ofType(args.resources, T.stack) as StackResource[]) {
            const names = keysOf(stack.props).filter((k) => looksSecret(k, config) && isSet(read(stack.props, k)));
            if (names.length === 0) continue;
            if (!stack.secretPaths) return args.notApplicable(NOT_KNOWABLE);
            for (const name of names.filter((n) => !isSecretPath(stack.secretPaths ?? [], n))) {
                report(`stack output ${name} is a plain value; export it as pulumi.secret(...) (or not at all) so it is encrypted in state and masked in output.`, stack.urn);
            }
        }
    },
};
