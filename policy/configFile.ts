// Rule 9, for config: a stack's config file (Pulumi.<stack>.yaml) keeps every secret-looking
// key as a `secure:` value. Policies never see config, so this runs beside the pack: the
// offline check calls it for each stack, and `checkPreviewConfig` does the same from a
// StackPreview's config and secretConfig.
import * as yaml from "js-yaml";
import type { StackPreview } from "./stack-model";
import type { Violation } from "./offline";
import { SECRETS_DEFAULTS, SecretsConfig, looksSecret } from "./rules/secrets";

export const CONFIG_POLICY = "secrets-stay-secret";

/** Keys that must be `secure:` whatever their name. */
export const SECRET_CONFIG_KEYS = ["threescale:serviceToken", "cache:authToken"];

export function mustBeSecureKey(key: string, config: SecretsConfig = SECRETS_DEFAULTS): boolean {
    return SECRET_CONFIG_KEYS.includes(key) || looksSecret(key, config);
}

function isSecure(value: unknown): boolean {
    return value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value;
}

/** Keys of a stack config file's text that hold a secret-looking value in plain text. */
export function plainSecretsInConfig(text: string, parse: (text: string) => unknown = (t) => yaml.load(t), config: SecretsConfig = SECRETS_DEFAULTS): string[] {
    const doc = parse(text);
    const values = doc !== null && typeof doc === "object" ? (doc as { config?: unknown }).config : undefined;
    if (values === null || typeof values !== "object") return [];
    return Object.entries(values as Record<string, unknown>)
        .filter(([key, value]) => mustBeSecureKey(key, config) && value !== null && value !== "" && !isSecure(value))
        .map(([key]) => key);
}

function violation(stack: string, file: string, key: string): Violation {
    return {
        policy: CONFIG_POLICY, enforcementLevel: "mandatory", urn: file, type: "pulumi:config", name: key,
        message: `${file}: ${key} is set in plain text; remove it from the file and run \`pulumi config set --secret ${key} <value> --stack ${stack}\`.`,
    };
}

/** The violations of one stack config file (`file` names it in messages, e.g. "Pulumi.red.yaml"). */
export function checkConfigFile(stack: string, text: string, file = `Pulumi.${stack}.yaml`): Violation[] {
    return plainSecretsInConfig(text).map((key) => violation(stack, file, key));
}

/** The same check over a StackPreview's config (keys not listed in secretConfig are plain). */
export function checkPreviewConfig(preview: StackPreview): Violation[] {
    return Object.keys(preview.config)
        .filter((key) => mustBeSecureKey(key) && !preview.secretConfig.includes(key))
        .map((key) => violation(preview.stack, `Pulumi.${preview.stack}.yaml`, key));
}
